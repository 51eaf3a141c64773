//! `fnox agent`: a second exec makes no key-service request; expiry, lock,
//! stop; another uid gets nothing; a dead, slow or confused agent is passed
//! by. Each test's agent lives in its own directory (`FNOX_AGENT_DIR` in
//! the test's temp dir) and is stopped when the test ends, even on failure.

use std::{
    collections::BTreeMap,
    io::{Read as _, Write as _},
    os::unix::{
        fs::{DirBuilderExt as _, PermissionsExt as _},
        net::UnixListener,
    },
    path::PathBuf,
    process::Stdio,
};

use crate::{
    common::{TestEnv, create_kms_key, kms_endpoint, kms_project, stderr, stdout},
    proxy::CountingProxy,
};

/// The agent directory of `env`, and `FNOX_AGENT_DIR` set for its commands.
fn private_agent(env: &mut TestEnv) -> PathBuf {
    let dir = env.tmp.path().join("agent");
    env.extra_env.push(("FNOX_AGENT_DIR".into(), dir.display().to_string()));
    dir
}

/// A started agent, stopped (and killed if it does not answer) on drop.
struct Running<'a> {
    env: &'a TestEnv,
    pid: u32,
}

impl<'a> Running<'a> {
    fn start(env: &'a TestEnv, args: &[&str]) -> Self {
        let out = env.fnox(&[&["agent", "start"], args].concat()).success();
        let text = stdout(&out);
        let pid = text
            .strip_prefix("agent started, pid ")
            .and_then(|r| r.split(',').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected start output: {text}"));
        Self { env, pid }
    }

    fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([sig, &self.pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {}", self.pid);
    }

    /// `agent status` output.
    fn status(&self, names: bool) -> String {
        let args: &[&str] =
            if names { &["agent", "status", "--names"] } else { &["agent", "status"] };
        stdout(&self.env.fnox(args).success())
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let _ = self.env.cmd().args(["agent", "stop"]).output();
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", self.pid)).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("serve") {
            let _ =
                std::process::Command::new("kill").args(["-KILL", &self.pid.to_string()]).status();
        }
    }
}

/// The line of `status` that counts values.
fn values_line(status: &str) -> &str {
    status.lines().find(|l| l.starts_with("values: ")).unwrap_or("")
}

/// A KMS project behind a counting proxy with `n` secrets S001.. = v001..,
/// imported in one command; the proxy's counts are reset.
fn kms_secrets(n: usize) -> Option<(TestEnv, CountingProxy)> {
    let endpoint = kms_endpoint()?;
    let (_, _, alias) = create_kms_key(&endpoint);
    let proxy = CountingProxy::start(&endpoint);
    let mut env = kms_project(&proxy.url, &alias);
    private_agent(&mut env);
    let dotenv: String = (1..=n).map(|i| format!("S{i:03}=v{i:03}\n")).collect();
    env.write("in.env", &dotenv);
    env.fnox(&["import", "in.env"]).success();
    proxy.reset();
    Some((env, proxy))
}

fn decrypts(proxy: &CountingProxy) -> BTreeMap<String, usize> {
    let counts = proxy.counts();
    proxy.reset();
    counts
}

const SHOW: &[&str] = &["exec", "--", "sh", "-c", "echo $S001 $S002"];

#[test]
fn a_second_exec_of_100_kms_secrets_makes_no_kms_request() {
    let Some((env, proxy)) = kms_secrets(100) else { return };
    let agent = Running::start(&env, &[]);
    let check = "test \"$(env | grep -c '^S[0-9]*=v')\" = 100 && echo $S001 $S100";
    env.fnox(&["exec", "--", "sh", "-c", check]).success().stdout("v001 v100\n");
    assert_eq!(decrypts(&proxy), BTreeMap::from([("Decrypt".to_string(), 100)]));
    assert!(agent.status(false).contains("\nvalues: 100 ("), "{}", agent.status(false));
    let out = env.fnox(&["exec", "--", "sh", "-c", check]).success().stdout("v001 v100\n");
    assert_eq!(stderr(&out), "");
    assert_eq!(proxy.total(), 0, "{:?}", proxy.counts());
    // `get` is served too.
    env.fnox(&["get", "S042"]).success().stdout("v042\n");
    assert_eq!(proxy.total(), 0);
}

/// A warm exec does not set the KMS client up at all (it reads no AWS
/// configuration): with the region gone it is still served; without the
/// agent the same exec says the region is missing.
#[test]
fn a_warm_exec_does_not_set_up_the_kms_client() {
    let Some((env, proxy)) = kms_secrets(3) else { return };
    let _agent = Running::start(&env, &[]);
    env.fnox(SHOW).success().stdout("v001 v002\n");
    assert_eq!(decrypts(&proxy), BTreeMap::from([("Decrypt".to_string(), 3)]));
    let no_region = || {
        let mut cmd = env.cmd();
        cmd.env_remove("AWS_REGION").env_remove("AWS_DEFAULT_REGION").args(SHOW);
        cmd
    };
    let out = no_region().assert().success().stdout("v001 v002\n");
    assert_eq!(stderr(&out), "");
    assert_eq!(proxy.total(), 0, "{:?}", proxy.counts());
    assert_eq!(
        stderr(&no_region().env("FNOX_AGENT", "off").assert().code(1)),
        "error: cannot use provider `kms` (fnox.toml:1)\n  cause: no AWS region: the provider has no `region` and none is configured (AWS_REGION, profile)\n  hint: set `region = \"...\"` in the provider, or AWS_REGION\n"
    );
    assert_eq!(proxy.total(), 0);
}

#[test]
fn status_shows_counts_and_ages_and_names_only_when_asked() {
    let Some((env, _proxy)) = kms_secrets(2) else { return };
    let out = env.fnox(&["agent", "status"]).code(1);
    assert_eq!(env.redact(&stdout(&out)), "no agent is running ([TMP]/agent/agent.sock)\n");
    let agent = Running::start(&env, &["--idle-timeout", "20m", "--max-lifetime", "2h"]);
    let again = env.fnox(&["agent", "start"]).success();
    assert_eq!(stdout(&again), format!("the agent is already running (pid {})\n", agent.pid));
    env.fnox(SHOW).success().stdout("v001 v002\n");
    let status = agent.status(false);
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(
        lines[0],
        format!("agent running, pid {}, socket [TMP]/agent/agent.sock", agent.pid)
            .replace("[TMP]", &env.tmp.path().display().to_string())
    );
    assert!(lines[1].ends_with("; idle timeout 20m, max lifetime 2h"), "{status}");
    assert!(lines[2].starts_with("values: 2 (oldest "), "{status}");
    assert!(lines[2].ends_with("; memory locked"), "{status}");
    assert_eq!(lines.len(), 3, "no names, no values: {status}");
    assert!(!status.contains("S001") && !status.contains("v001"));
    let named = agent.status(true);
    let names: Vec<&str> = named.lines().skip(3).map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(names, ["  S001 (kms)", "  S002 (kms)"]);
    assert!(!named.contains("v001"));
}

#[test]
fn lock_wipes_the_values_and_stop_ends_the_agent() {
    let Some((env, proxy)) = kms_secrets(2) else { return };
    let agent = Running::start(&env, &[]);
    env.fnox(SHOW).success();
    assert_eq!(decrypts(&proxy)["Decrypt"], 2);
    env.fnox(&["agent", "lock"]).success().stdout("locked the agent: wiped 2 values\n");
    assert_eq!(values_line(&agent.status(false)), "values: 0");
    env.fnox(SHOW).success().stdout("v001 v002\n");
    assert_eq!(decrypts(&proxy)["Decrypt"], 2, "fetched again after lock");
    env.fnox(&["agent", "stop"]).success().stdout("stopped the agent: wiped 2 values\n");
    env.fnox(&["agent", "status"]).code(1);
    assert!(!env.tmp.path().join("agent/agent.sock").exists(), "socket removed");
    env.fnox(&["agent", "stop"]).success().stdout("no agent is running\n");
}

#[test]
fn values_expire_after_the_idle_timeout_and_the_max_lifetime() {
    let Some((env, proxy)) = kms_secrets(2) else { return };
    let agent = Running::start(&env, &["--idle-timeout", "1s"]);
    env.fnox(SHOW).success();
    assert_eq!(decrypts(&proxy)["Decrypt"], 2);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(values_line(&agent.status(false)), "values: 0");
    env.fnox(SHOW).success().stdout("v001 v002\n");
    assert_eq!(decrypts(&proxy)["Decrypt"], 2, "expired values are fetched again");
    drop(agent);

    // Used all the time, a value still goes at its maximum lifetime.
    let agent = Running::start(&env, &["--idle-timeout", "1h", "--max-lifetime", "2s"]);
    env.fnox(SHOW).success();
    env.fnox(SHOW).success();
    assert_eq!(decrypts(&proxy)["Decrypt"], 2);
    std::thread::sleep(std::time::Duration::from_millis(3000));
    assert_eq!(values_line(&agent.status(false)), "values: 0");
}

#[test]
fn a_changed_value_is_fetched_again_never_served_stale() {
    let Some((env, proxy)) = kms_secrets(2) else { return };
    let _agent = Running::start(&env, &[]);
    env.fnox(SHOW).success().stdout("v001 v002\n");
    env.set("S001", b"rotated").success();
    proxy.reset();
    env.fnox(SHOW).success().stdout("rotated v002\n");
    assert_eq!(decrypts(&proxy), BTreeMap::from([("Decrypt".to_string(), 1)]));
    // A value moved under another name is another entry (and refused by KMS).
    env.swap_stored("S001", "S002");
    let out = env.fnox(&["get", "S001"]).code(1);
    assert!(stderr(&out).contains("cannot decrypt secret `S001`"), "{}", stderr(&out));
}

#[test]
fn fnox_agent_off_no_daemon_and_doctor_bypass_a_running_agent() {
    let Some((env, proxy)) = kms_secrets(2) else { return };
    let agent = Running::start(&env, &[]);
    let out = env.cmd().env("FNOX_AGENT", "off").args(SHOW).assert().success();
    assert_eq!(stdout(&out), "v001 v002\n");
    env.fnox(&[&["--no-daemon"], SHOW].concat()).success().stdout("v001 v002\n");
    assert_eq!(decrypts(&proxy)["Decrypt"], 4);
    assert_eq!(values_line(&agent.status(false)), "values: 0");
    // `doctor` checks the provider itself: it neither asks the agent nor fills it.
    env.fnox(SHOW).success();
    assert_eq!(decrypts(&proxy)["Decrypt"], 2);
    env.fnox(&["doctor"]).success();
    assert!(decrypts(&proxy)["Decrypt"] >= 2, "doctor decrypted through KMS");
}

#[test]
fn a_killed_agent_mid_request_leaves_fnox_working_and_is_replaced() {
    let Some((env, _proxy)) = kms_secrets(2) else { return };
    let agent = Running::start(&env, &[]);
    env.fnox(SHOW).success();
    // Frozen, the agent accepts the connection (the kernel queues it) but
    // never answers; killed, it closes it under the waiting command.
    agent.signal("-STOP");
    let child =
        env.process().args(SHOW).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    agent.signal("-KILL");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "v001 v002\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.is_empty() || err.starts_with("warning: fnox agent: "), "{err}");
    // Its socket is left behind: stale, it is replaced by the next agent.
    assert!(env.tmp.path().join("agent/agent.sock").exists());
    env.fnox(SHOW).success().stdout("v001 v002\n").stderr("");
    let _next = Running::start(&env, &[]);
    env.fnox(SHOW).success().stdout("v001 v002\n");
}

/// A fake agent on `env`'s socket that answers each connection with
/// `answer` (`None`: reads the request and never answers).
fn fake_agent(dir: &std::path::Path, answer: Option<&'static [u8]>) {
    std::fs::DirBuilder::new().mode(0o700).create(dir).unwrap();
    let listener = UnixListener::bind(dir.join("agent.sock")).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            if let Some(a) = answer {
                let _ = conn.write_all(a);
            }
            held.push(conn);
        }
    });
}

