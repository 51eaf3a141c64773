//! Bad input: each gets a clear message naming file, secret and provider,
//! exit status 1, and leaves every file byte-identical.

use base64::Engine as _;

use crate::common::{TestEnv, stderr, stdout};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Runs `args`, expects exit 1 and exactly `expected` on stderr (temp
/// paths shown as `[TMP]`), and checks fnox.toml did not change.
fn fails(env: &TestEnv, args: &[&str], expected: &str) {
    fails_with(env, 1, args, expected);
}

/// Like [`fails`], with exit status `code`.
fn fails_with(env: &TestEnv, code: i32, args: &[&str], expected: &str) {
    let before = env.read_bytes("fnox.toml");
    let out = env.cmd().args(args).write_stdin("new value").assert().code(code);
    assert_eq!(env.redact(&stderr(&out)), expected, "fnox {args:?}");
    assert!(out.get_output().stdout.is_empty(), "no partial output");
    assert_eq!(env.read_bytes("fnox.toml"), before, "fnox.toml changed by {args:?}");
}

/// Every command that reads config fails the same way on a broken file.
fn all_commands_fail(env: &TestEnv, expected: &str) {
    fails(env, &["get", "A"], expected);
    fails(env, &["set", "A"], expected);
    fails(env, &["remove", "A"], expected);
    fails(env, &["list"], expected);
    fails(env, &["exec", "--", "true"], expected);
}

fn replace_value(env: &TestEnv, name: &str, new: &str) {
    let old = env.stored(name);
    let text = env.read("fnox.toml").replacen(&old, new, 1);
    env.write("fnox.toml", &text);
}

#[test]
fn malformed_toml() {
    let env = TestEnv::with_local();
    let text = env.read("fnox.toml") + "A = { provider = \"local\", value = \"x\"\nB = 1\n";
    env.write("fnox.toml", &text);
    all_commands_fail(
        &env,
        "error: fnox.toml:12: invalid TOML: missing comma between key-value pairs, expected `,` (column 1)\n",
    );
}

#[test]
fn unknown_key() {
    let env = TestEnv::with_local();
    env.write(
        "fnox.toml",
        &(env.read("fnox.toml") + "A = { provider = \"local\", valu = \"x\" }\n"),
    );
    all_commands_fail(
        &env,
        "error: fnox.toml:11: unknown key `valu` in secret `A`\n  hint: did you mean `value`?\n  hint: allowed keys here: `provider`, `value`, `default`, `sensitive`, `description`, `if_missing`, `allow_exec_control`, `env`, `as_file`, `json_path`, `line`\n",
    );
}

/// `get NAME` reads NAME's entry (and the providers and settings), not the
/// other secrets' entries: a mistake in another entry fails the commands
/// that read that entry (here `list` and `exec`), and `get` of it.
#[test]
fn get_reads_its_own_entry_only() {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    let broken = env.read("fnox.toml") + "B = { provider = \"vault\", valu = \"eA==\" }\n";
    env.write("fnox.toml", &broken);
    assert_eq!(env.get("A"), b"a");
    let expected = "error: fnox.toml:12: unknown key `valu` in secret `B`\n  hint: did you mean `value`?\n  hint: allowed keys here: `provider`, `value`, `default`, `sensitive`, `description`, `if_missing`, `allow_exec_control`, `env`, `as_file`, `json_path`, `line`\n";
    fails(&env, &["get", "B"], expected);
    fails(&env, &["list"], expected);
    fails(&env, &["exec", "--", "true"], expected);
    // A name that is not there: the message names those that are (the
    // whole file is read for it), here the mistake first.
    fails(&env, &["get", "C"], expected);
}

#[test]
fn undefined_provider() {
    let env = TestEnv::with_local();
    env.write(
        "fnox.toml",
        &(env.read("fnox.toml") + "A = { provider = \"vault\", value = \"eA==\" }\n"),
    );
    all_commands_fail(
        &env,
        "error: fnox.toml:11: secret `A` uses provider `vault`, which is not defined\n  hint: defined providers: local\n",
    );
}

#[test]
fn unknown_provider_type() {
    let env = TestEnv::with_local();
    env.write("fnox.toml", &(env.read("fnox.toml") + "\n[providers.v]\ntype = \"hashicorp\"\n"));
    all_commands_fail(
        &env,
        "error: fnox.toml:13: provider `v` has unknown type `hashicorp`\n  hint: known types: local, age, plain, aws-kms, vault-transit\n",
    );
    // A type that neither fnox nor jdx/fnox knows, one edit from one that fnox does.
    env.write("fnox.toml", &env.read("fnox.toml").replace("hashicorp", "vault-transt"));
    all_commands_fail(
        &env,
        "error: fnox.toml:13: provider `v` has unknown type `vault-transt`\n  hint: did you mean `vault-transit`?\n  hint: known types: local, age, plain, aws-kms, vault-transit\n",
    );
}

#[test]
fn bad_base64() {
    let env = TestEnv::with_local();
    env.set("A", b"secret").success();
    replace_value(&env, "A", "not base64!!");
    fails(
        &env,
        &["get", "A"],
        "error: cannot decrypt secret `A` (provider `local`, fnox.toml:11)\n  cause: the stored value is not valid base64\n  hint: the value in the file is damaged: set the value again with `fnox set A`\n",
    );
    fails(
        &env,
        &["exec", "--", "true"],
        "error: cannot decrypt secret `A` (provider `local`, fnox.toml:11)\n  cause: the stored value is not valid base64\n  hint: the value in the file is damaged: set the value again with `fnox set A`\n",
    );
}

#[test]
fn truncated_ciphertext() {
    let env = TestEnv::with_local();
    env.set("A", b"secret").success();
    let bytes = B64.decode(env.stored("A")).unwrap();
    replace_value(&env, "A", &B64.encode(&bytes[..20]));
    fails(
        &env,
        &["get", "A"],
        "error: cannot decrypt secret `A` (provider `local`, fnox.toml:11)\n  cause: the stored value is truncated: 20 bytes is too short for a `local` ciphertext\n  hint: the value in the file is damaged: set the value again with `fnox set A`\n",
    );
    // Cut in the tag: authentication fails.
    replace_value(&env, "A", &B64.encode(&bytes[..bytes.len() - 1]));
    fails(
        &env,
        &["get", "A"],
        "error: cannot decrypt secret `A` (provider `local`, fnox.toml:11)\n  cause: the value does not decrypt under this secret's name: it was moved from another secret, or tampered with\n  hint: values cannot be copied between secret names; set the value again with `fnox set A`\n",
    );
}

#[test]
fn every_flipped_byte_of_a_local_value_fails() {
    let env = TestEnv::with_local();
    env.set("A", b"secret").success();
    let good = env.stored("A");
    let bytes = B64.decode(&good).unwrap();
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x40;
        replace_value(&env, "A", &B64.encode(&bad));
        let out = env.fnox(&["get", "A"]).code(1);
        assert!(out.get_output().stdout.is_empty());
        assert!(stderr(&out).starts_with("error: cannot decrypt secret `A` (provider `local`"));
        replace_value(&env, "A", &good);
    }
    assert_eq!(env.get("A"), b"secret");
}

