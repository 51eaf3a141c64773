//! jdx/fnox's `env = true | "exec" | false` and `as_file = true`: which
//! secrets enter `exec`'s command, `export`'s output and `get`, and secrets
//! given to the command as a file.

use std::path::{Path, PathBuf};

use crate::common::{TestEnv, stderr, stdout};

/// Top-level secrets with every `env` mode, and `TOK`, encrypted, with
/// `env = "exec"`.
fn modes() -> TestEnv {
    let env = TestEnv::with_local();
    env.set("TOK", b"tok-value").success();
    let text = env.read("fnox.toml").replace("TOK = { ", "TOK = { env = \"exec\", ")
        + "A = { default = \"a\" }\nT = { default = \"t\", env = true }\n\
           E = { default = \"e\", env = \"exec\" }\nN = { default = \"n\", env = false }\n";
    env.write("fnox.toml", &text);
    env
}

const SHOW: &str = r#"echo "A=${A-unset} T=${T-unset} E=${E-unset} N=${N-unset} TOK=${TOK-unset}""#;

#[test]
fn exec_passes_env_true_and_exec_but_not_false() {
    let env = modes();
    let out = env.fnox(&["exec", "--", "sh", "-c", SHOW]).success();
    assert_eq!(stdout(&out), "A=a T=t E=e N=unset TOK=tok-value\n");
    assert_eq!(stderr(&out), "");
    let out = env.fnox(&["exec", "--redact", "--", "sh", "-c", SHOW]).success();
    assert_eq!(stdout(&out), "A=a T=t E=e N=unset TOK=[redacted:TOK]\n");
}

#[test]
fn env_false_removes_a_variable_of_that_name_inherited_from_the_parent() {
    let env = modes();
    let script = r#"echo "N=${N-unset} OTHER=${OTHER-unset}""#;
    for args in [&["exec", "--"][..], &["exec", "--only", "A", "--"], &["exec", "--redact", "--"]] {
        let mut cmd = env.cmd();
        cmd.env("N", "from-the-parent").env("OTHER", "kept").args(args).args(["sh", "-c", script]);
        let out = cmd.write_stdin(Vec::new()).assert().success();
        assert_eq!(stdout(&out), "N=unset OTHER=kept\n", "{args:?}");
    }
}

