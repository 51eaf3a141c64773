//! Help text, completions, and that no value ever reaches stderr or argv
//! advice.

use crate::common::{TestEnv, stderr, stdout};

#[test]
fn help_text_for_every_command() {
    let env = TestEnv::new();
    let top = stdout(&env.fnox(&["--help"]).success());
    insta::assert_snapshot!("help", top);
    for cmd in [
        "init",
        "set",
        "get",
        "list",
        "remove",
        "edit",
        "exec",
        "export",
        "import",
        "rotate",
        "doctor",
        "check",
        "profiles",
        "config-files",
        "ci-redact",
        "scan",
        "completions",
        "activate",
        "deactivate",
        "version",
        "agent",
    ] {
        let out = stdout(&env.fnox(&[cmd, "--help"]).success());
        assert!(out.contains("Examples:"), "`fnox {cmd} --help` has no example");
        insta::assert_snapshot!(format!("help_{cmd}"), out);
    }
}

#[test]
fn help_text_for_keys() {
    let env = TestEnv::new();
    for (name, args) in [
        ("help_keys", &["keys", "--help"][..]),
        ("help_keys_export", &["keys", "export", "--help"]),
        ("help_keys_import", &["keys", "import", "--help"]),
    ] {
        let out = stdout(&env.fnox(args).success());
        assert!(out.contains("Examples:"), "`fnox {args:?}` has no example");
        insta::assert_snapshot!(name, out);
    }
}

/// What each subcommand's help says instead of listing the global options.
const POINTER: &str = "Global options (-c, -P, -q, -v and more): see `fnox --help`.";

#[test]
fn global_options_are_listed_once_in_fnox_help() {
    let env = TestEnv::new();
    let top = stdout(&env.fnox(&["--help"]).success());
    assert_eq!(top.matches("--profile <NAME>").count(), 1, "{top}");
    assert!(top.contains("\nGlobal options:\n  -c, --config <PATH>"), "{top}");
    assert!(!top.contains(POINTER));
    for args in [
        &["get", "--help"][..],
        &["completions", "--help"],
        &["keys", "export", "--help"],
        &["help", "remove"],
        &["rm", "-h"],
    ] {
        let out = stdout(&env.fnox(args).success());
        for global in
            ["--config <PATH>", "--profile <NAME>", "--if-missing <MODE>", "Global options:"]
        {
            assert!(!out.contains(global), "`fnox {args:?}` lists {global}: {out}");
        }
        assert!(out.contains(&format!("\n\n{POINTER}\n\nExamples:\n")), "{args:?}: {out}");
    }
}

