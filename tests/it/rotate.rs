//! `fnox rotate`: every provider end to end (local `--new-key` and
//! `--retire-old`, age recipients, aws-kms key change and legacy upgrade,
//! `--to`), envelope payloads, all-or-nothing on failure and on SIGKILL,
//! `--dry-run`, comments kept, confirmation, and several files at once.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use base64::Engine as _;

use crate::common::{
    TestEnv, aws, aws_env, create_kms_key, kms_endpoint, kms_project, require_tool, sh, stderr,
    stdout,
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

// ---------------------------------------------------------------------------
// helpers

/// Every stored `value` in a config file's text, keyed by where it lives:
/// `NAME` for `[secrets]`, `PROFILE/NAME` for `[profiles.PROFILE.secrets]`.
fn values(text: &str) -> BTreeMap<String, String> {
    let doc: toml_edit::DocumentMut =
        text.parse().unwrap_or_else(|e| panic!("the file does not parse: {e}\n{text}"));
    let mut out = BTreeMap::new();
    let mut collect = |prefix: &str, table: Option<&dyn toml_edit::TableLike>| {
        for (name, item) in table.into_iter().flat_map(|t| t.iter()) {
            if let Some(v) = item.get("value").and_then(|v| v.as_str()) {
                out.insert(format!("{prefix}{name}"), v.to_string());
            }
        }
    };
    collect("", doc.get("secrets").and_then(|s| s.as_table_like()));
    if let Some(profiles) = doc.get("profiles").and_then(|p| p.as_table_like()) {
        for (profile, item) in profiles.iter() {
            collect(&format!("{profile}/"), item.get("secrets").and_then(|s| s.as_table_like()));
        }
    }
    out
}

/// The stored value of `[secrets] NAME` in the project's fnox.toml.
fn stored(env: &TestEnv, name: &str) -> String {
    values(&env.read("fnox.toml")).remove(name).unwrap_or_else(|| panic!("no value for {name}"))
}

fn stored_bytes(env: &TestEnv, name: &str) -> Vec<u8> {
    B64.decode(stored(env, name)).unwrap()
}

/// An envelope's wrapped key and its payload (nonce ‖ ciphertext ‖ tag).
fn split_envelope(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    assert!(bytes.starts_with(b"FNXE\x02"), "not an envelope");
    let len = u32::from_be_bytes(bytes[5..9].try_into().unwrap()) as usize;
    (bytes[9..9 + len].to_vec(), bytes[9 + len..].to_vec())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The local key id of a stored local value: bytes 1..5 of the direct value,
/// or of an envelope's wrapped key.
fn local_key_id(stored: &str) -> String {
    let bytes = B64.decode(stored).unwrap();
    if bytes.starts_with(b"FNXE") {
        return hex(&split_envelope(&bytes).0[1..5]);
    }
    assert_eq!(bytes[0], 1, "not a local value");
    hex(&bytes[1..5])
}

/// The keyring: the ids of its keys in file order, and the primary's id.
/// The keys of the keyring that are not retired, and the primary one.
fn keyring(env: &TestEnv) -> (Vec<String>, String) {
    let text = std::fs::read_to_string(env.config_dir.join("local.key")).unwrap();
    let mut ids = Vec::new();
    let mut primary = String::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(2) == Some(&"retired") {
            continue;
        }
        ids.push(fields[0].to_string());
        if fields.get(2) == Some(&"primary") {
            primary = fields[0].to_string();
        }
    }
    (ids, primary)
}

/// The retired keys of the keyring (kept to decrypt), sorted.
fn retired_keys(env: &TestEnv) -> Vec<String> {
    let text = std::fs::read_to_string(env.config_dir.join("local.key")).unwrap();
    let mut ids: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.get(2) == Some(&"retired"))
        .map(|f| f[0].to_string())
        .collect();
    ids.sort();
    ids
}

/// The bytes of every file under `dir` (recursively), by relative path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

/// The whole world's files: project, config dir (keyring, global file).
fn world(env: &TestEnv) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut all = snapshot(&env.project);
    for (p, b) in snapshot(&env.config_dir) {
        all.insert(Path::new("[config]").join(p), b);
    }
    all
}

/// `fnox ARGS` asserting success; returns (stdout, stderr) with the temp
/// dir redacted and the timing of the summary replaced by `T`.
fn ok(env: &TestEnv, args: &[&str]) -> (String, String) {
    let out = env.fnox(args).success();
    (stdout(&out), redact_time(&env.redact(&stderr(&out))))
}

/// `fnox ARGS` asserting exit 1 and nothing on stdout; returns stderr.
fn fails(env: &TestEnv, args: &[&str]) -> String {
    let out = env.fnox(args).code(1);
    assert_eq!(stdout(&out), "", "fnox {args:?}");
    env.redact(&stderr(&out))
}