#[test]
fn exec_only_a_secret_with_env_false_is_an_error() {
    let env = modes();
    let out = env.fnox(&["exec", "--only", "N", "--", "true"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: secret `N` has `env = false` (fnox.toml:15), which keeps it out of the environment of `exec`'s command\n  hint: `fnox get N` reads it whatever `env` says\n"
    );
    let out = env.fnox(&["exec", "--only", "E,TOK", "--", "sh", "-c", SHOW]).success();
    assert_eq!(stdout(&out), "A=unset T=unset E=e N=unset TOK=tok-value\n");
}

#[test]
fn export_prints_env_true_secrets_only_unless_all() {
    let env = modes();
    let out = env.fnox(&["export"]).success();
    assert_eq!(stdout(&out), "A='a'\nT='t'\n");
    assert_eq!(stderr(&out), "");
    let out = env.fnox(&["export", "--all"]).success();
    assert_eq!(stdout(&out), "TOK='tok-value'\nA='a'\nT='t'\nE='e'\nN='n'\n");
    let out = env.fnox(&["export", "--format", "shell", "--all", "--only", "N"]).success();
    assert_eq!(stdout(&out), "export N='n'\n");
}

#[test]
fn export_only_a_secret_that_env_keeps_out_is_an_error() {
    let env = modes();
    let out = env.fnox(&["export", "--only", "A,TOK"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: secret `TOK` has `env = \"exec\"` (fnox.toml:11), which keeps it out of `export` and shell environments\n  hint: `fnox export --all` includes it\n  hint: `fnox get TOK` reads it whatever `env` says\n"
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn get_reads_a_secret_whatever_its_env() {
    let env = modes();
    for (name, value) in [("N", "n"), ("E", "e"), ("TOK", "tok-value"), ("T", "t")] {
        assert_eq!(env.get(name), value.as_bytes(), "{name}");
    }
    let text = env.read("fnox.toml").replace("env = \"exec\", provider", "env = false, provider");
    env.write("fnox.toml", &text);
    assert_eq!(env.get("TOK"), b"tok-value");
}

#[test]
fn the_top_level_env_is_the_default_of_every_secret_and_an_entry_overrides_it() {
    let env = TestEnv::with_local();
    let text = format!(
        "env = \"exec\"\n{}A = {{ default = \"a\" }}\nB = {{ default = \"b\", env = true }}\n\
         [profiles.ci]\nenv = false\n[profiles.ci.secrets]\nC = {{ default = \"c\", env = true }}\n",
        env.read("fnox.toml")
    );
    env.write("fnox.toml", &text);
    assert_eq!(stdout(&env.fnox(&["export"]).success()), "B='b'\n");
    let show = r#"echo "A=${A-unset} B=${B-unset} C=${C-unset}""#;
    let out = env.fnox(&["exec", "--", "sh", "-c", show]).success();
    assert_eq!(stdout(&out), "A=a B=b C=unset\n");
    // The profile's `env = false` is the default there: only the entries
    // that say `env = true` enter.
    let out = env.fnox(&["-P", "ci", "exec", "--", "sh", "-c", show]).success();
    assert_eq!(stdout(&out), "A=unset B=b C=c\n");
}

#[test]
fn an_env_value_other_than_true_false_or_exec_is_a_config_error() {
    let env = TestEnv::with_local();
    let base = env.read("fnox.toml");
    for bad in ["\"shell\"", "\"true\"", "1"] {
        env.write("fnox.toml", &format!("{base}X = {{ default = \"x\", env = {bad} }}\n"));
        let out = env.fnox(&["get", "X"]).code(1);
        assert_eq!(
            stderr(&out),
            "error: fnox.toml:11: in secret `X`: `env` must be true, false or \"exec\"\n",
            "{bad}"
        );
    }
    env.write("fnox.toml", &format!("env = \"never\"\n{base}"));
    let out = env.fnox(&["export"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: fnox.toml:1: in the top level: `env` must be true, false or \"exec\"\n"
    );
}

// ---------------------------------------------------------------------
// as_file

/// Bytes no environment variable could hold: lines, CR, NUL, non-UTF-8.
const CERT: &[u8] = b"-----BEGIN KEY-----\nline two\r\n\x00\x01\xfe\xff end\n\n";

/// A project whose `CERT` (encrypted) says `as_file = true`, and `TOK`.
fn with_file_secret(name: &str) -> TestEnv {
    let env = TestEnv::with_local();
    env.set(name, CERT).success();
    env.set("TOK", b"tok-value").success();
    let text = env
        .read("fnox.toml")
        .replace(&format!("{name} = {{ "), &format!("{name} = {{ as_file = true, "));
    env.write("fnox.toml", &text);
    env
}

/// Every file and directory under `dir`.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(tree(&path));
        }
        all.push(path);
    }
    all.sort();
    all
}

/// Processes that still hold the memfd of secret `name`.
fn holders(name: &str) -> Vec<String> {
    let label = format!("/memfd:fnox:{name} ");
    let mut found = Vec::new();
    for proc in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(fds) = std::fs::read_dir(proc.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && target.to_string_lossy().starts_with(&label)
            {
                found.push(fd.path().display().to_string());
            }
        }
    }
    found
}

/// A secret name no other test (or test run) uses.
fn fresh_name() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    format!("CERT_{}_{:x}", std::process::id(), nanos.subsec_nanos())
}

