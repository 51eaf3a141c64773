//! jdx/fnox's flags on the commands both have (issue 12): global
//! `--age-key-file`, `--no-color`, `--non-interactive`, `--no-daemon`;
//! `exec --replace`; `set -k/--default/--if-missing/-g/--base64-encode/-n`;
//! `get --base64-decode`; `remove -n/-g`; `list -f/-s/-V`; `init
//! -g/-f/--skip-wizard`. Each does what a jdx/fnox user expects, or is
//! refused with a message that says why.

use crate::common::{TestEnv, stderr, stdout};

/// `fnox ARGS` (a shell command line) on a pseudo-terminal (`script`), with
/// `vars` set: its output (stdout and stderr, `\n` line ends) and exit
/// status; `None` when `script` is missing and the test may skip.
fn on_a_terminal(env: &TestEnv, args: &str, vars: &[(&str, &str)]) -> Option<(String, i32)> {
    if !crate::common::require_tool("script") {
        return None;
    }
    let line = format!("{} {args}", crate::common::bin().display());
    let mut cmd = env.program("script");
    cmd.args(["-qec", &line, "/dev/null"]).env("TERM", "xterm");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    Some((text, out.status.code().unwrap_or(-1)))
}

/// `fnox ARGS` with `input` on stdin.
fn piped(env: &TestEnv, args: &[&str], input: &str) -> assert_cmd::assert::Assert {
    env.cmd().args(args).write_stdin(input.as_bytes().to_vec()).assert()
}

/// The `[secrets]` entry `name` of `text` as written, e.g. `{ default = "d" }`.
fn entry(text: &str, name: &str) -> String {
    let prefix = format!("{name} = ");
    let line = text.lines().find(|l| l.starts_with(&prefix));
    line.unwrap_or_else(|| panic!("no {name} in {text}"))[prefix.len()..].to_string()
}

// ---- global flags -------------------------------------------------------

#[test]
fn age_key_file_is_fnox_age_key_file_and_wins_over_it() {
    let env = TestEnv::new();
    let id = env.project.join("me.txt");
    let id = id.to_str().unwrap();
    env.fnox(&["--age-key-file", id, "init", "--provider", "age"]).success();
    assert!(std::fs::read_to_string(id).unwrap().contains("AGE-SECRET-KEY-1"));
    assert!(!env.config_dir.join("age.txt").exists());
    piped(&env, &["set", "TOKEN", "--age-key-file", id], "age-value").success();
    // Without it there is no identity to decrypt with.
    let out = env.fnox(&["get", "TOKEN"]).code(1);
    assert_eq!(stdout(&out), "");
    // The flag, before or after the command, and over the variable.
    env.fnox(&["--age-key-file", id, "get", "TOKEN"]).success().stdout("age-value\n");
    env.cmd()
        .env("FNOX_AGE_KEY_FILE", env.project.join("nowhere.txt"))
        .args(["get", "TOKEN", "--age-key-file", id])
        .assert()
        .success()
        .stdout("age-value\n");
    env.cmd().env("FNOX_AGE_KEY_FILE", id).args(["get", "TOKEN"]).assert().success();
}

#[test]
fn global_flags_are_listed_once_and_age_key_file_is_hidden() {
    let env = TestEnv::new();
    let top = stdout(&env.fnox(&["--help"]).success());
    assert!(
        top.contains("\n      --no-color              No colors: the same as `--color never`\n"),
        "{top}"
    );
    assert!(
        top.contains("\n      --non-interactive       Never ask: where fnox would prompt"),
        "{top}"
    );
    assert!(
        top.contains(
            "\n      --no-daemon             Do not ask the agent (`fnox agent`) for values: as FNOX_AGENT=off\n"
        ),
        "{top}"
    );
    assert!(!top.contains("age-key-file"), "{top}");
    let get = stdout(&env.fnox(&["get", "--help"]).success());
    assert!(!get.contains("--no-daemon  "), "{get}");
    assert!(!get.contains("age-key-file"), "{get}");
}

