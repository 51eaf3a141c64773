//! How fnox writes files, as a user sees it: `export -o` temp files are
//! swept like every atomic write's; edits keep the file's owner and group
//! or refuse; hard-linked files are refused; a lock held by another
//! process is waited for (with a note) up to FNOX_LOCK_TIMEOUT; a failed
//! write names the file it failed on; `export --format github` appends
//! only to a regular file; a damaged age value is not called "moved".

use std::{
    os::unix::fs::{MetadataExt as _, PermissionsExt as _},
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant, SystemTime},
};

use crate::common::{TestEnv, bin, skipped, stderr, stdout};

/// Writes `input` to the child's stdin, closes it, and waits.
fn with_stdin(mut child: std::process::Child, input: &[u8]) -> std::process::Output {
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Files in `dir` named like fnox's temporary files.
fn temp_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".fnox-") && n.ends_with(".tmp"))
        .collect();
    names.sort();
    names
}

#[test]
fn export_output_sweeps_stale_temp_files_and_keeps_fresh_ones() {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    let out_dir = env.project.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    // What a killed `export -o` leaves: a temp file with plaintext in it.
    std::fs::write(out_dir.join(".fnox-killed.tmp"), "A='a'\n").unwrap();
    let long_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(out_dir.join(".fnox-killed.tmp"))
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    // A temp file of a writer still at work.
    std::fs::write(out_dir.join(".fnox-running.tmp"), "").unwrap();
    env.fnox(&["export", "-o", "out/.env"]).success().stdout("");
    assert_eq!(temp_files(&out_dir), [".fnox-running.tmp"]);
    assert_eq!(env.read("out/.env"), "A='a'\n");
    let mode = std::fs::metadata(out_dir.join(".env")).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn an_edit_keeps_the_owner_and_group_of_the_file() {
    if !is_root() {
        return skipped("needs root to give fnox.toml another owner");
    }
    let mut env = TestEnv::with_local();
    let path = env.project.join("fnox.toml");
    std::os::unix::fs::chown(&path, Some(1000), Some(1000)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    // Root editing another user's file: its directory is trusted on purpose.
    let project = env.project.display().to_string();
    env.extra_env.push(("FNOX_TRUSTED_DIRS".into(), project));
    env.set("A", b"value").success();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid(), meta.mode() & 0o777), (1000, 1000, 0o640));
    assert_eq!(env.get("A"), b"value");
}

