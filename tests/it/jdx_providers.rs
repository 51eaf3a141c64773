//! jdx/fnox's providers and keys (issue 12): the `plain` provider, provider
//! types fnox does not implement, keys with no effect here, an age identity
//! held by another provider, and aws-kms values jdx/fnox can read
//! (`bind_name = false`).

use base64::Engine as _;

use crate::common::{TestEnv, aws, create_kms_key, kms_endpoint, kms_project, stderr, stdout};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

const PLAIN: &str =
    "[providers.cfg]\ntype = \"plain\"\n\n[providers.local]\ntype = \"local\"\n\n[secrets]\n";

#[test]
fn plain_values_are_stored_as_written_and_read_back() {
    let env = TestEnv::new();
    env.write("fnox.toml", PLAIN);
    let out = env.cmd().args(["set", "LOG_LEVEL", "-p", "cfg"]).write_stdin("debug\n").assert();
    out.success().stderr(
        "set LOG_LEVEL (provider `cfg`, plain: stored as written, not encrypted) in fnox.toml\n",
    );
    assert_eq!(
        env.read("fnox.toml"),
        format!("{PLAIN}LOG_LEVEL = {{ provider = \"cfg\", value = \"debug\" }}\n")
    );
    env.fnox(&["get", "LOG_LEVEL"]).success().stdout("debug\n").stderr("");
    // Setting it again changes only the value, in place.
    env.cmd().args(["set", "LOG_LEVEL"]).write_stdin("info \"quoted\" ✓\n").assert().success();
    assert_eq!(
        env.read("fnox.toml"),
        format!("{PLAIN}LOG_LEVEL = {{ provider = \"cfg\", value = 'info \"quoted\" ✓' }}\n")
    );
    env.fnox(&["get", "LOG_LEVEL"]).success().stdout("info \"quoted\" ✓\n");
    // A value as jdx/fnox writes it, even one that starts like an envelope.
    env.write(
        "fnox.toml",
        &format!("{PLAIN}[secrets.HOST]\nprovider = \"cfg\"\nvalue = \"FNXE.example.com\"\n"),
    );
    env.fnox(&["get", "HOST"]).success().stdout("FNXE.example.com\n");
    // There is nothing to rotate in a plain value.
    let out = env.fnox(&["rotate", "--dry-run"]).success();
    assert_eq!(
        stdout(&out),
        "HOST  fnox.toml:8  unchanged   cfg\ndry run: 0 of 1 secrets would change; nothing was written\n"
    );
}

#[test]
fn a_plain_value_refuses_the_envelope_and_bytes_that_are_not_text() {
    let env = TestEnv::new();
    env.write("fnox.toml", PLAIN);
    let out = env.cmd().args(["set", "--envelope", "-p", "cfg", "A"]).write_stdin("x").assert();
    assert_eq!(
        env.redact(&stderr(&out.code(1))),
        "error: cannot encrypt secret `A` with provider `cfg` (for fnox.toml)\n  cause: the plain provider stores values as written; it has no envelope format\n"
    );
    let out =
        env.cmd().args(["set", "--raw", "-p", "cfg", "A"]).write_stdin(vec![0xff, 0]).assert();
    assert_eq!(
        env.redact(&stderr(&out.code(1))),
        "error: cannot encrypt secret `A` with provider `cfg` (for fnox.toml)\n  cause: a plain value is written into the config file as it is, so it must be UTF-8 text\n"
    );
    assert_eq!(env.read("fnox.toml"), PLAIN);
}

#[test]
fn a_plain_value_is_a_setting_unless_sensitive() {
    let env = TestEnv::new();
    env.write(
        "fnox.toml",
        &format!(
            "{PLAIN}LEVEL = {{ provider = \"cfg\", value = \"debug\" }}\nPASS = {{ provider = \"cfg\", value = \"hunter2\", sensitive = true }}\n"
        ),
    );
    let out = env.cmd().args(["set", "-p", "local", "TOKEN"]).write_stdin("tok-secret").assert();
    out.success();
    let script = "echo \"$LEVEL $PASS $TOKEN\"";
    let out = env.fnox(&["exec", "--redact", "--", "sh", "-c", script]).success();
    assert_eq!(stdout(&out), "debug [redacted:PASS] [redacted:TOKEN]\n");
    let out = env.fnox(&["list", "--json"]).success();
    let list: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let sensitive: Vec<(&str, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["sensitive"].as_bool().unwrap()))
        .collect();
    assert_eq!(sensitive, [("LEVEL", false), ("PASS", true), ("TOKEN", true)]);
}

