//! Who may write a config file: fnox loads no file that another user (not
//! root) owns or that its group or others can write, unless its directory
//! is trusted (`trusted_dirs` in the global config, `FNOX_TRUSTED_DIRS`).
//! Owning a file as another user needs root: those tests are skipped,
//! visibly, when the tests do not run as root.

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command as StdCommand,
};

use assert_cmd::{Command, assert::Assert};

use crate::common::{TestEnv, bin, skipped, stderr, stdout};

/// A uid that no test machine gives a name to (checked with `getent`).
const STRANGER: u32 = 4242;
/// The uid the victim runs as in the tests that switch user.
const VICTIM: u32 = 1000;

/// True when the tests run as root; otherwise the test is recorded as
/// skipped (a failure unless skips are allowed).
fn root() -> bool {
    let out = StdCommand::new("id").arg("-u").output().expect("id -u");
    let is_root = String::from_utf8_lossy(&out.stdout).trim() == "0";
    if !is_root {
        skipped("needs root to own files as another user");
    }
    is_root
}

fn chown(path: &Path, uid: u32) {
    let status = StdCommand::new("chown").arg(format!("{uid}:{uid}")).arg(path).status().unwrap();
    assert!(status.success(), "chown {}", path.display());
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `" (NAME)"` for a uid the user database names, else `""`.
fn name_of(uid: u32) -> String {
    let out = StdCommand::new("getent").args(["passwd", &uid.to_string()]).output().unwrap();
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    match line.split(':').next().filter(|n| !n.trim().is_empty()) {
        Some(name) => format!(" ({})", name.trim()),
        None => String::new(),
    }
}

/// A parent directory (the project, `root = true`, one secret) and its
/// `child` directory with a fnox.toml of its own.
fn tree() -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    env.write("fnox.toml", "root = true\n\n[secrets]\nPARENT = { default = \"p\" }\n");
    env.write("child/fnox.toml", "[secrets]\nCHILD = { default = \"c\" }\n");
    let child = env.project.join("child");
    (env, child)
}