/// Replaces the seconds in `... in 0.03 s` with `T`.
fn redact_time(text: &str) -> String {
    text.lines()
        .map(|l| match (l.starts_with("rotated "), l.rfind(" in ")) {
            (true, Some(i)) if l.ends_with(" s") => format!("{} in T s", &l[..i]),
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect()
}

/// A local value for `name`, sealed under the keyring's primary key the
/// way the local provider does (the documented layout), so a test can make
/// hundreds of values without hundreds of `fnox set` processes.
fn seal_local(env: &TestEnv, name: &str, plaintext: &[u8]) -> String {
    let text = std::fs::read_to_string(env.config_dir.join("local.key")).unwrap();
    let line = text.lines().find(|l| l.contains(" primary")).expect("a primary key");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let id: Vec<u8> =
        (0..4).map(|i| u8::from_str_radix(&fields[0][2 * i..2 * i + 2], 16).unwrap()).collect();
    let key = B64.decode(fields[1]).unwrap();
    let header = [&[1u8][..], &id].concat();
    let nonce: [u8; 12] = rand::random();
    let aad = [&header[..], name.as_bytes()].concat();
    let sealed = Aes256Gcm::new_from_slice(&key)
        .unwrap()
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .unwrap();
    B64.encode([&header[..], &nonce, &sealed].concat())
}

/// A project with the local provider and `n` secrets `S000..`, each the
/// plaintext `plain(i)`.
fn many_local(n: usize) -> TestEnv {
    let env = TestEnv::with_local();
    let mut text = env.read("fnox.toml");
    for i in 0..n {
        let name = format!("S{i:03}");
        let value = seal_local(&env, &name, plain(i).as_bytes());
        text.push_str(&format!("{name} = {{ provider = \"local\", value = \"{value}\" }}\n"));
    }
    env.write("fnox.toml", &text);
    env
}

fn plain(i: usize) -> String {
    format!("value {i} ✓")
}

/// Every secret of the project, resolved at once by `fnox exec`: NAME -> value.
fn resolve_all(env: &TestEnv) -> BTreeMap<String, String> {
    let out = env.fnox(&["exec", "--", "env"]).success();
    stdout(&out)
        .lines()
        .filter(|l| l.starts_with('S') && l.as_bytes().get(1).is_some_and(u8::is_ascii_digit))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

// ---------------------------------------------------------------------------
// local

#[test]
fn local_new_key_then_retire_old() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    env.set("B", b"beta\n").success();
    env.cmd().args(["set", "--envelope", "E"]).write_stdin("envelope value").assert().success();
    env.cmd().args(["-P", "staging", "set", "C"]).write_stdin("gamma").assert().success();
    let (old_ids, k1) = keyring(&env);
    assert_eq!(old_ids, std::slice::from_ref(&k1));
    for name in ["A", "B", "E", "staging/C"] {
        assert_eq!(local_key_id(&values(&env.read("fnox.toml"))[name]), k1, "{name}");
    }

    // --new-key: the active (default) profile only.
    let (out, err) = ok(&env, &["rotate", "--new-key", "--yes"]);
    assert_eq!(out, "");
    assert_eq!(err, "rotated 3 of 3 secrets in 1 file in T s\n  local: 1 re-wrap, 2 re-encrypt\n");
    let (ids, k2) = keyring(&env);
    assert_ne!(k2, k1);
    assert_eq!(ids, [k1.clone(), k2.clone()]);
    let now = values(&env.read("fnox.toml"));
    for name in ["A", "B", "E"] {
        assert_eq!(local_key_id(&now[name]), k2, "{name}");
    }
    assert_eq!(local_key_id(&now["staging/C"]), k1);
    assert_eq!(env.get("A"), b"alpha");
    assert_eq!(env.get("B"), b"beta\n");
    assert_eq!(env.get("E"), b"envelope value");
    let c = env.fnox(&["-P", "staging", "get", "-n", "C"]).success();
    assert_eq!(stdout(&c), "gamma");

    // Retiring while rotating only some names: C (another profile) still
    // needs the old key, so it is refused and nothing changes.
    let before = world(&env);
    assert_eq!(
        fails(&env, &["rotate", "A", "B", "E", "--retire-old", "--yes"]),
        format!(
            "error: cannot retire old local keys of [TMP]/config/local.key: 1 value still uses them: C (fnox.toml:16, key {k1}); run `fnox rotate --provider local --all-profiles` first\n"
        )
    );
    assert_eq!(world(&env), before);

    // Without names, --retire-old takes every profile: C moves to the new
    // key in the same run, then the old key goes.
    let (_, err) = ok(&env, &["rotate", "--retire-old", "--yes"]);
    assert_eq!(
        err,
        format!(
            "retired local keys {k1} in [TMP]/config/local.key: they no longer encrypt and still decrypt; `fnox keys delete-retired` deletes them\nrotated 1 of 4 secrets in 1 file in T s\n  local: 3 unchanged, 1 re-encrypt\n"
        )
    );
    // Issue 10: the retired key is kept (marked), no longer primary.
    assert_eq!(keyring(&env), (vec![k2.clone()], k2.clone()));
    assert_eq!(retired_keys(&env), std::slice::from_ref(&k1));
    for name in ["A", "B", "E", "staging/C"] {
        assert_eq!(local_key_id(&values(&env.read("fnox.toml"))[name]), k2, "{name}");
    }
    assert_eq!(env.get("A"), b"alpha");
    assert_eq!(env.get("B"), b"beta\n");
    assert_eq!(env.get("E"), b"envelope value");
    let c = env.fnox(&["-P", "staging", "get", "-n", "C"]).success();
    assert_eq!(stdout(&c), "gamma");
}

/// `--new-key --retire-old` in one run: the keys retired are the ones
/// before the new key (in whatever order the keyring lists them), and a
/// value left out of the rotation keeps them all.
#[test]
fn new_key_and_retire_old_in_one_run() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    env.set("B", b"beta").success();
    for _ in 0..3 {
        ok(&env, &["rotate", "--new-key", "--yes"]);
    }
    let (ids, primary) = keyring(&env);
    assert_eq!(ids.len(), 4);

    // Only A rotates: B still uses the current primary, which becomes old.
    let before = world(&env);
    assert_eq!(
        fails(&env, &["rotate", "A", "--new-key", "--retire-old", "--yes"]),
        format!(
            "error: cannot retire old local keys of [TMP]/config/local.key: 1 value still uses them: B (fnox.toml:12, key {primary}); run `fnox rotate --provider local --all-profiles` first\n"
        )
    );
    assert_eq!(world(&env), before);

    let (_, err) = ok(&env, &["rotate", "--new-key", "--retire-old", "--yes"]);
    let mut retired = ids.clone();
    retired.sort();
    assert_eq!(
        err,
        format!(
            "retired local keys {} in [TMP]/config/local.key: they no longer encrypt and still decrypt; `fnox keys delete-retired` deletes them\nrotated 2 of 2 secrets in 1 file in T s\n  local: 2 re-encrypt\n",
            retired.join(", ")
        )
    );
    assert_eq!(retired_keys(&env), retired);
    let (now, new_primary) = keyring(&env);
    assert_eq!(now, std::slice::from_ref(&new_primary));
    assert!(!ids.contains(&new_primary));
    assert_eq!(local_key_id(&stored(&env, "A")), new_primary);
    assert_eq!(env.get("A"), b"alpha");
    assert_eq!(env.get("B"), b"beta");
}

#[test]
fn envelope_payload_changes_only_with_new_data_key() {
    let env = TestEnv::with_local();
    let big = vec![b'x'; 50_000];
    env.cmd().args(["set", "--raw", "--envelope", "E"]).write_stdin(big.clone()).assert().success();
    let (wrapped0, payload0) = split_envelope(&stored_bytes(&env, "E"));

    // --new-key re-wraps the data key: the payload stays byte for byte.
    let (out, _) = ok(&env, &["rotate", "--new-key", "--dry-run"]);
    assert_eq!(
        out,
        "E  fnox.toml:11  re-wrap     local\ndry run: 1 of 1 secrets would change; nothing was written\n"
    );
    ok(&env, &["rotate", "--new-key", "--yes"]);
    let (wrapped1, payload1) = split_envelope(&stored_bytes(&env, "E"));
    assert_ne!(wrapped1, wrapped0);
    assert_eq!(hex(&wrapped1[1..5]), keyring(&env).1);
    assert_eq!(payload1, payload0);
    assert_eq!(env.get("E"), big);

    // --new-data-key: a fresh data key, so a new payload.
    let (out, _) = ok(&env, &["rotate", "--new-data-key", "--dry-run"]);
    assert_eq!(
        out,
        "E  fnox.toml:11  re-encrypt  local\ndry run: 1 of 1 secrets would change; nothing was written\n"
    );
    ok(&env, &["rotate", "--new-data-key", "--yes"]);
    let (wrapped2, payload2) = split_envelope(&stored_bytes(&env, "E"));
    assert_ne!(payload2, payload1);
    assert_ne!(wrapped2, wrapped1);
    assert_eq!(payload2.len(), payload1.len());
    assert_eq!(env.get("E"), big);
}

// ---------------------------------------------------------------------------
// age

/// A new age identity file under the test's temp dir; returns (path, recipient).
fn age_identity(env: &TestEnv, who: &str) -> (PathBuf, String) {
    let path = env.tmp.path().join(format!("{who}.txt"));
    sh(env.tmp.path(), &format!("age-keygen -o '{}' 2>/dev/null", path.display()));
    let recipient = sh(env.tmp.path(), &format!("age-keygen -y '{}'", path.display()));
    (path, recipient.trim().to_string())
}

/// `age -d -i IDENTITY` of `file` with the age CLI: the plaintext, or
/// `None` when it cannot decrypt.
fn age_cli_decrypt(identity: &Path, file: &[u8]) -> Option<Vec<u8>> {
    let mut child = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(identity)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(file).unwrap();
    let out = child.wait_with_output().unwrap();
    out.status.success().then_some(out.stdout)
}

/// The age file inside a stored age value: the value itself, or an
/// envelope's wrapped data key.
fn age_file_of(bytes: &[u8]) -> Vec<u8> {
    if bytes.starts_with(b"FNXE") { split_envelope(bytes).0 } else { bytes.to_vec() }
}

#[test]
fn age_removed_recipient_can_read_nothing_after_rotate() {
    if !require_tool("age") || !require_tool("age-keygen") {
        return;
    }
    let mut env = TestEnv::new();
    let (alice, alice_r) = age_identity(&env, "alice");
    let (bob, bob_r) = age_identity(&env, "bob");
    env.extra_env.push(("FNOX_AGE_KEY_FILE".into(), alice.display().to_string()));
    env.write(
        "fnox.toml",
        &format!(
            "[providers.age]\ntype = \"age\"\nrecipients = [\n  \"{alice_r}\", # alice\n  \"{bob_r}\", # bob\n]\n\n[secrets]\n"
        ),
    );
    let secrets: [(&str, &[u8]); 3] =
        [("A", b"alpha"), ("B", b"multi\nline\n"), ("E", b"an envelope value")];
    for (name, value) in secrets {
        let flags: &[&str] = if name == "E" { &["--envelope"] } else { &[] };
        env.cmd()
            .args(["set", "--raw"])
            .args(flags)
            .arg(name)
            .write_stdin(value)
            .assert()
            .success();
    }
    let as_bob =
        |name: &str| env.cmd().env("FNOX_AGE_KEY_FILE", &bob).args(["get", "-n", name]).assert();
    for (name, value) in secrets {
        assert_eq!(env.get(name), value);
        assert_eq!(as_bob(name).success().get_output().stdout, value);
    }
    let (_, payload_before) = split_envelope(&stored_bytes(&env, "E"));

    // Bob leaves: drop his recipient and rotate.
    env.write("fnox.toml", &env.read("fnox.toml").replace(&format!("  \"{bob_r}\", # bob\n"), ""));
    let (out, _) = ok(&env, &["rotate", "--dry-run"]);
    assert_eq!(
        out,
        "A  fnox.toml:8   re-encrypt  age\nB  fnox.toml:9   re-encrypt  age\nE  fnox.toml:10  re-wrap     age\ndry run: 3 of 3 secrets would change; nothing was written\n"
    );
    let (_, err) = ok(&env, &["rotate", "--yes"]);
    assert_eq!(err, "rotated 3 of 3 secrets in 1 file in T s\n  age: 1 re-wrap, 2 re-encrypt\n");

    let bob_shown = env.redact(&bob.display().to_string());
    for (i, (name, value)) in secrets.into_iter().enumerate() {
        assert_eq!(env.get(name), value);
        assert_eq!(
            env.redact(&stderr(&as_bob(name).code(1))),
            format!(
                "error: cannot decrypt secret `{name}` (provider `age`, fnox.toml:{})\n  cause: none of the age identities from {bob_shown} can decrypt it (it was encrypted to other recipients)\n  hint: ask a teammate whose key can read it to add your recipient and run `fnox rotate`, or point FNOX_AGE_KEY_FILE at the right identity\n",
                8 + i
            )
        );
        let file = age_file_of(&stored_bytes(&env, name));
        assert_eq!(age_cli_decrypt(&bob, &file), None, "{name}");
        let by_alice = age_cli_decrypt(&alice, &file).unwrap();
        if name == "E" {
            // The envelope's data key, after the data-key marker.
            assert_eq!(by_alice.len(), 14 + 32, "the envelope's data key");
            assert!(by_alice.starts_with(b"fnox:data-key\0"));
        } else {
            assert_eq!(by_alice, value);
        }
    }
    // The envelope's payload did not change (same data key, re-wrapped).
    assert_eq!(split_envelope(&stored_bytes(&env, "E")).1, payload_before);
}

#[test]
fn move_local_to_age() {
    if !require_tool("age") {
        return;
    }
    let env = TestEnv::with_local();
    env.fnox(&["init", "--provider", "age"]).success();
    env.cmd().args(["set", "--provider", "local", "A"]).write_stdin("alpha").assert().success();
    env.cmd().args(["set", "--provider", "local", "B"]).write_stdin("beta").assert().success();
    let (out, _) = ok(&env, &["rotate", "--to", "age", "A", "--dry-run"]);
    assert_eq!(
        out,
        "A  fnox.toml:17  move        local -> age\ndry run: 1 of 1 secrets would change; nothing was written\n"
    );
    let (_, err) = ok(&env, &["rotate", "--to", "age", "A", "--yes"]);
    assert_eq!(err, "rotated 1 of 1 secret in 1 file in T s\n  age: 1 move\n");
    let text = env.read("fnox.toml");
    let a = stored(&env, "A");
    assert!(text.contains(&format!("A = {{ provider = \"age\", value = \"{a}\" }}\n")), "{text}");
    assert!(text.contains("B = { provider = \"local\", value = "), "{text}");
    let file = B64.decode(a).unwrap();
    assert!(file.starts_with(b"age-encryption.org/v1\n"));
    assert_eq!(age_cli_decrypt(&env.config_dir.join("age.txt"), &file).unwrap(), b"alpha");
    assert_eq!(env.get("A"), b"alpha");
    assert_eq!(env.get("B"), b"beta");
}

// ---------------------------------------------------------------------------
// aws-kms

/// `aws kms decrypt` of `blob` with the EncryptionContext of secret `name`:
/// (KeyId the blob is under, plaintext).
fn kms_decrypt(env: &TestEnv, endpoint: &str, blob: &[u8], name: &str) -> (String, Vec<u8>) {
    kms_decrypt_in(env, endpoint, blob, &format!("fnox:secret={name}"))
}

/// An envelope's wrapped data key through the aws CLI: its context is
/// `fnox:data-key=NAME`, apart from the secret's values.
fn kms_decrypt_data_key(
    env: &TestEnv,
    endpoint: &str,
    blob: &[u8],
    name: &str,
) -> (String, Vec<u8>) {
    kms_decrypt_in(env, endpoint, blob, &format!("fnox:data-key={name}"))
}

/// `aws kms decrypt` of `blob` with EncryptionContext `context` (`k=v`):
/// (key ARN, plaintext).
fn kms_decrypt_in(env: &TestEnv, endpoint: &str, blob: &[u8], context: &str) -> (String, Vec<u8>) {
    let file = env.tmp.path().join("blob.bin");
    std::fs::write(&file, blob).unwrap();
    let out = aws(
        endpoint,
        &[
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &format!("fileb://{}", file.display()),
            "--encryption-context",
            context,
            "--query",
            "[KeyId,Plaintext]",
            "--output",
            "text",
        ],
    );
    let (key, plain) = out.split_once('\t').unwrap();
    (key.to_string(), B64.decode(plain).unwrap())
}

/// A blob from `aws kms encrypt` without any EncryptionContext (as jdx/fnox
/// writes values), base64.
fn legacy_blob(env: &TestEnv, endpoint: &str, key: &str, plaintext: &str) -> String {
    let file = env.tmp.path().join("plain.txt");
    std::fs::write(&file, plaintext).unwrap();
    aws(
        endpoint,
        &[
            "kms",
            "encrypt",
            "--key-id",
            key,
            "--plaintext",
            &format!("fileb://{}", file.display()),
            "--query",
            "CiphertextBlob",
            "--output",
            "text",
        ],
    )
}

#[test]
fn kms_key_change_rewraps_everything_to_the_new_key() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, arn1, alias1) = create_kms_key(&endpoint);
    let (_, arn2, alias2) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias1);
    let big = "b".repeat(5000);
    let secrets: Vec<(&str, &str)> =
        vec![("A", "alpha"), ("B", "beta ✓"), ("E", "small envelope"), ("BIG", &big)];
    for (name, value) in &secrets {
        let flags: &[&str] = if *name == "E" { &["--envelope"] } else { &[] };
        env.cmd().arg("set").args(flags).arg(name).write_stdin(*value).assert().success();
    }
    let envelopes = ["E", "BIG"];
    let payloads: BTreeMap<&str, Vec<u8>> =
        envelopes.iter().map(|n| (*n, split_envelope(&stored_bytes(&env, n)).1)).collect();
    for name in ["A", "B"] {
        assert_eq!(kms_decrypt(&env, &endpoint, &stored_bytes(&env, name), name).0, arn1);
    }

    // The key changes in the config; old values still decrypt before rotate.
    env.write("fnox.toml", &env.read("fnox.toml").replace(&alias1, &alias2));
    for (name, value) in &secrets {
        assert_eq!(env.get(name), value.as_bytes(), "{name}");
    }
    let (out, _) = ok(&env, &["rotate", "--dry-run"]);
    assert_eq!(
        out,
        "A    fnox.toml:7   re-wrap     kms\nB    fnox.toml:8   re-wrap     kms\nE    fnox.toml:9   re-wrap     kms\nBIG  fnox.toml:10  re-wrap     kms\ndry run: 4 of 4 secrets would change; nothing was written\n"
    );
    let (_, err) = ok(&env, &["rotate", "--yes"]);
    assert_eq!(err, "rotated 4 of 4 secrets in 1 file in T s\n  kms: 4 re-wrap\n");

    for (name, value) in &secrets {
        assert_eq!(env.get(name), value.as_bytes(), "{name}");
        let bytes = stored_bytes(&env, name);
        if envelopes.contains(name) {
            let (wrapped, payload) = split_envelope(&bytes);
            let (key, data_key) = kms_decrypt_data_key(&env, &endpoint, &wrapped, name);
            assert_eq!(key, arn2, "{name}'s data key");
            assert_eq!(data_key.len(), 32);
            assert_eq!(payload, payloads[name], "{name}'s payload");
        } else {
            assert_eq!(
                kms_decrypt(&env, &endpoint, &bytes, name),
                (arn2.clone(), value.as_bytes().to_vec())
            );
        }
    }
    // Everything is under the current key now.
    let (out, _) = ok(&env, &["rotate", "--dry-run"]);
    assert!(out.ends_with("dry run: 0 of 4 secrets would change; nothing was written\n"), "{out}");
}

