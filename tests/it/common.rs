//! The hermetic test environment: a fresh HOME, `FNOX_CONFIG_DIR` and
//! project directory per test, and a cleared environment.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::Command as StdCommand,
};

use assert_cmd::{Command, assert::Assert};

/// One test's world.
pub struct TestEnv {
    /// Keeps the directory alive.
    pub tmp: tempfile::TempDir,
    /// `$HOME`.
    pub home: PathBuf,
    /// `$FNOX_CONFIG_DIR`.
    pub config_dir: PathBuf,
    /// The project directory (the working directory of commands).
    pub project: PathBuf,
}

impl TestEnv {
    /// A new, empty world (no fnox.toml yet).
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().join("home");
        let config_dir = tmp.path().join("config");
        let project = tmp.path().join("project");
        for d in [&home, &project] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        Self { tmp, home, config_dir, project }
    }

    /// A world with `fnox init` (local provider) already run.
    pub fn with_local() -> Self {
        let env = Self::new();
        env.fnox(&["init"]).success();
        env
    }

    /// `fnox` with a cleared environment, run in the project directory.
    pub fn cmd(&self) -> Command {
        self.cmd_in(&self.project)
    }

    /// `fnox` run in `dir`.
    pub fn cmd_in(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(bin());
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("FNOX_CONFIG_DIR", &self.config_dir)
            .env("LC_ALL", "C.UTF-8");
        cmd
    }

    /// Runs `fnox ARGS` in the project with empty stdin.
    pub fn fnox(&self, args: &[&str]) -> Assert {
        self.cmd().args(args).write_stdin(Vec::<u8>::new()).assert()
    }

    /// `fnox set NAME` with the value on stdin, verbatim (`--raw`).
    pub fn set(&self, name: &str, value: &[u8]) -> Assert {
        self.cmd().args(["set", "--raw", name]).write_stdin(value.to_vec()).assert()
    }

    /// `fnox get -n NAME`, asserting success; returns stdout.
    pub fn get(&self, name: &str) -> Vec<u8> {
        self.fnox(&["get", "-n", name]).success().get_output().stdout.clone()
    }

    /// Writes a project file.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.project.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }

    /// Reads a project file.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.project.join(rel)).expect("read")
    }

    /// Reads a project file's bytes.
    pub fn read_bytes(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.project.join(rel)).expect("read")
    }

    /// Replaces the temp directory's path in `text` with `[TMP]`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.tmp.path().display().to_string(), "[TMP]")
    }
}

/// The path of the fnox binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fnox"))
}

/// stderr of an assertion as text.
pub fn stderr(a: &Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// stdout of an assertion as text.
pub fn stdout(a: &Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

/// True when the external `tool` can run. When it cannot: under `CI=true`
/// the test fails; elsewhere it is reported and the caller returns early.
pub fn require_tool(tool: &str) -> bool {
    let ok = StdCommand::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("`{tool}` is required when CI=true; scripts/test.sh installs it");
        }
        eprintln!("SKIPPED: `{tool}` is not installed (run scripts/test.sh to install it)");
    }
    ok
}

/// Runs a shell script in `dir`, asserting success; returns stdout.
pub fn sh(dir: &Path, script: &str) -> String {
    let out =
        StdCommand::new("bash").arg("-c").arg(script).current_dir(dir).output().expect("bash");
    assert!(
        out.status.success(),
        "script failed: {script}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