#[test]
fn no_color_is_color_never() {
    let env = TestEnv::with_local();
    let plain = "error: secret `NOPE` is not defined in profile `default`\n";
    let out = env.fnox(&["--color", "always", "--no-color", "get", "NOPE"]).code(1);
    assert!(stderr(&out).starts_with(plain), "{}", stderr(&out));
    let red = "\u{1b}[1;31merror\u{1b}[0m: secret `NOPE`";
    let Some((tty, code)) = on_a_terminal(&env, "get NOPE", &[]) else { return };
    assert_eq!(code, 1);
    assert!(tty.starts_with(red), "{tty:?}");
    let (tty, _) = on_a_terminal(&env, "get NOPE --no-color", &[]).unwrap();
    assert!(tty.starts_with(plain), "{tty:?}");
}

#[test]
fn non_interactive_refuses_the_prompt_and_names_what_to_pass() {
    let env = TestEnv::with_local();
    let before = env.read("fnox.toml");
    let refused = "error: `fnox set NEW` would prompt for the value, and no question is asked with --non-interactive\n  hint: pipe the value on stdin, or pass --from-file PATH\n";
    let Some((out, code)) = on_a_terminal(&env, "--non-interactive --no-color set NEW", &[]) else {
        return;
    };
    assert_eq!((out.as_str(), code), (refused, 2));
    for value in ["1", "true", "yes", "ON"] {
        let vars = [("FNOX_NON_INTERACTIVE", value)];
        let (out, code) = on_a_terminal(&env, "--no-color set NEW", &vars).unwrap();
        assert_eq!((out.as_str(), code), (refused, 2), "FNOX_NON_INTERACTIVE={value}");
    }
    assert_eq!(env.read("fnox.toml"), before);
    // Piped stdin is not a prompt: the value is read as always.
    let out = env
        .cmd()
        .env("FNOX_NON_INTERACTIVE", "1")
        .args(["set", "NEW"])
        .write_stdin("v")
        .assert()
        .success();
    assert_eq!(stderr(&out), "set NEW (provider `local`) in fnox.toml\n");
}

#[test]
fn non_interactive_rotate_wants_yes() {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    let out = env.fnox(&["--non-interactive", "rotate"]).code(2);
    assert_eq!(
        stderr(&out),
        "error: rotate changes files; pass --yes to confirm (no question is asked with --non-interactive)\n"
    );
    let out = env.fnox(&["rotate"]).code(2);
    assert_eq!(
        stderr(&out),
        "error: rotate changes files; pass --yes to confirm (stdin is not a terminal)\n"
    );
    // On a terminal too, where rotate would ask.
    let Some((out, code)) =
        on_a_terminal(&env, "--no-color rotate", &[("FNOX_NON_INTERACTIVE", "1")])
    else {
        return;
    };
    assert_eq!(code, 2);
    assert_eq!(
        out,
        "error: rotate changes files; pass --yes to confirm (no question is asked with --non-interactive)\n"
    );
    env.fnox(&["--non-interactive", "rotate", "--yes"]).success();
}

#[test]
fn fnox_non_interactive_must_say_yes_or_no() {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    let out = env.cmd().env("FNOX_NON_INTERACTIVE", "maybe").args(["get", "A"]).assert().code(2);
    assert_eq!(
        stderr(&out),
        "error: FNOX_NON_INTERACTIVE must be 1, true, yes or on (or 0, false, no, off), not `maybe`\n"
    );
    for off in ["0", "false", "no", "off", ""] {
        env.cmd()
            .env("FNOX_NON_INTERACTIVE", off)
            .args(["get", "A"])
            .assert()
            .success()
            .stdout("a\n");
    }
}

#[test]
fn no_daemon_is_accepted_and_changes_nothing() {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    env.fnox(&["--no-daemon", "get", "A"]).success().stdout("a\n");
    env.fnox(&["exec", "--no-daemon", "--", "sh", "-c", "echo $A"]).success().stdout("a\n");
}

// ---- exec --replace -----------------------------------------------------

