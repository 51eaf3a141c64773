//! The life of `local` keys (issue 10, section 9): a retired key is kept
//! and still decrypts (with a warning), it is deleted only by `fnox keys
//! delete-retired` (after a backup); values under a key this machine lacks
//! get a hint to bring it over, and `set` does not mix in a new key; the
//! keyring moves with `fnox keys export` / `fnox keys import`.

use std::{os::unix::fs::PermissionsExt, path::PathBuf};

use crate::common::{TestEnv, require_tool, sh, stderr, stdout};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A second project beside the first, sharing the machine's keyring.
fn second_project(env: &TestEnv) -> PathBuf {
    let dir = env.tmp.path().join("project2");
    std::fs::create_dir_all(&dir).unwrap();
    env.cmd_in(&dir).args(["init", "-q"]).assert().success();
    env.cmd_in(&dir).args(["set", "OTHER"]).write_stdin("other value").assert().success();
    dir
}

/// `ID STATE` for each key of the keyring (`old` when unmarked).
fn key_ids(env: &TestEnv) -> Vec<String> {
    let text = std::fs::read_to_string(env.config_dir.join("local.key")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let state = f[2..].iter().find(|x| !x.starts_with("created="));
            format!("{} {}", f[0], state.unwrap_or(&"old"))
        })
        .collect()
}

#[test]
fn a_retired_key_still_decrypts_with_a_warning_until_deleted_explicitly() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let other = second_project(&env);
    let k1 = key_ids(&env)[0].split(' ').next().unwrap().to_string();
    // The run: one project rotates and retires; the other project
    // on the same keyring keeps working.
    env.fnox(&["rotate", "--new-key", "--all-profiles", "--yes"]).success();
    env.fnox(&["rotate", "--retire-old", "--yes"]).success();
    let ids = key_ids(&env);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], format!("{k1} retired"));
    let out = env.cmd_in(&other).args(["get", "OTHER"]).assert().success();
    assert_eq!(stdout(&out), "other value\n");
    assert_eq!(
        stderr(&out),
        format!(
            "warning: secret `OTHER` was decrypted with retired local key {k1}; run `fnox rotate` to re-encrypt it under the current key\n"
        )
    );

    // Deleting it is refused while a value of the project uses it.
    let before = std::fs::read(env.config_dir.join("local.key")).unwrap();
    let out = env.cmd_in(&other).args(["keys", "delete-retired", "--yes"]).assert().code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        format!("error: cannot delete retired local keys of [TMP]/config/local.key: 1 value still uses them: OTHER (fnox.toml:11, key {k1})
  hint: run `fnox rotate --provider local --all-profiles` first
")
    );
    assert_eq!(std::fs::read(env.config_dir.join("local.key")).unwrap(), before);

    // Rotated, it can go: a backup (0600) first, then the key is deleted.
    env.cmd_in(&other).args(["rotate", "--yes"]).assert().success();
    let out = env.cmd_in(&other).args(["keys", "delete-retired", "--yes"]).assert().success();
    let err = env.redact(&stderr(&out));
    let backup =
        err.lines().last().unwrap().split(" to ").nth(1).unwrap().split(';').next().unwrap();
    let backup = PathBuf::from(backup.replace("[TMP]", env.tmp.path().to_str().unwrap()));
    assert_eq!(
        err,
        format!(
            "no value of this project uses retired key {k1}; other projects that use this keyring are not checked\nbacked up [TMP]/config/local.key to {}; deleted retired key {k1}\n",
            env.redact(&backup.display().to_string())
        )
    );
    assert_eq!(std::fs::read(&backup).unwrap(), before);
    assert_eq!(mode(&backup), 0o600);
    assert_eq!(key_ids(&env).len(), 1);
    assert_eq!(stderr(&env.cmd_in(&other).args(["get", "OTHER"]).assert().success()), "");
    assert_eq!(env.get("A"), b"alpha");
}

#[test]
fn set_does_not_add_a_new_key_to_a_file_under_a_key_this_machine_lacks() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let k1 = key_ids(&env)[0].split(' ').next().unwrap().to_string();
    // Another machine: the project, without its key.
    std::fs::remove_file(env.config_dir.join("local.key")).unwrap();
    let before = env.read("fnox.toml");
    let out = env.cmd().args(["set", "B"]).write_stdin("beta").assert().code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        format!("error: fnox.toml holds values of provider `local` under local key {k1} that this machine does not have; a value under another key would leave the file with keys that no single machine has
  hint: this machine does not have local key {k1}: on a machine that has it run `fnox keys export -o FILE`, then `fnox keys import FILE` here; in CI set FNOX_LOCAL_KEY (`fnox keys export --env`). A new key would not decrypt these values
  hint: if a value under another key is intended (every reader then needs both keys), pass --new-key-ok
")
    );
    assert_eq!(env.read("fnox.toml"), before);
    assert!(!env.config_dir.join("local.key").exists(), "a new key was created");
    // Said on purpose, it is done.
    env.cmd().args(["set", "B", "--new-key-ok"]).write_stdin("beta").assert().success();
    assert_eq!(env.get("B"), b"beta");
}

