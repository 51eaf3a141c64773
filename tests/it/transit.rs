//! The `vault-transit` provider against a real OpenBao (`bao server -dev`,
//! started by scripts/test.sh): round trips, interop with the `bao` CLI,
//! name binding, one batch request for many values, rotation by rewrap,
//! envelopes, policies, and the errors a user meets.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::common::{TestEnv, bao, bao_output, bao_server, stderr, stdout, unique_name};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The test server and the root token.
struct Bao {
    addr: String,
    token: String,
}

impl Bao {
    fn get() -> Option<Self> {
        bao_server().map(|(addr, token)| Self { addr, token })
    }

    fn run(&self, args: &[&str]) -> String {
        bao(&self.addr, &self.token, args)
    }

    /// A new transit key with a unique name.
    fn key(&self, derived: bool) -> String {
        let name = unique_name("fnox");
        let path = format!("transit/keys/{name}");
        if derived {
            self.run(&["write", "-f", &path, "derived=true"]);
        } else {
            self.run(&["write", "-f", &path]);
        }
        name
    }

    /// A token whose only policy is `policy`.
    fn token_with_policy(&self, policy: &str) -> String {
        let name = unique_name("fnox-policy");
        let out = bao_output(
            &self.addr,
            &self.token,
            &["policy", "write", &name, "-"],
            policy.as_bytes(),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        self.run(&["token", "create", "-policy", &name, "-field=token"])
    }
}

/// A project whose providers are `(provider name, key)` on the test server,
/// with the root token in FNOX_VAULT_TOKEN.
fn project(bao: &Bao, providers: &[(&str, &str)]) -> TestEnv {
    let mut env = TestEnv::new();
    env.extra_env = vec![("FNOX_VAULT_TOKEN".into(), bao.token.clone())];
    let mut text = String::new();
    for (name, key) in providers {
        text.push_str(&format!(
            "[providers.{name}]\ntype = \"vault-transit\"\naddress = \"{}\"\nkey = \"{key}\"\n\n",
            bao.addr
        ));
    }
    text.push_str("[secrets]\n");
    env.write("fnox.toml", &text);
    env
}

fn set_with(env: &TestEnv, provider: &str, name: &str, value: &[u8]) {
    env.cmd()
        .args(["set", "--raw", "--provider", provider, name])
        .write_stdin(value.to_vec())
        .assert()
        .success();
}

/// The number of `path` requests in the server's audit log
/// (`FNOX_TEST_BAO_AUDIT_LOG`); `None` when there is no audit log (a
/// failure unless skipping was asked for, see [`crate::common::skipped`]).
fn audit_count(path: &str) -> Option<usize> {
    let log = match std::env::var("FNOX_TEST_BAO_AUDIT_LOG") {
        Ok(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            crate::common::skipped(
                "no OpenBao audit log: FNOX_TEST_BAO_AUDIT_LOG is not set (scripts/test.sh sets it)",
            );
            return None;
        }
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let count = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|e| e["type"] == "request" && e["request"]["path"] == path)
        .count();
    Some(count)
}

#[test]
fn round_trip_with_derived_and_plain_keys() {
    let Some(bao) = Bao::get() else { return };
    let (derived, plain) = (bao.key(true), bao.key(false));
    let env = project(&bao, &[("vault", &derived), ("plain", &plain)]);
    let value = "multi\nline ✓ = \"quoted\"\n";
    for provider in ["vault", "plain"] {
        let name = format!("{}_VALUE", provider.to_uppercase());
        set_with(&env, provider, &name, value.as_bytes());
        assert!(env.stored(&name).starts_with("vault:v1:"), "{}", env.stored(&name));
        assert_eq!(env.get(&name), value.as_bytes());
    }
    // An empty value (made by the bao CLI: `set` asks before storing one).
    let empty = bao.run(&[
        "write",
        "-field=ciphertext",
        &format!("transit/encrypt/{derived}"),
        "plaintext=",
        &format!("context={}", B64.encode("EMPTY")),
    ]);
    let text = env.read("fnox.toml")
        + &format!("EMPTY = {{ provider = \"vault\", value = \"{empty}\" }}\n");
    env.write("fnox.toml", &text);
    assert_eq!(env.get("EMPTY"), b"");
    let out =
        env.fnox(&["exec", "--", "sh", "-c", "printf '%s|%s' \"$VAULT_VALUE\" \"$PLAIN_VALUE\""]);
    assert_eq!(stdout(&out.success()), format!("{value}|{value}"));
}

#[test]
fn bao_cli_and_fnox_read_each_others_values() {
    let Some(bao) = Bao::get() else { return };
    for (derived, binding) in [(true, "context"), (false, "associated_data")] {
        let key = bao.key(derived);
        let env = project(&bao, &[("vault", &key)]);
        let bound = format!("{binding}={}", B64.encode("FROM_BAO"));
        let ciphertext = bao.run(&[
            "write",
            "-field=ciphertext",
            &format!("transit/encrypt/{key}"),
            &format!("plaintext={}", B64.encode("made by bao")),
            &bound,
        ]);
        env.write(
            "fnox.toml",
            &(env.read("fnox.toml") + &format!("FROM_BAO = {{ value = \"{ciphertext}\" }}\n")),
        );
        assert_eq!(env.get("FROM_BAO"), b"made by bao", "{binding}");

        env.set("FROM_FNOX", b"made by fnox").success();
        let plaintext = bao.run(&[
            "write",
            "-field=plaintext",
            &format!("transit/decrypt/{key}"),
            &format!("ciphertext={}", env.stored("FROM_FNOX")),
            &format!("{binding}={}", B64.encode("FROM_FNOX")),
        ]);
        assert_eq!(B64.decode(plaintext).unwrap(), b"made by fnox", "{binding}");
    }
}

#[test]
fn a_value_moved_to_another_name_fails() {
    let Some(bao) = Bao::get() else { return };
    for derived in [true, false] {
        let key = bao.key(derived);
        let env = project(&bao, &[("vault", &key)]);
        env.set("A", b"value of A").success();
        env.set("B", b"value of B").success();
        env.swap_stored("A", "B");
        for (name, line) in [("A", 7), ("B", 8)] {
            let out = env.fnox(&["get", name]).code(1);
            assert_eq!(
                stderr(&out),
                format!(
                    "error: cannot decrypt secret `{name}` (provider `vault`, fnox.toml:{line})\n  cause: the value does not decrypt under this secret's name: it was moved from another secret, or tampered with\n  hint: values cannot be copied between secret names; set the value again with `fnox set {name}`\n"
                ),
                "derived={derived}"
            );
            assert!(out.get_output().stdout.is_empty());
        }
        env.fnox(&["exec", "--", "true"]).code(1);
    }
}

/// `count` secrets `S000`... with values `value-N`, encrypted by the bao
/// CLI in batches (faster than `fnox set` one by one), as `fnox.toml` lines.
fn bao_encrypted_lines(bao: &Bao, key: &str, count: usize) -> String {
    let mut lines = String::new();
    for start in (0..count).step_by(100) {
        let batch: Vec<serde_json::Value> = (start..count.min(start + 100))
            .map(|i| {
                serde_json::json!({
                    "plaintext": B64.encode(format!("value-{i}")),
                    "context": B64.encode(format!("S{i:03}")),
                })
            })
            .collect();
        let body = serde_json::json!({ "batch_input": batch }).to_string();
        let out = bao_output(
            &bao.addr,
            &bao.token,
            &["write", "-format=json", &format!("transit/encrypt/{key}"), "-"],
            body.as_bytes(),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for (i, r) in answer["data"]["batch_results"].as_array().unwrap().iter().enumerate() {
            let ciphertext = r["ciphertext"].as_str().unwrap();
            lines.push_str(&format!("S{:03} = {{ value = \"{ciphertext}\" }}\n", start + i));
        }
    }
    lines
}

#[test]
fn exec_with_100_secrets_sends_one_decrypt_request() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(true);
    let env = project(&bao, &[("vault", &key)]);
    let config = env.read("fnox.toml");
    let lines = bao_encrypted_lines(&bao, &key, 450);
    let first_100: String = lines.lines().take(100).map(|l| format!("{l}\n")).collect();
    env.write("fnox.toml", &(config.clone() + &first_100));

    let decrypt = format!("transit/decrypt/{key}");
    let Some(before) = audit_count(&decrypt) else { return };
    let out = env
        .fnox(&["exec", "--", "sh", "-c", "printf '%s %s %s' \"$S000\" \"$S042\" \"$S099\""])
        .success();
    assert_eq!(stdout(&out), "value-0 value-42 value-99");
    assert_eq!(audit_count(&decrypt).unwrap() - before, 1, "decrypt requests for 100 secrets");

    // OpenBao takes at most 1000 JSON strings per request (4 per item): 450
    // values go in batches of 200.
    env.write("fnox.toml", &(config + &lines));
    let before = audit_count(&decrypt).unwrap();
    let out = env.fnox(&["exec", "--", "env"]).success();
    assert_eq!(audit_count(&decrypt).unwrap() - before, 3, "decrypt requests for 450 secrets");
    let vars: Vec<String> =
        stdout(&out).lines().filter(|l| l.starts_with('S')).map(String::from).collect();
    assert_eq!(vars.len(), 450);
    assert!(vars.contains(&"S449=value-449".to_string()));
}

/// The stored values of `names`, rotated under a new key version: the
/// direct ones, and the envelope's wrapped key.
fn versions(env: &TestEnv, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            let v = env.stored(n);
            if v.starts_with("vault:") {
                v.split(':').nth(1).unwrap().to_string()
            } else {
                let bytes = B64.decode(v).unwrap();
                let len = u32::from_be_bytes(bytes[5..9].try_into().unwrap()) as usize;
                let wrapped = std::str::from_utf8(&bytes[9..9 + len]).unwrap();
                format!("FNXE {}", wrapped.split(':').nth(1).unwrap())
            }
        })
        .collect()
}