#[test]
fn exec_replace_runs_the_command_in_place_without_fnox_age_key_file() {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    let show = "echo \"$A ${FNOX_AGE_KEY_FILE:-no key file}\"; exit 3";
    let run = |replace: bool| {
        let mut args = vec!["exec"];
        if replace {
            args.push("--replace");
        }
        args.extend(["--", "sh", "-c", show]);
        env.cmd().env("FNOX_AGE_KEY_FILE", "/k/age.txt").args(&args).assert().code(3)
    };
    assert_eq!(stdout(&run(true)), "a no key file\n");
    assert_eq!(stdout(&run(false)), "a /k/age.txt\n");
}

#[test]
fn exec_replace_and_redact_are_refused_together() {
    let env = TestEnv::with_local();
    let out = env.fnox(&["exec", "--replace", "--redact", "--", "true"]).code(2);
    assert_eq!(
        stderr(&out),
        "error: --replace and --redact cannot be combined: with --redact, fnox stays as the command's parent to filter its output\n"
    );
}

// ---- set ----------------------------------------------------------------

#[test]
fn set_key_name_is_refused() {
    let env = TestEnv::with_local();
    let before = env.read("fnox.toml");
    let out = piped(&env, &["set", "API_TOKEN", "-k", "prod/api"], "v").code(2);
    assert_eq!(
        stderr(&out),
        "error: --key-name `prod/api` names a value kept in a remote store, and fnox's providers keep the encrypted value in the config file\n  hint: drop --key-name: the entry is `API_TOKEN`\n"
    );
    piped(&env, &["set", "API_TOKEN", "--key-name", "x"], "v").code(2);
    assert_eq!(env.read("fnox.toml"), before);
}

#[test]
fn set_default_alone_writes_only_the_setting_and_reads_no_value() {
    let env = TestEnv::with_local();
    // As in jdx/fnox, stdin is not read: the entry gets no value.
    let out = piped(&env, &["set", "LOG_LEVEL", "--default", "info"], "ignored").success();
    assert_eq!(stderr(&out), "set default of LOG_LEVEL (no value) in fnox.toml\n");
    assert_eq!(entry(&env.read("fnox.toml"), "LOG_LEVEL"), "{ default = \"info\" }");
    env.fnox(&["get", "LOG_LEVEL"]).success().stdout("info\n");
    // Again: nothing changes, and it says so.
    let out = env.fnox(&["set", "LOG_LEVEL", "--default", "info"]).success();
    assert_eq!(stderr(&out), "LOG_LEVEL in fnox.toml already has this default; nothing changed\n");
    // On an entry with a value, the value stays.
    env.set("TOKEN", b"t0k").success();
    let value = env.stored("TOKEN");
    let out = env.fnox(&["set", "TOKEN", "--default", "none", "-d", "the token"]).success();
    assert_eq!(stderr(&out), "set description, default of TOKEN (value unchanged) in fnox.toml\n");
    assert_eq!(
        entry(&env.read("fnox.toml"), "TOKEN"),
        format!(
            "{{ provider = \"local\", value = \"{value}\", description = \"the token\", default = \"none\" }}"
        )
    );
    env.fnox(&["get", "TOKEN"]).success().stdout("t0k\n");
}

#[test]
fn set_default_and_if_missing_go_with_a_value() {
    let env = TestEnv::with_local();
    env.write("v.txt", "s3cret");
    let out = env
        .fnox(&["set", "A", "--from-file", "v.txt", "--default", "dflt", "--if-missing", "warn"])
        .success();
    assert_eq!(stderr(&out), "set A (provider `local`) in fnox.toml\n");
    let value = env.stored("A");
    assert_eq!(
        entry(&env.read("fnox.toml"), "A"),
        format!(
            "{{ provider = \"local\", default = \"dflt\", if_missing = \"warn\", value = \"{value}\" }}"
        )
    );
    env.fnox(&["get", "A"]).success().stdout("s3cret\n");
}