#[test]
fn export_and_import_move_the_keyring_to_another_machine() {
    let laptop = TestEnv::with_local();
    laptop.set("A", b"alpha").success();
    laptop.fnox(&["rotate", "--new-key", "--yes"]).success();
    let file = laptop.tmp.path().join("fnox-keys");
    let out = laptop.fnox(&["keys", "export", "-o", file.to_str().unwrap()]).success();
    assert_eq!(
        laptop.redact(&stderr(&out)),
        "wrote 2 keys of [TMP]/config/local.key to [TMP]/fnox-keys (mode 0600); on the other machine: `fnox keys import FILE`, then delete the file\n"
    );
    assert_eq!(mode(&file), 0o600);
    let ring = std::fs::read_to_string(laptop.config_dir.join("local.key")).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), ring);
    assert_eq!(stdout(&laptop.fnox(&["keys", "export"]).success()), ring);
    // Never over an existing file.
    laptop.fnox(&["keys", "export", "-o", file.to_str().unwrap()]).code(1);

    // The other machine: same project, no key; import, then it reads.
    let other = TestEnv::new();
    other.write("fnox.toml", &laptop.read("fnox.toml"));
    other.fnox(&["get", "A"]).code(1);
    let out = other.fnox(&["keys", "import", file.to_str().unwrap()]).success();
    let ids: Vec<String> =
        key_ids(&laptop).iter().map(|l| l.split(' ').next().unwrap().to_string()).collect();
    assert_eq!(
        other.redact(&stderr(&out)),
        format!(
            "created [TMP]/config/local.key: added 2 keys ({}); primary key: {}\n",
            ids.join(", "),
            ids[1]
        )
    );
    assert_eq!(mode(&other.config_dir.join("local.key")), 0o600);
    assert_eq!(other.get("A"), b"alpha");
    // Each key keeps the date it was created on the laptop.
    let ring = std::fs::read_to_string(laptop.config_dir.join("local.key")).unwrap();
    let created: Vec<&str> = ring.lines().filter_map(|l| l.split(" created=").nth(1)).collect();
    let out = other.fnox(&["keys", "list"]).success();
    assert_eq!(
        other.redact(&stdout(&out)),
        format!(
            "[TMP]/config/local.key:\n  {}  old      created {}\n  {}  primary  created {}\n",
            ids[0], created[0], ids[1], created[1]
        )
    );

    // CI: the primary key as FNOX_LOCAL_KEY, with a word about the others.
    let out = laptop.fnox(&["keys", "export", "--env"]).success();
    let line = stdout(&out);
    assert!(line.starts_with("FNOX_LOCAL_KEY="), "{line}");
    assert!(stderr(&out).contains(&format!("values under {} will not decrypt with it", ids[0])));
    let key = line.trim_end().strip_prefix("FNOX_LOCAL_KEY=").unwrap();
    let ci = TestEnv::new();
    ci.write("fnox.toml", &laptop.read("fnox.toml"));
    let out = ci.cmd().env("FNOX_LOCAL_KEY", key).args(["get", "A"]).assert().success();
    assert_eq!(stdout(&out), "alpha\n");
    // The same line imports too.
    ci.cmd().args(["keys", "import"]).write_stdin(line.clone()).assert().success();
    assert_eq!(ci.get("A"), b"alpha");
}

#[test]
fn an_export_is_never_written_inside_a_git_working_tree() {
    if !require_tool("git") {
        return;
    }
    let env = TestEnv::with_local();
    sh(&env.project, "git init -q .");
    let out = env.fnox(&["keys", "export", "-o", "keys.txt"]).code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        "error: refusing to write keys to keys.txt inside the git working tree [TMP]/project\n"
    );
    assert!(!env.project.join("keys.txt").exists());
}

#[test]
fn doctor_without_the_key_never_says_to_create_one_when_values_exist() {
    let env = TestEnv::with_local();
    std::fs::remove_file(env.config_dir.join("local.key")).unwrap();
    // No value yet: the first `set` creates the key.
    let out = env.fnox(&["doctor"]).code(1);
    assert!(
        stderr(&out).contains("    hint: no value uses it yet: `fnox set NAME` creates it; if teammates already have this project's key, import it with `fnox keys import`\n"),
        "{}",
        stderr(&out)
    );
}