#[test]
fn moved_local_ciphertext_is_detected() {
    let env = TestEnv::with_local();
    env.set("A", b"for A").success();
    env.set("B", b"for B").success();
    let a = env.stored("A");
    replace_value(&env, "B", &a);
    fails(
        &env,
        &["get", "B"],
        "error: cannot decrypt secret `B` (provider `local`, fnox.toml:12)\n  cause: the value does not decrypt under this secret's name: it was moved from another secret, or tampered with\n  hint: values cannot be copied between secret names; set the value again with `fnox set B`\n",
    );
    assert_eq!(env.get("A"), b"for A");
}

#[test]
fn missing_local_key() {
    let env = TestEnv::with_local();
    env.set("A", b"secret").success();
    std::fs::remove_file(env.config_dir.join("local.key")).unwrap();
    fails(
        &env,
        &["get", "A"],
        "error: cannot decrypt secret `A` (provider `local`, fnox.toml:11)\n  cause: no local key: FNOX_LOCAL_KEY is not set and [TMP]/config/local.key does not exist\n  hint: this machine does not have the project's local key: on a machine that has it run `fnox keys export -o FILE`, then `fnox keys import FILE` here; in CI set FNOX_LOCAL_KEY (`fnox keys export --env`). A new key would not decrypt these values\n",
    );
    // A different key (another machine's keyring) names the missing key id.
    env.fnox(&["init", "-q"]).success();
    let out = env.fnox(&["get", "A"]).code(1);
    let text = stderr(&out);
    assert!(text.contains("  cause: the value was encrypted with local key "), "{text}");
    assert!(
        text.contains(", which is not in [TMP]/config/local.key")
            || env.redact(&text).contains(", which is not in [TMP]/config/local.key"),
        "{text}"
    );
}

#[test]
fn bad_local_key_in_env() {
    let env = TestEnv::with_local();
    env.set("A", b"secret").success();
    let out = env.cmd().env("FNOX_LOCAL_KEY", "c2hvcnQ=").args(["get", "A"]).assert().code(1);
    assert_eq!(
        stderr(&out),
        "error: cannot decrypt secret `A` (provider `local`, fnox.toml:11)\n  cause: FNOX_LOCAL_KEY: the key is not 32 bytes long\n  hint: FNOX_LOCAL_KEY must be the base64 of 32 bytes, as in the keyring file\n"
    );
}

