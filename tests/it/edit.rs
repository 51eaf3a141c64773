//! `fnox edit` driven by a scripted `$EDITOR`: a small shell script that
//! edits the file it is given, records what it saw, and may fail.

use std::{os::unix::process::ExitStatusExt, path::PathBuf, process::Stdio};

use crate::common::{TestEnv, stderr};

const HEADER: &str = "# fnox edit: the secrets of fnox.toml [secrets] (profile `default`)
# One secret a line: NAME=value (the value runs to the end of the line).
# In double quotes, a value may use \\n \\r \\t \\\\ \\\" and \\xHH (any byte).
# Change a value, add a line (a new line is encrypted with `local`),
# or delete a line to remove its secret. Lines starting with # are ignored.
# Save and quit to apply; quit without saving to change nothing.

";

/// A project with API_TOKEN, CERT (two lines) and a plain setting.
fn project() -> TestEnv {
    let env = TestEnv::with_local();
    env.cmd()
        .args(["set", "API_TOKEN", "-d", "the API token"])
        .write_stdin("tok-1")
        .assert()
        .success();
    env.set("CERT", b"line 1\nline 2\n").success();
    env.fnox(&["set", "LOG_LEVEL", "--default", "info"]).success();
    env
}

/// Writes the editor script `body` (run by sh with the file as $1; $SEEN
/// is a directory where it may leave what it saw) and returns its path.
fn editor(env: &TestEnv, body: &str) -> PathBuf {
    let seen = env.tmp.path().join("seen");
    std::fs::create_dir_all(&seen).unwrap();
    let path = env.tmp.path().join("editor.sh");
    let script = format!(
        "#!/bin/sh\nSEEN='{}'\nfor last; do :; done; dirname -- \"$last\" > \"$SEEN/dir\"\n{body}\n",
        seen.display()
    );
    crate::common::write_executable(&path, &script);
    path
}

fn seen(env: &TestEnv, what: &str) -> String {
    std::fs::read_to_string(env.tmp.path().join("seen").join(what)).unwrap()
}

/// The scratch directory the editor had is gone.
fn assert_wiped(env: &TestEnv) {
    let dir = PathBuf::from(seen(env, "dir").trim());
    assert!(dir.starts_with("/dev/shm/"), "{}", dir.display());
    assert!(!dir.exists(), "{} is still there", dir.display());
}

fn edit(env: &TestEnv, editor: &PathBuf, args: &[&str]) -> assert_cmd::assert::Assert {
    env.cmd().arg("edit").args(args).env("EDITOR", editor).write_stdin(Vec::new()).assert()
}

#[test]
fn the_editor_sees_every_value_of_the_file_and_an_unchanged_save_changes_nothing() {
    let env = project();
    let before = env.read("fnox.toml");
    // Saved as it was (a real save: the file is written again).
    let ed = editor(
        &env,
        "cp \"$1\" \"$SEEN/text\"; stat -c %a \"$1\" > \"$SEEN/mode\"; stat -c %a \"$(dirname \"$1\")\" >> \"$SEEN/mode\"; cat \"$SEEN/text\" > \"$1\"",
    );
    let a = edit(&env, &ed, &[]).success();
    assert_eq!(stderr(&a), "no changes to fnox.toml [secrets] (profile `default`)\n");
    assert_eq!(
        seen(&env, "text"),
        format!("{HEADER}# the API token\nAPI_TOKEN=tok-1\nCERT=\"line 1\\nline 2\\n\"\n")
    );
    assert_eq!(seen(&env, "mode"), "600\n700\n");
    assert_eq!(env.read("fnox.toml"), before);
    assert_wiped(&env);
}

#[test]
fn a_changed_value_changes_its_line_only() {
    let env = project();
    let (before, old) = (env.read("fnox.toml"), env.stored("API_TOKEN"));
    let ed = editor(&env, "sed -i 's/^API_TOKEN=.*/API_TOKEN=tok-2 with \"quotes\"/' \"$1\"");
    let a = edit(&env, &ed, &[]).success();
    assert_eq!(stderr(&a), "fnox.toml [secrets] (profile `default`): changed API_TOKEN\n");
    // Byte for byte the old file, with API_TOKEN's ciphertext replaced.
    let new = env.stored("API_TOKEN");
    assert_ne!(new, old);
    assert_eq!(env.read("fnox.toml"), before.replace(&old, &new));
    assert_eq!(env.get("API_TOKEN"), b"tok-2 with \"quotes\"");
    assert_eq!(env.get("CERT"), b"line 1\nline 2\n");
    assert_wiped(&env);
}

#[test]
fn a_new_line_is_added_with_the_default_provider() {
    let env = project();
    let before = env.read("fnox.toml");
    let ed = editor(&env, "printf 'NEW_KEY=\"a\\\\tb\\\\x00\\\\xff\"\\n' >> \"$1\"");
    let a = edit(&env, &ed, &[]).success();
    assert_eq!(stderr(&a), "fnox.toml [secrets] (profile `default`): added NEW_KEY\n");
    let after = env.read("fnox.toml");
    assert!(after.starts_with(&before), "{after}");
    let added = &after[before.len()..];
    assert!(added.starts_with("NEW_KEY = { provider = \"local\", value = \""), "{added}");
    assert_eq!(added.lines().count(), 1);
    assert_eq!(env.get("NEW_KEY"), b"a\tb\x00\xff");
}