#[test]
fn a_slow_agent_is_passed_by_with_a_warning() {
    let Some((mut env, proxy)) = kms_secrets(2) else { return };
    let dir = private_agent(&mut env);
    fake_agent(&dir, None);
    let out = env.fnox(SHOW).success().stdout("v001 v002\n");
    assert_eq!(
        stderr(&out),
        "warning: fnox agent: the agent did not answer within 500 ms; decrypting without it\n"
    );
    assert_eq!(decrypts(&proxy)["Decrypt"], 2);
}

#[test]
fn garbage_from_the_agent_is_passed_by_with_a_warning() {
    let Some((mut env, proxy)) = kms_secrets(2) else { return };
    let dir = private_agent(&mut env);
    fake_agent(&dir, Some(b"\x00\x00\x00\x04junk"));
    let out = env.fnox(SHOW).success().stdout("v001 v002\n");
    assert_eq!(
        stderr(&out),
        "warning: fnox agent: the agent's answer is not valid (protocol version); decrypting without it\n"
    );
    assert_eq!(decrypts(&proxy)["Decrypt"], 2);
}

#[test]
fn an_agent_directory_others_may_enter_is_not_used() {
    let Some((mut env, proxy)) = kms_secrets(1) else { return };
    let dir = private_agent(&mut env);
    fake_agent(&dir, None);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = env.fnox(&["get", "S001"]).success().stdout("v001\n");
    let text = env.redact(&stderr(&out));
    assert_eq!(
        text,
        "warning: fnox agent: [TMP]/agent is accessible to others (mode 755; it must be 0700); decrypting without it\n"
    );
    assert_eq!(decrypts(&proxy)["Decrypt"], 1);
    let out = env.fnox(&["agent", "start"]).code(1);
    assert!(stderr(&out).starts_with("error: cannot start the agent\n"), "{}", stderr(&out));
}

