//! The `aws-kms` provider and the envelope format, against a real
//! KMS-compatible server (moto) on loopback.

use base64::Engine as _;

use crate::common::{
    TestEnv, aws, aws_env, create_kms_key, kms_endpoint, kms_project, sh, stderr, stdout,
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn put_stored(env: &TestEnv, name: &str, bytes: &[u8]) {
    let old = env.stored(name);
    env.write("fnox.toml", &env.read("fnox.toml").replacen(&old, &B64.encode(bytes), 1));
}

#[test]
fn round_trip_by_key_id_arn_and_alias() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (id, arn, alias) = create_kms_key(&endpoint);
    for key in [&id, &arn, &alias] {
        let env = kms_project(&endpoint, key);
        let value = format!("secret under {key}\nwith ✓ and = and \"quotes\"");
        env.set("DB_URL", value.as_bytes()).success();
        assert_eq!(env.get("DB_URL"), value.as_bytes());
        let out = env.fnox(&["exec", "--", "sh", "-c", "printf %s \"$DB_URL\""]).success();
        assert_eq!(stdout(&out), value);
        assert!(!env.stored_bytes("DB_URL").starts_with(b"FNXE"));
    }
}

#[test]
fn aws_cli_decrypts_a_fnox_value_with_the_name_as_context() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    env.set("API_TOKEN", b"tok-123").success();
    std::fs::write(env.project.join("blob"), env.stored_bytes("API_TOKEN")).unwrap();
    let plain_b64 = aws(
        &endpoint,
        &[
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &format!("fileb://{}", env.project.join("blob").display()),
            "--encryption-context",
            "fnox:secret=API_TOKEN",
            "--query",
            "Plaintext",
            "--output",
            "text",
        ],
    );
    assert_eq!(B64.decode(plain_b64).unwrap(), b"tok-123");
}

#[test]
fn a_value_made_by_aws_kms_encrypt_decrypts_with_a_note() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    env.write("plain", "legacy value");
    let blob = aws(
        &endpoint,
        &[
            "kms",
            "encrypt",
            "--key-id",
            &alias,
            "--plaintext",
            &format!("fileb://{}", env.project.join("plain").display()),
            "--query",
            "CiphertextBlob",
            "--output",
            "text",
        ],
    );
    env.write(
        "fnox.toml",
        &(env.read("fnox.toml")
            + &format!("LEGACY = {{ provider = \"kms\", value = \"{blob}\" }}\n")),
    );
    let out = env.fnox(&["get", "LEGACY"]).success();
    assert_eq!(stdout(&out), "legacy value\n");
    assert_eq!(
        stderr(&out),
        "note: secret `LEGACY` is not bound to its name (it was encrypted without EncryptionContext); `fnox rotate` will bind it\n"
    );
    env.fnox(&["-q", "get", "LEGACY"]).success().stderr("");
}

#[test]
fn swapped_values_fail_with_wrong_context() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    env.set("A", b"value of A").success();
    env.set("B", b"value of B").success();
    env.swap_stored("A", "B");
    for (name, line) in [("A", 7), ("B", 8)] {
        let out = env.fnox(&["get", name]).code(1);
        assert_eq!(
            stderr(&out),
            format!(
                "error: cannot decrypt secret `{name}` (provider `kms`, fnox.toml:{line})\n  cause: KMS rejected the value: wrong context (it belongs to another secret name) or tampered\n  cause: InvalidCiphertextException\n  hint: values cannot be copied between secret names; set the value again with `fnox set`\n"
            )
        );
        assert!(out.get_output().stdout.is_empty());
    }
}

#[test]
fn sizes_around_the_kms_limit_use_the_envelope_above_it() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    for (size, envelope) in [(4095, false), (4096, false), (4097, true), (10 << 20, true)] {
        let value: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let name = format!("S{size}");
        env.set(&name, &value).success();
        assert_eq!(env.stored_bytes(&name).starts_with(b"FNXE\x02"), envelope, "{size} bytes");
        assert_eq!(env.get(&name), value, "{size} bytes");
    }
}

#[test]
fn envelope_with_local_and_age() {
    let env = TestEnv::with_local();
    env.fnox(&["init", "--provider", "age"]).success();
    for provider in ["local", "age"] {
        let name = format!("BIG_{}", provider.to_uppercase());
        let value = vec![b'z'; 100_000];
        env.cmd()
            .args(["set", "--raw", "--envelope", "--provider", provider, &name])
            .write_stdin(value.clone())
            .assert()
            .success();
        let bytes = env.stored_bytes(&name);
        assert!(bytes.starts_with(b"FNXE\x02"), "{provider}");
        assert_eq!(env.get(&name), value);
    }
    // `envelope = true` on the provider does it for every value.
    let text =
        env.read("fnox.toml").replace("type = \"local\"\n", "type = \"local\"\nenvelope = true\n");
    env.write("fnox.toml", &text);
    env.cmd().args(["set", "--provider", "local", "SMALL"]).write_stdin("tiny").assert().success();
    assert!(env.stored_bytes("SMALL").starts_with(b"FNXE\x02"));
    assert_eq!(env.get("SMALL"), b"tiny");
}