#[test]
fn a_deleted_line_is_removed_after_confirmation() {
    let env = project();
    let before = env.read("fnox.toml");
    let ed = editor(&env, "sed -i '/^CERT=/d' \"$1\"");
    // stdin is not a terminal: no question can be asked.
    let a = edit(&env, &ed, &[]).failure().code(1);
    assert_eq!(
        stderr(&a),
        "error: not confirmed (stdin is not a terminal): remove 1 secret from fnox.toml [secrets] (profile `default`): CERT; nothing was changed\n  hint: run `fnox edit --yes` to remove deleted lines without a question\n"
    );
    assert_eq!(env.read("fnox.toml"), before);
    assert_wiped(&env);
    let a = edit(&env, &ed, &["--yes"]).success();
    assert_eq!(stderr(&a), "fnox.toml [secrets] (profile `default`): removed CERT\n");
    let cert = before.lines().find(|l| l.starts_with("CERT = ")).unwrap();
    assert_eq!(env.read("fnox.toml"), before.replace(&format!("{cert}\n"), ""));
}

#[test]
fn a_parse_error_reopens_the_editor_with_the_error_and_the_text_kept() {
    let env = project();
    let before = env.read("fnox.toml");
    // First round: a broken line and a new value; second round: fix it.
    let ed = editor(
        &env,
        r#"if grep -q '^# fnox: error' "$1"; then
  [ -e "$SEEN/second" ] || cp "$1" "$SEEN/second"
  sed -i 's/^oops.*/FIXED=yes/' "$1"
else
  sed -i 's/^API_TOKEN=.*/API_TOKEN=typed-1/' "$1"
  echo 'oops no equals sign' >> "$1"
  echo 'B="open' >> "$1"
fi"#,
    );
    let a = edit(&env, &ed, &[]).failure().code(1);
    // The second round fixes `oops` only; the third saves B's error
    // unchanged: the user gave up, and nothing changes.
    let second = seen(&env, "second");
    let errors = "# fnox: error: line 13: expected NAME=value\n# fnox: error: line 14: B: no closing quote\n";
    assert_eq!(
        second,
        format!(
            "{errors}{HEADER}# the API token\nAPI_TOKEN=typed-1\nCERT=\"line 1\\nline 2\\n\"\noops no equals sign\nB=\"open\n"
        )
    );
    assert_eq!(
        stderr(&a),
        "warning: line 13: expected NAME=value\nwarning: line 14: B: no closing quote\nwarning: line 13: B: no closing quote\nerror: the text was left with errors; nothing was changed\n"
    );
    assert_eq!(env.read("fnox.toml"), before);
    assert_wiped(&env);
}

#[test]
fn a_fixed_parse_error_applies_what_was_typed() {
    let env = project();
    let ed = editor(
        &env,
        r#"if grep -q '^# fnox: error' "$1"; then
  sed -i 's/^oops.*/FIXED=yes/' "$1"
else
  sed -i 's/^API_TOKEN=.*/API_TOKEN=typed-1/' "$1"
  echo 'oops no equals sign' >> "$1"
fi"#,
    );
    let a = edit(&env, &ed, &[]).success();
    assert_eq!(
        stderr(&a),
        "warning: line 12: expected NAME=value\nfnox.toml [secrets] (profile `default`): changed API_TOKEN; added FIXED\n"
    );
    assert_eq!(env.get("API_TOKEN"), b"typed-1");
    assert_eq!(env.get("FIXED"), b"yes");
    assert_wiped(&env);
}

#[test]
fn an_editor_that_fails_changes_nothing() {
    let env = project();
    let before = env.read("fnox.toml");
    let ed = editor(&env, "sed -i 's/^API_TOKEN=.*/API_TOKEN=x/' \"$1\"; exit 3");
    let a = edit(&env, &ed, &[]).failure().code(1);
    assert_eq!(stderr(&a), "error: the editor exited with status 3; nothing was changed\n");
    assert_eq!(env.read("fnox.toml"), before);
    assert_wiped(&env);
}

/// Starts `fnox edit` (in its own process group) with an editor that
/// waits; returns it and the scratch directory once the editor runs.
fn waiting_edit(env: &TestEnv) -> (std::process::Child, PathBuf) {
    use std::os::unix::process::CommandExt;
    let ed = editor(env, "touch \"$SEEN/ready\"; exec sleep 30");
    let mut cmd = env.process();
    cmd.arg("edit").env("EDITOR", &ed).process_group(0);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let ready = env.tmp.path().join("seen").join("ready");
    while !ready.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let dir = PathBuf::from(seen(env, "dir").trim());
    assert!(dir.join("secrets.env").exists());
    (child, dir)
}

