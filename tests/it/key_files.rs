//! Key files (issue 10, sections 5 and 8): never created inside a git
//! working tree unless git ignores them, a warning when git tracks one,
//! `init` ignores what it creates, and a key file or age identity that
//! group or others may read is refused with the `chmod 600` hint.

use std::os::unix::fs::PermissionsExt;

use crate::common::{TestEnv, require_tool, sh, stderr, stdout};

fn git_project() -> Option<TestEnv> {
    if !require_tool("git") {
        return None;
    }
    let env = TestEnv::new();
    sh(&env.project, "git init -q .");
    Some(env)
}

const COMMITTED_KEY_FILE: &str = "[providers.local]
type = \"local\"
key_file = \"config/dev.key\"

[secrets]
";

#[test]
fn a_key_file_inside_a_git_tree_is_created_only_when_ignored() {
    let Some(env) = git_project() else { return };
    env.write("fnox.toml", COMMITTED_KEY_FILE);
    let out = env.cmd().args(["set", "A"]).write_stdin("alpha").assert().code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        "error: cannot encrypt secret `A` with provider `local` (for fnox.toml)
  cause: refusing to create key file config/dev.key inside the git working tree [TMP]/project (git does not ignore it)
  hint: add `[TMP]/project/config/dev.key` to .gitignore, or set `key_file` to a path outside the repository
"
    );
    assert!(!env.project.join("config").exists(), "a key or its directory was created");
    assert_eq!(env.read("fnox.toml"), COMMITTED_KEY_FILE);

    // Once git ignores it, the key is created (0600) and used.
    env.write(".gitignore", "/config/dev.key\n");
    env.cmd().args(["set", "A"]).write_stdin("alpha").assert().success();
    let key = env.project.join("config/dev.key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(env.get("A"), b"alpha");
}

#[test]
fn a_tracked_key_file_is_read_with_one_warning_per_run() {
    let Some(env) = git_project() else { return };
    env.write("fnox.toml", COMMITTED_KEY_FILE);
    env.write(".gitignore", "/config/dev.key\n");
    env.set("A", b"alpha").success();
    env.set("B", b"beta").success();
    // Outside git's view nothing is said.
    assert_eq!(stderr(&env.fnox(&["export", "--format", "json"]).success()), "");
    sh(&env.project, "git add -f config/dev.key");
    let out = env.fnox(&["export", "--format", "json"]).success();
    assert_eq!(
        env.redact(&stderr(&out)),
        "warning: key file [TMP]/project/config/dev.key is tracked by git, so its keys are in the repository's history; untrack it (`git rm --cached`), ignore it, and move to a new key (`fnox rotate --new-key`)\n"
    );
    assert!(stdout(&out).contains("beta"), "{}", stdout(&out));
}

#[test]
fn init_in_a_git_tree_ignores_fnox_local_toml_and_the_key_it_creates() {
    let Some(env) = git_project() else { return };
    let config = env.project.join(".fnox");
    let out = env.cmd().env("FNOX_CONFIG_DIR", &config).arg("init").assert().success();
    let id = primary_id(&config.join("local.key"));
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "created .gitignore so that git ignores /.fnox/local.key
created local key {id} in .fnox/local.key
updated .gitignore so that git ignores /fnox.local.toml
created fnox.toml with provider `local`
next: `fnox set NAME` to add a secret, `fnox get NAME` to read it
"
        )
    );
    assert_eq!(env.read(".gitignore"), "/.fnox/local.key\n/fnox.local.toml\n");
    sh(&env.project, "git check-ignore -q .fnox/local.key && git check-ignore -q fnox.local.toml");
    // Again: nothing more to ignore, nothing said about it.
    let out = env.cmd().env("FNOX_CONFIG_DIR", &config).arg("init").assert().success();
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "using the local key {id} in .fnox/local.key\nfnox.toml already has a provider `local`; nothing changed\n"
        )
    );
    assert_eq!(env.read(".gitignore"), "/.fnox/local.key\n/fnox.local.toml\n");

    // Outside a git tree, no .gitignore appears.
    let plain = TestEnv::with_local();
    assert!(!plain.project.join(".gitignore").exists());
}