#[test]
fn a_plain_provider_with_a_file_is_refused_when_used() {
    let env = TestEnv::new();
    env.write(
        "fnox.toml",
        "[providers.envfile]\ntype = \"plain\"\nfile = \"values.env\"\nformat = \"env\"\n\n[providers.cfg]\ntype = \"plain\"\n\n[secrets]\nA = { provider = \"envfile\", value = \"A\" }\nB = { provider = \"cfg\", value = \"b\" }\n",
    );
    env.fnox(&["get", "B"]).success().stdout("b\n");
    let out = env.fnox(&["get", "A"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: cannot use provider `envfile` (fnox.toml:1)\n  cause: reading values from a file (`file = \"values.env\"`) is not supported by fnox; put each value in its secret's `value`\n"
    );
    env.write("fnox.toml", "[providers.envfile]\ntype = \"plain\"\nfile = \"values.env\"\n");
    let out = env.fnox(&["list"]).code(1);
    assert_eq!(stderr(&out), "error: fnox.toml:1: provider `envfile` needs `format`\n");
}

/// A config as a team on jdx/fnox has it: providers fnox implements and
/// providers it does not.
const MIXED: &str = r#"default_provider = "local"

[providers.local]
type = "local"

[providers.op]
type = "1password"
vault = "Engineering"

[providers.vault]
type = "vault"
address = "https://vault.example.com:8200"
path = "secret/app"

[providers.bw]
type = "bitwarden"

[secrets]
LOG_LEVEL = { default = "info" }
STRIPE_KEY = { provider = "op", value = "op://Engineering/stripe/key" }
"#;

const MIXED_NOTE: &str = "note: fnox does not support the type of providers `bw` (bitwarden, fnox.toml:15), `op` (1password, fnox.toml:6), `vault` (vault, fnox.toml:10); a secret that needs one fails when it is read\n";

#[test]
fn providers_fnox_does_not_implement_load_and_fail_only_when_needed() {
    let env = TestEnv::new();
    env.write("fnox.toml", MIXED);
    env.set("DB_URL", b"postgres://db")
        .success()
        .stderr(format!("{MIXED_NOTE}set DB_URL (provider `local`) in fnox.toml\n"));
    env.fnox(&["get", "DB_URL"]).success().stdout("postgres://db\n").stderr(MIXED_NOTE);
    env.fnox(&["get", "LOG_LEVEL"]).success().stdout("info\n").stderr(MIXED_NOTE);
    env.fnox(&["-q", "get", "DB_URL"]).success().stdout("postgres://db\n").stderr("");
    let hint = "  hint: keep reading the secrets of `1password` providers with jdx/fnox, or set them again with a provider type fnox implements (local, age, plain, aws-kms, vault-transit): `fnox set NAME --provider PROVIDER`\n";
    let failure = format!(
        "error: cannot read secret `STRIPE_KEY`: provider `op` has type `1password`, which fnox does not support (fnox.toml:6)\n{hint}"
    );
    let out = env.fnox(&["get", "STRIPE_KEY"]).code(1);
    assert_eq!(stderr(&out), format!("{MIXED_NOTE}{failure}"));
    assert!(out.get_output().stdout.is_empty());
    // Every secret is selected: the one that needs `op` fails the command.
    let out = env.fnox(&["-q", "exec", "--", "true"]).code(1);
    assert_eq!(stderr(&out), failure);
    env.fnox(&["-q", "exec", "--", "sh", "-c", "echo $DB_URL"]).code(1).stdout("");
    let out = env.cmd().args(["-q", "set", "-p", "op", "NEW"]).write_stdin("x").assert().code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: provider `op` has type `1password`, which fnox does not support (fnox.toml:6)\n{hint}"
        )
    );
}

#[test]
fn doctor_reports_the_providers_fnox_does_not_implement() {
    let env = TestEnv::new();
    env.write("fnox.toml", MIXED);
    env.set("DB_URL", b"postgres://db").success();
    let out = env.fnox(&["-q", "doctor"]).code(1);
    let report = stdout(&out);
    let lines: Vec<&str> = report.lines().filter(|l| !l.starts_with("  local (local)")).collect();
    assert_eq!(
        lines,
        [
            "config files:",
            "  fnox.toml",
            "profile: default",
            "providers:",
            "  bw (bitwarden): not supported by fnox  encrypt -  decrypt -",
            "  op (1password): not supported by fnox  encrypt -  decrypt -",
            "  vault (vault): not supported by fnox  encrypt -  decrypt -",
            "secrets (3):",
            "  LOG_LEVEL   default   fnox.toml:19",
            "  STRIPE_KEY  FAILED    fnox.toml:20",
            "  DB_URL      ok        fnox.toml:21",
        ]
    );
    // The provider fnox implements is probed as usual.
    assert!(report.contains("  local (local): ok  encrypt "), "{report}");
    assert_eq!(
        stderr(&out),
        "error: 1 problem found\n  - cannot read secret `STRIPE_KEY`: provider `op` has type `1password`, which fnox does not support (fnox.toml:6)\n    hint: keep reading the secrets of `1password` providers with jdx/fnox, or set them again with a provider type fnox implements (local, age, plain, aws-kms, vault-transit): `fnox set NAME --provider PROVIDER`\n"
    );
}