/// Asserts that `get NAME` fails cleanly: exit 1, no stdout, an error.
fn fails_cleanly(env: &TestEnv, name: &str) -> String {
    let out = env.fnox(&["get", name]).code(1);
    assert!(out.get_output().stdout.is_empty());
    let err = stderr(&out);
    assert!(err.starts_with(&format!("error: cannot decrypt secret `{name}`")), "{err}");
    err
}

#[test]
fn every_flipped_byte_of_a_local_envelope_fails() {
    let env = TestEnv::with_local();
    env.cmd().args(["set", "--envelope", "E"]).write_stdin("payload").assert().success();
    let good = env.stored_bytes("E");
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        put_stored(&env, "E", &bad);
        fails_cleanly(&env, "E");
        put_stored(&env, "E", &good);
    }
    assert_eq!(env.get("E"), b"payload");
}

#[test]
fn flipped_bytes_of_a_kms_envelope_fail_in_every_part() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    env.cmd().args(["set", "--envelope", "E"]).write_stdin("s3cr3t-value").assert().success();
    let good = env.stored_bytes("E");
    let wrapped = u32::from_be_bytes(good[5..9].try_into().unwrap()) as usize;
    let parts = [
        ("magic", 0),
        ("version", 4),
        ("length", 8),
        ("wrapped key start", 9),
        ("wrapped key end", 9 + wrapped - 1),
        ("nonce", 9 + wrapped + 3),
        ("ciphertext", 9 + wrapped + 12),
        ("tag", good.len() - 1),
    ];
    for (part, i) in parts {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        put_stored(&env, "E", &bad);
        let err = fails_cleanly(&env, "E");
        assert!(!err.contains("s3cr3t-value"), "{part}: {err}");
        put_stored(&env, "E", &good);
    }
    assert_eq!(env.get("E"), b"s3cr3t-value");
}

#[test]
fn a_4_gib_wrapped_key_length_is_rejected() {
    let env = TestEnv::with_local();
    env.cmd().args(["set", "--envelope", "E"]).write_stdin("payload").assert().success();
    let mut bad = env.stored_bytes("E");
    bad[5..9].copy_from_slice(&u32::MAX.to_be_bytes());
    put_stored(&env, "E", &bad);
    assert_eq!(
        fails_cleanly(&env, "E"),
        "error: cannot decrypt secret `E` (provider `local`, fnox.toml:11)\n  cause: the envelope's wrapped key claims 4294967295 bytes (at most 65536 are allowed)\n  hint: the value in the file is damaged or was moved: set the value again with `fnox set E`\n"
    );
}

#[test]
fn unknown_and_deleted_aliases_are_not_found() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (id, _, _) = create_kms_key(&endpoint);
    let deleted = format!("alias/fnox-deleted-{}", &id[..8]);
    aws(&endpoint, &["kms", "create-alias", "--alias-name", &deleted, "--target-key-id", &id]);
    aws(&endpoint, &["kms", "delete-alias", "--alias-name", &deleted]);
    for alias in ["alias/fnox-never-created", deleted.as_str()] {
        let env = kms_project(&endpoint, alias);
        let before = env.read("fnox.toml");
        let out = env.cmd().args(["set", "X"]).write_stdin("v").assert().code(1);
        assert_eq!(
            stderr(&out),
            format!(
                "error: cannot encrypt secret `X` with provider `kms` (for fnox.toml)\n  cause: KMS key `{alias}` was not found\n  cause: NotFoundException: Alias arn:aws:kms:us-east-1:123456789012:{alias} is not found.\n  hint: check `key_id` and `region` of the provider; an alias must be written `alias/NAME`\n"
            )
        );
        assert_eq!(env.read("fnox.toml"), before);
    }
}

