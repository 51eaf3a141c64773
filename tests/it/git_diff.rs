//! `fnox git install`, `diff` and `merge` in real git repositories: what
//! `git diff`, `git log -p` and `git merge` show and do.

use std::process::Output;

use fnox_core::versions;

use crate::common::{TestEnv, bin, stderr};

/// `git ARGS` in the project, with the test's environment and an identity.
fn git(env: &TestEnv, args: &[&str]) -> Output {
    env.program("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap()
}

/// `git ARGS`, asserting success; its stdout.
fn git_ok(env: &TestEnv, args: &[&str]) -> String {
    let out = git(env, args);
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A repository with fnox's drivers installed and three secrets committed.
fn repo() -> TestEnv {
    let env = TestEnv::new();
    git_ok(&env, &["init", "-q", "-b", "main"]);
    env.fnox(&["init"]).success();
    env.set("API_TOKEN", b"token-one").success();
    env.set("DB_URL", b"postgres://db/one").success();
    env.set("OLD", b"old-value").success();
    env.fnox(&["git", "install"]).success();
    git_ok(&env, &["add", "-A"]);
    git_ok(&env, &["commit", "-q", "-m", "secrets"]);
    env
}

#[test]
fn install_writes_gitattributes_and_the_clones_git_config() {
    let env = TestEnv::new();
    git_ok(&env, &["init", "-q"]);
    env.write(".gitattributes", "*.png binary");
    let a = env.fnox(&["git", "install"]).success();
    assert_eq!(
        stderr(&a),
        "added 2 lines to .gitattributes: commit it\nset diff.fnox and merge.fnox in this clone's git config\n"
    );
    assert_eq!(
        env.read(".gitattributes"),
        "*.png binary\nfnox.toml diff=fnox merge=fnox\nfnox.*.toml diff=fnox merge=fnox\n"
    );
    let fnox = bin().display().to_string();
    let config = git_ok(&env, &["config", "--local", "--get-regexp", "fnox"]);
    assert_eq!(
        config,
        format!(
            "diff.fnox.command {fnox} git diff\ndiff.fnox.textconv {fnox} git diff\n\
             merge.fnox.name fnox: secrets with the same value under two ciphertexts\n\
             merge.fnox.driver {fnox} git merge %O %A %B %P %L %S %X %Y\n"
        )
    );
    let again = env.fnox(&["git", "install"]).success();
    assert_eq!(
        stderr(&again),
        ".gitattributes already maps fnox.toml to fnox's drivers\nset diff.fnox and merge.fnox in this clone's git config\n"
    );
    assert_eq!(env.read(".gitattributes").matches("fnox.toml").count(), 1);
}

#[test]
fn install_outside_a_repository_is_refused() {
    let env = TestEnv::new();
    let a = env.fnox(&["git", "install"]).failure();
    assert!(stderr(&a).contains("`git rev-parse --show-toplevel` failed"), "{}", stderr(&a));
    assert!(stderr(&a).contains("hint: run `fnox git install` inside a git working tree"));
}

/// API_TOKEN changed, DB_URL re-encrypted (same value), OLD removed, NEW added.
fn change_everything(env: &TestEnv) {
    env.set("API_TOKEN", b"token-two").success();
    env.set("DB_URL", b"postgres://db/one").success();
    env.fnox(&["remove", "OLD"]).success();
    env.set("NEW", b"new-value").success();
}

#[test]
fn git_diff_says_per_secret_what_changed_and_never_a_value() {
    let env = repo();
    change_everything(&env);
    let out = git_ok(&env, &["diff"]);
    assert_eq!(
        out,
        "diff --fnox a/fnox.toml b/fnox.toml\nAPI_TOKEN: value changed\n\
         DB_URL: re-encrypted, same value\nNEW: added\nOLD: removed\n"
    );
    git_ok(&env, &["commit", "-q", "-a", "-m", "change"]);
    let log = git_ok(&env, &["log", "-p", "--ext-diff", "-1", "--format=%s"]);
    assert_eq!(log, format!("change\n\n{out}"));
    let show = git_ok(&env, &["show", "--format=", "HEAD~1", "--", "fnox.toml"]);
    for value in ["token-one", "token-two", "postgres", "old-value", "new-value"] {
        assert!(!out.contains(value) && !log.contains(value) && !show.contains(value));
    }
}

#[test]
fn git_diff_of_other_lines_says_no_secret_changed() {
    let env = repo();
    let text = env.read("fnox.toml");
    env.write(
        "fnox.toml",
        &text.replace("[providers.local]", "# the key is on the team's vault\n[providers.local]"),
    );
    assert_eq!(
        git_ok(&env, &["diff"]),
        "diff --fnox a/fnox.toml b/fnox.toml\n\
         no secret changed; other lines did (`git diff --no-ext-diff` shows them)\n"
    );
}

#[test]
fn git_log_p_shows_a_value_line_and_a_ciphertext_line_per_secret() {
    let env = repo();
    change_everything(&env);
    git_ok(&env, &["commit", "-q", "-a", "-m", "change"]);
    let log = git_ok(&env, &["log", "-p", "-1", "--format=", "--", "fnox.toml"]);
    let key = std::fs::read(env.config_dir.join(versions::ID_KEY_FILE)).unwrap();
    let key: [u8; 32] = key.try_into().unwrap();
    let value = |v: &[u8]| format!("#{}", versions::value_id(&key, v));
    let sealed = |text: &str, name: &str| {
        let line = text.lines().find(|l| l.starts_with(&format!("{name} = "))).unwrap();
        let stored = line.split("value = \"").nth(1).unwrap().split('"').next().unwrap();
        format!("#{}", versions::sealed_id(stored))
    };
    let old = git_ok(&env, &["show", "HEAD~1:fnox.toml"]);
    let new = env.read("fnox.toml");
    let (token1, token2, db) =
        (value(b"token-one"), value(b"token-two"), value(b"postgres://db/one"));
    let (old_value, new_value) = (value(b"old-value"), value(b"new-value"));
    let (a1, a2) = (sealed(&old, "API_TOKEN"), sealed(&new, "API_TOKEN"));
    let (d1, d2) = (sealed(&old, "DB_URL"), sealed(&new, "DB_URL"));
    let (o, n) = (sealed(&old, "OLD"), sealed(&new, "NEW"));
    let hunks: String =
        log.lines().skip_while(|l| !l.starts_with("@@")).map(|l| format!("{l}\n")).collect();
    let secrets = hunks.split("\n \n").next().unwrap();
    assert_eq!(
        secrets,
        format!(
            "@@ -1,9 +1,9 @@\n\
             -API_TOKEN: value {token1}\n-API_TOKEN: sealed {a1} (local)\n\
             +API_TOKEN: value {token2}\n+API_TOKEN: sealed {a2} (local)\n\
             \x20DB_URL: value {db}\n-DB_URL: sealed {d1} (local)\n\
             -OLD: value {old_value}\n-OLD: sealed {o} (local)\n\
             +DB_URL: sealed {d2} (local)\n\
             +NEW: value {new_value}\n+NEW: sealed {n} (local)"
        ),
        "{log}"
    );
    assert!(hunks.contains("\n-OLD = { provider = \"local\", value = \"…\" }\n"), "{log}");
    for value in ["token-one", "token-two", "postgres", "old-value", "new-value"] {
        assert!(!log.contains(value));
    }
    // Without the keys, the ciphertext line still shows what changed.
    let elsewhere = env
        .program("git")
        .args(["log", "-p", "-1", "--format=", "--", "fnox.toml"])
        .env("FNOX_CONFIG_DIR", env.tmp.path().join("another-machine"))
        .output()
        .unwrap();
    let elsewhere = String::from_utf8(elsewhere.stdout).unwrap();
    assert!(elsewhere.contains("\n DB_URL: value cannot be decrypted here\n"), "{elsewhere}");
    assert!(elsewhere.contains(&format!("\n+DB_URL: sealed {d2} (local)\n")), "{elsewhere}");
}

#[test]
fn git_diff_values_only_when_asked() {
    let env = repo();
    change_everything(&env);
    let command = format!("diff.fnox.command={} git diff --values", bin().display());
    let out = git_ok(&env, &["-c", &command, "diff"]);
    assert_eq!(
        out,
        "diff --fnox a/fnox.toml b/fnox.toml\n\
         API_TOKEN: value changed: \"token-one\" -> \"token-two\"\n\
         DB_URL: re-encrypted, same value\nNEW: added: \"new-value\"\nOLD: removed: \"old-value\"\n"
    );
}

#[test]
fn git_diff_values_are_quoted_with_escapes() {
    let env = repo();
    env.set("API_TOKEN", b"a \"quoted\"\nline").success();
    env.set("DB_URL", b"\xff\x00bin").success();
    let command = format!("diff.fnox.command={} git diff --values", bin().display());
    assert_eq!(
        git_ok(&env, &["-c", &command, "diff"]),
        "diff --fnox a/fnox.toml b/fnox.toml\n\
         API_TOKEN: value changed: \"token-one\" -> \"a \\\"quoted\\\"\\nline\"\n\
         DB_URL: value changed: \"postgres://db/one\" -> \"\\xff\\x00bin\"\n"
    );
}

#[test]
fn git_diff_without_the_keys_says_it_cannot_decrypt() {
    let env = repo();
    change_everything(&env);
    let out = env
        .program("git")
        .args(["diff"])
        .env("FNOX_CONFIG_DIR", env.tmp.path().join("another-machine"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "diff --fnox a/fnox.toml b/fnox.toml\nAPI_TOKEN: changed (cannot decrypt here)\n\
         DB_URL: changed (cannot decrypt here)\nNEW: added\nOLD: removed\n"
    );
}

#[test]
fn rotate_on_two_branches_merges_without_a_conflict() {
    let env = repo();
    git_ok(&env, &["checkout", "-q", "-b", "other"]);
    env.fnox(&["rotate", "--new-key", "--yes"]).success();
    env.set("NEW", b"added-on-other").success();
    git_ok(&env, &["commit", "-q", "-a", "-m", "rotate on other"]);
    git_ok(&env, &["checkout", "-q", "main"]);
    env.fnox(&["rotate", "--new-key", "--yes"]).success();
    env.set("DB_URL", b"postgres://db/two").success();
    git_ok(&env, &["commit", "-q", "-a", "-m", "rotate on main"]);
    let ours = env.stored("API_TOKEN");
    let out = git(&env, &["merge", "-q", "-m", "merge", "other"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "fnox.toml: API_TOKEN: the same value on both branches, kept ours' ciphertext\n\
         fnox.toml: DB_URL: only re-encrypted on their branch, kept our change\n\
         fnox.toml: OLD: the same value on both branches, kept ours' ciphertext\n"
    );
    assert_eq!(env.stored("API_TOKEN"), ours);
    assert_eq!(env.get("API_TOKEN"), b"token-one");
    assert_eq!(env.get("DB_URL"), b"postgres://db/two");
    assert_eq!(env.get("NEW"), b"added-on-other");
    assert_eq!(git_ok(&env, &["status", "--porcelain"]), "");
}

#[test]
fn a_rotation_gives_way_to_a_change_on_the_other_branch() {
    let env = repo();
    git_ok(&env, &["checkout", "-q", "-b", "other"]);
    env.set("API_TOKEN", b"token-two").success();
    git_ok(&env, &["commit", "-q", "-a", "-m", "change"]);
    git_ok(&env, &["checkout", "-q", "main"]);
    env.fnox(&["rotate", "--new-key", "--yes"]).success();
    git_ok(&env, &["commit", "-q", "-a", "-m", "rotate"]);
    let out = git(&env, &["merge", "-q", "-m", "merge", "other"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "fnox.toml: API_TOKEN: only re-encrypted on our branch, took their change\n"
    );
    assert_eq!(env.get("API_TOKEN"), b"token-two");
    assert_eq!(env.get("DB_URL"), b"postgres://db/one");
}

#[test]
fn two_different_values_are_a_conflict_left_to_the_user() {
    let env = repo();
    git_ok(&env, &["checkout", "-q", "-b", "other"]);
    env.set("API_TOKEN", b"token-theirs").success();
    git_ok(&env, &["commit", "-q", "-a", "-m", "theirs"]);
    let theirs = env.stored("API_TOKEN");
    git_ok(&env, &["checkout", "-q", "main"]);
    env.set("API_TOKEN", b"token-ours").success();
    env.set("OLD", b"changed-only-here").success();
    git_ok(&env, &["commit", "-q", "-a", "-m", "ours"]);
    let ours = env.stored("API_TOKEN");
    let before = env.read("fnox.toml");
    let out = git(&env, &["merge", "-q", "-m", "merge", "other"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().starts_with(
        "fnox.toml: API_TOKEN: changed on both branches: a conflict for you to resolve\n"
    ));
    let line = |v: &str| format!("API_TOKEN = {{ provider = \"local\", value = \"{v}\" }}\n");
    let conflict =
        format!("<<<<<<< HEAD\n{}=======\n{}>>>>>>> other\n", line(&ours), line(&theirs));
    assert_eq!(env.read("fnox.toml"), before.replace(&line(&ours), &conflict));
    assert_eq!(git_ok(&env, &["status", "--porcelain"]), "UU fnox.toml\n");
}

#[test]
fn neighbouring_secrets_changed_on_two_branches_do_not_conflict() {
    let env = repo();
    git_ok(&env, &["checkout", "-q", "-b", "other"]);
    env.set("DB_URL", b"postgres://db/theirs").success();
    git_ok(&env, &["commit", "-q", "-a", "-m", "theirs"]);
    git_ok(&env, &["checkout", "-q", "main"]);
    env.set("API_TOKEN", b"token-ours").success();
    env.set("OLD", b"old-ours").success();
    git_ok(&env, &["commit", "-q", "-a", "-m", "ours"]);
    let out = git(&env, &["merge", "-q", "-m", "merge", "other"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(env.get("API_TOKEN"), b"token-ours");
    assert_eq!(env.get("DB_URL"), b"postgres://db/theirs");
    assert_eq!(env.get("OLD"), b"old-ours");
}

#[test]
fn removed_on_one_branch_and_changed_on_the_other_is_a_conflict() {
    let env = repo();
    git_ok(&env, &["checkout", "-q", "-b", "other"]);
    env.set("OLD", b"old-changed").success();
    git_ok(&env, &["commit", "-q", "-a", "-m", "theirs"]);
    git_ok(&env, &["checkout", "-q", "main"]);
    env.fnox(&["remove", "OLD"]).success();
    git_ok(&env, &["commit", "-q", "-a", "-m", "ours"]);
    let out = git(&env, &["merge", "-q", "-m", "merge", "other"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("fnox.toml: 1 conflict for you to resolve\n")
    );
    let text = env.read("fnox.toml");
    assert!(text.contains("<<<<<<< HEAD\n=======\nOLD = "), "{text}");
}

#[test]
fn git_diff_names_profile_secrets_and_a_new_file() {
    let env = TestEnv::new();
    git_ok(&env, &["init", "-q"]);
    env.fnox(&["init"]).success();
    env.fnox(&["git", "install"]).success();
    env.set("API_TOKEN", b"token-one").success();
    env.cmd()
        .args(["-P", "prod", "set", "--raw", "API_TOKEN"])
        .write_stdin(b"token-prod".to_vec())
        .assert()
        .success();
    git_ok(&env, &["add", "fnox.toml"]);
    assert_eq!(
        git_ok(&env, &["diff", "--cached"]),
        "diff --fnox a/fnox.toml b/fnox.toml\nAPI_TOKEN: added\nAPI_TOKEN (profile prod): added\n"
    );
    git_ok(&env, &["commit", "-q", "-m", "one"]);
    env.cmd()
        .args(["-P", "prod", "set", "--raw", "API_TOKEN"])
        .write_stdin(b"token-prod-2".to_vec())
        .assert()
        .success();
    assert_eq!(
        git_ok(&env, &["diff"]),
        "diff --fnox a/fnox.toml b/fnox.toml\nAPI_TOKEN (profile prod): value changed\n"
    );
}

#[test]
fn help_text_for_git() {
    let env = TestEnv::new();
    for (name, args) in [
        ("git", &["git", "--help"][..]),
        ("git_install", &["git", "install", "--help"]),
        ("git_diff", &["git", "diff", "--help"]),
        ("git_merge", &["git", "merge", "--help"]),
    ] {
        insta::assert_snapshot!(name, crate::common::stdout(&env.fnox(args).success()));
    }
}