#[test]
fn as_file_gives_the_command_dev_fd_n_with_the_exact_bytes_and_writes_no_file() {
    let env = with_file_secret("CERT");
    let (tmpdir, rundir) = (env.tmp.path().join("tmp"), env.tmp.path().join("run"));
    std::fs::create_dir_all(&tmpdir).unwrap();
    std::fs::create_dir_all(&rundir).unwrap();
    let before = tree(env.tmp.path());
    let script = r#"printf '%s\n' "$CERT"; cat "$CERT"; echo "TOK=$TOK""#;
    let out = env
        .cmd()
        .env("TMPDIR", &tmpdir)
        .env("XDG_RUNTIME_DIR", &rundir)
        .args(["exec", "--", "sh", "-c", script])
        .write_stdin(Vec::new())
        .assert()
        .success();
    let stdout = &out.get_output().stdout;
    let newline = stdout.iter().position(|&b| b == b'\n').unwrap();
    let path = String::from_utf8(stdout[..newline].to_vec()).unwrap();
    assert!(regex::Regex::new(r"^/dev/fd/([3-9]|[1-9][0-9]+)$").unwrap().is_match(&path), "{path}");
    let mut expected = CERT.to_vec();
    expected.extend_from_slice(b"TOK=tok-value\n");
    assert_eq!(&stdout[newline + 1..], &expected[..]);
    assert_eq!(stderr(&out), "");
    assert_eq!(tree(env.tmp.path()), before, "no file may appear anywhere");
}

#[test]
fn as_file_is_a_sealed_memory_file_that_is_gone_when_the_command_ends() {
    let name = fresh_name();
    let env = with_file_secret(&name);
    let script = format!(
        r#"readlink "/proc/self/fd/${{{name}#/dev/fd/}}"; printf x 2>/dev/null >> "${name}" && echo changed || echo sealed; wc -c < "${name}""#
    );
    let out = env.fnox(&["exec", "--", "sh", "-c", &script]).success();
    assert_eq!(stdout(&out), format!("/memfd:fnox:{name} (deleted)\nsealed\n{}\n", CERT.len()));
    assert_eq!(holders(&name), Vec::<String>::new());
}

/// `od -An -tx1 -v` of `bytes`.
fn od_hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|line| line.iter().map(|b| format!(" {b:02x}")).collect::<String>() + "\n")
        .collect()
}

#[test]
fn as_file_with_redact_fnox_keeps_no_copy_and_the_value_is_redacted() {
    let name = fresh_name();
    let env = with_file_secret(&name);
    // The command (sh) holds the file; fnox, its parent, no longer does.
    let script = format!(
        r#"ls -l /proc/$$/fd | grep -c memfd:fnox:{name}; ls -l /proc/$PPID/fd | grep -c memfd:; od -An -tx1 -v "${name}"; cat "${name}""#
    );
    let out = env.fnox(&["exec", "--redact", "--", "sh", "-c", &script]).success();
    assert_eq!(stdout(&out), format!("1\n0\n{}[redacted:{name}]", od_hex(CERT)));
    assert_eq!(holders(&name), Vec::<String>::new());
}

#[test]
fn a_nul_byte_needs_as_file_in_exec() {
    let env = TestEnv::with_local();
    env.set("BLOB", CERT).success();
    let out = env.fnox(&["exec", "--", "true"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: secret `BLOB` contains a NUL byte, which an environment variable cannot hold; set `as_file = true` on it to pass it as a file\n"
    );
}

#[test]
fn export_leaves_an_as_file_secret_out_and_refuses_it_by_name() {
    let env = with_file_secret("CERT");
    let out = env.fnox(&["export"]).success();
    assert_eq!(stdout(&out), "TOK='tok-value'\n");
    assert_eq!(
        stderr(&out),
        "warning: secret `CERT` has `as_file = true` (fnox.toml:11), which only `fnox exec` can pass; left out\n"
    );
    let out = env.fnox(&["export", "--all", "--only", "CERT"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: secret `CERT` has `as_file = true` (fnox.toml:11): only `fnox exec` can pass it, as a file that is gone when the command ends\n  hint: run the program with `fnox exec -- PROGRAM`: $CERT is then the path of a file that holds the value\n"
    );
    assert_eq!(env.get("CERT"), CERT);
}