#[test]
fn sigterm_or_sighup_during_the_edit_removes_the_plaintext() {
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        let env = project();
        let before = env.read("fnox.toml");
        let (mut child, dir) = waiting_edit(&env);
        // SAFETY: signals our own child.
        unsafe { libc::kill(i32::try_from(child.id()).unwrap(), signal) };
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(signal));
        assert!(!dir.exists(), "{} is still there", dir.display());
        assert_eq!(env.read("fnox.toml"), before);
    }
}

#[test]
fn ctrl_c_during_the_edit_ends_the_editor_and_removes_the_plaintext() {
    let env = project();
    let before = env.read("fnox.toml");
    let (child, dir) = waiting_edit(&env);
    // Ctrl-C on a terminal: SIGINT to the whole foreground process group.
    let group = i32::try_from(child.id()).unwrap();
    // SAFETY: signals the process group of our own child.
    unsafe { libc::kill(-group, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: the editor was stopped by a signal; nothing was changed\n"
    );
    assert!(!dir.exists(), "{} is still there", dir.display());
    assert_eq!(env.read("fnox.toml"), before);
}

#[test]
fn vim_is_told_to_keep_no_swap_backup_or_undo_file() {
    let env = project();
    let bin = env.tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let ed = editor(&env, "printf '%s\\n' \"$@\" > \"$SEEN/args\"");
    std::fs::copy(&ed, bin.join("vim")).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let a = env.cmd().arg("edit").env("PATH", path).env("EDITOR", "vim").assert().success();
    assert_eq!(stderr(&a), "no changes to fnox.toml [secrets] (profile `default`)\n");
    let dir = seen(&env, "dir");
    assert_eq!(
        seen(&env, "args"),
        format!(
            "-n\n-i\nNONE\n--cmd\nset noswapfile nobackup nowritebackup noundofile\n{}/secrets.env\n",
            dir.trim()
        )
    );
}

#[test]
fn a_profile_edits_its_own_table() {
    let env = project();
    env.cmd().args(["-P", "ci", "set", "API_TOKEN"]).write_stdin("ci-tok").assert().success();
    let ed =
        editor(&env, "cp \"$1\" \"$SEEN/text\"; sed -i 's/^API_TOKEN=.*/API_TOKEN=ci-2/' \"$1\"");
    let a = env.cmd().args(["-P", "ci", "edit"]).env("EDITOR", &ed).assert().success();
    assert_eq!(stderr(&a), "fnox.toml [profiles.ci.secrets] (profile `ci`): changed API_TOKEN\n");
    assert!(seen(&env, "text").ends_with("\nAPI_TOKEN=ci-tok\n"));
    assert_eq!(env.get("API_TOKEN"), b"tok-1");
    let a = env.cmd().args(["-P", "ci", "get", "API_TOKEN"]).assert().success();
    assert_eq!(crate::common::stdout(&a), "ci-2\n");
}

#[test]
fn on_a_terminal_the_question_lists_the_names_and_no_keeps_them() {
    if !crate::common::require_tool("script") {
        return;
    }
    let env = project();
    let before = env.read("fnox.toml");
    let ed = editor(&env, "sed -i '/^API_TOKEN=/d; /^CERT=/d' \"$1\"");
    // `script` gives fnox a terminal; the answer waits in it until asked.
    let answer = |text: &str| {
        let command = format!(
            "NO_COLOR=1 EDITOR='{}' '{}' edit",
            ed.display(),
            crate::common::bin().display()
        );
        let out = env
            .program("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(text.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        let shown = String::from_utf8_lossy(&out.stdout).replace('\r', "");
        (out.status.code(), shown)
    };
    let question =
        "remove 2 secrets from fnox.toml [secrets] (profile `default`): API_TOKEN, CERT? [y/N] ";
    let (code, shown) = answer("n\n");
    assert_eq!(code, Some(1));
    assert_eq!(shown, format!("n\n{question}error: not confirmed; nothing was changed\n"));
    assert_eq!(env.read("fnox.toml"), before);
    let (code, shown) = answer("y\n");
    assert_eq!(code, Some(0));
    assert_eq!(
        shown,
        format!("y\n{question}fnox.toml [secrets] (profile `default`): removed API_TOKEN, CERT\n")
    );
    assert!(!env.read("fnox.toml").contains("API_TOKEN ="));
    assert!(!env.read("fnox.toml").contains("CERT ="));
}

#[test]
fn the_file_goes_to_xdg_runtime_dir_when_it_is_ram_backed_else_dev_shm() {
    let env = project();
    let ed = editor(&env, "true");
    let runtime = tempfile::tempdir_in("/dev/shm").unwrap();
    env.cmd()
        .arg("edit")
        .env("EDITOR", &ed)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .assert()
        .success();
    let dir = PathBuf::from(seen(&env, "dir").trim());
    assert_eq!(dir.parent(), Some(runtime.path()));
    assert!(!dir.exists());
    // The test's directory is not a tmpfs (on this machine's disk): /dev/shm.
    if crate::common::sh(env.tmp.path(), "stat -f -c %T .").trim() != "tmpfs" {
        let mut cmd = env.cmd();
        cmd.arg("edit").env("EDITOR", &ed).env("XDG_RUNTIME_DIR", env.tmp.path());
        cmd.assert().success();
        assert_wiped(&env);
    }
}