/// The nonce, ciphertext and tag of a stored envelope.
fn envelope_payload(stored: &str) -> Vec<u8> {
    let bytes = B64.decode(stored).unwrap();
    let len = u32::from_be_bytes(bytes[5..9].try_into().unwrap()) as usize;
    bytes[9 + len..].to_vec()
}

/// `fnox rotate --dry-run` lines as (name, method).
fn plan(env: &TestEnv) -> Vec<(String, String)> {
    let out = env.fnox(&["rotate", "--provider", "vault", "--dry-run"]).success();
    stdout(&out)
        .lines()
        .filter(|l| !l.starts_with("dry run"))
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[0].to_string(), cols[2].to_string())
        })
        .collect()
}

#[test]
fn rotation_rewraps_derived_values_on_the_server() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(true);
    let env = project(&bao, &[("vault", &key)]);
    env.set("ONE", b"first").success();
    env.set("TWO", b"second").success();
    env.cmd()
        .args(["set", "--envelope", "BIG"])
        .write_stdin(b"x".repeat(100_000))
        .assert()
        .success();
    let names = ["ONE", "TWO", "BIG"];
    assert_eq!(versions(&env, &names), ["v1", "v1", "FNXE v1"]);
    let payload_before = envelope_payload(&env.stored("BIG"));

    bao.run(&["write", "-f", &format!("transit/keys/{key}/rotate")]);
    let rewrap = format!("transit/rewrap/{key}");
    let decrypt = format!("transit/decrypt/{key}");
    let counts = || (audit_count(&rewrap), audit_count(&decrypt));
    let before = counts();
    assert_eq!(
        plan(&env),
        [("ONE", "re-wrap"), ("TWO", "re-wrap"), ("BIG", "re-wrap")]
            .map(|(n, m)| (n.to_string(), m.to_string()))
    );
    assert_eq!(versions(&env, &names), ["v1", "v1", "FNXE v1"], "a dry run writes nothing");
    env.fnox(&["rotate", "--provider", "vault", "--yes"]).success();
    assert_eq!(versions(&env, &names), ["v2", "v2", "FNXE v2"]);
    // The envelope payload is untouched: only its data key was re-wrapped.
    assert_eq!(envelope_payload(&env.stored("BIG")), payload_before);
    if let ((Some(r0), Some(d0)), (Some(r1), Some(d1))) = (before, counts()) {
        assert_eq!(d1 - d0, 0, "rotation of a derived key never decrypts");
        let rewraps = r1 - r0;
        assert!((1..=6).contains(&rewraps), "{rewraps} rewrap requests for 3 values (2 runs)");
        eprintln!("rewrap requests for a dry run and a run over 3 values: {rewraps}");
    }

    bao.run(&["write", &format!("transit/keys/{key}/config"), "min_decryption_version=2"]);
    assert_eq!(env.get("ONE"), b"first");
    assert_eq!(env.get("TWO"), b"second");
    assert_eq!(env.get("BIG"), b"x".repeat(100_000));
    // Nothing left to do: the values are under the latest version.
    assert_eq!(plan(&env).iter().filter(|(_, m)| m != "unchanged").count(), 0);
}