#[test]
fn global_options_work_after_the_subcommand() {
    let env = TestEnv::with_local();
    env.cmd().args(["-P", "production", "set", "A"]).write_stdin("prod").assert().success();
    for args in [
        &["-P", "production", "get", "A"][..],
        &["get", "-P", "production", "A"],
        &["get", "A", "--profile", "production"],
        &["get", "A", "--profile=production"],
    ] {
        assert_eq!(stdout(&env.fnox(args).success()), "prod\n", "{args:?}");
    }
    let out = env.fnox(&["get", "A"]).code(1);
    assert!(stderr(&out).starts_with("error: secret `A` is not defined in profile `default`"));
    let quiet = env.cmd().args(["set", "B", "-q"]).write_stdin("b").assert().success();
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn help_states_the_limits_and_defaults_the_docs_state() {
    let env = TestEnv::new();
    let set = stdout(&env.fnox(&["set", "--help"]).success());
    assert!(
        set.contains(
            "provider wraps only the data key). Automatic above the provider's direct\n                            limit (aws-kms: 4096 bytes, vault-transit: 32 KiB) and with the\n                            provider's `envelope = true`\n"
        ),
        "{set}"
    );
    let top = stdout(&env.fnox(&["--help"]).success());
    assert!(
        top.contains(
            "      --if-missing <MODE>     What to do when a secret has no value: error, warn or ignore; wins\n                              over `if_missing` in the config files [env: FNOX_IF_MISSING] [default:\n                              error for get, warn for exec and export] [possible values: error,\n                              warn, ignore]\n"
        ),
        "{top}"
    );
}

#[test]
fn values_never_appear_in_messages() {
    let env = TestEnv::with_local();
    let secret = "Sup3r-Secret-Value-42";
    env.set("A", secret.as_bytes()).success();
    // Every message fnox prints around the value: set, get errors, exec
    // failures, verbose loading, list.
    let mut messages = String::new();
    messages += &stderr(&env.set("A", secret.as_bytes()).success());
    messages += &stderr(&env.fnox(&["-v", "list"]).success());
    messages += &stdout(&env.fnox(&["list"]).success());
    messages += &stderr(&env.fnox(&["exec", "--", "no-such-command-fnox"]).code(127));
    let moved = env.read("fnox.toml").replace("A = {", "B = {");
    env.write("fnox.toml", &moved);
    messages += &stderr(&env.fnox(&["get", "B"]).code(1));
    messages += &stderr(&env.fnox(&["exec", "--", "true"]).code(1));
    assert!(!messages.is_empty());
    assert!(!messages.contains(secret), "{messages}");
    assert!(!env.read("fnox.toml").contains(secret));
}

#[test]
fn a_value_in_argv_is_accepted_with_a_warning() {
    let env = TestEnv::with_local();
    let out = env.fnox(&["set", "A", "visible"]).success();
    assert_eq!(
        stderr(&out),
        "warning: a value on the command line is visible in shell history and to `ps`; pipe it on stdin instead\nset A (provider `local`) in fnox.toml\n"
    );
    assert_eq!(env.get("A"), b"visible");
}

#[test]
fn broken_pipe_is_quiet() {
    let env = TestEnv::with_local();
    env.set("BIG", &vec![b'x'; 1 << 20]).success();
    let script = format!(
        "cd '{}' && FNOX_CONFIG_DIR='{}' '{}' get BIG | head -c 1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
        env.project.display(),
        env.config_dir.display(),
        crate::common::bin().display()
    );
    let out = std::process::Command::new("bash").arg("-c").arg(&script).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// stderr of `fnox ARGS` run on a pseudo-terminal (`script`), so that
/// `--color auto` sees a terminal; `no_color` sets NO_COLOR=1.
fn on_a_terminal(env: &TestEnv, args: &str, no_color: bool) -> String {
    if !crate::common::require_tool("script") {
        return String::new();
    }
    let line = format!("{} {args}", crate::common::bin().display());
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .current_dir(&env.project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("FNOX_CONFIG_DIR", &env.config_dir)
        .env("TERM", "xterm");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    String::from_utf8_lossy(&cmd.output().unwrap().stdout).replace("\r\n", "\n")
}

#[test]
fn color_follows_the_flag_then_no_color_then_the_terminal() {
    let env = TestEnv::with_local();
    let red = "\u{1b}[1;31merror\u{1b}[0m: secret `NOPE` is not defined in profile `default`\n";
    let plain = "error: secret `NOPE` is not defined in profile `default`\n";
    // An explicit choice wins, terminal or not.
    let always = stderr(&env.fnox(&["--color", "always", "get", "NOPE"]).code(1));
    assert!(always.starts_with(red), "{always:?}");
    let never = stderr(&env.fnox(&["--color", "never", "get", "NOPE"]).code(1));
    assert!(never.starts_with(plain), "{never:?}");
    // auto: no colour into a pipe (as here)...
    let piped = stderr(&env.fnox(&["get", "NOPE"]).code(1));
    assert!(piped.starts_with(plain), "{piped:?}");
    // ...colour on a terminal, unless NO_COLOR is set.
    let tty = on_a_terminal(&env, "get NOPE", false);
    if tty.is_empty() {
        return;
    }
    assert!(tty.starts_with(red), "{tty:?}");
    assert!(on_a_terminal(&env, "get NOPE", true).starts_with(plain));
    assert!(on_a_terminal(&env, "--color always get NOPE", true).starts_with(red));
}
