//! An age identity file encrypted with a passphrase (`age -p`) is used
//! like any identity: fnox asks for the passphrase on the terminal, says
//! clearly when there is none, and a wrong passphrase changes nothing.

use crate::common::{TestEnv, require_tool};

/// Runs `program ARGS` on a pseudo-terminal, typing `answer` after each
/// prompt that contains `prompt`, `times` times.
fn on_a_terminal(
    env: &TestEnv,
    program: &str,
    args: &[&str],
    prompt: &str,
    answer: &str,
    times: usize,
) -> (String, i32) {
    crate::pty::converse(env, program, args, &vec![(prompt, answer); times])
}

/// A project with an age provider whose identity is `id.age`, encrypted
/// with the passphrase `correct horse` by the age CLI, and TOKEN set.
fn project() -> Option<TestEnv> {
    if !require_tool("age") {
        return None;
    }
    let mut env = TestEnv::new();
    let dir = env.tmp.path().to_path_buf();
    let keygen = env.program("age-keygen").arg("-o").arg(dir.join("id.txt")).output().unwrap();
    assert!(keygen.status.success());
    let text = std::fs::read_to_string(dir.join("id.txt")).unwrap();
    let recipient = text.lines().find_map(|l| l.strip_prefix("# public key: ")).unwrap();
    let id_age = dir.join("id.age").display().to_string();
    let id_txt = dir.join("id.txt").display().to_string();
    let (shown, code) = on_a_terminal(
        &env,
        "age",
        &["-p", "-o", &id_age, &id_txt],
        "assphrase",
        "correct horse",
        2,
    );
    assert_eq!(code, 0, "{shown}");
    std::fs::remove_file(dir.join("id.txt")).unwrap();
    std::fs::set_permissions(
        dir.join("id.age"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    env.write(
        "fnox.toml",
        &format!("[providers.age]\ntype = \"age\"\nrecipients = [\"{recipient}\"]\n\n[secrets]\n"),
    );
    env.set("TOKEN", b"hunter2-value").success();
    env.extra_env.push(("FNOX_AGE_KEY_FILE".into(), id_age));
    Some(env)
}

#[test]
fn the_passphrase_is_asked_on_the_terminal_and_a_wrong_one_changes_nothing() {
    let Some(env) = project() else { return };
    let before = std::fs::read(env.tmp.path().join("id.age")).unwrap();
    let bin = crate::common::bin().display().to_string();
    let id = env.tmp.path().join("id.age").display().to_string();
    let (shown, code) =
        on_a_terminal(&env, &bin, &["get", "TOKEN"], "Passphrase", "correct horse", 1);
    assert_eq!(
        (shown.as_str(), code),
        (format!("Passphrase of the age identity {id}: \nhunter2-value\n").as_str(), 0)
    );
    let (shown, code) = on_a_terminal(&env, &bin, &["get", "TOKEN"], "Passphrase", "wrong", 1);
    assert_eq!(code, 1, "{shown}");
    assert!(
        shown.ends_with(&format!("  cause: wrong passphrase for the age identity {id}\n")),
        "{shown}"
    );
    assert_eq!(std::fs::read(env.tmp.path().join("id.age")).unwrap(), before);
    // exec asks once for all of its values.
    env.set("OTHER", b"second").success();
    let (shown, code) = on_a_terminal(
        &env,
        &bin,
        &["exec", "--", "sh", "-c", "echo $TOKEN $OTHER"],
        "Passphrase",
        "correct horse",
        2,
    );
    assert_eq!(code, 0, "{shown}");
    assert_eq!(shown.matches("Passphrase").count(), 1, "{shown}");
    assert!(shown.ends_with("hunter2-value second\n"), "{shown}");
}

#[test]
fn without_a_terminal_the_error_says_so_and_how_ci_does_it() {
    let Some(env) = project() else { return };
    let id = env.tmp.path().join("id.age").display().to_string();
    let out =
        env.program("setsid").arg(crate::common::bin()).args(["get", "TOKEN"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: cannot decrypt secret `TOKEN` (provider `age`, fnox.toml:6)\n  \
             cause: the age identity {id} is encrypted with a passphrase, and there is no terminal to ask for it\n  \
             hint: run fnox in a terminal so it can ask for the passphrase; where there is none (CI), give the identity unencrypted in FNOX_AGE_KEY (`age -d` of the file, by hand)\n"
        )
    );
    // --non-interactive refuses to ask even on a terminal.
    let bin = crate::common::bin().display().to_string();
    let (shown, code) =
        on_a_terminal(&env, &bin, &["--non-interactive", "get", "TOKEN"], "Passphrase", "x", 1);
    assert_eq!(code, 1, "{shown}");
    assert!(!shown.contains("Passphrase of"), "{shown}");
}

#[test]
fn init_says_it_cannot_read_the_public_key_of_an_encrypted_identity() {
    let Some(env) = project() else { return };
    let id = env.tmp.path().join("id.age").display().to_string();
    let dir = env.tmp.path().join("other");
    std::fs::create_dir_all(&dir).unwrap();
    let out = env.cmd_in(&dir).args(["init", "--provider", "age"]).assert().failure();
    assert_eq!(
        crate::common::stderr(&out),
        format!(
            "error: cannot use provider `age` ({id})\n  \
             cause: {id}: it is encrypted with a passphrase, so fnox cannot read its public key\n  \
             hint: add the provider by hand with your recipient, or point FNOX_AGE_KEY_FILE at an age identity\n"
        )
    );
    assert!(!dir.join("fnox.toml").exists());
}

#[test]
fn the_agent_keeps_the_unlocked_identity_so_one_prompt_serves_the_session() {
    let Some(mut env) = project() else { return };
    let agent = env.tmp.path().join("agent").display().to_string();
    env.extra_env.push(("FNOX_AGENT_DIR".into(), agent));
    let id = env.tmp.path().join("id.age").display().to_string();
    env.fnox(&["agent", "start"]).success();
    let bin = crate::common::bin().display().to_string();
    let (shown, code) =
        on_a_terminal(&env, &bin, &["get", "TOKEN"], "Passphrase", "correct horse", 1);
    assert_eq!(
        (shown.as_str(), code),
        (format!("Passphrase of the age identity {id}: \nhunter2-value\n").as_str(), 0)
    );
    // A value the agent has never seen, without a terminal: the identity
    // itself comes from the agent.
    env.set("LATER", b"set-after-the-prompt").success();
    let out =
        env.program("setsid").arg(crate::common::bin()).args(["get", "LATER"]).output().unwrap();
    assert_eq!(
        (String::from_utf8_lossy(&out.stdout).as_ref(), out.status.code()),
        ("set-after-the-prompt\n", Some(0)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = crate::common::stdout(&env.fnox(&["agent", "status", "--names"]).success());
    assert!(status.contains(&format!("  {id} (age identity): age ")), "{status}");
    env.fnox(&["agent", "stop"]).success();
}
