//! Profiles that no file defines, and did-you-mean for mistyped names
//! (issue 11): a reading command refuses a profile that no loaded file
//! defines instead of falling back to the top level; `set` and `import`
//! into a new profile say that they create it; `remove` of a profile's
//! last entry leaves no empty table; an unknown secret name suggests the
//! nearest defined ones.

use assert_cmd::assert::Assert;

use crate::common::{TestEnv, stderr, stdout};

const FIXTURE: &str = r#"[providers.local]
type = "local"

[secrets]
API_TOKEN = { default = "dev-token" }
LOG_LEVEL = { default = "info" }

[profiles.production.secrets]
API_TOKEN = { default = "prod-token" }
"#;

fn project() -> TestEnv {
    let env = TestEnv::new();
    env.write("fnox.toml", FIXTURE);
    env
}

/// What every reading command says about profile `typo` of [`FIXTURE`].
fn unknown_profile(typo: &str, near: Option<&str>) -> String {
    let mut text = format!(
        "error: profile `{typo}` is not defined (no [profiles.{typo}] table in any loaded file, no fnox.{typo}.toml)\n"
    );
    if let Some(near) = near {
        text.push_str(&format!("  hint: did you mean `{near}`?\n"));
    }
    text.push_str(&format!(
        "  hint: defined profiles: default, production; to create `{typo}`, set a secret in it: `fnox -P {typo} set NAME`\n"
    ));
    text
}

/// `fnox ARGS` with `input` on stdin.
fn with_stdin(env: &TestEnv, args: &[&str], input: &str) -> Assert {
    let mut cmd = env.cmd();
    cmd.args(args).write_stdin(input);
    cmd.assert()
}

/// `fnox ARGS`, expecting exit 1 and nothing on stdout; returns stderr.
fn fails(env: &TestEnv, args: &[&str]) -> String {
    let out = env.fnox(args).code(1);
    assert_eq!(stdout(&out), "", "fnox {args:?}");
    stderr(&out)
}

#[test]
fn a_mistyped_profile_is_an_error_for_every_reading_command() {
    let env = project();
    let reading: &[&[&str]] = &[
        &["get", "API_TOKEN"],
        &["exec", "--", "true"],
        &["list"],
        &["export"],
        &["remove", "API_TOKEN"],
        &["doctor"],
        &["rotate", "--yes"],
        &["keys", "list"],
    ];
    for command in reading {
        let args: Vec<&str> = ["-P", "prodcution"].iter().chain(command.iter()).copied().collect();
        assert_eq!(fails(&env, &args), unknown_profile("prodcution", Some("production")));
    }
    // Far from every defined profile: no did-you-mean.
    assert_eq!(
        fails(&env, &["-P", "staging", "get", "API_TOKEN"]),
        unknown_profile("staging", None)
    );
    // Nothing was written.
    assert_eq!(env.read("fnox.toml"), FIXTURE);
    // The defined ones work, and `default` is always defined.
    assert_eq!(
        stdout(&env.fnox(&["-P", "production", "get", "API_TOKEN"]).success()),
        "prod-token\n"
    );
    assert_eq!(stdout(&env.fnox(&["-P", "default", "get", "API_TOKEN"]).success()), "dev-token\n");
}

#[test]
fn a_mistyped_fnox_profile_says_where_it_comes_from() {
    let env = project();
    let out = env.cmd().env("FNOX_PROFILE", "prodcution").args(["get", "API_TOKEN"]).assert();
    let out = out.code(1);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!(
            "{}  hint: the profile comes from FNOX_PROFILE in the environment; -P NAME overrides it\n",
            unknown_profile("prodcution", Some("production"))
        )
    );
    // -P wins over it.
    let out = env
        .cmd()
        .env("FNOX_PROFILE", "prodcution")
        .args(["-P", "production", "get", "API_TOKEN"])
        .assert();
    assert_eq!(stdout(&out.success()), "prod-token\n");
}