/// Every key of jdx/fnox's schema that has no effect here.
const NO_EFFECT: &str = r#"prompt_auth = true
age_key_file = "~/.config/fnox/age.txt"

[daemon]
enabled = true
idle_timeout = "8h"

[mcp]
tools = ["get_secret"]

[proxy]
egress = "strict"

[leases.aws]
type = "aws-sts"

[providers.local]
type = "local"
auth_command = "true"
daemon_cache = false

[profiles.ci]
leases = { gh = { type = "github-app" } }

[secrets]
LOG_LEVEL = { default = "info", daemon_cache = false }
API = { default = "x", sync = { provider = "local", value = "AQ==" } }
"#;

#[test]
fn jdx_keys_with_no_effect_load_with_one_note() {
    let env = TestEnv::new();
    env.write("fnox.toml", NO_EFFECT);
    let out = env.fnox(&["get", "LOG_LEVEL"]).success().stdout("info\n");
    assert_eq!(
        stderr(&out),
        "note: these jdx/fnox settings have no effect in fnox: `prompt_auth` (fnox.toml:1), `age_key_file` (fnox.toml:2), `daemon` (fnox.toml:4), `mcp` (fnox.toml:8), `proxy` (fnox.toml:11), `leases` (fnox.toml:14), `providers.local.auth_command` (fnox.toml:19), `providers.local.daemon_cache` (fnox.toml:20), `profiles.ci.leases` (fnox.toml:23), `secrets.LOG_LEVEL.daemon_cache` (fnox.toml:26), `secrets.API.sync` (fnox.toml:27)\n"
    );
    env.fnox(&["-q", "get", "LOG_LEVEL"]).success().stdout("info\n").stderr("");
    // The file is not touched by reading it.
    assert_eq!(env.read("fnox.toml"), NO_EFFECT);
}

#[test]
fn a_key_neither_tool_knows_is_an_error_with_did_you_mean() {
    let env = TestEnv::new();
    let cases = [
        (
            "daemn = { enabled = true }\n",
            "error: fnox.toml:1: unknown key `daemn` in the top level\n  hint: did you mean `daemon`?\n  hint: allowed keys here: `root`, `import`, `default_provider`, `if_missing`, `providers`, `secrets`, `profiles`, `trusted_dirs`, `env`, `scan`, `data_keys`, `max_key_age`\n",
        ),
        (
            "[providers.op]\ntype = \"1password\"\nvalut = \"Dev\"\n",
            "error: fnox.toml:3: unknown key `valut` in provider `op`\n  hint: did you mean `vault`?\n  hint: allowed keys here: `type`, `vault`, `account`, `token`\n",
        ),
        (
            "[providers.local]\ntype = \"local\"\nauth_comand = \"x\"\n",
            "error: fnox.toml:3: unknown key `auth_comand` in provider `local`\n  hint: did you mean `auth_command`?\n  hint: allowed keys here: `type`, `key_file`, `envelope`, `key_store`, `max_key_age`\n",
        ),
        (
            "[secrets]\nA = { default = \"a\", synk = {} }\n",
            "error: fnox.toml:2: unknown key `synk` in secret `A`\n  hint: did you mean `sync`?\n  hint: allowed keys here: `provider`, `value`, `default`, `sensitive`, `description`, `if_missing`, `allow_exec_control`, `env`, `as_file`, `json_path`, `line`\n",
        ),
    ];
    for (text, expected) in cases {
        env.write("fnox.toml", text);
        let out = env.fnox(&["list"]).code(1);
        assert_eq!(stderr(&out), expected, "{text}");
    }
}

/// Writes an age identity file `name` in the project (mode 0600) and
/// returns its recipient.
fn age_identity(env: &TestEnv, name: &str) -> String {
    use age::secrecy::ExposeSecret as _;
    use std::os::unix::fs::PermissionsExt as _;
    let id = age::x25519::Identity::generate();
    let path = env.project.join(name);
    std::fs::write(&path, format!("{}\n", id.to_string().expose_secret())).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    id.to_public().to_string()
}

