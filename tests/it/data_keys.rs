//! Envelope data keys are bound apart from direct values: an envelope's
//! wrapped key put in place of the secret's value never decrypts (it would
//! print the data key); version-1 envelopes, whose key was wrapped like a
//! value, still decrypt, and `rotate` upgrades them. Helpers here serve the
//! same tests for aws-kms (kms.rs) and vault-transit (transit.rs).

use aes_gcm::{Aes256Gcm, KeyInit as _, Nonce, aead::Aead as _, aead::Payload};
use base64::Engine as _;

use crate::common::{TestEnv, stderr, stdout};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The stored bytes of an envelope (a transit value's text is its bytes
/// only inside an envelope, which is base64 like every other).
fn envelope_bytes(env: &TestEnv, name: &str) -> Vec<u8> {
    let bytes = B64.decode(env.stored(name)).unwrap();
    assert!(bytes.starts_with(b"FNXE"), "{name} is not an envelope");
    bytes
}

/// The wrapped data key of envelope `name`.
pub fn wrapped_key(env: &TestEnv, name: &str) -> Vec<u8> {
    let bytes = envelope_bytes(env, name);
    let len = u32::from_be_bytes(bytes[5..9].try_into().unwrap()) as usize;
    bytes[9..9 + len].to_vec()
}

/// Replaces the stored text of `name` by `text`.
pub fn put_stored_text(env: &TestEnv, name: &str, text: &str) {
    let old = env.stored(name);
    env.write("fnox.toml", &env.read("fnox.toml").replacen(&old, text, 1));
}

/// The stored text of a direct value whose ciphertext is `bytes`: base64,
/// or for transit the server's `vault:` string itself.
pub fn direct_text(bytes: &[u8], transit: bool) -> String {
    if transit { String::from_utf8(bytes.to_vec()).unwrap() } else { B64.encode(bytes) }
}

/// The attack: `set --envelope NAME`, then its own wrapped data key as its
/// value. `get` must fail, print nothing, and the data key must not leak.
/// Returns stderr of the failed `get`.
pub fn wrapped_key_as_value_fails(env: &TestEnv, provider: &str, transit: bool) -> String {
    let name = format!("ENV_{}", provider.to_uppercase().replace('-', "_"));
    env.cmd()
        .args(["set", "--envelope", "--provider", provider, &name])
        .write_stdin("payload of the envelope")
        .assert()
        .success();
    let wrapped = wrapped_key(env, &name);
    put_stored_text(env, &name, &direct_text(&wrapped, transit));
    let out = env.fnox(&["get", &name]).code(1);
    assert_eq!(stdout(&out), "", "{provider}: the data key was printed");
    stderr(&out)
}

/// A version-1 envelope of `payload` for secret `name` of `provider`, made
/// as fnox made them before: the data key wrapped exactly like a direct
/// value of the secret (here by `fnox set` of the key itself), the payload
/// AES-256-GCM with AAD `"FNXE" ‖ 0x01 ‖ name`. Stored in place.
pub fn put_legacy_envelope(
    env: &TestEnv,
    provider: &str,
    name: &str,
    payload: &[u8],
    transit: bool,
) {
    let key: [u8; 32] = rand::random();
    env.cmd()
        .args(["set", "--raw", "--provider", provider, name])
        .write_stdin(key.to_vec())
        .assert()
        .success();
    let stored = env.stored(name);
    let wrapped = if transit { stored.as_bytes().to_vec() } else { B64.decode(&stored).unwrap() };
    let nonce: [u8; 12] = rand::random();
    let aad = [&b"FNXE\x01"[..], name.as_bytes()].concat();
    let sealed = Aes256Gcm::new_from_slice(&key)
        .unwrap()
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: payload, aad: &aad })
        .unwrap();
    let len = (wrapped.len() as u32).to_be_bytes();
    let envelope = [&b"FNXE\x01"[..], &len, &wrapped, &nonce, &sealed].concat();
    put_stored_text(env, name, &B64.encode(envelope));
}

/// A legacy envelope reads; `rotate --yes` upgrades it (version 2, payload
/// bytes unchanged); then the attack fails on it too.
pub fn legacy_envelope_reads_and_rotate_upgrades_it(env: &TestEnv, provider: &str, transit: bool) {
    let name = format!("OLD_{}", provider.to_uppercase().replace('-', "_"));
    put_legacy_envelope(env, provider, &name, b"legacy payload", transit);
    assert_eq!(env.get(&name), b"legacy payload");
    let before = envelope_bytes(env, &name);
    let out = env.fnox(&["rotate", "--yes", &name]).success();
    assert!(stderr(&out).contains("upgrade"), "{}", stderr(&out));
    let after = envelope_bytes(env, &name);
    assert_eq!(after[4], 2, "upgraded to version 2");
    let tail = |b: &[u8]| {
        let len = u32::from_be_bytes(b[5..9].try_into().unwrap()) as usize;
        b[9 + len..].to_vec()
    };
    assert_eq!(tail(&after), tail(&before), "the payload is kept byte for byte");
    assert_eq!(env.get(&name), b"legacy payload");
    let wrapped = wrapped_key(env, &name);
    put_stored_text(env, &name, &direct_text(&wrapped, transit));
    let out = env.fnox(&["get", &name]).code(1);
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_local_envelopes_wrapped_key_is_not_a_value() {
    let env = TestEnv::with_local();
    let err = wrapped_key_as_value_fails(&env, "local", false);
    assert_eq!(
        err,
        "error: cannot decrypt secret `ENV_LOCAL` (provider `local`, fnox.toml:11)\n  cause: the value does not decrypt under this secret's name: it was moved from another secret, or tampered with\n  hint: values cannot be copied between secret names; set the value again with `fnox set ENV_LOCAL`\n"
    );
}

#[test]
fn an_age_envelopes_wrapped_key_is_not_a_value() {
    let env = TestEnv::with_local();
    env.fnox(&["init", "--provider", "age"]).success();
    let err = wrapped_key_as_value_fails(&env, "age", false);
    assert_eq!(
        err,
        "error: cannot decrypt secret `ENV_AGE` (provider `age`, fnox.toml:17)\n  cause: the stored value is an envelope's wrapped data key, not a value: it was copied from an envelope, or tampered with\n  hint: the value in the file is damaged or was moved: set the value again with `fnox set ENV_AGE`\n"
    );
}

#[test]
fn legacy_local_and_age_envelopes_read_and_rotate_upgrades_them() {
    let env = TestEnv::with_local();
    env.fnox(&["init", "--provider", "age"]).success();
    for provider in ["local", "age"] {
        legacy_envelope_reads_and_rotate_upgrades_it(&env, provider, false);
    }
}
