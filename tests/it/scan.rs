//! `fnox scan` and the pre-commit hook (issue 13, part 3), in real git
//! repositories: a staged value stops the commit, a value only in the
//! working tree does not (with --staged), `fnox:allow` and `[scan] allow`
//! silence a finding, a tracked file that gains a value is caught.

use std::path::Path;

use crate::common::{TestEnv, bin, require_tool, sh, stderr, stdout};

/// The command that installs the hook (the lead wires it as
/// `fnox git install-hook`).
const INSTALL_HOOK: &[&str] = &["git", "install-hook"];

const TOKEN: &[u8] = b"tok-9f8e7d6c5b4a3210";

const HINT: &str = "  hint: take the plaintext out (`fnox set NAME` keeps a value encrypted), or mark a line that is safe with `fnox:allow` in a comment, or list the file in `[scan] allow = [...]` in fnox.toml\n";

/// A git repository with fnox.toml holding API_TOKEN, committed.
fn repo() -> Option<TestEnv> {
    if !require_tool("git") {
        return None;
    }
    let env = TestEnv::with_local();
    env.set("API_TOKEN", TOKEN).success();
    sh(
        &env.project,
        "git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm init",
    );
    Some(env)
}

/// `git ARGS` in the project, with the test's environment (HOME,
/// FNOX_CONFIG_DIR: the hook's fnox finds the key).
fn git(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.program("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .output()
        .expect("git")
}

fn commits(env: &TestEnv) -> usize {
    sh(&env.project, "git rev-list --count HEAD").trim().parse().expect("count")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const BLOCKED: &str = "error: found plaintext that should not be committed: 1 finding in 1 file\n";
const STOPPED: &str = "fnox: commit stopped (fix the findings above, or git commit --no-verify)\n";

#[test]
fn a_staged_secret_value_blocks_the_commit() {
    let Some(env) = repo() else { return };
    env.fnox(INSTALL_HOOK).success();
    env.write("app.py", "url = 'https://api'\ntoken = 'tok-9f8e7d6c5b4a3210'\n");
    sh(&env.project, "git add app.py");
    let out = git(&env, &["commit", "-qm", "add app"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "app.py:2: secret-value: the value of secret `API_TOKEN`\n{BLOCKED}{HINT}{STOPPED}"
        )
    );
    assert_eq!(commits(&env), 1, "the commit was made");
    // The value never appears in what fnox printed.
    assert!(!out.stderr.windows(TOKEN.len()).any(|w| w == TOKEN));
}

#[test]
fn a_value_only_in_the_working_tree_does_not_block_staged() {
    let Some(env) = repo() else { return };
    env.write("app.py", "token = env('API_TOKEN')\n");
    sh(&env.project, "git add app.py");
    env.write("app.py", "token = 'tok-9f8e7d6c5b4a3210'\n");
    let staged = env.fnox(&["scan", "--staged"]).code(0);
    assert_eq!(stdout(&staged), "");
    assert_eq!(stderr(&staged), "no plaintext secrets in 1 file (1 secret value looked for)\n");
    let tree = env.fnox(&["scan", "app.py"]).code(1);
    assert_eq!(stdout(&tree), "app.py:1: secret-value: the value of secret `API_TOKEN`\n");
    assert_eq!(stderr(&tree), format!("{BLOCKED}{HINT}"));
    env.fnox(INSTALL_HOOK).success();
    let out = git(&env, &["commit", "-qm", "staged part only"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(commits(&env), 2);
}

#[test]
fn an_allowed_line_or_path_passes() {
    let Some(env) = repo() else { return };
    env.fnox(INSTALL_HOOK).success();
    env.write("test_app.py", "FAKE = 'tok-9f8e7d6c5b4a3210'  # fnox:allow\n");
    env.write("fixtures/sample.env", "API_TOKEN=tok-9f8e7d6c5b4a3210\n");
    sh(&env.project, "git add test_app.py fixtures");
    let out = env.fnox(&["scan", "--staged"]).code(1);
    assert_eq!(
        stdout(&out),
        "fixtures/sample.env:1: secret-value: the value of secret `API_TOKEN`\n"
    );
    let config = env.read("fnox.toml");
    env.write("fnox.toml", &format!("{config}\n[scan]\nallow = [\"fixtures/**\"]\n"));
    sh(&env.project, "git add fnox.toml");
    let out = env.fnox(&["scan", "--staged"]).code(0);
    assert_eq!(stderr(&out), "no plaintext secrets in 2 files (1 secret value looked for)\n");
    let out = git(&env, &["commit", "-qm", "fixtures"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_tracked_file_that_gains_a_value_is_caught() {
    let Some(env) = repo() else { return };
    env.write("config.yml", "log_level: info\n");
    sh(
        &env.project,
        "git add config.yml && git -c user.name=t -c user.email=t@t commit -qm config",
    );
    env.fnox(INSTALL_HOOK).success();
    env.write("config.yml", "log_level: info\napi: tok-9f8e7d6c5b4a3210\n");
    // `commit -a` stages into a temporary index (GIT_INDEX_FILE): that is
    // the one read.
    let out = git(&env, &["commit", "-qam", "oops"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "config.yml:2: secret-value: the value of secret `API_TOKEN`\n{BLOCKED}{HINT}{STOPPED}"
        )
    );
    assert_eq!(commits(&env), 2);
}

#[test]
fn install_hook_chains_an_existing_hook_and_updates_its_own() {
    let Some(env) = repo() else { return };
    let hooks = env.project.join(".git/hooks");
    let old = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/old-hook-ran\"\n";
    std::fs::write(hooks.join("pre-commit"), old).unwrap();
    sh(&hooks, "chmod +x pre-commit");
    let out = env.fnox(INSTALL_HOOK).success();
    assert_eq!(
        stderr(&out),
        "installed the pre-commit hook .git/hooks/pre-commit: `git commit` now runs `fnox scan --staged` and stops on a finding
the hook that was there is now .git/hooks/pre-commit.before-fnox; it runs after fnox's check
"
    );
    assert_eq!(std::fs::read_to_string(hooks.join("pre-commit.before-fnox")).unwrap(), old);
    let again = env.fnox(INSTALL_HOOK).success();
    assert_eq!(stderr(&again), "updated the pre-commit hook .git/hooks/pre-commit\n");
    assert_eq!(std::fs::read_to_string(hooks.join("pre-commit.before-fnox")).unwrap(), old);
    // A clean commit runs both; a blocked one stops before the old hook.
    env.write("a.txt", "hello\n");
    sh(&env.project, "git add a.txt");
    assert_eq!(git(&env, &["commit", "-qm", "a"]).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(env.project.join(".git/old-hook-ran")).unwrap(), "ran\n");
    env.write("b.txt", "tok-9f8e7d6c5b4a3210\n");
    sh(&env.project, "git add b.txt");
    assert_eq!(git(&env, &["commit", "-qm", "b"]).status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(env.project.join(".git/old-hook-ran")).unwrap(), "ran\n");
}

#[test]
fn install_hook_and_staged_outside_git_fail() {
    let env = TestEnv::with_local();
    let out = env.fnox(INSTALL_HOOK).code(1);
    assert_eq!(
        stderr(&out),
        "error: install-hook installs a git hook, and this is not inside a git repository
  hint: run it in the repository (after `git init`)
"
    );
    let out = env.fnox(&["scan", "--staged"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: --staged reads the git index, and this is not inside a git working tree\n"
    );
}

#[test]
fn files_never_to_commit_and_credential_shapes() {
    let Some(env) = repo() else { return };
    let aws = format!("AKIA{}", "Q3XAMPLE7KEY2ABC");
    let gh = format!("ghp_{}", "x".repeat(30) + "Ab12Cd");
    let files = [
        (".env", "# local\nDATABASE_URL=postgres://u:p@db/app\n".to_string()),
        (".env.example", "DATABASE_URL=postgres://localhost/app\n".to_string()),
        ("fnox.local.toml", "[secrets]\n".to_string()),
        ("deploy/id.key", "k\n".to_string()),
        ("notes.md", format!("aws {aws}\n\ngh: {gh}\n-----BEGIN RSA PRIVATE KEY-----\n")),
        ("settings.py", "SECRET_KEY = \"h7Gq2xLm9PzR4vTb8NcW\"\nDEBUG = True\n".to_string()),
    ];
    for (path, body) in &files {
        env.write(path, body);
    }
    sh(&env.project, "git add -f .");
    let out = env.fnox(&["scan", "--staged"]).code(1);
    assert_eq!(
        stdout(&out),
        ".env:2: dotenv-file: a .env file with values; keep them in fnox.toml (`fnox import`)
deploy/id.key:1: key-file: a key file; never commit it
fnox.local.toml:1: local-config: fnox.local.toml holds personal settings; never commit it
notes.md:1: aws-access-key: an AWS access key id
notes.md:3: github-token: a GitHub token
notes.md:4: private-key: a private key
settings.py:1: high-entropy: a random-looking value assigned to `SECRET_KEY`
"
    );
    assert_eq!(
        stderr(&out),
        format!(
            "error: found plaintext that should not be committed: 7 findings in 5 files\n{HINT}"
        )
    );
    let json = env.fnox(&["scan", "--staged", "--format", "json", "settings.py"]).code(1);
    assert_eq!(
        stdout(&json),
        r#"[
  {
    "path": "settings.py",
    "line": 1,
    "rule": "high-entropy",
    "detail": "a random-looking value assigned to `SECRET_KEY`"
  }
]
"#
    );
}

#[test]
fn the_pre_commit_framework_entry_runs() {
    let Some(env) = repo() else { return };
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    let yaml = std::fs::read_to_string(manifest).expect(".pre-commit-hooks.yaml");
    let entry = yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .expect("an entry line")
        .to_string();
    assert_eq!(entry, "fnox scan --staged");
    assert!(yaml.contains("pass_filenames: false"), "{yaml}");
    env.write("app.py", "t = 'tok-9f8e7d6c5b4a3210'\n");
    sh(&env.project, "git add app.py");
    let dir = bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = env.program("sh").args(["-c", &entry]).env("PATH", path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "app.py:1: secret-value: the value of secret `API_TOKEN`\n");
}

#[test]
fn jdx_flags_and_the_scan_table() {
    let env = TestEnv::with_local();
    env.set("API_TOKEN", TOKEN).success();
    env.write("src/a.txt", "tok-9f8e7d6c5b4a3210\n");
    env.write("vendor/b.txt", "tok-9f8e7d6c5b4a3210\n");
    // Outside git: every file under the directory.
    let out = env.fnox(&["scan", "-d", "src", "--dir", "vendor", "-i", "vendor/**"]).code(1);
    assert_eq!(stdout(&out), "src/a.txt:1: secret-value: the value of secret `API_TOKEN`\n");
    let config = env.read("fnox.toml");
    env.write("fnox.toml", &format!("{config}\n[scan]\nallowed = [\"x\"]\n"));
    let out = env.fnox(&["scan"]).code(1);
    assert_eq!(stdout(&out), "");
    let line = config.lines().count() + 3;
    assert_eq!(
        stderr(&out),
        format!(
            "error: fnox.toml:{line}: unknown key `allowed` in [scan]
  hint: did you mean `allow`?
  hint: allowed keys here: `allow`
"
        )
    );
}

#[test]
fn a_secret_that_cannot_be_decrypted_is_warned_about() {
    let env = TestEnv::with_local();
    env.set("API_TOKEN", TOKEN).success();
    std::fs::remove_dir_all(&env.config_dir).unwrap();
    env.write(
        "a.txt",
        "tok-9f8e7d6c5b4a3210
",
    );
    let out = env.fnox(&["scan", "a.txt"]).code(0);
    assert_eq!(
        stderr(&out),
        "warning: cannot decrypt secret `API_TOKEN` (provider `local`, fnox.toml:11); the value of `API_TOKEN` is not looked for
no plaintext secrets in 1 file (0 secret values looked for)
"
    );
}

#[test]
fn staged_submodules_and_deleted_files_are_not_read() {
    let Some(env) = repo() else { return };
    let head = sh(&env.project, "git rev-parse HEAD");
    let gitlink = format!("160000,{},vendor/lib", head.trim());
    sh(
        &env.project,
        &format!("git update-index --add --cacheinfo {gitlink} && git rm -q --cached fnox.toml"),
    );
    env.write("b.txt", "tok-9f8e7d6c5b4a3210\n");
    sh(&env.project, "git add b.txt");
    let out = env.fnox(&["scan", "--staged"]).code(1);
    assert_eq!(stdout(&out), "b.txt:1: secret-value: the value of secret `API_TOKEN`\n");
}

#[test]
fn install_hook_follows_core_hooks_path() {
    let Some(env) = repo() else { return };
    sh(&env.project, "git config core.hooksPath .githooks");
    let out = env.fnox(INSTALL_HOOK).success();
    assert_eq!(
        stderr(&out),
        "installed the pre-commit hook .githooks/pre-commit: `git commit` now runs `fnox scan --staged` and stops on a finding\n"
    );
    assert!(!env.project.join(".git/hooks/pre-commit").exists());
    env.write("c.txt", "tok-9f8e7d6c5b4a3210\n");
    sh(&env.project, "git add c.txt");
    assert_eq!(git(&env, &["commit", "-qm", "c"]).status.code(), Some(1));
}
