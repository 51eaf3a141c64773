//! `exec`: exit statuses, signals, execvp, missing values.

use std::os::unix::process::ExitStatusExt;

use crate::common::{TestEnv, sh, stderr, stdout};

#[test]
fn exit_status_is_the_childs() {
    let env = TestEnv::with_local();
    env.set("A", b"x").success();
    for code in [0, 1, 7, 255] {
        env.fnox(&["exec", "--", "sh", "-c", &format!("exit {code}")]).code(code);
    }
}

#[test]
fn missing_and_non_executable_commands() {
    let env = TestEnv::with_local();
    let out = env.fnox(&["exec", "--", "no-such-command-fnox"]).code(127);
    assert_eq!(
        stderr(&out),
        "error: cannot run `no-such-command-fnox`\n  cause: No such file or directory (os error 2)\n  hint: check the command name and PATH\n"
    );
    env.write("script.sh", "#!/bin/sh\necho hi\n");
    let out = env.fnox(&["exec", "--", "./script.sh"]).code(126);
    assert!(stderr(&out).starts_with("error: cannot run `./script.sh`\n"), "{}", stderr(&out));
}

#[test]
fn killed_by_sigterm_is_128_plus_15() {
    let env = TestEnv::with_local();
    env.set("A", b"x").success();
    // fnox replaced itself with the child, so the signal death is its own.
    let out = env.fnox(&["exec", "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(out.get_output().status.signal(), Some(15));
    // ... and a shell sees 128 + 15.
    let script = format!(
        "cd '{}' && HOME='{}' FNOX_CONFIG_DIR='{}' '{}' exec -- sh -c 'kill -TERM $$'; echo $?",
        env.project.display(),
        env.home.display(),
        env.config_dir.display(),
        crate::common::bin().display()
    );
    assert_eq!(sh(&env.project, &script), "143\n");
}

#[test]
fn exec_replaces_the_process() {
    let env = TestEnv::with_local();
    env.set("A", b"x").success();
    let child = std::process::Command::new(crate::common::bin())
        .current_dir(&env.project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FNOX_CONFIG_DIR", &env.config_dir)
        .args(["exec", "--", "sh", "-c", "echo $$"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pid.to_string());
}

#[test]
fn core_dump_limit_is_the_users_in_the_child() {
    let env = TestEnv::with_local();
    let script = format!(
        "ulimit -c 1024; cd '{}' && FNOX_CONFIG_DIR='{}' '{}' exec -- bash -c 'ulimit -c'",
        env.project.display(),
        env.config_dir.display(),
        crate::common::bin().display()
    );
    assert_eq!(sh(&env.project, &script), "1024\n");
}

#[test]
fn secret_without_value_warns_or_fails() {
    let env = TestEnv::with_local();
    env.set("A", b"present").success();
    let text = env
        .read("fnox.toml")
        .replace("[secrets]\n", "[secrets]\nEMPTY = { description = \"set me\" }\n");
    env.write("fnox.toml", &text);
    let out = env.fnox(&["exec", "--", "sh", "-c", "echo \"$A [${EMPTY-unset}]\""]).success();
    assert_eq!(stdout(&out), "present [unset]\n");
    assert_eq!(
        stderr(&out),
        "warning: secret `EMPTY` has no value (fnox.toml:11); running without it\n"
    );
    let out = env.fnox(&["--if-missing", "error", "exec", "--", "true"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: secret `EMPTY` has no value (fnox.toml:11)\n  hint: set it with `fnox set EMPTY`\n"
    );
    env.fnox(&["-q", "exec", "--", "true"]).success().stderr("");
    let out = env.fnox(&["get", "EMPTY"]).code(1);
    assert!(stderr(&out).starts_with("error: secret `EMPTY` has no value"));
}

#[test]
fn value_over_the_environment_limit_is_explained() {
    let env = TestEnv::with_local();
    env.set("HUGE", &vec![b'x'; 1 << 20]).success();
    let out = env.fnox(&["exec", "--", "true"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: cannot run `true`\n  cause: Argument list too long (os error 7)\n  hint: secret `HUGE` is 1048576 bytes; the system limits one environment variable to 128 KiB; with `as_file = true` in its entry, $HUGE is the path of a file that holds the value instead\n"
    );
    // Up to the limit, it is passed through whole.
    env.set("HUGE", &vec![b'y'; 100 * 1024]).success();
    let out = env.fnox(&["exec", "--", "sh", "-c", "printf %s \"$HUGE\" | wc -c"]).success();
    assert_eq!(stdout(&out).trim(), "102400");
}

#[test]
fn key_material_does_not_reach_the_command() {
    let env = TestEnv::with_local();
    env.set("A", b"value").success();
    let ring = std::fs::read_to_string(env.config_dir.join("local.key")).unwrap();
    let key = ring
        .lines()
        .find(|l| l.contains(" primary"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    let out = env
        .cmd()
        .env("FNOX_LOCAL_KEY", key)
        .env("FNOX_AGE_KEY", "AGE-SECRET-KEY-1XYZ")
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            "echo \"$A [${FNOX_LOCAL_KEY-unset}] [${FNOX_AGE_KEY-unset}]\"",
        ])
        .assert()
        .success();
    assert_eq!(stdout(&out), "value [unset] [unset]\n");
}

/// `./evil/sh`, which leaves `pwned` behind if it ever runs.
fn plant_evil_sh(env: &TestEnv) {
    std::fs::create_dir(env.project.join("evil")).unwrap();
    env.write_executable("evil/sh", "#!/bin/sh\necho EVIL\n: > pwned\n");
}

const PATH_REFUSED: &str =
    "error: refusing to set `PATH` (fnox.toml:12): PATH decides which file runs for a command name
  hint: if this entry is meant to set PATH, add `allow_exec_control = true` to it
";

#[test]
fn a_committed_path_does_not_change_what_runs() {
    let env = TestEnv::with_local();
    env.set("A", b"x").success();
    plant_evil_sh(&env);
    env.write("fnox.toml", &(env.read("fnox.toml") + "PATH = { default = \"./evil\" }\n"));
    for mode in [&[][..], &["--redact"][..]] {
        let mut args = vec!["exec"];
        args.extend(mode);
        args.extend(["--", "sh", "-c", "echo \"safe $A\""]);
        let out = env.fnox(&args).code(1);
        assert_eq!(stderr(&out), PATH_REFUSED, "{mode:?}");
        assert_eq!(stdout(&out), "", "{mode:?}");
        assert!(!env.project.join("pwned").exists(), "{mode:?}");
    }
    // An entry that says so explicitly sets it.
    let text = env.read("fnox.toml").replace(
        "PATH = { default = \"./evil\" }",
        "PATH = { default = \"./evil\", allow_exec_control = true }",
    );
    env.write("fnox.toml", &text);
    let out = env.fnox(&["exec", "--", "sh", "-c", "echo \"safe $A\""]).success();
    assert_eq!(stdout(&out), "EVIL\n");
    assert!(env.project.join("pwned").exists());
}

#[test]
fn loader_and_git_variables_are_refused_unless_allowed() {
    let env = TestEnv::with_local();
    env.set("A", b"x").success();
    env.set("LD_PRELOAD", b"/tmp/fnox-no-such-lib.so").success();
    let out = env.fnox(&["exec", "--", "sh", "-c", "echo ran"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: refusing to set `LD_PRELOAD` (fnox.toml:12): LD_PRELOAD is read by the dynamic loader, which can load other code into every program (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT)
  hint: if this entry is meant to set LD_PRELOAD, add `allow_exec_control = true` to it
"
    );
    assert_eq!(stdout(&out), "");
    // A command that does not take it runs.
    let out = env.fnox(&["exec", "--only", "A", "--", "sh", "-c", "echo \"ran $A\""]).success();
    assert_eq!(stdout(&out), "ran x\n");
    env.fnox(&["remove", "LD_PRELOAD"]).success();
    let text = env.read("fnox.toml") + "GIT_SSH_COMMAND = { default = \"touch pwned; ssh\" }\n";
    env.write("fnox.toml", &text);
    let out = env.fnox(&["exec", "--", "sh", "-c", "echo ran"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: refusing to set `GIT_SSH_COMMAND` (fnox.toml:12): GIT_SSH_COMMAND is the command git runs to reach a remote
  hint: if this entry is meant to set GIT_SSH_COMMAND, add `allow_exec_control = true` to it
"
    );
    let text = env.read("fnox.toml").replace("ssh\" }", "ssh\", allow_exec_control = true }");
    env.write("fnox.toml", &text);
    let out = env.fnox(&["exec", "--", "sh", "-c", "echo \"$GIT_SSH_COMMAND\""]).success();
    assert_eq!(stdout(&out), "touch pwned; ssh\n");
    // `allow_exec_control` takes true or false, nothing else.
    env.write("fnox.toml", &env.read("fnox.toml").replace("= true }", "= \"yes\" }"));
    let out = env.fnox(&["exec", "--", "true"]).code(1);
    assert!(stderr(&out).contains("allow_exec_control"), "{}", stderr(&out));
}

/// The command's environment is fnox's, in the order a shell's `env`
/// shows for `Command` (sorted by name), without fnox's keys and the
/// variables of `env = false` secrets, with each secret's value in place
/// of a variable of its name; `--replace` also leaves out
/// FNOX_AGE_KEY_FILE. fnox builds it from its own environment's entries
/// (cli/exec/replace.rs), so this pins it down byte for byte.
#[test]
fn the_command_gets_fnox_s_environment_with_the_secrets_in_it() {
    let env = TestEnv::with_local();
    env.set("A_SECRET", b"value a").success();
    env.set("SHADOWED", b"from fnox").success();
    let text = env.read("fnox.toml")
        + "KEPT_OUT = { default = \"k\", env = false }\nPLAIN = { default = \"p=q\" }\n";
    env.write("fnox.toml", &text);
    for (replace, age_file) in [(false, "FNOX_AGE_KEY_FILE=/nowhere/age.txt\n"), (true, "")] {
        let mut cmd = env.cmd();
        cmd.args(["exec"]);
        if replace {
            cmd.arg("--replace");
        }
        cmd.args(["--", "env"])
            .env("ZZ_LAST", "z")
            .env("SHADOWED", "from the shell")
            .env("KEPT_OUT", "from the shell")
            .env("FNOX_AGE_KEY_FILE", "/nowhere/age.txt")
            .env("AA_FIRST", "a=b");
        let out = cmd.assert().success();
        // The harness's own variables (HOME, FNOX_CONFIG_DIR, PATH) have
        // values that change from run to run.
        let lines: Vec<&str> = std::str::from_utf8(&out.get_output().stdout)
            .unwrap()
            .lines()
            .filter(|l| !["HOME=", "FNOX_CONFIG_DIR=", "PATH="].iter().any(|v| l.starts_with(v)))
            .collect();
        let expected = format!(
            "AA_FIRST=a=b\nA_SECRET=value a\n{age_file}LC_ALL=C.UTF-8\nPLAIN=p=q\nSHADOWED=from fnox\nZZ_LAST=z\n"
        );
        assert_eq!(lines.join("\n") + "\n", expected, "--replace: {replace}");
    }
}