/// `fnox ARGS` in `dir` with empty stdin, and `vars`.
fn run_in(env: &TestEnv, dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Assert {
    env.cmd_in(dir).envs(vars.iter().copied()).args(args).write_stdin(Vec::<u8>::new()).assert()
}

/// The error for `path` (under the test's temp dir) refused for `problem`.
fn refused(path: &str, problem: &str, owner: &str, mode: &str, fix: &str, trust: &str) -> String {
    format!(
        "error: refusing to load [TMP]/{path}: {problem}; owner {owner}, mode {mode}\n  \
         hint: if you trust this file, {fix} [TMP]/{path}`; if you do not, remove it\n  \
         hint: or trust its directory: {trust}\n"
    )
}

/// The trust hint for a project file in `dir`.
fn trust_hint(dir: &str) -> String {
    format!(
        "add \"[TMP]/{dir}\" to `trusted_dirs = [...]` in [TMP]/config/config.toml, or to FNOX_TRUSTED_DIRS (colon-separated)"
    )
}

#[test]
fn a_parent_fnox_toml_of_another_user_stops_the_walk_with_the_owner_and_the_ways_out() {
    if !root() {
        return;
    }
    let (env, child) = tree();
    chown(&env.project.join("fnox.toml"), STRANGER);
    for args in [&["list"][..], &["get", "CHILD"], &["exec", "--", "true"]] {
        let out = run_in(&env, &child, &[], args).code(1);
        assert_eq!(
            env.redact(&stderr(&out)),
            refused(
                "project/fnox.toml",
                "another user owns it",
                &format!("uid {STRANGER}{}", name_of(STRANGER)),
                "0644",
                "make it yours: `chown 0",
                &trust_hint("project"),
            ),
            "fnox {args:?}"
        );
        assert_eq!(stdout(&out), "");
    }
    // A set writes nothing either.
    let before = env.read("child/fnox.toml");
    env.cmd_in(&child).args(["set", "NEW"]).write_stdin("v").assert().code(1);
    assert_eq!(env.read("child/fnox.toml"), before);
    // Root's files load.
    chown(&env.project.join("fnox.toml"), 0);
    assert_eq!(stdout(&run_in(&env, &child, &[], &["get", "PARENT"]).success()), "p\n");
}

/// `fnox ARGS` run as user `uid` (no groups) in `dir`, with the test's
/// environment.
fn as_user(env: &TestEnv, uid: u32, dir: &Path, args: &[&str]) -> Assert {
    let mut cmd = Command::new("setpriv");
    cmd.arg(format!("--reuid={uid}"))
        .arg(format!("--regid={uid}"))
        .arg("--clear-groups")
        .arg("--")
        .arg(bin())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("FNOX_CONFIG_DIR", &env.config_dir)
        .env("LC_ALL", "C.UTF-8");
    cmd.write_stdin(Vec::<u8>::new()).assert()
}

#[test]
fn a_file_dropped_in_a_shared_directory_by_another_user_is_refused_for_its_victim() {
    if !root() {
        return;
    }
    // A /tmp-like shared directory; the victim's project sits inside it
    // without `root = true`, so the walk reaches the shared directory.
    let env = TestEnv::new();
    chmod(env.tmp.path(), 0o755);
    let shared = env.project.join("shared");
    let project = shared.join("app");
    std::fs::create_dir_all(&project).unwrap();
    chmod(&shared, 0o1777);
    std::fs::write(env.project.join("fnox.toml"), "root = true\n").unwrap();
    std::fs::write(project.join("fnox.toml"), "[secrets]\nA = { default = \"mine\" }\n").unwrap();
    chown(&project, VICTIM);
    chown(&project.join("fnox.toml"), VICTIM);
    // The victim's own file and root's load.
    let out = as_user(&env, VICTIM, &project, &["get", "A"]).success();
    assert_eq!(stdout(&out), "mine\n");
    // The attacker, as themselves, drops a fnox.toml into the shared dir.
    let script = "printf '[secrets]\\nEVIL = { default = \"x\" }\\n' > fnox.toml";
    let status = StdCommand::new("setpriv")
        .args([&format!("--reuid={STRANGER}"), &format!("--regid={STRANGER}"), "--clear-groups"])
        .args(["sh", "-c", script])
        .current_dir(&shared)
        .status()
        .unwrap();
    assert!(status.success());
    let out = as_user(&env, VICTIM, &project, &["get", "A"]).code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        refused(
            "project/shared/fnox.toml",
            "another user owns it",
            &format!("uid {STRANGER}{}", name_of(STRANGER)),
            "0644",
            &format!("make it yours: `chown {VICTIM}"),
            &trust_hint("project/shared"),
        )
    );
    // Root's fnox sees the victim's file as another user's, too.
    let out = run_in(&env, &project, &[], &["get", "A"]).code(1);
    assert!(
        env.redact(&stderr(&out)).starts_with(&format!(
            "error: refusing to load fnox.toml: another user owns it; owner uid {VICTIM}{}, mode 0644\n",
            name_of(VICTIM)
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_file_its_group_or_others_can_write_is_refused_whoever_owns_it() {
    let (env, child) = tree();
    let path = env.project.join("fnox.toml");
    let me = std::fs::metadata(&path).map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap();
    let owner = format!("uid {me}{}", name_of(me));
    for (mode, problem) in [
        (0o664, "its group can write it"),
        (0o646, "others can write it"),
        (0o666, "its group and others can write it"),
        (0o620, "its group can write it"),
    ] {
        chmod(&path, mode);
        let out = run_in(&env, &child, &[], &["list"]).code(1);
        assert_eq!(
            env.redact(&stderr(&out)),
            refused(
                "project/fnox.toml",
                problem,
                &owner,
                &format!("{mode:04o}"),
                "let only its owner write it: `chmod go-w",
                &trust_hint("project"),
            )
        );
    }
    chmod(&path, 0o600);
    run_in(&env, &child, &[], &["list"]).success();
}

#[test]
fn every_kind_of_config_file_is_checked() {
    let env = TestEnv::new();
    env.write("fnox.toml", "root = true\nimport = [\"shared/base.toml\"]\n");
    env.write("shared/base.toml", "[secrets]\nA = { default = \"a\" }\n");
    env.write("fnox.ci.toml", "[secrets]\nB = { default = \"b\" }\n");
    env.write("fnox.local.toml", "[secrets]\nC = { default = \"c\" }\n");
    std::fs::create_dir_all(&env.config_dir).unwrap();
    std::fs::write(env.config_dir.join("config.toml"), "[secrets]\nG = { default = \"g\" }\n")
        .unwrap();
    let list = ["list", "--profile", "ci"];
    run_in(&env, &env.project, &[], &list).success();
    for file in ["shared/base.toml", "fnox.ci.toml", "fnox.local.toml", "fnox.toml"] {
        let path = env.project.join(file);
        chmod(&path, 0o666);
        let out = run_in(&env, &env.project, &[], &list).code(1);
        let text = env.redact(&stderr(&out));
        let first = if file == "shared/base.toml" {
            "error: fnox.toml:2: import `shared/base.toml` cannot be loaded\n  cause: refusing to load shared/base.toml: its group and others can write it"
        } else {
            &format!("error: refusing to load {file}: its group and others")
        };
        assert!(text.starts_with(first), "{file}: {text}");
        chmod(&path, 0o644);
    }
    // The global file: its own trust list cannot vouch for it.
    let global = env.config_dir.join("config.toml");
    chmod(&global, 0o664);
    let out = run_in(&env, &env.project, &[], &list).code(1);
    let me = std::fs::metadata(&global).map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap();
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "error: refusing to load [TMP]/config/config.toml: its group can write it; owner uid {me}{}, mode 0664\n  \
             hint: if you trust this file, let only its owner write it: `chmod go-w [TMP]/config/config.toml`; if you do not, remove it\n  \
             hint: or trust its directory: add [TMP]/config to FNOX_TRUSTED_DIRS (colon-separated)\n",
            name_of(me)
        )
    );
}

#[test]
fn a_trusted_directory_loads_whoever_owns_its_files() {
    if !root() {
        return;
    }
    let (env, child) = tree();
    let parent = env.project.join("fnox.toml");
    chown(&parent, STRANGER);
    chmod(&parent, 0o666);
    run_in(&env, &child, &[], &["list"]).code(1);
    // FNOX_TRUSTED_DIRS: colon-separated; the directory or one above it.
    let project = env.project.display().to_string();
    for list in [project.clone(), format!("/nonexistent::{project}"), env.tmp_path()] {
        let out = run_in(&env, &child, &[("FNOX_TRUSTED_DIRS", &list)], &["get", "PARENT"]);
        assert_eq!(stdout(&out.success()), "p\n", "FNOX_TRUSTED_DIRS={list}");
    }
    // A directory beside it is no help.
    let out = run_in(&env, &child, &[("FNOX_TRUSTED_DIRS", "child")], &["get", "PARENT"]);
    out.code(1);
    // trusted_dirs in the global config (~/ is the home directory).
    std::fs::create_dir_all(&env.config_dir).unwrap();
    let global = env.config_dir.join("config.toml");
    std::fs::write(&global, format!("trusted_dirs = [\"{project}\"]\n")).unwrap();
    assert_eq!(stdout(&run_in(&env, &child, &[], &["get", "PARENT"]).success()), "p\n");
    std::fs::write(&global, "trusted_dirs = [\"~/../project\"]\n").unwrap();
    assert_eq!(stdout(&run_in(&env, &child, &[], &["get", "PARENT"]).success()), "p\n");
    // ... believed only when the global file passes the check itself.
    chown(&global, STRANGER);
    let out = run_in(&env, &child, &[], &["get", "PARENT"]).code(1);
    assert!(
        env.redact(&stderr(&out))
            .starts_with("error: refusing to load [TMP]/config/config.toml: another user owns it;"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn trusted_dirs_is_read_from_the_global_config_only() {
    let env = TestEnv::new();
    env.write("fnox.toml", "root = true\ntrusted_dirs = [\"/\"]\n");
    let out = env.fnox(&["list"]).code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        "error: fnox.toml:2: `trusted_dirs` is read from the global config only ([TMP]/config/config.toml)\n"
    );
}

impl TestEnv {
    fn tmp_path(&self) -> String {
        self.tmp.path().display().to_string()
    }
}