#[test]
fn age_values_are_served_without_the_identity() {
    let mut env = TestEnv::new();
    private_agent(&mut env);
    env.fnox(&["init", "--provider", "age"]).success();
    env.set("A", b"from age").success();
    let _agent = Running::start(&env, &[]);
    env.fnox(&["get", "A"]).success().stdout("from age\n");
    // The identity is gone: only the agent can answer now.
    let identity = env.config_dir.join("age.txt");
    let kept = std::fs::read(&identity).unwrap();
    std::fs::remove_file(&identity).unwrap();
    env.fnox(&["get", "A"]).success().stdout("from age\n");
    env.fnox(&["agent", "lock"]).success();
    env.fnox(&["get", "A"]).code(1);
    std::fs::write(&identity, kept).unwrap();
}

/// Sends a `status` request to the socket in `dir` as `uid` (through
/// `setpriv`), prints `answered` or `refused`.
fn raw_status_as(dir: &std::path::Path, uid: Option<u32>) -> String {
    let script = "import socket,sys\n\
        s=socket.socket(socket.AF_UNIX)\n\
        s.connect(sys.argv[1])\n\
        try:\n  s.sendall(b'\\x00\\x00\\x00\\x03\\x01\\x03\\x00')\n  d=s.recv(4096)\n\
        except (ConnectionResetError, BrokenPipeError):\n  d=b''\n\
        print('answered' if d else 'refused')\n";
    let sock = dir.join("agent.sock");
    let mut cmd = match uid {
        Some(u) => {
            let mut c = std::process::Command::new("setpriv");
            let id = u.to_string();
            // The system Python: a per-user install (pyenv) is out of its reach.
            c.args(["--reuid", &id, "--regid", &id, "--clear-groups", "/usr/bin/python3"]);
            c
        }
        None => std::process::Command::new("python3"),
    };
    let out = cmd.arg("-c").arg(script).arg(&sock).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn another_user_gets_nothing_even_through_an_opened_socket() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        crate::common::skipped("needs root to act as another uid (setpriv)");
        return;
    }
    let mut env = TestEnv::new();
    let dir = private_agent(&mut env);
    let agent = Running::start(&env, &[]);
    // Loosen the directory and socket modes, as a careless user might: the
    // uid check on the connection still refuses uid 65534.
    for (path, mode) in [
        (env.tmp.path().to_path_buf(), 0o755),
        (dir.clone(), 0o755),
        (dir.join("agent.sock"), 0o666),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    assert_eq!(raw_status_as(&dir, Some(65534)), "refused");
    assert_eq!(raw_status_as(&dir, None), "answered");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(agent.status(false).contains("\nrefused connections from other users: 1\n"));
}

#[test]
fn an_fnox_agent_value_neither_on_nor_off_is_a_warning() {
    let env = crate::common::TestEnv::new();
    env.fnox(&["init"]).success();
    env.set("A", b"value").success();
    let out = env.cmd().args(["get", "A"]).env("FNOX_AGENT", "maybe").assert().success();
    assert_eq!(crate::common::stdout(&out), "value\n");
    assert_eq!(
        crate::common::stderr(&out),
        "warning: FNOX_AGENT=maybe is neither on nor off (on, off, 1, 0, true, false, yes, no); the agent is used\n"
    );
    for quiet in ["off", "ON", "0", "yes"] {
        let out = env.cmd().args(["get", "A"]).env("FNOX_AGENT", quiet).assert().success();
        assert_eq!(crate::common::stderr(&out), "", "{quiet}");
    }
}