#[test]
fn kms_legacy_value_is_upgraded_to_a_bound_one() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, arn, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    env.set("BOUND", b"already bound").success();
    let blob = legacy_blob(&env, &endpoint, &alias, "legacy value");
    env.write(
        "fnox.toml",
        &format!(
            "{}LEGACY = {{ provider = \"kms\", value = \"{blob}\" }}\n",
            env.read("fnox.toml")
        ),
    );
    let (out, err) = ok(&env, &["get", "LEGACY"]);
    assert_eq!(out, "legacy value\n");
    assert!(err.starts_with("note: secret `LEGACY` is not bound to its name"), "{err}");

    let (out, _) = ok(&env, &["rotate", "--dry-run"]);
    assert_eq!(
        out,
        "BOUND   fnox.toml:7  unchanged   kms\nLEGACY  fnox.toml:8  upgrade     kms\ndry run: 1 of 2 secrets would change; nothing was written\n"
    );
    let bound_before = stored(&env, "BOUND");
    let (_, err) = ok(&env, &["rotate", "--yes"]);
    assert_eq!(err, "rotated 1 of 2 secrets in 1 file in T s\n  kms: 1 unchanged, 1 upgrade\n");
    assert_eq!(stored(&env, "BOUND"), bound_before);
    assert_eq!(
        kms_decrypt(&env, &endpoint, &stored_bytes(&env, "LEGACY"), "LEGACY"),
        (arn, b"legacy value".to_vec())
    );
    // Bound now: no note, and nothing left to upgrade.
    assert_eq!(ok(&env, &["get", "LEGACY"]), ("legacy value\n".to_string(), String::new()));
    let (out, _) = ok(&env, &["rotate", "--dry-run"]);
    assert!(out.ends_with("dry run: 0 of 2 secrets would change; nothing was written\n"), "{out}");
}