#[test]
fn an_age_identity_held_by_the_local_provider() {
    let env = TestEnv::new();
    let recipient = age_identity(&env, "team.txt");
    env.write("fnox.toml", "[providers.local]\ntype = \"local\"\n\n[secrets]\n");
    let identity = std::fs::read(env.project.join("team.txt")).unwrap();
    env.cmd().args(["set", "--raw", "FNOX_AGE_IDENTITY"]).write_stdin(identity).assert().success();
    let held = env.stored("FNOX_AGE_IDENTITY");
    env.fnox(&["remove", "FNOX_AGE_IDENTITY"]).success();
    std::fs::remove_file(env.project.join("team.txt")).unwrap();
    let providers = format!(
        "[providers.local]\ntype = \"local\"\n\n[providers.age]\ntype = \"age\"\nrecipients = [\"{recipient}\"]\nidentity = {{ provider = \"local\", value = \"{held}\" }}\n\n[secrets]\n"
    );
    env.write("fnox.toml", &providers);
    env.cmd().args(["set", "-p", "age", "API_TOKEN"]).write_stdin("tok-age").assert().success();
    env.fnox(&["get", "API_TOKEN"]).success().stdout("tok-age\n").stderr("");
    // No age.txt, no FNOX_AGE_KEY_FILE: the identity came from `local`.
    assert!(!env.config_dir.join("age.txt").exists());

    // Held under another name, the value does not open.
    let moved = env.read("fnox.toml").replace(&held, &B64.encode(b"not the identity"));
    env.write("fnox.toml", &moved);
    let out = env.fnox(&["get", "API_TOKEN"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: cannot decrypt secret `API_TOKEN` (provider `age`, fnox.toml:10)\n  cause: cannot decrypt the age identity held by provider `local`\n  cause: the stored value is truncated: 16 bytes is too short for a `local` ciphertext\n  hint: the identity's `value` is what provider `local` stores for a secret named FNOX_AGE_IDENTITY: make one with `fnox set FNOX_AGE_IDENTITY --provider local < IDENTITY_FILE`, move its `value` into `identity`, then `fnox remove FNOX_AGE_IDENTITY`\n"
    );
}

#[test]
fn an_age_identity_that_leads_back_to_its_provider_is_an_error() {
    let env = TestEnv::new();
    let recipient = age_identity(&env, "a.txt");
    env.write(
        "fnox.toml",
        &format!(
            "[providers.a]\ntype = \"age\"\nrecipients = [\"{recipient}\"]\nidentity = {{ provider = \"b\", value = \"x\" }}\n\n[providers.b]\ntype = \"age\"\nrecipients = [\"{recipient}\"]\nidentity = {{ provider = \"a\", value = \"y\" }}\n\n[secrets]\n"
        ),
    );
    let out = env.cmd().args(["set", "-p", "a", "A"]).write_stdin("x").assert().code(1);
    assert_eq!(
        stderr(&out),
        "error: cannot use provider `a` (fnox.toml:1)\n  cause: the `identity` of age provider `a` leads back to it: `a` -> `b` -> `a`\n"
    );
}

#[test]
fn an_age_key_file_comes_before_fnox_age_key_file_as_in_jdx_fnox() {
    let env = TestEnv::new();
    let alice = age_identity(&env, "alice.txt");
    age_identity(&env, "bob.txt");
    env.write(
        "fnox.toml",
        &format!(
            "[providers.age]\ntype = \"age\"\nrecipients = [\"{alice}\"]\nkey_file = \"alice.txt\"\n\n[secrets]\n"
        ),
    );
    env.set("A", b"for alice").success();
    let bob = env.project.join("bob.txt");
    let out = env.cmd().env("FNOX_AGE_KEY_FILE", &bob).args(["get", "A"]).assert();
    out.success().stdout("for alice\n");
    // FNOX_AGE_KEY (the identity itself) still comes first.
    let key = std::fs::read_to_string(&bob).unwrap();
    let out = env.cmd().env("FNOX_AGE_KEY", key.trim()).args(["get", "A"]).assert().code(1);
    assert!(stderr(&out).contains("none of the age identities from FNOX_AGE_KEY can decrypt it"));
}

/// A KMS project whose provider says `bind_name = false`.
fn unbound_kms_project(endpoint: &str) -> (TestEnv, String) {
    let (_, _, alias) = create_kms_key(endpoint);
    let env = kms_project(endpoint, &alias);
    let text = env.read("fnox.toml").replace("\n\n[secrets]", "\nbind_name = false\n\n[secrets]");
    env.write("fnox.toml", &text);
    (env, alias)
}

/// `aws kms decrypt` of the stored value of `name`, with no EncryptionContext.
fn aws_decrypt_without_context(env: &TestEnv, endpoint: &str, name: &str) -> Vec<u8> {
    let blob = env.project.join(format!("{name}.blob"));
    std::fs::write(&blob, env.stored_bytes(name)).unwrap();
    let plain = aws(
        endpoint,
        &[
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &format!("fileb://{}", blob.display()),
            "--query",
            "Plaintext",
            "--output",
            "text",
        ],
    );
    B64.decode(plain).unwrap()
}

#[test]
fn with_bind_name_false_the_aws_cli_decrypts_without_context() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (env, _) = unbound_kms_project(&endpoint);
    env.set("API_TOKEN", b"tok-123")
        .success()
        .stderr("set API_TOKEN (provider `kms`) in fnox.toml\n");
    assert_eq!(aws_decrypt_without_context(&env, &endpoint, "API_TOKEN"), b"tok-123");
    // fnox reads it without a note: unbound is what the provider asks for.
    env.fnox(&["get", "API_TOKEN"]).success().stdout("tok-123\n").stderr("");
    // Unbound, a value moved to another name opens there (the price of
    // jdx/fnox compatibility).
    env.set("OTHER", b"other").success();
    env.swap_stored("API_TOKEN", "OTHER");
    env.fnox(&["get", "OTHER"]).success().stdout("tok-123\n");
}

