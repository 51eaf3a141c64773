//! Plain settings are not secrets: a value from `default` is shown as it is
//! by `exec --redact` and not masked by `export --format github`, unless its
//! entry says `sensitive = true`; a value fnox decrypts is always secret,
//! and `sensitive = false` next to one is refused.

use crate::{
    common::{TestEnv, stderr, stdout},
    export::parse_github_env,
};

/// An encrypted `API_TOKEN`, a plain `LOG_LEVEL` and a sensitive default.
fn project() -> TestEnv {
    let env = TestEnv::with_local();
    env.set("API_TOKEN", b"tok_live_5f2c").success();
    let text = env.read("fnox.toml")
        + "LOG_LEVEL = { default = \"debug\" }\n\
           DEV_PASSWORD = { default = \"hunter2-dev\", sensitive = true }\n";
    env.write("fnox.toml", &text);
    env
}

#[test]
fn exec_redact_shows_a_plain_default_and_hides_secrets() {
    let env = project();
    let script = "echo \"log level is $LOG_LEVEL\"; echo \"debug: $API_TOKEN $DEV_PASSWORD\" >&2";
    let out = env.fnox(&["exec", "--redact", "--", "sh", "-c", script]).success();
    assert_eq!(stdout(&out), "log level is debug\n");
    assert_eq!(stderr(&out), "debug: [redacted:API_TOKEN] [redacted:DEV_PASSWORD]\n");
}

#[test]
fn export_github_masks_only_the_secret_values() {
    let env = project();
    let out = env.fnox(&["export", "--format", "github", "-o", "gh.env"]).success();
    assert_eq!(stdout(&out), "::add-mask::tok_live_5f2c\n::add-mask::hunter2-dev\n");
    assert_eq!(stderr(&out), "exported 3 secrets to gh.env\n");
    // Every value still reaches the later steps.
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    };
    assert_eq!(
        parse_github_env(&env.read("gh.env")),
        pairs(&[
            ("API_TOKEN", "tok_live_5f2c"),
            ("LOG_LEVEL", "debug"),
            ("DEV_PASSWORD", "hunter2-dev"),
        ])
    );
}

#[test]
fn list_json_says_which_are_sensitive_and_shows_a_sensitive_default_with_values_only() {
    let env = project();
    let listed = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = env.fnox(args).success();
        let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        json.as_array()
            .unwrap()
            .iter()
            .map(|o| serde_json::json!([o["name"], o["sensitive"], o["default"]]))
            .collect()
    };
    assert_eq!(
        listed(&["list", "--json"]),
        [
            serde_json::json!(["API_TOKEN", true, null]),
            serde_json::json!(["LOG_LEVEL", false, "debug"]),
            serde_json::json!(["DEV_PASSWORD", true, null]),
        ]
    );
    assert_eq!(
        listed(&["list", "--json", "--values"]),
        [
            serde_json::json!(["API_TOKEN", true, null]),
            serde_json::json!(["LOG_LEVEL", false, "debug"]),
            serde_json::json!(["DEV_PASSWORD", true, "hunter2-dev"]),
        ]
    );
}

#[test]
fn sensitive_false_next_to_an_encrypted_value_is_refused() {
    let env = project();
    let text = env.read("fnox.toml");
    let broken =
        text.replace("API_TOKEN = { provider", "API_TOKEN = { sensitive = false, provider");
    assert_ne!(broken, text);
    env.write("fnox.toml", &broken);
    let out = env.fnox(&["exec", "--redact", "--", "true"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: fnox.toml:11: secret `API_TOKEN` has an encrypted value, which is always secret: `sensitive = false` cannot apply to it\n  \
         hint: remove `sensitive = false` from API_TOKEN: a value fnox decrypts is always redacted and masked; `sensitive` is about a plain `default` only\n"
    );
    assert_eq!(stdout(&out), "");
    // Not a boolean: refused like any other key of the wrong type.
    env.write("fnox.toml", &text.replace("sensitive = true", "sensitive = \"yes\""));
    let out = env.fnox(&["list"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: fnox.toml:13: in secret `DEV_PASSWORD`: `sensitive` must be true or false\n"
    );
}

#[test]
fn set_and_import_refuse_an_entry_that_says_not_sensitive_and_write_nothing() {
    let env = project();
    let text = env.read("fnox.toml").replace(
        "LOG_LEVEL = { default = \"debug\" }",
        "LOG_LEVEL = { default = \"debug\", sensitive = false }",
    );
    env.write("fnox.toml", &text);
    let refusal = "error: cannot update fnox.toml\n  \
         cause: secret `LOG_LEVEL` says `sensitive = false`, and a value fnox encrypts is always secret\n  \
         hint: remove `sensitive = false` from LOG_LEVEL: a value fnox decrypts is always redacted and masked; `sensitive` is about a plain `default` only\n";
    let out = env.set("LOG_LEVEL", b"trace").code(1);
    assert_eq!(stderr(&out), refusal);
    assert_eq!(env.read("fnox.toml"), text);
    // `import` writes values too: refused at the write, with nothing written.
    let out = env
        .cmd()
        .args(["import", "--force"])
        .write_stdin("LOG_LEVEL=trace\nOTHER=x\n")
        .assert()
        .code(1);
    assert_eq!(stderr(&out), refusal);
    assert_eq!(env.read("fnox.toml"), text);
    // Marked sensitive (or not marked), a default entry takes a value.
    env.set("DEV_PASSWORD", b"from-the-vault").success();
    assert_eq!(env.get("DEV_PASSWORD"), b"from-the-vault");
}
