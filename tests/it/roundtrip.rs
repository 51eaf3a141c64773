//! `set` / `get` / `exec` round trips with the `local` and `age` providers.

use crate::common::{TestEnv, stdout};

/// Values that break naive quoting, encoding or line handling.
fn nasty_values() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("NEWLINES", b"line one\nline two\n\nlast\n".to_vec()),
        ("UNICODE", "héllo wörld ✓ 秘密 🔑".as_bytes().to_vec()),
        ("EQUALS", b"a=b==c; KEY=VALUE".to_vec()),
        ("QUOTES", b"it's \"quoted\" `tick` $HOME \\n \\\\".to_vec()),
        ("SPACES", b"  leading and trailing  ".to_vec()),
        ("EMPTY", Vec::new()),
    ]
}

/// 1 MiB of pseudo-random bytes (NUL and all).
fn one_mib() -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn round_trip(env: &TestEnv) {
    for (name, value) in nasty_values() {
        env.set(name, &value).success();
        assert_eq!(env.get(name), value, "get -n {name}");
        // Without -n, exactly one newline is added.
        let mut with_nl = value.clone();
        with_nl.push(b'\n');
        assert_eq!(env.fnox(&["get", name]).success().get_output().stdout, with_nl);
        // exec hands the exact bytes to the child.
        let script = format!("printf %s \"${name}\"");
        let out = env.fnox(&["exec", "--only", name, "--", "sh", "-c", &script]).success();
        assert_eq!(out.get_output().stdout, value, "exec {name}");
    }
    let big = one_mib();
    env.set("BIG", &big).success();
    assert_eq!(env.get("BIG"), big);
    // The values are not in the file in plain text.
    let file = env.read("fnox.toml");
    assert!(!file.contains("line one") && !file.contains("héllo"), "{file}");
}

#[test]
fn local_round_trip() {
    round_trip(&TestEnv::with_local());
}

#[test]
fn age_round_trip() {
    let env = TestEnv::new();
    env.fnox(&["init", "--provider", "age"]).success();
    round_trip(&env);
    let file = env.read("fnox.toml");
    assert!(file.contains("provider = \"age\", value = \"YWdlLWVuY3J5cHRpb24ub3JnL3Yx"), "{file}");
}

#[test]
fn exec_passes_all_secrets_and_defaults() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    env.set("B", b"beta").success();
    let text =
        env.read("fnox.toml").replace("[secrets]\n", "[secrets]\nLOG = { default = \"info\" }\n");
    env.write("fnox.toml", &text);
    let out = env.fnox(&["exec", "--", "sh", "-c", "echo \"$A $B $LOG\""]).success();
    assert_eq!(stdout(&out), "alpha beta info\n");
    let out = env.fnox(&["exec", "--only", "B", "--", "sh", "-c", "echo \"[$A] $B\""]).success();
    assert_eq!(stdout(&out), "[] beta\n");
}

#[test]
fn stdin_drops_one_trailing_newline_unless_raw() {
    let env = TestEnv::with_local();
    env.cmd().args(["set", "A"]).write_stdin("value\n\n").assert().success();
    assert_eq!(env.get("A"), b"value\n");
    env.cmd().args(["set", "A"]).write_stdin("crlf\r\n").assert().success();
    assert_eq!(env.get("A"), b"crlf");
    env.cmd().args(["set", "--raw", "A"]).write_stdin("value\n").assert().success();
    assert_eq!(env.get("A"), b"value\n");
}

#[test]
fn empty_input_is_refused_unless_allowed() {
    let env = TestEnv::with_local();
    env.set("A", b"keep me").success();
    let before = env.read("fnox.toml");
    // e.g. `fnox get -n X | fnox set X` after `get` failed: nothing is blanked.
    let out = env.cmd().args(["set", "A"]).write_stdin("").assert().code(1);
    assert_eq!(
        crate::common::stderr(&out),
        "error: the value for `A` is empty; nothing was changed (pass --allow-empty to store an empty value)\n"
    );
    assert_eq!(env.read("fnox.toml"), before);
    env.cmd().args(["set", "--allow-empty", "A"]).write_stdin("").assert().success();
    assert_eq!(env.get("A"), b"");
}