#[test]
fn move_local_to_kms() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, arn, alias) = create_kms_key(&endpoint);
    let mut env = TestEnv::with_local();
    env.extra_env = aws_env();
    env.write(
        "fnox.toml",
        &env.read("fnox.toml").replace(
            "\n[secrets]\n",
            &format!(
                "\n[providers.kms]\ntype = \"aws-kms\"\nkey_id = \"{alias}\"\nendpoint = \"{endpoint}\"\n\n[secrets]\n"
            ),
        ),
    );
    env.cmd().args(["set", "--provider", "local", "A"]).write_stdin("alpha").assert().success();
    env.cmd().args(["set", "--provider", "local", "B"]).write_stdin("beta").assert().success();
    env.cmd()
        .args(["set", "--provider", "local", "--envelope", "E"])
        .write_stdin("enveloped")
        .assert()
        .success();
    let (out, _) = ok(&env, &["rotate", "--to", "kms", "--provider", "local", "--dry-run"]);
    assert_eq!(
        out,
        "A  fnox.toml:16  move        local -> kms\nB  fnox.toml:17  move        local -> kms\nE  fnox.toml:18  move        local -> kms\ndry run: 3 of 3 secrets would change; nothing was written\n"
    );
    let (_, err) = ok(&env, &["rotate", "--to", "kms", "--provider", "local", "--yes"]);
    assert_eq!(err, "rotated 3 of 3 secrets in 1 file in T s\n  kms: 3 move\n");
    let text = env.read("fnox.toml");
    for (name, value) in [("A", "alpha"), ("B", "beta")] {
        let v = stored(&env, name);
        assert!(text.contains(&format!("{name} = {{ provider = \"kms\", value = \"{v}\" }}\n")));
        assert_eq!(env.get(name), value.as_bytes());
        assert_eq!(
            kms_decrypt(&env, &endpoint, &B64.decode(v).unwrap(), name),
            (arn.clone(), value.as_bytes().to_vec())
        );
    }
    // The envelope stays an envelope, its data key now wrapped by KMS.
    let (wrapped, _) = split_envelope(&stored_bytes(&env, "E"));
    assert_eq!(kms_decrypt_data_key(&env, &endpoint, &wrapped, "E").0, arn);
    assert_eq!(env.get("E"), b"enveloped");
}