#[test]
fn an_owner_that_cannot_be_kept_is_refused_and_nothing_changes() {
    if !is_root() {
        return skipped("needs root to run fnox as another user (setpriv)");
    }
    let env = TestEnv::with_local();
    // Everything belongs to uid 1000, except fnox.toml's group (root), which
    // uid 1000 (without supplementary groups) cannot give a new file.
    let tmp = env.tmp.path();
    Command::new("chown").args(["-R", "1000:1000"]).arg(tmp).status().unwrap();
    std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = env.project.join("fnox.toml");
    std::os::unix::fs::chown(&path, Some(1000), Some(0)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let out = env
        .program("setpriv")
        .args(["--reuid", "1000", "--regid", "1000", "--clear-groups"])
        .arg(bin())
        .args(["set", "A"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = with_stdin(out, b"value");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        format!(
            "error: {0} belongs to uid 1000 gid 0, and fnox (uid 1000) cannot give the rewritten file that owner; nothing was written\n  cause: Operation not permitted (os error 1)\n  hint: run fnox as uid 1000, or give the file an owner and group this user may give it (`chown`)\n",
            "fnox.toml"
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(std::fs::metadata(&path).unwrap().gid(), 0);
    assert_eq!(temp_files(&env.project), Vec::<String>::new());
}

#[test]
fn a_file_with_several_hard_links_is_refused_with_a_hint() {
    let env = TestEnv::with_local();
    std::fs::hard_link(env.project.join("fnox.toml"), env.project.join("shared.toml")).unwrap();
    let before = env.read_bytes("fnox.toml");
    let out = env.cmd().args(["set", "A"]).write_stdin("v").assert().code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        "error: fnox.toml has 2 hard links, and replacing it would split them (the other names would keep the old content); nothing was written\n  hint: give the file one name first: copy it, then move the copy over it (the other names keep the old file)\n"
    );
    assert_eq!(env.read_bytes("fnox.toml"), before);
    assert_eq!(env.read_bytes("shared.toml"), before);
}

/// `flock FILE sleep SECS` in the background, in a process group of its
/// own: the same kind of lock fnox takes. Returns once the lock is held.
fn hold_lock(path: &Path, secs: &str) -> std::process::Child {
    use std::os::unix::process::CommandExt as _;
    let marker = path.with_extension("held");
    let _ = std::fs::remove_file(&marker);
    let child = Command::new("flock")
        .arg(path)
        .args(["sh", "-c", &format!("touch '{}'; exec sleep {secs}", marker.display())])
        .process_group(0)
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !marker.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "flock did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

#[test]
fn a_held_lock_is_waited_for_with_a_note_then_given_up_on() {
    let env = TestEnv::with_local();
    let before = env.read_bytes("fnox.toml");
    let mut holder = hold_lock(&env.project.join("fnox.toml"), "30");
    let start = Instant::now();
    let out = env
        .cmd()
        .args(["set", "A"])
        .env("FNOX_LOCK_TIMEOUT", "2")
        .write_stdin("v")
        .assert()
        .code(1);
    let took = start.elapsed();
    // The lock is held by flock's child too: end the whole group.
    let group = format!("-{}", holder.id());
    assert!(Command::new("kill").args(["-KILL", "--", &group]).status().unwrap().success());
    holder.wait().unwrap();
    assert_eq!(
        stderr(&out),
        "waiting for fnox.toml (locked by another fnox)\nerror: gave up after 2 s waiting for fnox.toml (locked by another fnox)\n  hint: run the command again when the other fnox is done, or set FNOX_LOCK_TIMEOUT=SECONDS to wait longer\n"
    );
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(6), "{took:?}");
    assert_eq!(env.read_bytes("fnox.toml"), before);
    // A lock released in time: the note, then the write.
    let mut holder = hold_lock(&env.project.join("fnox.toml"), "1.5");
    let out = env.cmd().args(["set", "A"]).write_stdin("v").assert().success();
    holder.wait().unwrap();
    assert_eq!(
        stderr(&out),
        "waiting for fnox.toml (locked by another fnox)\nset A (provider `local`) in fnox.toml\n"
    );
    assert_eq!(env.get("A"), b"v");
    // A timeout that is not a number is an error of its own.
    let mut cmd = env.cmd();
    cmd.args(["set", "B"]).env("FNOX_LOCK_TIMEOUT", "soon").write_stdin("v");
    let out = cmd.assert().code(1);
    assert_eq!(stderr(&out), "error: FNOX_LOCK_TIMEOUT must be a number of seconds, not `soon`\n");
}

#[test]
fn a_failed_write_names_the_temporary_file() {
    let env = TestEnv::with_local();
    // A config larger than the file-size limit below: writing its new copy
    // fails with EFBIG (SIGXFSZ ignored, as a shell with `trap '' XFSZ`).
    let text = format!("{}# {}\n", env.read("fnox.toml"), "x".repeat(4096));
    env.write("fnox.toml", &text);
    let out = env
        .program("bash")
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f 2; exec '{}' set A", bin().display()))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = with_stdin(out, b"value");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    let (first, rest) = err.split_once('\n').unwrap();
    let tmp = first
        .strip_prefix("error: cannot write the temporary file .fnox-")
        .and_then(|r| r.strip_suffix(".tmp (to replace fnox.toml)"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(!tmp.is_empty() && !tmp.contains('/'), "{err}");
    assert_eq!(rest, "  cause: File too large (os error 27)\n");
    assert_eq!(env.read("fnox.toml"), text);
    assert_eq!(temp_files(&env.project), Vec::<String>::new());
}

#[test]
fn a_damaged_age_value_is_not_said_to_be_moved() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let env = TestEnv::with_local();
    env.fnox(&["init", "--provider", "age"]).success();
    env.cmd().args(["set", "--provider", "age", "A"]).write_stdin("value").assert().success();
    let stored = env.stored("A");
    let mut bytes = b64.decode(&stored).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    env.write("fnox.toml", &env.read("fnox.toml").replace(&stored, &b64.encode(&bytes)));
    let out = env.fnox(&["get", "A"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: cannot decrypt secret `A` (provider `age`, fnox.toml:17)\n  cause: the age file does not authenticate: it was damaged or tampered with\n  hint: the value in the file is damaged: set the value again with `fnox set A`\n"
    );
}

#[test]
fn github_output_is_appended_only_to_a_regular_file() {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    // A symbolic link (here to a file outside the project) is not followed.
    let outside = env.tmp.path().join("outside.env");
    std::os::unix::fs::symlink(&outside, env.project.join("gh.env")).unwrap();
    let out = env.fnox(&["export", "--format", "github", "-o", "gh.env"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: gh.env is a symbolic link; fnox does not append secrets through one\n  hint: give the path of the file itself\n"
    );
    assert_eq!(stdout(&out), "", "no masks for values that were not written");
    assert!(!outside.exists());
    // A FIFO is refused at once (no reader needed, no hang).
    assert!(Command::new("mkfifo").arg(env.project.join("fifo")).status().unwrap().success());
    let out = env.fnox(&["export", "--format", "github", "-o", "fifo"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: fifo is not a regular file; fnox appends secrets only to a regular file\n"
    );
    // An existing regular file keeps its mode (the runner's $GITHUB_ENV);
    // a new one is created 0600.
    env.write("runner.env", "EARLIER=1\n");
    let runner = env.project.join("runner.env");
    std::fs::set_permissions(&runner, std::fs::Permissions::from_mode(0o644)).unwrap();
    env.fnox(&["export", "--format", "github", "-o", "runner.env"]).success();
    assert_eq!(std::fs::metadata(&runner).unwrap().mode() & 0o777, 0o644);
    assert!(env.read("runner.env").starts_with("EARLIER=1\nA<<FNOX_EOF_"));
    env.fnox(&["export", "--format", "github", "-o", "new.env"]).success();
    let mode = std::fs::metadata(env.project.join("new.env")).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
