//! age plugins in the `age` provider, with a real plugin built for the
//! tests (`crates/age-plugin-fnoxtest`) and the real `age` CLI: round trips
//! both ways, the plugin's prompt through a pseudo-terminal, the error
//! without a terminal, and the error when the plugin is missing.

use std::path::PathBuf;

use crate::common::{TestEnv, bin, require_tool, sh, skipped, stderr};

const PLUGIN: &str = "age-plugin-fnoxtest";

/// The directory of the test plugin's binary (next to fnox's; built by
/// `cargo build -p age-plugin-fnoxtest`, which scripts/test.sh runs).
fn plugin_dir() -> Option<PathBuf> {
    let dir = bin().parent().map(PathBuf::from).unwrap_or_default();
    if dir.join(PLUGIN).is_file() {
        return Some(dir);
    }
    skipped(&format!(
        "{PLUGIN} is not built in {}: run `cargo build -p {PLUGIN}` (scripts/test.sh does)",
        dir.display()
    ));
    None
}

/// A project whose provider `yk` encrypts to a new fnoxtest identity (with
/// a PIN when `pin`), kept in `id.txt` beside the project; the plugin is on
/// the PATH of every command. Returns the env and the recipient.
fn plugin_project(pin: bool) -> Option<(TestEnv, String)> {
    let dir = plugin_dir()?;
    if !require_tool("age") {
        return None;
    }
    let mut env = TestEnv::new();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    env.extra_env.push(("PATH".into(), path));
    let flag = if pin { " --pin" } else { "" };
    let id = sh(&env.project, &format!("'{}'/{PLUGIN} --generate{flag}", dir.display()));
    let recipient = id
        .lines()
        .find_map(|l| l.strip_prefix("# recipient: "))
        .expect("the plugin prints its recipient")
        .to_string();
    let id_file = env.tmp.path().join("id.txt");
    std::fs::write(&id_file, &id).unwrap();
    sh(&env.project, &format!("chmod 600 '{}'", id_file.display()));
    env.write(
        "fnox.toml",
        &format!(
            "[providers.yk]\ntype = \"age\"\nrecipients = [\"{recipient}\"]\nkey_file = \"../id.txt\"\n\n[secrets]\n"
        ),
    );
    Some((env, recipient))
}

fn with_plugin_path(env: &TestEnv, script: &str) -> String {
    let path = &env.extra_env.iter().find(|(k, _)| k == "PATH").unwrap().1;
    sh(&env.project, &format!("export PATH='{path}'; {script}"))
}

#[test]
fn plugin_values_round_trip_with_the_age_cli() {
    let Some((env, recipient)) = plugin_project(false) else { return };
    env.cmd()
        .args(["set", "--provider", "yk", "TOKEN"])
        .write_stdin("from fnox")
        .assert()
        .success();
    std::fs::write(env.project.join("v.b64"), env.stored("TOKEN")).unwrap();
    let out = with_plugin_path(&env, "base64 -d v.b64 | age -d -i ../id.txt 2>/dev/null");
    assert_eq!(out, "from fnox");

    env.write("plain.txt", "from the age CLI");
    let b64 = with_plugin_path(&env, &format!("age -r {recipient} plain.txt | base64 -w0"));
    let text =
        format!("{}BY_AGE = {{ provider = \"yk\", value = \"{b64}\" }}\n", env.read("fnox.toml"));
    env.write("fnox.toml", &text);
    let got = env.fnox(&["get", "BY_AGE"]).success();
    assert_eq!(got.get_output().stdout, b"from the age CLI\n");
    // The plugin's message reaches the user, on stderr.
    assert_eq!(stderr(&got), "fnoxtest: touch your key\n");
}

#[test]
fn a_missing_plugin_is_a_clear_error() {
    let Some((mut env, _)) = plugin_project(false) else { return };
    env.cmd().args(["set", "--provider", "yk", "TOKEN"]).write_stdin("v").assert().success();
    env.extra_env.retain(|(k, _)| k != "PATH");
    let out = env.fnox(&["get", "TOKEN"]).failure().code(1);
    assert_eq!(
        stderr(&out),
        "error: cannot decrypt secret `TOKEN` (provider `yk`, fnox.toml:7)\n  \
         cause: the age plugin `age-plugin-fnoxtest` is not on PATH\n  \
         hint: install `age-plugin-fnoxtest` and put it on PATH (fnox and the age CLI look for it there), or decrypt with an identity that needs no plugin\n"
    );
    // Encrypting to its recipient needs it too.
    let out = env.cmd().args(["set", "--provider", "yk", "OTHER"]).write_stdin("v").assert();
    assert!(stderr(&out.failure()).contains("the age plugin `age-plugin-fnoxtest` is not on PATH"));
}

/// `fnox ARGS` under a pseudo-terminal (util-linux `script`), `input`
/// typed on it; returns what the terminal showed.
fn on_a_terminal(env: &TestEnv, args: &str, input: &str) -> (bool, String) {
    if !require_tool("script") {
        return (false, String::new());
    }
    let fnox = bin();
    let mut cmd = env.program("script");
    cmd.args(["-qec", &format!("'{}' {args}", fnox.display()), "/dev/null"]);
    let out = assert_cmd::Command::from_std(cmd).write_stdin(input).assert();
    let shown = String::from_utf8_lossy(&out.get_output().stdout).replace('\r', "");
    (out.get_output().status.success(), shown)
}

#[test]
fn the_plugin_asks_for_its_pin_on_the_terminal() {
    let Some((env, _)) = plugin_project(true) else { return };
    env.cmd().args(["set", "--provider", "yk", "TOKEN"]).write_stdin("pinned").assert().success();
    let (ok, shown) = on_a_terminal(&env, "get TOKEN", "fnox-test-pin\n");
    assert!(ok, "{shown}");
    // What was typed is echoed by the terminal before fnox turns echo off.
    assert_eq!(shown, "fnox-test-pin\nfnoxtest: touch your key\nfnoxtest PIN: \npinned\n");
    let (ok, shown) = on_a_terminal(&env, "get TOKEN", "1234\n");
    assert!(!ok);
    assert!(
        shown.ends_with(
            "cause: the age plugin failed: 'age-plugin-fnoxtest' couldn't use an identity: wrong PIN\n"
        ),
        "{shown}"
    );
}

#[test]
fn without_a_terminal_the_plugin_question_is_a_clear_error() {
    let Some((env, _)) = plugin_project(true) else { return };
    env.cmd().args(["set", "--provider", "yk", "TOKEN"]).write_stdin("pinned").assert().success();
    // setsid: no controlling terminal at all (not even /dev/tty).
    let mut cmd = env.program("setsid");
    cmd.args(["-w", &bin().display().to_string(), "get", "TOKEN"]);
    let out = assert_cmd::Command::from_std(cmd).write_stdin(Vec::new()).assert().failure().code(1);
    assert_eq!(
        stderr(&out),
        "fnoxtest: touch your key\n\
         error: cannot decrypt secret `TOKEN` (provider `yk`, fnox.toml:7)\n  \
         cause: the age plugin asked for input (\"fnoxtest PIN\") and there is no terminal to ask on\n  \
         hint: run fnox in a terminal so the plugin can ask; where there is none (CI), use an identity that needs no plugin (FNOX_AGE_KEY)\n"
    );
}