#[test]
fn rotation_reencrypts_values_of_a_plain_key() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(false);
    let env = project(&bao, &[("vault", &key)]);
    env.set("ONE", b"first").success();
    env.cmd()
        .args(["set", "--envelope", "BIG"])
        .write_stdin(b"big value".to_vec())
        .assert()
        .success();
    bao.run(&["write", "-f", &format!("transit/keys/{key}/rotate")]);
    assert_eq!(
        plan(&env),
        [("ONE", "re-encrypt"), ("BIG", "re-wrap")].map(|(n, m)| (n.to_string(), m.to_string()))
    );
    env.fnox(&["rotate", "--provider", "vault", "--yes"]).success();
    assert_eq!(versions(&env, &["ONE", "BIG"]), ["v2", "FNXE v2"]);
    bao.run(&["write", &format!("transit/keys/{key}/config"), "min_decryption_version=2"]);
    assert_eq!(env.get("ONE"), b"first");
    assert_eq!(env.get("BIG"), b"big value");
}

#[test]
fn rotate_to_moves_values_between_transit_and_local() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(true);
    let env = project(&bao, &[("vault", &key)]);
    env.write(
        "fnox.toml",
        &env.read("fnox.toml")
            .replace("[secrets]", "[providers.local]\ntype = \"local\"\n\n[secrets]"),
    );
    set_with(&env, "local", "FROM_LOCAL", b"was local");
    set_with(&env, "vault", "FROM_VAULT", b"was vault");
    env.fnox(&["rotate", "--to", "vault", "FROM_LOCAL", "--yes"]).success();
    env.fnox(&["rotate", "--to", "local", "FROM_VAULT", "--yes"]).success();
    assert!(env.stored("FROM_LOCAL").starts_with("vault:v1:"));
    assert!(!env.stored("FROM_VAULT").starts_with("vault:"));
    assert_eq!(env.get("FROM_LOCAL"), b"was local");
    assert_eq!(env.get("FROM_VAULT"), b"was vault");
}

