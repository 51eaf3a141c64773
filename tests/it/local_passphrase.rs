//! A `local` keyring protected with a passphrase (`fnox keys protect`,
//! `fnox init --passphrase`): asked on the terminal when a key is needed,
//! refused clearly without one, never damaged by a wrong passphrase, opened
//! by hand with `age -d`, and kept unlocked by the agent for the session.

use crate::{
    common::{TestEnv, require_tool, stderr, stdout},
    pty,
};

const PASS: &str = "correct horse battery";

/// A project with a local provider, TOKEN set, and its keyring protected
/// with [`PASS`]; the agent (if any) lives in the test's own directory.
/// Returns the environment and the keyring's text before protection.
fn protected() -> (TestEnv, String) {
    let mut env = TestEnv::with_local();
    env.extra_env
        .push(("FNOX_AGENT_DIR".into(), env.tmp.path().join("agent").display().to_string()));
    env.extra_env.push(("NO_COLOR".into(), "1".into()));
    env.set("TOKEN", b"hunter2").success();
    let plain = std::fs::read_to_string(keyring(&env)).unwrap();
    let (shown, code) =
        pty::fnox(&env, &["keys", "protect"], &[("New passphrase", PASS), ("Confirm", PASS)]);
    let path = keyring(&env).display().to_string();
    assert_eq!(
        (shown.as_str(), code),
        (
            format!(
                "New passphrase for the local keyring {path}: \n\
                 Confirm the new passphrase: \n\
                 protected {path} with a passphrase: fnox asks for it when it needs a key (once per session with `fnox agent start`); `age -d {path}` opens it by hand\n"
            )
            .as_str(),
            0
        )
    );
    (env, plain)
}

fn keyring(env: &TestEnv) -> std::path::PathBuf {
    env.config_dir.join("local.key")
}