#[test]
fn from_file_is_verbatim_and_description_is_listed() {
    let env = TestEnv::with_local();
    let pem = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    env.write("server.key", pem);
    env.fnox(&["set", "TLS_KEY", "--from-file", "server.key", "-d", "TLS private key"]).success();
    assert_eq!(env.get("TLS_KEY"), pem.as_bytes());
    let out = env.fnox(&["list"]).success();
    assert_eq!(
        stdout(&out),
        "NAME     PROVIDER  DESCRIPTION      FILE\nTLS_KEY  local     TLS private key  fnox.toml:11\n"
    );
    let out = env.fnox(&["get", "--json", "TLS_KEY"]).success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["name"], "TLS_KEY");
    assert_eq!(json["value"], pem);
}

#[test]
fn list_json_never_shows_values_unless_asked() {
    let env = TestEnv::with_local();
    env.set("A", b"super-secret-value").success();
    let out = env.fnox(&["list", "--json"]).success();
    let text = stdout(&out);
    assert!(!text.contains("super-secret-value"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json[0]["name"], "A");
    assert_eq!(json[0]["provider"], "local");
    assert_eq!(json[0]["line"], 11);
    let out = env.fnox(&["list", "--json", "--values"]).success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json[0]["value"], "super-secret-value");
}

#[test]
fn ci_key_from_env_decrypts_values_made_with_the_keyring() {
    let env = TestEnv::with_local();
    env.set("TOKEN", b"t0k3n").success();
    let ring = std::fs::read_to_string(env.config_dir.join("local.key")).unwrap();
    let primary = ring.lines().find(|l| l.contains(" primary")).unwrap();
    let key = primary.split_whitespace().nth(1).unwrap().to_string();
    // A CI machine: no keyring, the key in FNOX_LOCAL_KEY.
    std::fs::remove_file(env.config_dir.join("local.key")).unwrap();
    let out = env.cmd().env("FNOX_LOCAL_KEY", &key).args(["get", "TOKEN"]).assert().success();
    assert_eq!(stdout(&out), "t0k3n\n");
    assert!(!env.config_dir.join("local.key").exists(), "get must not create a key");
}

#[test]
fn key_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.fnox(&["init"]).success();
    env.fnox(&["init", "--provider", "age"]).success();
    for f in ["local.key", "age.txt"] {
        let mode = std::fs::metadata(env.config_dir.join(f)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    let mode = std::fs::metadata(&env.config_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn init_writes_a_commented_file_and_is_idempotent() {
    let env = TestEnv::new();
    let out = env.fnox(&["init"]).success();
    let err = crate::common::stderr(&out);
    assert!(err.contains("\ncreated fnox.toml with provider `local`\n"), "{err}");
    let first = env.read("fnox.toml");
    assert!(first.ends_with("[providers.local]\ntype = \"local\"\n\n[secrets]\n"), "{first}");
    let out = env.fnox(&["init"]).success();
    let err = crate::common::stderr(&out);
    assert!(
        err.ends_with("\nfnox.toml already has a provider `local`; nothing changed\n"),
        "{err}"
    );
    assert_eq!(env.read("fnox.toml"), first);
}

#[test]
fn init_writes_an_aws_kms_provider() {
    let env = TestEnv::new();
    let out = env
        .fnox(&["init", "--provider", "aws-kms", "--key-id", "alias/app", "--region", "eu-west-1"])
        .success();
    assert!(
        crate::common::stderr(&out)
            .starts_with("created fnox.toml with provider `kms` (key alias/app)\n")
    );
    assert!(env
        .read("fnox.toml")
        .ends_with("[providers.kms]\ntype = \"aws-kms\"\nkey_id = \"alias/app\"\nregion = \"eu-west-1\"\n\n[secrets]\n"));
    // --key-id is required for aws-kms: a usage error.
    let other = TestEnv::new();
    other.fnox(&["init", "--provider", "aws-kms"]).code(2);
    assert!(!other.project.join("fnox.toml").exists());
}