#[test]
fn doctor_shows_unbound_values_and_rotate_binds_them_when_the_setting_goes() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (env, _) = unbound_kms_project(&endpoint);
    env.set("A", b"value a").success();
    env.set("B", b"value b").success();
    let out = env.fnox(&["doctor"]).success();
    assert!(
        stdout(&out)
            .ends_with("secrets (2):\n  A  unbound   fnox.toml:8\n  B  unbound   fnox.toml:9\n")
    );
    assert_eq!(
        stderr(&out),
        "note: 2 values are not bound to their names (A, B), as `bind_name = false` of provider `kms` says; remove that setting and run `fnox rotate` to bind them\n"
    );
    // The setting goes: the values still open (with the usual note), and
    // rotate binds them.
    env.write("fnox.toml", &env.read("fnox.toml").replace("bind_name = false\n", ""));
    let out = env.fnox(&["doctor"]).success();
    assert!(
        stdout(&out)
            .ends_with("secrets (2):\n  A  unbound   fnox.toml:7\n  B  unbound   fnox.toml:8\n")
    );
    assert_eq!(
        stderr(&out),
        "note: secret `A` is not bound to its name (it was encrypted without EncryptionContext); `fnox rotate` will bind it\nnote: 2 values are not bound to their names (A, B): encrypted without EncryptionContext (by jdx/fnox or `aws kms encrypt`); `fnox rotate` binds them\n"
    );
    let out = env.fnox(&["-q", "rotate", "--dry-run"]).success();
    assert_eq!(
        stdout(&out),
        "A  fnox.toml:7  upgrade     kms\nB  fnox.toml:8  upgrade     kms\ndry run: 2 of 2 secrets would change; nothing was written\n"
    );
    env.fnox(&["-q", "rotate", "--yes"]).success();
    let out = env.fnox(&["doctor"]).success().stderr("");
    assert!(
        stdout(&out)
            .ends_with("secrets (2):\n  A  ok        fnox.toml:7\n  B  ok        fnox.toml:8\n")
    );
    env.fnox(&["get", "A"]).success().stdout("value a\n").stderr("");
    // Bound now: the swap fails.
    env.swap_stored("A", "B");
    env.fnox(&["get", "A"]).code(1);
}

#[test]
fn with_bind_name_false_rotate_unbinds_values_bound_before() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (_, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    env.set("A", b"bound first").success();
    let text = env.read("fnox.toml").replace("\n\n[secrets]", "\nbind_name = false\n\n[secrets]");
    env.write("fnox.toml", &text);
    // A value bound before the setting still opens, silently.
    env.fnox(&["get", "A"]).success().stdout("bound first\n").stderr("");
    let out = env.fnox(&["-q", "rotate", "--yes"]).success();
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    assert_eq!(aws_decrypt_without_context(&env, &endpoint, "A"), b"bound first");
    let out = env.fnox(&["-q", "rotate", "--dry-run"]).success();
    assert_eq!(
        stdout(&out),
        "A  fnox.toml:8  unchanged   kms\ndry run: 0 of 1 secrets would change; nothing was written\n"
    );
}