#[test]
fn the_protected_keyring_is_an_age_file_that_age_d_opens_and_fnox_asks_for_it() {
    let (env, plain) = protected();
    let path = keyring(&env).display().to_string();
    let stored = std::fs::read_to_string(keyring(&env)).unwrap();
    assert!(stored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"), "{stored}");
    assert!(stored.ends_with("-----END AGE ENCRYPTED FILE-----\n"), "{stored}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(keyring(&env)).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    // By hand, with the age CLI: the keyring as it was before, byte for byte.
    if require_tool("age") {
        let (shown, code) = pty::converse(&env, "age", &["-d", &path], &[("passphrase", PASS)]);
        assert_eq!(code, 0, "{shown}");
        assert!(shown.ends_with(&plain), "{shown}");
    }
    let (shown, code) = pty::fnox(&env, &["get", "TOKEN"], &[("Passphrase", PASS)]);
    assert_eq!(
        (shown.as_str(), code),
        (format!("Passphrase of the local keyring {path}: \nhunter2\n").as_str(), 0)
    );
    // keys list says the keyring is protected (after asking to open it).
    let (shown, code) = pty::fnox(&env, &["keys", "list"], &[("Passphrase", PASS)]);
    assert_eq!(code, 0, "{shown}");
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines[0], format!("Passphrase of the local keyring {path}: "), "{shown}");
    assert_eq!(lines[1], format!("{path} (protected with a passphrase):"), "{shown}");
    assert_eq!(lines.len(), 3, "{shown}");
    assert!(lines[2].contains("  primary  created "), "{shown}");
    // exec of several values asks once; set encrypts after one question.
    let (shown, code) = pty::converse(
        &env,
        "sh",
        &["-c", &format!("printf second | {} set OTHER", crate::common::bin().display())],
        &[("Passphrase", PASS)],
    );
    assert_eq!(code, 0, "{shown}");
    let (shown, code) = pty::fnox(
        &env,
        &["exec", "--", "sh", "-c", "echo $TOKEN $OTHER"],
        &[("Passphrase", PASS), ("Passphrase", PASS)],
    );
    assert_eq!(
        (shown.as_str(), code),
        (format!("Passphrase of the local keyring {path}: \nhunter2 second\n").as_str(), 0)
    );
}

#[test]
fn a_wrong_passphrase_leaves_the_keyring_byte_identical() {
    let (env, _) = protected();
    let path = keyring(&env).display().to_string();
    let before = std::fs::read(keyring(&env)).unwrap();
    let (shown, code) = pty::fnox(&env, &["get", "TOKEN"], &[("Passphrase", "wrong")]);
    assert_eq!(code, 1, "{shown}");
    assert!(
        shown.ends_with(&format!("  cause: wrong passphrase for the local keyring {path}\n")),
        "{shown}"
    );
    for args in [["keys", "unprotect"], ["keys", "passphrase"]] {
        let (shown, code) = pty::fnox(&env, &args, &[("Passphrase", "wrong")]);
        assert_eq!(code, 1, "{args:?}: {shown}");
        assert!(shown.contains("cause: wrong passphrase for the local keyring"), "{shown}");
    }
    // A confirmation that differs changes nothing either.
    let (shown, code) = pty::fnox(
        &env,
        &["keys", "passphrase"],
        &[("Passphrase", PASS), ("New passphrase", "one"), ("Confirm", "two")],
    );
    assert_eq!(code, 1, "{shown}");
    assert!(shown.ends_with("error: the two passphrases differ; nothing was written\n"), "{shown}");
    let (shown, code) = pty::fnox(&env, &["keys", "protect"], &[]);
    assert_eq!(code, 1, "{shown}");
    assert!(
        shown.ends_with(&format!(
            "error: the local keyring {path} is already protected with a passphrase\n  \
             hint: `fnox keys passphrase` changes its passphrase; `fnox keys unprotect` removes it\n"
        )),
        "{shown}"
    );
    assert_eq!(std::fs::read(keyring(&env)).unwrap(), before);
}

#[test]
fn without_a_terminal_nothing_is_asked_and_ci_uses_fnox_local_key() {
    let (env, _) = protected();
    let path = keyring(&env).display().to_string();
    let out =
        env.program("setsid").arg(crate::common::bin()).args(["get", "TOKEN"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: cannot decrypt secret `TOKEN` (provider `local`, fnox.toml:11)\n  \
             cause: the local keyring {path} is protected with a passphrase, and there is no terminal to ask for it\n  \
             hint: run fnox in a terminal so it can ask for the passphrase (with `fnox agent start`, once per session); where there is none (CI), give the key in FNOX_LOCAL_KEY (`fnox keys export --env` prints it)\n"
        )
    );
    // --non-interactive refuses to ask even on a terminal.
    let (shown, code) = pty::fnox(&env, &["--non-interactive", "get", "TOKEN"], &[]);
    assert_eq!(code, 1, "{shown}");
    assert!(!shown.contains("Passphrase of"), "{shown}");
    // CI: the key from `keys export --env` (asked once, here), no keyring.
    let (shown, code) = pty::fnox(&env, &["keys", "export", "--env"], &[("Passphrase", PASS)]);
    assert_eq!(code, 0, "{shown}");
    let line = shown.lines().find(|l| l.starts_with("FNOX_LOCAL_KEY=")).unwrap();
    let key = line.strip_prefix("FNOX_LOCAL_KEY=").unwrap();
    let out = env
        .program("setsid")
        .arg(crate::common::bin())
        .args(["get", "TOKEN"])
        .env("FNOX_LOCAL_KEY", key)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hunter2\n");
}

#[test]
fn the_agent_keeps_the_unlocked_keyring_so_one_prompt_serves_the_session() {
    let (env, _) = protected();
    let path = keyring(&env).display().to_string();
    let started = env.fnox(&["agent", "start"]).success();
    assert!(stdout(&started).starts_with("agent started"), "{}", stdout(&started));
    let no_terminal = |args: &[&str]| {
        env.program("setsid").arg(crate::common::bin()).args(args).output().unwrap()
    };
    let (shown, code) = pty::fnox(&env, &["get", "TOKEN"], &[("Passphrase", PASS)]);
    assert_eq!(
        (shown.as_str(), code),
        (format!("Passphrase of the local keyring {path}: \nhunter2\n").as_str(), 0)
    );
    // The next commands, even without a terminal, need no passphrase.
    let out = no_terminal(&["get", "TOKEN"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hunter2\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = stdout(&env.fnox(&["agent", "status", "--names"]).success());
    assert!(status.contains(&format!("  {path} (local keyring): age ")), "{status}");
    // Writing the keyring (a new key) needs the passphrase itself, which
    // the agent does not keep; what was written is handed to the agent.
    let (shown, code) = pty::fnox(&env, &["rotate", "--new-key", "--yes"], &[("Passphrase", PASS)]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.starts_with(&format!("Passphrase of the local keyring {path}: \n")), "{shown}");
    assert!(std::fs::read_to_string(keyring(&env)).unwrap().starts_with("-----BEGIN AGE"));
    let out = no_terminal(&["get", "TOKEN"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hunter2\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // lock forgets it: the question comes back.
    env.fnox(&["agent", "lock"]).success();
    let out = no_terminal(&["get", "TOKEN"]);
    assert_eq!(out.status.code(), Some(1));
    env.fnox(&["agent", "stop"]).success();
}

#[test]
fn the_passphrase_changes_and_goes_and_init_can_start_with_one() {
    let (env, plain) = protected();
    let path = keyring(&env).display().to_string();
    let (shown, code) = pty::fnox(
        &env,
        &["keys", "passphrase"],
        &[("Passphrase", PASS), ("New passphrase", "new one"), ("Confirm", "new one")],
    );
    assert_eq!(code, 0, "{shown}");
    assert!(shown.ends_with(&format!("changed the passphrase of {path}\n")), "{shown}");
    let (shown, code) = pty::fnox(&env, &["get", "TOKEN"], &[("Passphrase", "new one")]);
    assert_eq!((shown.ends_with("hunter2\n"), code), (true, 0), "{shown}");
    let (shown, code) = pty::fnox(&env, &["keys", "unprotect"], &[("Passphrase", "new one")]);
    assert_eq!(
        (shown.as_str(), code),
        (
            format!(
                "Passphrase of the local keyring {path}: \n\
                 removed the passphrase of {path}: the keys are in it as plain text again\n"
            )
            .as_str(),
            0
        )
    );
    assert_eq!(std::fs::read_to_string(keyring(&env)).unwrap(), plain);
    let out = env.fnox(&["keys", "unprotect"]).failure();
    assert_eq!(
        stderr(&out),
        format!(
            "error: the local keyring {path} is not protected with a passphrase\n  \
             hint: `fnox keys protect` gives it one\n"
        )
    );

    // init --passphrase: the key is created protected, never on disk in the clear.
    let fresh = TestEnv::new();
    let path = keyring(&fresh).display().to_string();
    let (shown, code) = pty::fnox(
        &fresh,
        &["init", "--passphrase"],
        &[("New passphrase", PASS), ("Confirm", PASS)],
    );
    assert_eq!(code, 0, "{shown}");
    assert!(shown.starts_with(&format!(
        "New passphrase for the local keyring {path}: \nConfirm the new passphrase: \ncreated local key "
    )), "{shown}");
    assert!(shown.contains(&format!(" in {path}, protected with a passphrase\n")), "{shown}");
    assert!(std::fs::read_to_string(keyring(&fresh)).unwrap().starts_with("-----BEGIN AGE"));
    let out = fresh.fnox(&["init", "--passphrase", "--provider", "age"]).failure();
    assert_eq!(
        stderr(&out),
        "error: --passphrase protects the local provider's keyring; an age identity gets one with `age -p` (see docs/keys.md)\n"
    );
}