#[test]
fn wrong_age_identity() {
    let env = TestEnv::new();
    env.fnox(&["init", "--provider", "age"]).success();
    env.set("A", b"secret").success();
    let other = age::x25519::Identity::generate();
    let key = format!("{}\n", age::secrecy::ExposeSecret::expose_secret(&other.to_string()));
    std::fs::write(env.config_dir.join("age.txt"), key).unwrap();
    fails(
        &env,
        &["get", "A"],
        "error: cannot decrypt secret `A` (provider `age`, fnox.toml:12)\n  cause: none of the age identities from [TMP]/config/age.txt can decrypt it (it was encrypted to other recipients)\n  hint: ask a teammate whose key can read it to add your recipient and run `fnox rotate`, or point FNOX_AGE_KEY_FILE at the right identity\n",
    );
    std::fs::remove_file(env.config_dir.join("age.txt")).unwrap();
    fails(
        &env,
        &["get", "A"],
        "error: cannot decrypt secret `A` (provider `age`, fnox.toml:12)\n  cause: no age identity: FNOX_AGE_KEY and FNOX_AGE_KEY_FILE are not set, and [TMP]/config/age.txt does not exist\n  hint: set FNOX_AGE_KEY_FILE to your age identity file, or run `fnox init --provider age` to create one\n",
    );
}

#[test]
fn bad_names_and_providers_on_set() {
    let env = TestEnv::with_local();
    fails_with(
        &env,
        2,
        &["set", "9BAD"],
        "error: `9BAD` is not a valid secret name: use letters, digits and `_`, not starting with a digit\n",
    );
    fails(
        &env,
        &["set", "--provider", "nope", "A"],
        "error: provider `nope` is not defined\n  hint: defined providers: local\n",
    );
    fails(
        &env,
        &["get", "NOPE"],
        "error: secret `NOPE` is not defined in profile `default`\n  hint: run `fnox list` to see the secrets, or `fnox set NOPE` to add it\n",
    );
}

#[test]
fn no_config_at_all() {
    let env = TestEnv::new();
    let out = env.fnox(&["get", "A"]).code(1);
    assert_eq!(
        env.redact(&stderr(&out)),
        "error: no fnox.toml in [TMP]/project or any parent directory\n  hint: run `fnox init` to create one, or pass `-c PATH`\n"
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::with_local();
    env.fnox(&["-P", "../x", "list"]).code(2);
    env.cmd().env("FNOX_IF_MISSING", "sometimes").args(["list"]).assert().code(2);
    env.fnox(&["get"]).code(2);
    env.fnox(&["exec"]).code(2);
    env.fnox(&["--bogus"]).code(2);
    env.fnox(&["help"]).success();
}

#[test]
fn config_text_is_shown_with_control_characters_escaped() {
    let env = TestEnv::with_local();
    // A provider name and a description that would set the terminal's
    // title (OSC ... BEL) and clear the screen (CSI, 8-bit CSI).
    env.write(
        "fnox.toml",
        "[providers.\"lo\\u001b]0;pwned\\u0007cal\"]\ntype = \"local\"\n\n[secrets]\n\
         A = { default = \"x\", description = \"\\u001b]0;pwned\\u0007 and \\u009b2J\" }\n",
    );
    let clean = |out: &assert_cmd::assert::Assert| {
        let o = out.get_output();
        for bytes in [&o.stdout, &o.stderr] {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains(['\u{1b}', '\u{7}', '\u{9b}']), "{text:?}");
        }
    };
    let out = env.fnox(&["list"]).success();
    clean(&out);
    assert_eq!(
        stdout(&out),
        "NAME  PROVIDER   DESCRIPTION                       FILE\n\
         A     (default)  \\u{1b}]0;pwned\\u{7} and \\u{9b}2J  fnox.toml:5\n"
    );
    let out = env.fnox(&["list", "--json"]).success();
    clean(&out);
    assert!(stdout(&out).contains("\"description\": \"\\u001b]0;pwned\\u0007 and \\u009b2J\""));
    let out = env.fnox(&["doctor"]).success();
    clean(&out);
    assert!(
        stdout(&out).contains("\n  lo\\u{1b}]0;pwned\\u{7}cal (local): ok  "),
        "{}",
        stdout(&out)
    );
    let out = env.fnox(&["doctor", "--json"]).success();
    clean(&out);
    // In an error: a secret naming a provider that is not defined.
    env.write(
        "fnox.toml",
        &(env.read("fnox.toml") + "B = { provider = \"ev\\u001b[2Jil\", value = \"abc\" }\n"),
    );
    let out = env.fnox(&["get", "B"]).code(1);
    clean(&out);
    assert_eq!(
        stderr(&out),
        "error: fnox.toml:6: secret `B` uses provider `ev\\u{1b}[2Jil`, which is not defined\n  \
         hint: defined providers: lo\\u{1b}]0;pwned\\u{7}cal\n"
    );
}