// ---------------------------------------------------------------------------
// all or nothing

#[test]
fn one_corrupt_value_among_200_changes_no_file() {
    let env = many_local(200);
    // Flip one ciphertext byte of S137.
    let good = stored(&env, "S137");
    let mut bytes = B64.decode(&good).unwrap();
    bytes[20] ^= 0x01;
    env.write("fnox.toml", &env.read("fnox.toml").replace(&good, &B64.encode(&bytes)));
    let before = world(&env);
    let line = env.read("fnox.toml").lines().position(|l| l.starts_with("S137 ")).unwrap() + 1;
    assert_eq!(
        fails(&env, &["rotate", "--new-key", "--yes"]),
        format!(
            "error: cannot rotate 1 of 200 secrets; no file was changed\n  S137 (fnox.toml:{line}, provider `local`): the value does not decrypt under this secret's name: it was moved from another secret, or tampered with\n"
        )
    );
    assert_eq!(world(&env), before);
    assert_eq!(keyring(&env).0.len(), 1);
}

/// SIGKILL at random moments of `rotate --new-key` over 500 values: the
/// file is always the old one or the fully rotated one, and every value
/// decrypts.
#[test]
fn sigkill_during_rotate_leaves_old_or_new_file() {
    const N: usize = 500;
    const TRIALS: u64 = 50;
    let env = many_local(N);
    let expected: BTreeMap<String, String> =
        (0..N).map(|i| (format!("S{i:03}"), plain(i))).collect();
    assert_eq!(resolve_all(&env), expected);
    let spawn = || {
        env.process()
            .args(["rotate", "--new-key", "--yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // How long one full run takes now (the median of three). Measured
    // again every ten trials: the machine's load changes while the suite
    // runs, and kills spread over a stale duration can all miss the write.
    let measure = || {
        let mut runs: Vec<Duration> = (0..3)
            .map(|_| {
                let started = Instant::now();
                assert!(spawn().wait().unwrap().success());
                started.elapsed()
            })
            .collect();
        runs.sort();
        runs[1]
    };
    let mut run = measure();

    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        // xorshift64*
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let (mut kept, mut rotated) = (0, 0);
    for trial in 0..TRIALS {
        if trial > 0 && trial % 10 == 0 {
            run = measure();
        }
        let before = env.read("fnox.toml");
        let old = values(&before);
        // Spread over 0..1.2 × the run, so some kills land after it ends.
        let delay = run.mul_f64((next() % 1200) as f64 / 1000.0);
        let mut child = spawn();
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        let after = env.read("fnox.toml");
        let new = values(&after);
        assert_eq!(new.len(), N, "trial {trial}");
        if after == before {
            kept += 1;
        } else {
            rotated += 1;
            let same: Vec<_> = old.keys().filter(|k| old[*k] == new[*k]).collect();
            assert!(same.is_empty(), "trial {trial} ({delay:?}): {} values unchanged", same.len());
        }
        assert_eq!(resolve_all(&env), expected, "trial {trial}");
    }
    let leftovers = [&env.project, &env.config_dir]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    eprintln!(
        "run {run:?}: {kept} kills kept the old file, {rotated} left the new one; {leftovers} temporary files left behind"
    );
    assert!(kept > 0 && rotated > 0, "{kept} kept, {rotated} rotated: the kills missed the run");
}

/// A value that changes on disk while rotate runs (between reading the
/// config and taking the file's lock): nothing is written, not even the
/// new keyring.
#[test]
fn a_value_changed_while_rotate_runs_changes_nothing() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    env.set("B", b"beta").success();
    let path = env.project.join("fnox.toml");
    // Hold the file's lock, as another fnox writer would.
    let held = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
    held.lock().unwrap();
    let keyring_before = std::fs::read(env.config_dir.join("local.key")).unwrap();
    let child = env
        .process()
        .args(["rotate", "--new-key", "--yes"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until rotate is blocked on that lock (/proc/locks marks a
    // waiting request with `->` and names its pid).
    let waiting = format!(" {} ", child.id());
    let started = Instant::now();
    while !std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .any(|l| l.contains("->") && l.contains(&waiting))
    {
        assert!(started.elapsed() < Duration::from_secs(20), "rotate never waited for the lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Meanwhile A gets a new value (written in place, under the lock).
    let changed = env.read("fnox.toml").replace(&stored(&env, "A"), &seal_local(&env, "A", b"new"));
    std::fs::write(&path, &changed).unwrap();
    held.unlock().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: secret `A` in fnox.toml changed while rotate ran; nothing was written, run rotate again\n"
    );
    assert_eq!(env.read("fnox.toml"), changed);
    assert_eq!(std::fs::read(env.config_dir.join("local.key")).unwrap(), keyring_before);
    assert_eq!(env.get("A"), b"new");
    assert_eq!(env.get("B"), b"beta");
}

// ---------------------------------------------------------------------------
// the file around the values

const COMMENTED: &str = r#"# Project secrets.  Two spaces here,  on purpose.
root = true

[providers.local] # the laptop key
type = "local"

# --- plain settings ---
[secrets]
LOG_LEVEL = { default = "info" }   # not a secret
# the database
DB = { provider = "local", value = "@DB@", description = "main db" } # trailing
API   =   { value = "@API@" , provider = "local" }

[secrets.TABLE_STYLE]
# inside a table
provider = "local"
description = "written as a table"
value = "@TABLE_STYLE@"   # after the value
if_missing = "warn"

[profiles.production.secrets]
DB = { provider = "local", value = "@production/DB@" } # production db
PORT = { default = "8080" }

# the end
"#;

#[test]
fn comments_and_unrelated_entries_survive_byte_for_byte() {
    let env = TestEnv::with_local();
    let mut text = COMMENTED.to_string();
    for key in ["DB", "API", "TABLE_STYLE", "production/DB"] {
        let name = key.rsplit('/').next().unwrap();
        text = text.replace(&format!("@{key}@"), &seal_local(&env, name, key.as_bytes()));
    }
    env.write("fnox.toml", &text);
    let before = env.read("fnox.toml");
    let (_, err) = ok(&env, &["rotate", "--new-key", "--all-profiles", "--yes"]);
    assert_eq!(err, "rotated 4 of 4 secrets in 1 file in T s\n  local: 4 re-encrypt\n");
    let after = env.read("fnox.toml");
    let (old, new) = (values(&before), values(&after));
    assert_eq!(old.len(), 4);
    // Put the old values back: the file must be exactly what it was.
    let mut restored = after.clone();
    for (key, value) in &new {
        assert_ne!(value, &old[key], "{key}");
        restored = restored.replace(value.as_str(), &old[key]);
    }
    assert_eq!(restored, before);
    assert_eq!(after.lines().count(), before.lines().count());
    for (key, expected) in [("DB", "DB"), ("API", "API"), ("TABLE_STYLE", "TABLE_STYLE")] {
        assert_eq!(env.get(key), expected.as_bytes());
    }
    let db = env.fnox(&["-P", "production", "get", "-n", "DB"]).success();
    assert_eq!(stdout(&db), "production/DB");
}

// ---------------------------------------------------------------------------
// the command line

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    if !require_tool("age") {
        return;
    }
    let env = TestEnv::with_local();
    env.fnox(&["init", "--provider", "age"]).success();
    env.write(
        "fnox.toml",
        &env.read("fnox.toml").replace("[secrets]\n", "[secrets]\nPLAIN = { default = \"x\" }\n"),
    );
    env.cmd()
        .args(["set", "--provider", "local", "DATABASE_URL"])
        .write_stdin("db")
        .assert()
        .success();
    env.cmd()
        .args(["set", "--provider", "local", "--envelope", "CERT"])
        .write_stdin("cert")
        .assert()
        .success();
    env.cmd().args(["set", "--provider", "age", "TOKEN"]).write_stdin("tok").assert().success();
    let prod = seal_local(&env, "DATABASE_URL", b"prod db");
    env.write(
        "fnox.production.toml",
        &format!("# production\n[secrets]\nDATABASE_URL = {{ provider = \"local\", value = \"{prod}\" }}\n"),
    );
    let before = world(&env);

    let (out, err) = ok(&env, &["rotate", "--new-key", "--all-profiles", "--dry-run"]);
    assert_eq!(
        out,
        "\
DATABASE_URL  fnox.toml:18            re-encrypt  local
CERT          fnox.toml:19            re-wrap     local
TOKEN         fnox.toml:20            re-encrypt  age
DATABASE_URL  fnox.production.toml:3  re-encrypt  local
dry run: 4 of 4 secrets would change; nothing was written
"
    );
    assert_eq!(err, "");
    let (out, err) = ok(&env, &["rotate", "--provider", "local", "--retire-old", "--dry-run"]);
    assert_eq!(
        out,
        "\
DATABASE_URL  fnox.toml:18            unchanged   local
CERT          fnox.toml:19            unchanged   local
DATABASE_URL  fnox.production.toml:3  unchanged   local
dry run: 0 of 3 secrets would change; nothing was written
"
    );
    assert_eq!(err, "");
    assert_eq!(world(&env), before);
}

/// Rotation rewrites files, so a run that cannot ask (stdin is not a
/// terminal) needs `--yes`; without it: a usage error, nothing changed.
#[test]
fn without_yes_and_no_terminal_nothing_changes() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let before = world(&env);
    let refused = "error: rotate changes files; pass --yes to confirm (stdin is not a terminal)\n";
    for args in [&["rotate"][..], &["rotate", "--new-key"], &["rotate", "--retire-old"]] {
        let out = env.fnox(args).code(2);
        assert_eq!((stdout(&out), stderr(&out)), (String::new(), refused.to_string()));
        assert_eq!(world(&env), before);
    }
    // A "y" on a pipe does not count as confirming.
    let out = env.cmd().args(["rotate", "--new-key"]).write_stdin("y\n").assert().code(2);
    assert_eq!(stderr(&out), refused);
    assert_eq!(world(&env), before);
    assert_eq!(env.get("A"), b"alpha");
}

#[test]
fn unknown_names_and_providers_change_nothing() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let before = world(&env);
    assert_eq!(
        fails(&env, &["rotate", "A", "NOPE", "--new-key", "--yes"]),
        "error: secret `NOPE` is not defined in profile `default`\n  hint: run `fnox list` to see the secrets, or `fnox set NOPE` to add it\n"
    );
    assert_eq!(
        fails(&env, &["rotate", "--to", "vault", "--yes"]),
        "error: provider `vault` is not defined\n  hint: defined providers: local\n"
    );
    assert_eq!(world(&env), before);
    assert_eq!(env.get("A"), b"alpha");
}

// ---------------------------------------------------------------------------
// several files

#[test]
fn all_profiles_rotates_every_project_file_but_not_the_global_one() {
    let env = TestEnv::with_local();
    let child = env.project.join("child");
    std::fs::create_dir_all(&child).unwrap();
    let local = "[providers.local]\ntype = \"local\"\n";
    let files: [(&str, &[(&str, &str)]); 4] = [
        ("fnox.toml", &[("PARENT_A", "parent a"), ("SHARED", "parent shared")]),
        ("child/fnox.toml", &[("CHILD_A", "child a"), ("SHARED", "child shared")]),
        ("child/fnox.production.toml", &[("PROD_A", "prod a")]),
        ("child/fnox.staging.toml", &[("STAGING_A", "staging a")]),
    ];
    for (file, secrets) in files {
        let mut text =
            if file == "fnox.toml" { format!("root = true\n\n{local}\n") } else { String::new() };
        text.push_str("# kept\n[secrets]\n");
        for (name, value) in secrets {
            let v = seal_local(&env, name, value.as_bytes());
            text.push_str(&format!("{name} = {{ provider = \"local\", value = \"{v}\" }}\n"));
        }
        env.write(file, &text);
    }
    let global = env.config_dir.join("config.toml");
    std::fs::write(
        &global,
        format!(
            "{local}\n[secrets]\nGLOBAL_A = {{ provider = \"local\", value = \"{}\" }}\n",
            seal_local(&env, "GLOBAL_A", b"global a")
        ),
    )
    .unwrap();
    let global_before = std::fs::read(&global).unwrap();
    let before: BTreeMap<&str, BTreeMap<String, String>> =
        files.iter().map(|(f, _)| (*f, values(&env.read(f)))).collect();
    let (_, k1) = keyring(&env);

    let out = env.cmd_in(&child).args(["rotate", "--new-key", "--all-profiles", "--yes"]).assert();
    let err = redact_time(&env.redact(&stderr(&out.success())));
    assert_eq!(err, "rotated 6 of 6 secrets in 4 files in T s\n  local: 6 re-encrypt\n");
    let (_, k2) = keyring(&env);
    for (file, secrets) in files {
        let now = values(&env.read(file));
        for (name, _) in secrets {
            assert_ne!(now[*name], before[file][*name], "{file} {name}");
            assert_eq!(local_key_id(&now[*name]), k2, "{file} {name}");
        }
    }
    assert_eq!(std::fs::read(&global).unwrap(), global_before);

    let get = |profile: &str, name: &str| {
        let out = env.cmd_in(&child).args(["-P", profile, "get", "-n", name]).assert().success();
        stdout(&out)
    };
    assert_eq!(get("default", "PARENT_A"), "parent a");
    assert_eq!(get("default", "SHARED"), "child shared");
    assert_eq!(get("default", "CHILD_A"), "child a");
    assert_eq!(get("production", "PROD_A"), "prod a");
    assert_eq!(get("staging", "STAGING_A"), "staging a");
    assert_eq!(get("default", "GLOBAL_A"), "global a");
    let parent_shared = env.fnox(&["get", "-n", "SHARED"]).success();
    assert_eq!(stdout(&parent_shared), "parent shared");

    // The global value still needs the old key.
    let out = env.cmd_in(&child).args(["rotate", "--retire-old", "--yes"]).assert().code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "error: cannot retire old local keys of [TMP]/config/local.key: 1 value still uses them: GLOBAL_A ([TMP]/config/config.toml:5, key {k1}); run `fnox rotate --provider local --all-profiles` first\n"
        )
    );
    // --global takes the global file too; then the old key can go.
    let out = env.cmd_in(&child).args(["rotate", "--global", "--yes"]).assert().success();
    assert_eq!(
        redact_time(&stderr(&out)),
        "rotated 1 of 5 secrets in 1 file in T s\n  local: 4 unchanged, 1 re-encrypt\n"
    );
    assert_eq!(
        local_key_id(
            &values(&String::from_utf8(std::fs::read(&global).unwrap()).unwrap())["GLOBAL_A"]
        ),
        k2
    );
    assert_ne!(k1, k2);
    env.cmd_in(&child).args(["rotate", "--retire-old", "--yes"]).assert().success();
    assert_eq!(keyring(&env), (vec![k2.clone()], k2));
    assert_eq!(get("default", "GLOBAL_A"), "global a");
    assert_eq!(get("staging", "STAGING_A"), "staging a");
}

/// `fnox ARGS` on a pseudo-terminal (`script`), with `answer` typed at its
/// prompt; returns what the terminal showed (CRLF as LF) and fnox's status.
fn rotate_on_a_terminal(env: &TestEnv, args: &str, answer: &str) -> (String, i32) {
    if !crate::common::require_tool("script") {
        return (String::new(), 0);
    }
    let line = format!("{} {args}; echo \"status $?\"", crate::common::bin().display());
    let mut child = env
        .program("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let status = shown
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("status "))
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(-1);
    (shown, status)
}

#[test]
fn on_a_terminal_no_question_when_nothing_changes_and_no_means_nothing_written() {
    let env = TestEnv::with_local();
    env.set("A", b"one").success();
    let before = env.read("fnox.toml");
    let keyring = std::fs::read(env.config_dir.join("local.key")).unwrap();
    // Every value is under the current key: no question, exit 0.
    let (shown, status) = rotate_on_a_terminal(&env, "rotate", "");
    if shown.is_empty() {
        return;
    }
    assert_eq!(status, 0, "{shown}");
    assert!(!shown.contains("[y/N]"), "{shown}");
    assert!(shown.contains("rotated 0 of 1 secret in 0 files"), "{shown}");
    // A change to write, and the answer is no: said, nothing written, exit 0.
    let (shown, status) = rotate_on_a_terminal(&env, "rotate --new-key", "n\n");
    assert_eq!(status, 0, "{shown}");
    assert!(shown.contains("write 1 re-encrypted secret? [y/N] "), "{shown}");
    assert!(shown.contains("nothing written\n"), "{shown}");
    assert!(!shown.contains("error"), "{shown}");
    assert_eq!(env.read("fnox.toml"), before);
    assert_eq!(std::fs::read(env.config_dir.join("local.key")).unwrap(), keyring);
}