#[test]
fn envelope_values_with_transit() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(true);
    let env = project(&bao, &[("vault", &key)]);
    for (name, size, forced) in
        [("SMALL", 10, true), ("AT_LIMIT", 32 * 1024, false), ("ABOVE", 32 * 1024 + 1, false)]
    {
        let value: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let mut cmd = env.cmd();
        cmd.arg("set").arg("--raw");
        if forced {
            cmd.arg("--envelope");
        }
        cmd.arg(name).write_stdin(value.clone()).assert().success();
        let is_envelope = !env.stored(name).starts_with("vault:");
        assert_eq!(is_envelope, forced || size > 32 * 1024, "{name}");
        assert_eq!(env.get(name), value, "{name}");
    }
    assert_eq!(versions(&env, &["SMALL", "ABOVE"]), ["FNXE v1", "FNXE v1"]);
    // An envelope moved to another name fails too.
    let small = env.stored("SMALL");
    let text = env.read("fnox.toml").replace(&small, "@").replace(&env.stored("ABOVE"), &small);
    env.write("fnox.toml", &text.replace("@", &env.stored("ABOVE")));
    let out = env.fnox(&["get", "ABOVE"]).code(1);
    assert!(
        stderr(&out).contains("it was moved from another secret, or tampered with"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_decrypt_only_policy_cannot_set() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(true);
    let mut env = project(&bao, &[("vault", &key)]);
    env.set("EXISTING", b"old").success();
    let token = bao.token_with_policy(&format!(
        "path \"transit/keys/{key}\" {{ capabilities = [\"read\"] }}\npath \"transit/decrypt/{key}\" {{ capabilities = [\"update\"] }}\n"
    ));
    env.extra_env = vec![("FNOX_VAULT_TOKEN".into(), token)];
    assert_eq!(env.get("EXISTING"), b"old");
    let before = env.read_bytes("fnox.toml");
    for name in ["EXISTING", "NEW"] {
        let out = env.set(name, b"new").code(1);
        assert_eq!(
            stderr(&out),
            format!(
                "error: cannot encrypt secret `{name}` with provider `vault` (for fnox.toml)\n  cause: permission denied: the Vault token's policy does not allow `transit/encrypt/{key}`\n  cause: HTTP 403: permission denied\n  hint: add `path \"transit/encrypt/{key}\" {{ capabilities = [\"update\"] }}` to the token's policy (docs/providers/vault-transit.md lists the minimal policy)\n"
            )
        );
        assert_eq!(env.read_bytes("fnox.toml"), before, "the file is unchanged");
    }
    // Without `read` on the key, the message names that path.
    let token = bao.token_with_policy(&format!(
        "path \"transit/decrypt/{key}\" {{ capabilities = [\"update\"] }}\n"
    ));
    env.extra_env = vec![("FNOX_VAULT_TOKEN".into(), token)];
    let out = env.fnox(&["get", "EXISTING"]).code(1);
    assert!(
        stderr(&out).contains(&format!(
            "hint: add `path \"transit/keys/{key}\" {{ capabilities = [\"read\"] }}` to the token's policy"
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_minimal_policy_of_the_docs_is_enough() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(true);
    let mut env = project(&bao, &[("vault", &key)]);
    let paths = ["keys", "encrypt", "decrypt", "rewrap"];
    let policy: String = paths
        .iter()
        .map(|p| {
            let cap = if *p == "keys" { "read" } else { "update" };
            format!("path \"transit/{p}/{key}\" {{ capabilities = [\"{cap}\"] }}\n")
        })
        .collect();
    env.extra_env = vec![("FNOX_VAULT_TOKEN".into(), bao.token_with_policy(&policy))];
    env.set("A", b"a").success();
    env.cmd().args(["set", "--envelope", "B"]).write_stdin(b"b".to_vec()).assert().success();
    bao.run(&["write", "-f", &format!("transit/keys/{key}/rotate")]);
    env.fnox(&["rotate", "--yes"]).success();
    assert_eq!(versions(&env, &["A", "B"]), ["v2", "FNXE v2"]);
    assert_eq!(env.get("A"), b"a");
    assert_eq!(env.get("B"), b"b");
}

#[test]
fn token_and_address_come_from_the_environment_and_the_token_file() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(true);
    let mut env = project(&bao, &[("vault", &key)]);
    env.write(
        "fnox.toml",
        &env.read("fnox.toml").replace(&format!("address = \"{}\"\n", bao.addr), ""),
    );
    for var in ["VAULT_ADDR", "BAO_ADDR"] {
        env.extra_env =
            vec![(var.into(), bao.addr.clone()), ("VAULT_TOKEN".into(), bao.token.clone())];
        env.set(var, var.as_bytes()).success();
        assert_eq!(env.get(var), var.as_bytes());
    }
    env.extra_env = vec![("BAO_ADDR".into(), bao.addr.clone())];
    let out = env.fnox(&["get", "VAULT_ADDR"]).code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        "error: cannot use provider `vault` (fnox.toml:1)\n  cause: no Vault token: FNOX_VAULT_TOKEN, VAULT_TOKEN and BAO_TOKEN are not set, and [TMP]/home/.vault-token does not exist\n  hint: log in with `bao login` or `vault login` (it writes ~/.vault-token), or set FNOX_VAULT_TOKEN or VAULT_TOKEN\n"
    );
    std::fs::write(env.home.join(".vault-token"), format!("{}\n", bao.token)).unwrap();
    assert_eq!(env.get("VAULT_ADDR"), b"VAULT_ADDR");

    env.extra_env =
        vec![("BAO_ADDR".into(), bao.addr.clone()), ("BAO_TOKEN".into(), "not-a-token".into())];
    let out = env.fnox(&["get", "VAULT_ADDR"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot decrypt secret `VAULT_ADDR` (provider `vault`, fnox.toml:6)\n  cause: the Vault server at {} rejected the token (invalid, expired or revoked)\n  cause: HTTP 403: permission denied\n  hint: log in again (`bao login` or `vault login`), or set FNOX_VAULT_TOKEN or VAULT_TOKEN to a valid token\n",
            bao.addr
        )
    );
    env.extra_env = vec![];
    let out = env.fnox(&["get", "VAULT_ADDR"]).code(1);
    assert!(stderr(&out).contains("cause: no Vault address: the provider has no `address`, and VAULT_ADDR and BAO_ADDR are not set"));
}

#[test]
fn missing_key_mount_namespace_and_server() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(true);
    let env = project(&bao, &[("vault", &key)]);
    env.set("A", b"a").success();
    let good = env.read("fnox.toml");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let down = format!("http://127.0.0.1:{port}");
    let cases = [
        (
            good.replace(&format!("key = \"{key}\""), "key = \"no-such-key\""),
            format!(
                "  cause: transit key `no-such-key` does not exist at `transit/keys/no-such-key` on {0}\n  cause: HTTP 404\n  hint: create it with `bao write -f transit/keys/no-such-key derived=true`, or fix the provider's `key` and `mount`\n",
                bao.addr
            ),
        ),
        (
            good.replace(
                "type = \"vault-transit\"\n",
                "type = \"vault-transit\"\nmount = \"nowhere\"\n",
            ),
            format!(
                "  cause: nothing answers at `nowhere/keys/{key}` on {0}\n  cause: HTTP 404: no handler for route \"nowhere/keys/{key}\". route entry not found.\n  hint: check the provider's `mount` and `namespace`; enable the engine with `bao secrets enable -path=MOUNT transit`\n",
                bao.addr
            ),
        ),
        (
            good.replace(&bao.addr, &down),
            format!(
                "  cause: cannot reach the Vault server at {down}\n  cause: Connection refused (os error 111)\n  hint: check the provider's `address` (or VAULT_ADDR / BAO_ADDR) and that the server is running\n"
            ),
        ),
    ];
    for (text, expected) in cases {
        env.write("fnox.toml", &text);
        let out = env.fnox(&["get", "A"]).code(1);
        let err = stderr(&out);
        let (first, rest) = err.split_once('\n').unwrap();
        assert!(first.starts_with("error: cannot decrypt secret `A` (provider `vault`"), "{err}");
        assert_eq!(rest, expected);
        let before = env.read_bytes("fnox.toml");
        env.set("B", b"b").code(1);
        assert_eq!(env.read_bytes("fnox.toml"), before);
    }
}

#[test]
fn namespaces_are_sent_as_a_header() {
    let Some(bao) = Bao::get() else { return };
    let ns = unique_name("ns");
    bao.run(&["namespace", "create", &ns]);
    bao.run(&["secrets", "enable", &format!("-namespace={ns}"), "transit"]);
    bao.run(&["write", &format!("-namespace={ns}"), "-f", "transit/keys/app", "derived=true"]);
    let env = project(&bao, &[("vault", "app")]);
    let with_ns = env
        .read("fnox.toml")
        .replace("key = \"app\"", &format!("key = \"app\"\nnamespace = \"{ns}\""));
    env.write("fnox.toml", &with_ns);
    env.set("IN_NS", b"namespaced").success();
    assert_eq!(env.get("IN_NS"), b"namespaced");
    let plaintext = bao.run(&[
        "write",
        &format!("-namespace={ns}"),
        "-field=plaintext",
        "transit/decrypt/app",
        &format!("ciphertext={}", env.stored("IN_NS")),
        &format!("context={}", B64.encode("IN_NS")),
    ]);
    assert_eq!(B64.decode(plaintext).unwrap(), b"namespaced");
    env.write(
        "fnox.toml",
        &env.read("fnox.toml")
            .replace(&format!("namespace = \"{ns}\""), "namespace = \"no-such-ns\""),
    );
    let out = env.fnox(&["get", "IN_NS"]).code(1);
    assert!(
        stderr(&out)
            .contains("cause: nothing answers at `transit/keys/app` in namespace `no-such-ns`"),
        "{}",
        stderr(&out)
    );
}

/// A private `bao server -dev -dev-tls`, killed on drop.
struct TlsServer {
    child: std::process::Child,
    addr: String,
    ca: PathBuf,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_tls_server(dir: &Path) -> TlsServer {
    for _ in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new("bao")
            .args(["server", "-dev", "-dev-tls", "-dev-no-store-token", "-dev-root-token-id=root"])
            .arg(format!("-dev-tls-cert-dir={}", dir.display()))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("bao server");
        let mut server = TlsServer {
            child,
            addr: format!("https://127.0.0.1:{port}"),
            ca: dir.join("vault-ca.pem"),
        };
        for _ in 0..100 {
            if server.child.try_wait().unwrap().is_some() {
                break;
            }
            let ready = server.ca.exists()
                && std::process::Command::new("bao")
                    .arg("status")
                    .env_clear()
                    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                    .env("BAO_ADDR", &server.addr)
                    .env("BAO_CACERT", &server.ca)
                    .output()
                    .is_ok_and(|o| o.status.success());
            if ready {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        drop(server);
    }
    panic!("bao server -dev -dev-tls did not start");
}

#[test]
fn tls_with_ca_cert_and_a_sealed_server() {
    let Some(_) = Bao::get() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = start_tls_server(dir.path());
    let tls_bao = |args: &[&str]| {
        let out = std::process::Command::new("bao")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("BAO_ADDR", &server.addr)
            .env("BAO_CACERT", &server.ca)
            .env("BAO_TOKEN", "root")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    tls_bao(&["secrets", "enable", "transit"]);
    tls_bao(&["write", "-f", "transit/keys/app", "derived=true"]);
    let mut env = TestEnv::new();
    env.extra_env = vec![("FNOX_VAULT_TOKEN".into(), "root".into())];
    let config = format!(
        "[providers.vault]\ntype = \"vault-transit\"\naddress = \"{}\"\nkey = \"app\"\nca_cert = \"{}\"\n\n[secrets]\n",
        server.addr,
        server.ca.display()
    );
    env.write("fnox.toml", &config);
    env.set("OVER_TLS", b"tls value").success();
    assert_eq!(env.get("OVER_TLS"), b"tls value");

    // Without the CA, the certificate is not trusted (verification is never off).
    let ca_line = format!("ca_cert = \"{}\"\n", server.ca.display());
    env.write("fnox.toml", &env.read("fnox.toml").replace(&ca_line, ""));
    let out = env.fnox(&["get", "OVER_TLS"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot decrypt secret `OVER_TLS` (provider `vault`, fnox.toml:7)\n  cause: TLS connection to {} failed\n  cause: invalid peer certificate: UnknownIssuer\n  hint: set `ca_cert` to the PEM file of the CA that signed the server's certificate, and check the host name in `address`; a plain-HTTP server needs an http:// address\n",
            server.addr
        )
    );
    // VAULT_CACERT is the fallback for `ca_cert`.
    env.extra_env.push(("VAULT_CACERT".into(), server.ca.display().to_string()));
    assert_eq!(env.get("OVER_TLS"), b"tls value");
    // With neither, the system's roots decide, read at the first handshake:
    // a store holding the test CA (SSL_CERT_FILE, which the system's loader
    // reads instead of /etc/ssl) trusts the server.
    let with_store = |file: &Path| {
        let mut cmd = env.cmd();
        cmd.env_remove("VAULT_CACERT").env("SSL_CERT_FILE", file).env("SSL_CERT_DIR", file);
        cmd.args(["get", "-n", "OVER_TLS"]);
        cmd.output().unwrap()
    };
    let out = with_store(&server.ca);
    assert_eq!(out.stdout, b"tls value", "{}", String::from_utf8_lossy(&out.stderr));
    // A store with no certificate fails the handshake, saying so.
    let out = with_store(&dir.path().join("no-such-store.pem"));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: cannot decrypt secret `OVER_TLS` (provider `vault`, fnox.toml:7)\n  cause: TLS connection to {} failed\n  cause: unexpected error: No CA certificates were loaded from the system\n  hint: set `ca_cert` to the PEM file of the CA that signed the server's certificate, and check the host name in `address`; a plain-HTTP server needs an http:// address\n",
            server.addr
        )
    );

    tls_bao(&["operator", "seal"]);
    let out = env.fnox(&["get", "OVER_TLS"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot decrypt secret `OVER_TLS` (provider `vault`, fnox.toml:7)\n  cause: the Vault server at {} is sealed or not ready\n  cause: HTTP 503: Vault is sealed\n  hint: unseal it (`bao operator unseal`), or check `bao status`\n",
            server.addr
        )
    );
}

/// The system's certificate store is read at the first TLS handshake, not
/// when the provider is built: over http:// (and for values the agent
/// serves) a store that cannot be read does not matter.
#[test]
fn the_system_certificate_store_is_not_read_without_a_tls_handshake() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(true);
    let mut env = project(&bao, &[("vault", &key)]);
    let missing = env.tmp.path().join("no-such-store.pem").display().to_string();
    env.extra_env.push(("SSL_CERT_FILE".into(), missing.clone()));
    env.extra_env.push(("SSL_CERT_DIR".into(), missing));
    env.set("A", b"plain http").success();
    assert_eq!(env.get("A"), b"plain http");
}

#[test]
fn a_plain_http_server_behind_an_https_address_is_a_tls_error() {
    let Some(bao) = Bao::get() else { return };
    let key = bao.key(true);
    let env = project(&bao, &[("vault", &key)]);
    env.set("A", b"a").success();
    let https = bao.addr.replace("http://", "https://");
    env.write("fnox.toml", &env.read("fnox.toml").replace(&bao.addr, &https));
    let out = env.fnox(&["get", "A"]).code(1);
    assert!(
        stderr(&out).contains(&format!("  cause: TLS connection to {https} failed\n")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_transit_envelopes_wrapped_key_is_not_a_value_and_legacy_envelopes_upgrade() {
    let Some(bao) = Bao::get() else { return };
    let env = project(&bao, &[("derived", &bao.key(true)), ("plain", &bao.key(false))]);
    for provider in ["derived", "plain"] {
        let err = crate::data_keys::wrapped_key_as_value_fails(&env, provider, true);
        let name = format!("ENV_{}", provider.to_uppercase());
        assert!(err.starts_with(&format!("error: cannot decrypt secret `{name}`")), "{err}");
        crate::data_keys::legacy_envelope_reads_and_rotate_upgrades_it(&env, provider, true);
    }
}