#[test]
fn missing_region_credentials_and_endpoint_each_have_their_own_message() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    env.set("A", b"v").success();
    let without = |drop: &[&str]| {
        let mut e = TestEnv::new();
        e.extra_env = aws_env().into_iter().filter(|(k, _)| !drop.contains(&k.as_str())).collect();
        e.write("fnox.toml", &env.read("fnox.toml"));
        e
    };
    let e = without(&["AWS_REGION", "AWS_DEFAULT_REGION"]);
    assert_eq!(
        stderr(&e.fnox(&["get", "A"]).code(1)),
        "error: cannot use provider `kms` (fnox.toml:1)\n  cause: no AWS region: the provider has no `region` and none is configured (AWS_REGION, profile)\n  hint: set `region = \"...\"` in the provider, or AWS_REGION\n"
    );
    let e = without(&["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    let err = stderr(&e.fnox(&["get", "A"]).code(1));
    assert!(
        err.starts_with("error: cannot decrypt secret `A` (provider `kms`, fnox.toml:7)\n  cause: no AWS credentials found\n  cause: no credentials found in chain."),
        "{err}"
    );
    assert!(err.ends_with("  hint: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws sso login`, or use an instance/task role\n"), "{err}");
    // An endpoint with nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut e = without(&[]);
    e.extra_env.push(("AWS_MAX_ATTEMPTS".into(), "1".into()));
    e.write(
        "fnox.toml",
        &env.read("fnox.toml").replace(&endpoint, &format!("http://127.0.0.1:{port}")),
    );
    assert_eq!(
        stderr(&e.fnox(&["get", "A"]).code(1)),
        format!(
            "error: cannot decrypt secret `A` (provider `kms`, fnox.toml:7)\n  cause: cannot reach the KMS endpoint http://127.0.0.1:{port}\n  cause: Connection refused (os error 111)\n  hint: check the provider's `endpoint` (or AWS_ENDPOINT_URL_KMS) and the network\n"
        )
    );
}

#[test]
fn context_pairs_are_part_of_the_binding() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    let text = env
        .read("fnox.toml")
        .replace("\n\n[secrets]", "\ncontext = { app = \"billing\" }\n\n[secrets]");
    env.write("fnox.toml", &text);
    env.set("A", b"ctx value").success();
    assert_eq!(env.get("A"), b"ctx value");
    std::fs::write(env.project.join("blob"), env.stored_bytes("A")).unwrap();
    let script = format!(
        "aws --endpoint-url {endpoint} kms decrypt --ciphertext-blob fileb://blob --encryption-context fnox:secret=A,app=billing --query Plaintext --output text | base64 -d"
    );
    let mut cmd_env = String::new();
    for (k, v) in aws_env() {
        cmd_env += &format!("{k}={v} ");
    }
    assert_eq!(sh(&env.project, &format!("export {cmd_env}; {script}")), "ctx value");
    // The same value under a provider without the pair is rejected.
    env.write("fnox.toml", &env.read("fnox.toml").replace("context = { app = \"billing\" }\n", ""));
    fails_cleanly(&env, "A");
}

#[test]
fn a_kms_envelopes_wrapped_key_is_not_a_value_and_legacy_envelopes_upgrade() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    let err = crate::data_keys::wrapped_key_as_value_fails(&env, "kms", false);
    assert!(err.starts_with("error: cannot decrypt secret `ENV_KMS` (provider `kms`"), "{err}");
    assert!(err.contains("wrong context (it belongs to another secret name) or tampered"), "{err}");
    crate::data_keys::legacy_envelope_reads_and_rotate_upgrades_it(&env, "kms", false);
    // The data key's context is its own entry: the aws CLI unwraps it with
    // `fnox:data-key=NAME`, not with `fnox:secret=NAME`.
    env.cmd().args(["set", "--envelope", "BIG"]).write_stdin("x").assert().success();
    std::fs::write(env.project.join("blob"), crate::data_keys::wrapped_key(&env, "BIG")).unwrap();
    let blob = format!("fileb://{}", env.project.join("blob").display());
    let decrypt = |context: &str| {
        std::process::Command::new("aws")
            .args(["--endpoint-url", &endpoint, "kms", "decrypt", "--ciphertext-blob", &blob])
            .args(["--encryption-context", context, "--query", "Plaintext", "--output", "text"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(aws_env())
            .output()
            .unwrap()
    };
    let key = decrypt("fnox:data-key=BIG");
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let key = B64.decode(String::from_utf8(key.stdout).unwrap().trim()).unwrap();
    assert_eq!(key.len(), 32, "the data key itself, made by GenerateDataKey");
    assert!(!decrypt("fnox:secret=BIG").status.success());
}

#[test]
fn doctor_shows_the_keys_creation_date_and_automatic_rotation() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (id, arn, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    env.set("A", b"value").success();
    let today = String::from_utf8(
        std::process::Command::new("date").args(["-u", "+%Y-%m-%d"]).output().unwrap().stdout,
    )
    .unwrap();
    let line = |rotation: &str| {
        format!(
            "    KMS key {id} ({arn}): created {}, enabled; automatic rotation {rotation}\n",
            today.trim()
        )
    };
    let out = crate::common::stdout(&env.fnox(&["doctor"]).success());
    assert!(out.contains(&line("off")), "{out}");
    crate::common::aws(&endpoint, &["kms", "enable-key-rotation", "--key-id", &id]);
    let out = crate::common::stdout(&env.fnox(&["doctor"]).success());
    assert!(out.contains(&line("on")), "{out}");
}