#[test]
fn a_profile_defined_only_by_its_file_or_an_empty_table_is_accepted() {
    let env = project();
    env.write("fnox.ci.toml", "[secrets]\nAPI_TOKEN = { default = \"ci-token\" }\n");
    assert_eq!(stdout(&env.fnox(&["-P", "ci", "get", "API_TOKEN"]).success()), "ci-token\n");
    // An empty profile file defines the profile too: it sees the top level.
    env.write("fnox.qa.toml", "");
    assert_eq!(stdout(&env.fnox(&["-P", "qa", "get", "API_TOKEN"]).success()), "dev-token\n");
    env.write("fnox.toml", &format!("{FIXTURE}\n[profiles.preview]\n"));
    assert_eq!(stdout(&env.fnox(&["-P", "preview", "get", "LOG_LEVEL"]).success()), "info\n");
    // A profile file outside the directory walk (here below it) does not count.
    env.write("other/fnox.elsewhere.toml", "");
    let out = fails(&env, &["-P", "elsewhere", "list"]);
    assert!(out.starts_with("error: profile `elsewhere` is not defined"), "{out}");
}

/// The stored `value` of `name` in `[profiles.PROFILE.secrets]` of fnox.toml.
fn profile_value(env: &TestEnv, profile: &str, name: &str) -> String {
    let doc: toml_edit::DocumentMut = env.read("fnox.toml").parse().unwrap();
    doc["profiles"][profile]["secrets"][name]["value"].as_str().unwrap().to_string()
}

#[test]
fn set_into_a_new_profile_says_that_it_creates_it() {
    let env = project();
    let out = with_stdin(&env, &["-P", "staging", "set", "API_TOKEN"], "stage-token");
    assert_eq!(
        stderr(&out.success()),
        "set API_TOKEN (provider `local`) in fnox.toml [profiles.staging.secrets] (new profile `staging`)\n"
    );
    let value = profile_value(&env, "staging", "API_TOKEN");
    assert_eq!(
        env.read("fnox.toml"),
        format!(
            "{FIXTURE}\n[profiles.staging.secrets]\nAPI_TOKEN = {{ provider = \"local\", value = \"{value}\" }}\n"
        )
    );
    assert_eq!(
        stdout(&env.fnox(&["-P", "staging", "get", "API_TOKEN"]).success()),
        "stage-token\n"
    );
    // The second value in it: the profile exists now.
    let out = with_stdin(&env, &["-P", "staging", "set", "LOG_LEVEL"], "debug");
    assert_eq!(
        stderr(&out.success()),
        "set LOG_LEVEL (provider `local`) in fnox.toml [profiles.staging.secrets]\n"
    );
    // A new profile near a defined one is created too, with a question.
    let out = with_stdin(&env, &["-P", "prodcution", "set", "API_TOKEN"], "oops");
    assert_eq!(
        stderr(&out.success()),
        "set API_TOKEN (provider `local`) in fnox.toml [profiles.prodcution.secrets] (new profile `prodcution`; did you mean `production`?)\n"
    );
}

#[test]
fn import_into_a_new_profile_says_that_it_creates_it() {
    let env = project();
    let out = with_stdin(&env, &["-P", "staging", "import"], "API_TOKEN=stage\n");
    assert_eq!(
        stderr(&out.success()),
        "imported 1 secret (provider `local`) into fnox.toml (new profile `staging`)\n"
    );
    let value = profile_value(&env, "staging", "API_TOKEN");
    assert_eq!(
        env.read("fnox.toml"),
        format!(
            "{FIXTURE}\n[profiles.staging.secrets]\nAPI_TOKEN = {{ provider = \"local\", value = \"{value}\" }}\n"
        )
    );
}

