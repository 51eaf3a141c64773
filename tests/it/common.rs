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
    /// Extra environment variables for every command (e.g. AWS settings).
    pub extra_env: Vec<(String, String)>,
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
        Self { tmp, home, config_dir, project, extra_env: Vec::new() }
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
        Command::from_std(self.process_in(dir))
    }

    /// `fnox` as a plain `std::process::Command` in the project, with the
    /// same environment as [`TestEnv::cmd`] (for tests that spawn and signal).
    pub fn process(&self) -> StdCommand {
        self.process_in(&self.project)
    }

    fn process_in(&self, dir: &Path) -> StdCommand {
        self.program_in(bin(), dir)
    }

    /// Any `program` in the project, with the same hermetic environment as
    /// [`TestEnv::cmd`] (a wrapper such as `setpriv` or `bash -c` around fnox).
    pub fn program(&self, program: impl AsRef<std::ffi::OsStr>) -> StdCommand {
        self.program_in(program, &self.project)
    }

    fn program_in(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> StdCommand {
        let mut cmd = StdCommand::new(program);
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("FNOX_CONFIG_DIR", &self.config_dir)
            .env("LC_ALL", "C.UTF-8")
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs `fnox ARGS` in the project with empty stdin.
    pub fn fnox(&self, args: &[&str]) -> Assert {
        self.cmd().args(args).write_stdin(Vec::<u8>::new()).assert()
    }

    /// `fnox set NAME` with the value on stdin, verbatim (`--raw`).
    pub fn set(&self, name: &str, value: &[u8]) -> Assert {
        let mut cmd = self.cmd();
        cmd.args(["set", "--raw", name]);
        if value.is_empty() {
            cmd.arg("--allow-empty");
        }
        cmd.write_stdin(value.to_vec()).assert()
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

    /// Writes an executable project file (see [`write_executable`]).
    pub fn write_executable(&self, rel: &str, text: &str) {
        write_executable(&self.project.join(rel), text);
    }

    /// Reads a project file.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.project.join(rel)).expect("read")
    }

    /// Reads a project file's bytes.
    pub fn read_bytes(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.project.join(rel)).expect("read")
    }

    /// The stored `value` of top-level secret `name` in the project's fnox.toml.
    pub fn stored(&self, name: &str) -> String {
        let doc: toml_edit::DocumentMut = self.read("fnox.toml").parse().unwrap();
        doc["secrets"][name]["value"].as_str().unwrap().to_string()
    }

    /// [`TestEnv::stored`], base64-decoded.
    pub fn stored_bytes(&self, name: &str) -> Vec<u8> {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(self.stored(name)).unwrap()
    }

    /// Swaps the stored values of top-level secrets `a` and `b` in fnox.toml
    /// (each ciphertext now sits under the other name).
    pub fn swap_stored(&self, a: &str, b: &str) {
        let (va, vb) = (self.stored(a), self.stored(b));
        let text =
            self.read("fnox.toml").replace(&va, "@@A@@").replace(&vb, &va).replace("@@A@@", &vb);
        self.write("fnox.toml", &text);
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

/// True when the external `tool` can run. When it cannot, the test fails,
/// unless the run opted out with `FNOX_TEST_SKIP_SERVERS=1` (never under
/// `CI=true`): then the skip is recorded (see [`skipped`]) and the caller
/// returns early.
pub fn require_tool(tool: &str) -> bool {
    // Present when it can be started at all (`ssh-keygen` has no --version).
    let ok = StdCommand::new(tool).arg("--version").output().is_ok();
    if !ok {
        skipped(&format!("`{tool}` is not installed (scripts/test.sh installs it)"));
    }
    ok
}

/// Where skipped tests are recorded, one line each; scripts/test.sh counts
/// them in its summary.
pub const SKIP_LOG: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/skipped-tests.log");

/// A test that cannot run because `why`: a failure, unless the run opted
/// out of servers and tools with `FNOX_TEST_SKIP_SERVERS=1` outside CI;
/// then the skip is written to [`SKIP_LOG`] and said on stderr.
pub fn skipped(why: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let opted_out = std::env::var("FNOX_TEST_SKIP_SERVERS").is_ok_and(|v| v == "1");
    assert!(
        opted_out && !ci,
        "{why}; run scripts/test.sh, or set FNOX_TEST_SKIP_SERVERS=1 to skip (and count) such tests{}",
        if ci { " (not allowed when CI=true)" } else { "" }
    );
    let test = std::thread::current().name().unwrap_or("?").to_string();
    eprintln!("SKIPPED {test}: {why}");
    use std::io::Write as _;
    let line = format!("{test}: {why}\n");
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(SKIP_LOG)
        .and_then(|mut f| f.write_all(line.as_bytes()));
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

/// The KMS test server's endpoint (`FNOX_TEST_KMS_ENDPOINT`, set by
/// scripts/test.sh). When it is not set: see [`skipped`].
pub fn kms_endpoint() -> Option<String> {
    match std::env::var("FNOX_TEST_KMS_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ => {
            skipped(
                "no KMS test server: FNOX_TEST_KMS_ENDPOINT is not set (scripts/test.sh starts moto)",
            );
            None
        }
    }
}

/// Hermetic AWS settings for the test KMS server.
pub fn aws_env() -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Runs the `aws` CLI against the test KMS server; returns trimmed stdout.
pub fn aws(endpoint: &str, args: &[&str]) -> String {
    let out = StdCommand::new("aws")
        .arg("--endpoint-url")
        .arg(endpoint)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(aws_env())
        .output()
        .expect("aws CLI");
    assert!(out.status.success(), "aws {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A new KMS key with a unique alias: `(key id, arn, alias)`.
pub fn create_kms_key(endpoint: &str) -> (String, String, String) {
    let out = aws(
        endpoint,
        &["kms", "create-key", "--query", "KeyMetadata.[KeyId,Arn]", "--output", "text"],
    );
    let mut parts = out.split_whitespace();
    let id = parts.next().expect("key id").to_string();
    let arn = parts.next().expect("arn").to_string();
    let alias = format!("alias/fnox-test-{}", &id[..8]);
    aws(endpoint, &["kms", "create-alias", "--alias-name", &alias, "--target-key-id", &id]);
    (id, arn, alias)
}

/// The OpenBao test server: `(address, root token)` from
/// `FNOX_TEST_BAO_ADDR` and `FNOX_TEST_BAO_TOKEN` (set by scripts/test.sh,
/// which also enables transit). When they are not set: see [`skipped`].
pub fn bao_server() -> Option<(String, String)> {
    match (std::env::var("FNOX_TEST_BAO_ADDR"), std::env::var("FNOX_TEST_BAO_TOKEN")) {
        (Ok(a), Ok(t)) if !a.is_empty() && !t.is_empty() => Some((a, t)),
        _ => {
            skipped(
                "no OpenBao test server: FNOX_TEST_BAO_ADDR is not set (scripts/test.sh starts `bao server -dev`)",
            );
            None
        }
    }
}

/// Runs the `bao` CLI against `addr` with `token` and `stdin`; returns the
/// output, whether it succeeded or not.
pub fn bao_output(addr: &str, token: &str, args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write as _;
    let mut child = StdCommand::new("bao")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("BAO_ADDR", addr)
        .env("BAO_TOKEN", token)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the `bao` CLI (scripts/test.sh installs it into .venv)");
    child.stdin.take().expect("stdin").write_all(stdin).expect("write to bao");
    child.wait_with_output().expect("bao")
}

/// Runs the `bao` CLI against the test server, asserting success; returns
/// trimmed stdout.
pub fn bao(addr: &str, token: &str, args: &[&str]) -> String {
    let out = bao_output(addr, token, args, b"");
    assert!(out.status.success(), "bao {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// A project whose fnox.toml has one aws-kms provider `kms` with `key` at
/// the test server `endpoint`, and hermetic AWS settings.
pub fn kms_project(endpoint: &str, key: &str) -> TestEnv {
    let mut env = TestEnv::new();
    env.extra_env = aws_env();
    env.write(
        "fnox.toml",
        &format!(
            "[providers.kms]\ntype = \"aws-kms\"\nkey_id = \"{key}\"\nendpoint = \"{endpoint}\"\n\n[secrets]\n"
        ),
    );
    env
}

/// The D-Bus session bus of the test Secret Service
/// (`FNOX_TEST_DBUS_ADDRESS`: scripts/test.sh starts `dbus-daemon` and
/// `gnome-keyring-daemon --unlock` with a test password). When it is not
/// set: see [`skipped`].
pub fn secret_service() -> Option<String> {
    match std::env::var("FNOX_TEST_DBUS_ADDRESS") {
        Ok(a) if !a.is_empty() => Some(a),
        _ => {
            skipped(
                "no Secret Service: FNOX_TEST_DBUS_ADDRESS is not set (scripts/test.sh starts gnome-keyring)",
            );
            None
        }
    }
}

/// Writes `text` to `path` with mode 0755, from a child process: the file
/// is never open for writing in this (multi-threaded) test process, so a
/// child that another test forks at that moment cannot inherit the write
/// descriptor and make running the file fail with "Text file busy".
pub fn write_executable(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    let mut child = StdCommand::new("sh")
        .args(["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh"])
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("sh");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), text.as_bytes())
        .expect("write");
    assert!(child.wait().expect("wait").success(), "writing {}", path.display());
}