#[test]
fn set_if_missing_is_the_entry_setting() {
    let env = TestEnv::with_local();
    let out = env.fnox(&["set", "OPTIONAL", "--if-missing", "ignore"]).success();
    assert_eq!(stderr(&out), "set if_missing of OPTIONAL (no value) in fnox.toml\n");
    assert_eq!(entry(&env.read("fnox.toml"), "OPTIONAL"), "{ if_missing = \"ignore\" }");
    // `get` of a secret with no value then prints nothing and succeeds.
    let out = env.fnox(&["get", "OPTIONAL"]).success();
    assert_eq!((stdout(&out), stderr(&out)), (String::new(), String::new()));
    // Before the command name it is the same option.
    env.fnox(&["--if-missing", "warn", "set", "OPTIONAL"]).success();
    assert_eq!(entry(&env.read("fnox.toml"), "OPTIONAL"), "{ if_missing = \"warn\" }");
    let out = env.fnox(&["set", "OPTIONAL", "--if-missing", "sometimes"]).code(2);
    assert!(stderr(&out).contains("invalid value 'sometimes' for '--if-missing <MODE>'"));
    assert_eq!(entry(&env.read("fnox.toml"), "OPTIONAL"), "{ if_missing = \"warn\" }");
}

#[test]
fn set_settings_alone_refuse_options_that_need_a_value() {
    let env = TestEnv::with_local();
    let before = env.read("fnox.toml");
    let out = piped(&env, &["set", "A", "--default", "d", "-p", "local"], "v").code(2);
    assert_eq!(
        stderr(&out),
        "error: --provider applies to a value, and `fnox set A` reads none here: with --default or --if-missing (or -d alone on a terminal) only the entry's settings change\n  hint: give the value as well, as VALUE or with --from-file PATH\n  hint: or store the value first: `fnox set A` reads it from stdin\n"
    );
    for option in ["--base64-encode", "--envelope", "--raw", "--allow-empty"] {
        let out = env.fnox(&["set", "A", "--if-missing", "warn", option]).code(2);
        assert!(stderr(&out).starts_with(&format!("error: {option} applies to a value")));
    }
    assert_eq!(env.read("fnox.toml"), before);
}

#[test]
fn set_description_alone_on_a_terminal_changes_only_it() {
    let env = TestEnv::with_local();
    env.set("TOKEN", b"t0k").success();
    let value = env.stored("TOKEN");
    let Some((out, code)) = on_a_terminal(&env, "set TOKEN -d 'the token'", &[]) else { return };
    assert_eq!(
        (out.as_str(), code),
        ("set description of TOKEN (value unchanged) in fnox.toml\n", 0)
    );
    assert_eq!(
        entry(&env.read("fnox.toml"), "TOKEN"),
        format!("{{ provider = \"local\", value = \"{value}\", description = \"the token\" }}")
    );
    // Piped, -d goes with the value read from stdin, as before.
    piped(&env, &["set", "TOKEN", "-d", "new"], "n3w").success();
    env.fnox(&["get", "TOKEN"]).success().stdout("n3w\n");
}

#[test]
fn set_base64_encode_and_get_base64_decode_round_trip() {
    let env = TestEnv::with_local();
    let bytes: Vec<u8> = (0..=255u8).collect();
    std::fs::write(env.project.join("blob.bin"), &bytes).unwrap();
    env.fnox(&["set", "BLOB", "--from-file", "blob.bin", "--base64-encode"]).success();
    let stored_text = stdout(&env.fnox(&["get", "BLOB"]).success());
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode(&bytes);
    assert_eq!(stored_text, format!("{expected}\n"));
    let out = env.fnox(&["get", "-n", "--base64-decode", "BLOB"]).success();
    assert_eq!(out.get_output().stdout, bytes);
    piped(&env, &["set", "TEXT", "--base64-encode"], "hello\n").success();
    env.fnox(&["get", "TEXT"]).success().stdout("aGVsbG8=\n");
    env.fnox(&["get", "--base64-decode", "TEXT"]).success().stdout("hello\n");
    env.fnox(&["get", "--json", "--base64-decode", "TEXT"])
        .success()
        .stdout("{\"name\":\"TEXT\",\"value\":\"hello\"}\n");
}

#[test]
fn get_base64_decode_refuses_a_value_that_is_not_base64_without_showing_it() {
    let env = TestEnv::with_local();
    env.set("PLAIN", b"not base64: s3cret!").success();
    let out = env.fnox(&["get", "--base64-decode", "PLAIN"]).code(1);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "error: secret `PLAIN` is not base64, so --base64-decode cannot decode it\n  hint: `fnox get PLAIN` prints it as it is stored\n"
    );
}