/// A key `init` finds in the tree unignored is ignored too; the lines are
/// added after the file's own bytes, once; a key outside fnox.toml's
/// directory gets its line in the `.gitignore` at the top of the tree.
#[test]
fn init_adds_its_lines_once_and_leaves_the_rest_of_gitignore_alone() {
    let Some(env) = git_project() else { return };
    let config = env.project.join(".fnox");
    env.cmd().env("FNOX_CONFIG_DIR", &config).arg("init").assert().success();
    let id = primary_id(&config.join("local.key"));
    env.write(".gitignore", "# build output\ntarget");
    let out = env.cmd().env("FNOX_CONFIG_DIR", &config).arg("init").assert().success();
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "updated .gitignore so that git ignores /.fnox/local.key
using the local key {id} in .fnox/local.key
updated .gitignore so that git ignores /fnox.local.toml
fnox.toml already has a provider `local` and is unchanged
"
        )
    );
    assert_eq!(
        env.read(".gitignore"),
        "# build output\ntarget\n/.fnox/local.key\n/fnox.local.toml\n"
    );

    env.write(".gitignore", "# build output\ntarget\n/fnox.local.toml\n");
    let sub = env.project.join("app");
    std::fs::create_dir(&sub).unwrap();
    let out = env.cmd_in(&sub).env("FNOX_CONFIG_DIR", &config).arg("init").assert().success();
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "updated [TMP]/project/.gitignore so that git ignores /.fnox/local.key
using the local key {id} in [TMP]/project/.fnox/local.key
created .gitignore so that git ignores /fnox.local.toml
created fnox.toml with provider `local`
next: `fnox set NAME` to add a secret, `fnox get NAME` to read it
"
        )
    );
    assert_eq!(env.read("app/.gitignore"), "/fnox.local.toml\n");
    assert_eq!(
        env.read(".gitignore"),
        "# build output\ntarget\n/fnox.local.toml\n/.fnox/local.key\n"
    );
}

/// The id of the primary key in the keyring at `path`.
fn primary_id(path: &std::path::Path) -> String {
    let ring = std::fs::read_to_string(path).unwrap();
    let line = ring.lines().find(|l| l.contains(" primary")).unwrap();
    line.split(' ').next().unwrap().to_string()
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_local_keyring_readable_by_others_is_refused_and_doctor_says_so() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let key = env.config_dir.join("local.key");
    let ring = std::fs::read_to_string(&key).unwrap();
    let primary = ring.lines().find(|l| l.contains(" primary")).unwrap();
    let primary = primary.split(' ').nth(1).unwrap().to_string();
    chmod(&key, 0o644);
    let out = env.fnox(&["get", "A"]).code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        "error: cannot decrypt secret `A` (provider `local`, fnox.toml:11)
  cause: [TMP]/config/local.key is accessible by group or others (mode 0644); key files must be private
  hint: run `chmod 600 [TMP]/config/local.key`
"
    );
    let out = env.fnox(&["doctor"]).code(1);
    let err = env.redact(&stderr(&out));
    assert!(
        err.contains("  - provider `local`: encrypt probe failed: [TMP]/config/local.key is accessible by group or others (mode 0644); key files must be private\n  - cannot decrypt secret `A` (provider `local`, fnox.toml:11): [TMP]/config/local.key is accessible by group or others (mode 0644); key files must be private\n    hint: run `chmod 600 [TMP]/config/local.key`\n"),
        "{err}"
    );
    // The key in the environment is not a file: unaffected.
    let out = env.cmd().env("FNOX_LOCAL_KEY", &primary).args(["get", "A"]).assert().success();
    assert_eq!(stdout(&out), "alpha\n");
    chmod(&key, 0o600);
    assert_eq!(env.get("A"), b"alpha");
}

#[test]
fn an_age_identity_readable_by_group_is_refused() {
    let env = TestEnv::new();
    env.fnox(&["init", "--provider", "age"]).success();
    env.set("A", b"alpha").success();
    let identity = env.config_dir.join("age.txt");
    chmod(&identity, 0o640);
    let out = env.fnox(&["get", "A"]).code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        "error: cannot decrypt secret `A` (provider `age`, fnox.toml:12)
  cause: [TMP]/config/age.txt is accessible by group or others (mode 0640); key files must be private
  hint: run `chmod 600 [TMP]/config/age.txt`
"
    );
    let out = env.fnox(&["doctor"]).code(1);
    assert!(stderr(&out).contains("hint: run `chmod 600 "), "{}", stderr(&out));
    // FNOX_AGE_KEY (the key itself) is unaffected.
    let key = std::fs::read_to_string(&identity).unwrap();
    let key = key.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).unwrap().to_string();
    let out = env.cmd().env("FNOX_AGE_KEY", key).args(["get", "A"]).assert().success();
    assert_eq!(stdout(&out), "alpha\n");
}