#[test]
fn removing_the_last_entry_of_a_profile_leaves_no_empty_table() {
    let env = TestEnv::new();
    let text = "# Project secrets.\n[providers.local]\ntype = \"local\"\n\n[secrets]\nAPI_TOKEN = { default = \"dev-token\" }  # dev\n\n# Staging overrides.\n[profiles.staging.secrets]\n# The staging token.\nAPI_TOKEN = { default = \"stage-token\" }\nLOG_LEVEL = { default = \"debug\" }\n\n[profiles.production]\nif_missing = \"warn\"\n\n[profiles.production.secrets]\nAPI_TOKEN = { default = \"prod-token\" }\n";
    env.write("fnox.toml", text);
    let out = env.fnox(&["-P", "staging", "remove", "API_TOKEN"]).success();
    assert_eq!(stderr(&out), "removed API_TOKEN from fnox.toml\n");
    let out = env.fnox(&["-P", "staging", "remove", "LOG_LEVEL"]).success();
    assert_eq!(
        stderr(&out),
        "removed LOG_LEVEL from fnox.toml, and the [profiles.staging] table it left empty\n"
    );
    let without_staging = "# Project secrets.\n[providers.local]\ntype = \"local\"\n\n[secrets]\nAPI_TOKEN = { default = \"dev-token\" }  # dev\n\n[profiles.production]\nif_missing = \"warn\"\n\n[profiles.production.secrets]\nAPI_TOKEN = { default = \"prod-token\" }\n";
    assert_eq!(env.read("fnox.toml"), without_staging);
    // The profile is gone with its table.
    let err = fails(&env, &["-P", "staging", "list"]);
    assert!(err.starts_with("error: profile `staging` is not defined"), "{err}");

    // A profile with settings of its own keeps them: only its secrets table goes.
    let out = env.fnox(&["-P", "production", "remove", "API_TOKEN"]).success();
    assert_eq!(
        stderr(&out),
        "removed API_TOKEN from fnox.toml, and the [profiles.production.secrets] table it left empty\n"
    );
    assert_eq!(
        env.read("fnox.toml"),
        "# Project secrets.\n[providers.local]\ntype = \"local\"\n\n[secrets]\nAPI_TOKEN = { default = \"dev-token\" }  # dev\n\n[profiles.production]\nif_missing = \"warn\"\n"
    );
    assert_eq!(
        stdout(&env.fnox(&["-P", "production", "get", "API_TOKEN"]).success()),
        "dev-token\n"
    );
}

#[test]
fn an_unknown_secret_suggests_the_nearest_defined_names() {
    let env = project();
    let not_defined = |typed: &str, near: &str| {
        format!(
            "error: secret `{typed}` is not defined in profile `default`\n  hint: did you mean {near}?\n  hint: run `fnox list` to see the secrets, or `fnox set {typed}` to add it\n"
        )
    };
    assert_eq!(fails(&env, &["get", "API_TOKE"]), not_defined("API_TOKE", "`API_TOKEN`"));
    assert_eq!(fails(&env, &["get", "api_token"]), not_defined("api_token", "`API_TOKEN`"));
    assert_eq!(fails(&env, &["remove", "LOG_LEVLE"]), not_defined("LOG_LEVLE", "`LOG_LEVEL`"));
    assert_eq!(
        fails(&env, &["exec", "--only", "API_TOKNE", "--", "true"]),
        not_defined("API_TOKNE", "`API_TOKEN`")
    );
    assert_eq!(
        fails(&env, &["export", "--only", "LOG_LEVE"]),
        not_defined("LOG_LEVE", "`LOG_LEVEL`")
    );
    env.write("fnox.toml", &format!("{FIXTURE}API_TOKEN2 = {{ default = \"x\" }}\n"));
    let out = fails(&env, &["-P", "production", "get", "API_TOKE"]);
    assert_eq!(
        out,
        "error: secret `API_TOKE` is not defined in profile `production`\n  hint: did you mean `API_TOKEN` or `API_TOKEN2`?\n  hint: run `fnox list` to see the secrets, or `fnox set API_TOKE` to add it\n"
    );
    // Nothing near: no did-you-mean.
    assert_eq!(
        fails(&env, &["get", "SENTRY_DSN"]),
        "error: secret `SENTRY_DSN` is not defined in profile `default`\n  hint: run `fnox list` to see the secrets, or `fnox set SENTRY_DSN` to add it\n"
    );
}

#[test]
fn rotate_suggests_the_nearest_secret_with_a_value() {
    let env = TestEnv::with_local();
    env.set("API_TOKEN", b"tok").success();
    assert_eq!(
        fails(&env, &["rotate", "API_TOKE", "--yes"]),
        "error: secret `API_TOKE` is not defined in profile `default`\n  hint: did you mean `API_TOKEN`?\n  hint: run `fnox list` to see the secrets, or `fnox set API_TOKE` to add it\n"
    );
}