#[test]
fn set_dry_run_changes_nothing_and_never_shows_the_value() {
    let env = TestEnv::with_local();
    env.set("A", b"old").success();
    let before = env.read("fnox.toml");
    let out = piped(&env, &["set", "-n", "A"], "n3w-s3cret").success();
    assert_eq!(
        stdout(&out),
        "dry run: would set A (provider `local`) in fnox.toml; nothing was changed\n"
    );
    assert_eq!(stderr(&out), "");
    let out = piped(&env, &["-P", "ci", "set", "--dry-run", "B"], "n3w-s3cret").success();
    assert_eq!(
        stdout(&out),
        "dry run: would set B (provider `local`) in fnox.toml [profiles.ci.secrets] (new profile `ci`); nothing was changed\n"
    );
    let out = env.fnox(&["set", "-n", "C", "--default", "d"]).success();
    assert_eq!(
        stdout(&out),
        "dry run: would set default of C (no value) in fnox.toml; nothing was changed\n"
    );
    // What the real run would refuse is refused.
    let out = env.fnox(&["set", "-n", "A"]).code(1);
    assert!(stderr(&out).starts_with("error: the value for `A` is empty; nothing was changed"));
    assert_eq!(env.read("fnox.toml"), before);
    env.fnox(&["get", "A"]).success().stdout("old\n");
}

#[test]
fn set_global_writes_the_global_file_that_every_project_reads() {
    let env = TestEnv::with_local();
    let out = piped(&env, &["set", "-g", "GH_TOKEN"], "gh").code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        "error: the global config file [TMP]/config/config.toml does not exist\n  hint: create it with `fnox init --global`\n"
    );
    env.fnox(&["init", "--global"]).success();
    let out = piped(&env, &["set", "--global", "GH_TOKEN"], "gh").success();
    assert_eq!(
        env.redact(&stderr(&out)),
        "set GH_TOKEN (provider `local`) in [TMP]/config/config.toml\n"
    );
    let global = std::fs::read_to_string(env.config_dir.join("config.toml")).unwrap();
    assert!(entry(&global, "GH_TOKEN").starts_with("{ provider = \"local\", value = "));
    assert!(!env.read("fnox.toml").contains("GH_TOKEN"));
    env.fnox(&["get", "GH_TOKEN"]).success().stdout("gh\n");
    // Another directory, no project: the global file alone.
    let elsewhere = env.tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    env.cmd_in(&elsewhere).args(["get", "GH_TOKEN"]).assert().success().stdout("gh\n");
    // Settings only, in a profile of the global file.
    env.fnox(&["-P", "ci", "set", "-g", "GH_TOKEN", "--if-missing", "error"]).success();
    let global = std::fs::read_to_string(env.config_dir.join("config.toml")).unwrap();
    assert!(global.ends_with("\n[profiles.ci.secrets]\nGH_TOKEN = { if_missing = \"error\" }\n"));
}

// ---- remove -------------------------------------------------------------

#[test]
fn remove_dry_run_changes_nothing() {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    piped(&env, &["-P", "ci", "set", "A"], "ci").success();
    let before = env.read("fnox.toml");
    let out = env.fnox(&["remove", "-n", "A"]).success();
    assert_eq!(stdout(&out), "dry run: would remove A from fnox.toml; nothing was changed\n");
    assert_eq!(stderr(&out), "");
    let out = env.fnox(&["-P", "ci", "rm", "--dry-run", "A"]).success();
    assert_eq!(
        stdout(&out),
        "dry run: would remove A from fnox.toml, and the [profiles.ci] table it would leave empty; nothing was changed\n"
    );
    assert_eq!(env.read("fnox.toml"), before);
    env.fnox(&["remove", "-n", "NOPE"]).code(1);
}

#[test]
fn remove_global_removes_from_the_global_file_only() {
    let env = TestEnv::with_local();
    env.fnox(&["init", "-g"]).success();
    env.set("SHARED", b"project").success();
    piped(&env, &["set", "-g", "SHARED"], "global").success();
    let global = std::fs::read_to_string(env.config_dir.join("config.toml")).unwrap();
    assert!(global.contains("\nSHARED = { provider = \"local\", value = "));
    let out = env.fnox(&["remove", "-g", "SHARED"]).success();
    assert_eq!(env.redact(&stderr(&out)), "removed SHARED from [TMP]/config/config.toml\n");
    env.fnox(&["get", "SHARED"]).success().stdout("project\n");
    let out = env.fnox(&["remove", "--global", "SHARED"]).code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        "error: secret `SHARED` is not in the global config file [TMP]/config/config.toml (profile `default`)\n"
    );
}

// ---- list ---------------------------------------------------------------

#[test]
fn list_accepts_full_sources_and_short_values() {
    let env = TestEnv::with_local();
    env.set("A", b"a-value").success();
    env.fnox(&["set", "B", "--default", "b", "-d", "a description"]).success();
    let values = stdout(&env.fnox(&["list", "--values"]).success());
    assert_eq!(
        values,
        "NAME  PROVIDER   DESCRIPTION    FILE          VALUE\nA     local                     fnox.toml:11  a-value\nB     (default)  a description  fnox.toml:12  b\n"
    );
    assert_eq!(stdout(&env.fnox(&["list", "-V", "-f", "-s"]).success()), values);
    let plain = stdout(&env.fnox(&["list"]).success());
    assert_eq!(stdout(&env.fnox(&["ls", "--full", "--sources"]).success()), plain);
}

// ---- init ---------------------------------------------------------------

#[test]
fn init_global_creates_the_global_config_file() {
    let env = TestEnv::new();
    let out = env.fnox(&["init", "--global", "--skip-wizard"]).success();
    let key = std::fs::read_to_string(env.config_dir.join("local.key")).unwrap();
    let id = key.lines().find(|l| l.contains(" primary")).unwrap().split(' ').next().unwrap();
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "created local key {id} in [TMP]/config/local.key\ncreated [TMP]/config/config.toml with provider `local`\nnext: `fnox set --global NAME` to add a secret, `fnox get NAME` to read it\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(env.config_dir.join("config.toml")).unwrap(),
        "# fnox's global config: providers and secrets that every project of this\n# user sees (a project's own files win). Values are encrypted.\n#   fnox set --global NAME   encrypt a value into this file\n\n[providers.local]\ntype = \"local\"\n\n[secrets]\n"
    );
    assert!(!env.project.join("fnox.toml").exists());
    let out = env.fnox(&["init", "-g"]).success();
    assert!(
        env.redact(&stderr(&out)).ends_with(
            "[TMP]/config/config.toml already has a provider `local`; nothing changed\n"
        )
    );
    let out = env.fnox(&["init", "-g", "-c", "other.toml"]).code(2);
    assert_eq!(
        stderr(&out),
        "error: --global and -c cannot be combined: --global writes the global config file\n"
    );
}

#[test]
fn init_force_keeps_the_old_file_as_a_backup() {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    let old = env.read("fnox.toml");
    let out = env.fnox(&["init", "-f"]).success();
    let backups: Vec<String> = std::fs::read_dir(&env.project)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("fnox.toml.backup-"))
        .collect();
    let [backup] = backups.as_slice() else { panic!("{backups:?}") };
    let key = std::fs::read_to_string(env.config_dir.join("local.key")).unwrap();
    let id = key.lines().find(|l| l.contains(" primary")).unwrap().split(' ').next().unwrap();
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "using the local key {id} in [TMP]/config/local.key\nsaved the old fnox.toml as {backup} (--force)\nrecreated fnox.toml with provider `local`\nnext: `fnox set NAME` to add a secret, `fnox get NAME` to read it\n"
        )
    );
    assert_eq!(env.read(backup), old);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.project.join(backup)).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(!env.read("fnox.toml").contains("A = "));
    assert!(env.read("fnox.toml").ends_with("[providers.local]\ntype = \"local\"\n\n[secrets]\n"));
    env.fnox(&["get", "A"]).code(1);
    // Without a file, --force is plain init.
    let fresh = TestEnv::new();
    let out = fresh.fnox(&["init", "--force"]).success();
    assert!(stderr(&out).contains("created fnox.toml with provider `local`\n"));
}
