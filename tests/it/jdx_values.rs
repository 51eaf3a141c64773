//! jdx/fnox's ways of shaping what a secret gives (issue 12, T6): a part of
//! the value (`json_path`, `line`), defaults that use other secrets
//! (`${NAME}`), the variable of the secret's own name when it has neither
//! value nor default, `FNOX_IF_MISSING_DEFAULT`, and an explicit `warn` or
//! `ignore` covering a value that cannot be decrypted. `get`, `exec`,
//! `export` and `list --values` agree, since they all go through the core.

use crate::{
    common::{TestEnv, stderr, stdout},
    export::parse_github_env,
};

const JSON: &str = r#"{"db": {"password": "pw-123", "port": 5432, "tls": null}, "a.b": "dotted"}"#;

/// A project with the JSON above encrypted as `DB_SRC`, and `extra`
/// appended to its `[secrets]`.
fn project(extra: &str) -> TestEnv {
    let env = TestEnv::with_local();
    env.set("DB_SRC", JSON.as_bytes()).success();
    env.write("fnox.toml", &(env.read("fnox.toml") + extra));
    env
}

/// `fnox.toml:N` of the line that starts with `prefix`.
fn at(env: &TestEnv, prefix: &str) -> String {
    let text = env.read("fnox.toml");
    let line = text.lines().position(|l| l.starts_with(prefix)).expect(prefix) + 1;
    format!("fnox.toml:{line}")
}

/// Runs `fnox ARGS` with `vars`; the assertion.
fn run(env: &TestEnv, vars: &[(&str, &str)], args: &[&str]) -> assert_cmd::assert::Assert {
    env.cmd().envs(vars.iter().copied()).args(args).write_stdin(Vec::<u8>::new()).assert()
}

#[test]
fn json_path_takes_a_member_for_get_exec_export_and_list() {
    let env = project(
        "DB_PASSWORD = { default = \"${DB_SRC}\", json_path = \"db.password\" }\n\
         DB_PORT = { default = \"${DB_SRC}\", json_path = \"db.port\" }\n\
         DB_TLS = { default = \"${DB_SRC}\", json_path = \"db.tls\" }\n\
         DOTTED = { default = \"${DB_SRC}\", json_path = \"a\\\\.b\" }\n",
    );
    // On an encrypted value directly, too.
    env.set("DB_OBJECT", JSON.as_bytes()).success();
    let text = env.read("fnox.toml").replace("DB_OBJECT = {", "DB_OBJECT = { json_path = \"db\",");
    env.write("fnox.toml", &text);
    assert_eq!(env.get("DB_PASSWORD"), b"pw-123");
    assert_eq!(env.get("DB_PORT"), b"5432");
    assert_eq!(env.get("DB_TLS"), b"null");
    assert_eq!(env.get("DOTTED"), b"dotted");
    // An object is given as the JSON it is written as.
    assert_eq!(env.get("DB_OBJECT"), br#"{"password": "pw-123", "port": 5432, "tls": null}"#);
    let script = "echo \"$DB_PASSWORD $DB_PORT $DB_TLS $DOTTED\"";
    let out = env.fnox(&["exec", "--", "sh", "-c", script]).success();
    assert_eq!(stdout(&out), "pw-123 5432 null dotted\n");
    let out = env.fnox(&["export", "--only", "DB_PASSWORD,DOTTED"]).success();
    assert_eq!(stdout(&out), "DB_PASSWORD='pw-123'\nDOTTED='dotted'\n");
    let out = env.fnox(&["list", "--values"]).success();
    let row = stdout(&out).lines().find(|l| l.starts_with("DB_PORT")).unwrap().to_string();
    assert!(row.ends_with(&format!("{}  5432", at(&env, "DB_PORT"))), "{row}");
}

#[test]
fn line_takes_one_line_counted_from_one() {
    let env = TestEnv::with_local();
    env.set("CERTS", b"first\r\nsecond\nthird\n").success();
    let text = env.read("fnox.toml").replace("CERTS = {", "CERTS = { line = 2,")
        + "LAST = { default = \"a\\nb\\nc\\n\", line = 3 }\n";
    env.write("fnox.toml", &text);
    assert_eq!(env.get("CERTS"), b"second");
    assert_eq!(env.get("LAST"), b"c");
    let out = env.fnox(&["exec", "--", "sh", "-c", "echo \"[$CERTS] [$LAST]\""]).success();
    assert_eq!(stdout(&out), "[second] [c]\n");
}

#[test]
fn a_part_that_is_not_there_fails_naming_the_secret_never_the_value() {
    let env = project(
        "NOT_JSON = { default = \"hunter2\", json_path = \"db.password\" }\n\
         NO_KEY = { default = \"${DB_SRC}\", json_path = \"db.user\" }\n\
         NOT_OBJECT = { default = \"${DB_SRC}\", json_path = \"db.port.x\" }\n\
         SHORT = { default = \"hunter2\\nline two\\n\", line = 3 }\n",
    );
    let cases = [
        (
            "NOT_JSON",
            "json_path `db.password`",
            "the value is not valid JSON (error at line 1, column 1)",
        ),
        ("NO_KEY", "json_path `db.user`", "the value has no key `user` in `db`"),
        ("NOT_OBJECT", "json_path `db.port.x`", "`db.port` in the value is not a JSON object"),
        ("SHORT", "line 3", "the value has 2 lines"),
    ];
    for (name, part, cause) in cases {
        let out = env.fnox(&["get", name]).code(1);
        let at = at(&env, &format!("{name} = "));
        assert_eq!(
            stderr(&out),
            format!("error: cannot take {part} from secret `{name}` ({at})\n  cause: {cause}\n")
        );
        assert_eq!(stdout(&out), "");
    }
    // exec fails the same way, before running anything.
    let out = env.fnox(&["exec", "--only", "NO_KEY", "--", "echo", "ran"]).code(1);
    assert_eq!(stdout(&out), "");
    assert!(!stderr(&out).contains("pw-123"), "{}", stderr(&out));
}

#[test]
fn json_path_with_line_or_a_bad_line_is_a_config_error_with_its_place() {
    let env = project("BOTH = { default = \"{}\",\n  json_path = \"a\",\n  line = 1 }\n");
    let line = at(&env, "  line = 1");
    let out = env.fnox(&["list"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: {line}: secret `BOTH` has both `json_path` and `line`: it can use one or the other\n"
        )
    );
    let env = project(
        "ZERO = { default = \"x\", line = 0 }\nEMPTY = { default = \"x\", json_path = \"\" }\n",
    );
    let out = env.fnox(&["get", "ZERO"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: in secret `ZERO`: `line` must be a whole number, 1 or more\n",
            at(&env, "ZERO")
        )
    );
    env.write(
        "fnox.toml",
        &env.read("fnox.toml").replace("ZERO = { default = \"x\", line = 0 }\n", ""),
    );
    let out = env.fnox(&["get", "EMPTY"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: in secret `EMPTY`: `json_path` must be a path such as \"db.password\" (not empty)\n",
            at(&env, "EMPTY")
        )
    );
}

#[test]
fn a_default_uses_other_secrets_declared_in_any_order() {
    let env = project(
        "DATABASE_URL = { default = \"postgres://${DB_USER}:${DB_PASSWORD}@${DB_HOST}/app\" }\n\
         LOG_PREFIX = { default = \"${DB_USER}@${DB_HOST}\" }\n\
         DB_USER = { default = \"app\" }\n\
         DB_HOST = { default = \"db.internal\" }\n\
         DB_PASSWORD = { default = \"${DB_SRC}\", json_path = \"db.password\" }\n",
    );
    assert_eq!(env.get("DATABASE_URL"), b"postgres://app:pw-123@db.internal/app");
    assert_eq!(env.get("LOG_PREFIX"), b"app@db.internal");
    // A default that holds a secret value is secret: redacted and masked;
    // one made of plain settings is not.
    let script = "echo \"$LOG_PREFIX $DATABASE_URL\"";
    let out = env.fnox(&["exec", "--redact", "--", "sh", "-c", script]).success();
    assert_eq!(stdout(&out), "app@db.internal [redacted:DATABASE_URL]\n");
    let only = "DATABASE_URL,LOG_PREFIX";
    let out = env.fnox(&["export", "--format", "github", "-o", "gh.env", "--only", only]).success();
    assert_eq!(stdout(&out), "::add-mask::postgres://app:pw-123@db.internal/app\n");
    let got = parse_github_env(&env.read("gh.env"));
    assert_eq!(got[1], ("LOG_PREFIX".to_string(), "app@db.internal".to_string()));
    let out = env.fnox(&["list", "--json"]).success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let sensitive: Vec<(String, bool)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap().to_string(), o["sensitive"].as_bool().unwrap()))
        .filter(|(n, _)| ["DATABASE_URL", "LOG_PREFIX"].contains(&n.as_str()))
        .collect();
    assert_eq!(sensitive, [("DATABASE_URL".into(), true), ("LOG_PREFIX".into(), false)]);
}

#[test]
fn a_literal_dollar_brace_and_an_unclosed_one_stay_as_written() {
    let env = project("TEMPLATE = { default = \"$${HOME} costs $5; ${ unclosed\" }\n");
    assert_eq!(env.get("TEMPLATE"), b"${HOME} costs $5; ${ unclosed");
}

#[test]
fn undefined_references_and_cycles_are_errors_whatever_if_missing_says() {
    let env = project(
        "URL = { default = \"https://${HSOT}/\" }\n\
         HOST = { default = \"example.com\" }\n\
         A = { default = \"${B}\" }\n\
         B = { default = \"x-${A}\" }\n\
         EMPTY = { default = \"${}\" }\n",
    );
    for args in
        [&["get", "URL"][..], &["--if-missing", "ignore", "exec", "--only", "URL", "--", "true"]]
    {
        let out = env.fnox(args).code(1);
        assert_eq!(
            stderr(&out),
            format!(
                "error: {}: the default of secret `URL` uses `${{HSOT}}`, but profile `default` has no secret `HSOT`\n  hint: did you mean `HOST`?\n  hint: run `fnox list` to see the secrets, or `fnox set HSOT` to add it\n",
                at(&env, "URL")
            )
        );
    }
    let out = run(&env, &[("FNOX_IF_MISSING", "warn")], &["get", "B"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: the defaults of secrets use each other in a cycle: B -> A -> B\n",
            at(&env, "B = ")
        )
    );
    let out = env.fnox(&["get", "EMPTY"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: the default of secret `EMPTY` has an empty reference `${{}}`\n  hint: write `$${{` for a literal `${{` in a default\n",
            at(&env, "EMPTY")
        )
    );
    // A secret that uses none of them is not affected.
    assert_eq!(env.get("HOST"), b"example.com");
}

#[test]
fn a_default_that_uses_a_secret_without_a_value_fails_unless_told_otherwise() {
    let env = project(
        "DSN = { default = \"https://${SENTRY_KEY}@sentry.io/1\" }\n\
         SENTRY_KEY = { description = \"ask ops\" }\n",
    );
    let (dsn, key) = (at(&env, "DSN"), at(&env, "SENTRY_KEY"));
    let out = env.fnox(&["get", "DSN"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: the default of secret `DSN` ({dsn}) uses `${{SENTRY_KEY}}`, which has no value\n  hint: set it with `fnox set SENTRY_KEY`\n  hint: or give SENTRY_KEY `default = \"\"` if it may be empty\n"
        )
    );
    let script = "echo \"[${DSN-unset}]\"";
    let out = run(
        &env,
        &[("FNOX_IF_MISSING", "warn")],
        &["exec", "--only", "DSN,SENTRY_KEY", "--", "sh", "-c", script],
    );
    let out = out.success();
    assert_eq!(stdout(&out), "[unset]\n");
    assert_eq!(
        stderr(&out),
        format!(
            "warning: the default of secret `DSN` ({dsn}) uses `${{SENTRY_KEY}}`, which has no value; running without it\n  hint: set it with `fnox set SENTRY_KEY`\n  hint: or give SENTRY_KEY `default = \"\"` if it may be empty\nwarning: secret `SENTRY_KEY` has no value ({key}); running without it\n"
        )
    );
    // The variable of its name gives it a value.
    let out = run(&env, &[("SENTRY_KEY", "k-1")], &["get", "DSN"]).success();
    assert_eq!(stdout(&out), "https://k-1@sentry.io/1\n");
}

#[test]
fn a_secret_without_value_or_default_takes_the_variable_of_its_name() {
    let env = project(
        "CI_TOKEN = { description = \"set by the CI\" }\n\
         CI_CONFIG = { json_path = \"region\" }\n\
         LOG_LEVEL = { sensitive = false }\n\
         FNOX_AGE_KEY = { description = \"never from the environment\" }\n",
    );
    let vars = [
        ("CI_TOKEN", "tok-from-ci"),
        ("CI_CONFIG", r#"{"region": "eu-west-1"}"#),
        ("LOG_LEVEL", "debug"),
        ("FNOX_AGE_KEY", "AGE-SECRET-KEY-1NOTAKEY"),
    ];
    let out = run(&env, &vars, &["get", "CI_TOKEN"]).success();
    assert_eq!(stdout(&out), "tok-from-ci\n");
    let out = run(&env, &vars, &["get", "CI_CONFIG"]).success();
    assert_eq!(stdout(&out), "eu-west-1\n");
    // From the environment, a value is secret unless the entry says
    // `sensitive = false`.
    let only = "CI_TOKEN,CI_CONFIG,LOG_LEVEL";
    let out = run(&env, &vars, &["export", "--format", "github", "-o", "gh.env", "--only", only]);
    assert_eq!(stdout(&out.success()), "::add-mask::tok-from-ci\n::add-mask::eu-west-1\n");
    // Set to nothing is a value; not set is a missing secret.
    let out = run(&env, &[("CI_TOKEN", "")], &["get", "CI_TOKEN"]).success();
    assert_eq!(stdout(&out), "\n");
    let out = env.fnox(&["get", "CI_TOKEN"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: secret `CI_TOKEN` has no value ({})\n  hint: set it with `fnox set CI_TOKEN`\n",
            at(&env, "CI_TOKEN")
        )
    );
    // Key material that exec keeps from its command never comes back as a
    // secret.
    let out = run(&env, &vars, &["get", "FNOX_AGE_KEY"]).code(1);
    assert!(
        stderr(&out).starts_with("error: secret `FNOX_AGE_KEY` has no value"),
        "{}",
        stderr(&out)
    );
    let out = run(&env, &vars, &["exec", "--", "sh", "-c", "echo \"[${FNOX_AGE_KEY-unset}]\""]);
    assert_eq!(stdout(&out.success()), "[unset]\n");
}

#[test]
fn fnox_if_missing_default_sits_below_the_config_and_above_the_command_default() {
    let env = project("MISSING = { description = \"not set\" }\n");
    let missing = at(&env, "MISSING");
    let no_value = format!(
        "error: secret `MISSING` has no value ({missing})\n  hint: set it with `fnox set MISSING`\n"
    );
    // Over the command's default: get errors by default, exec warns.
    run(&env, &[("FNOX_IF_MISSING_DEFAULT", "ignore")], &["get", "MISSING"])
        .success()
        .stdout("")
        .stderr("");
    let out = run(&env, &[("FNOX_IF_MISSING_DEFAULT", "error")], &["exec", "--", "true"]).code(1);
    assert_eq!(stderr(&out), no_value);
    // jdx/fnox reads the value in any case.
    run(&env, &[("FNOX_IF_MISSING_DEFAULT", "IGNORE")], &["get", "MISSING"]).success().stderr("");
    // Under the top level's if_missing, and so under the secret's.
    let top = format!("if_missing = \"warn\"\n{}", env.read("fnox.toml"));
    env.write("fnox.toml", &top);
    let out = run(&env, &[("FNOX_IF_MISSING_DEFAULT", "error")], &["get", "MISSING"]).success();
    assert_eq!(
        stderr(&out),
        format!(
            "warning: secret `MISSING` has no value ({missing_top})\n",
            missing_top = at(&env, "MISSING")
        )
    );
    // Under FNOX_IF_MISSING, which is over the config.
    let out = run(
        &env,
        &[("FNOX_IF_MISSING", "error"), ("FNOX_IF_MISSING_DEFAULT", "ignore")],
        &["get", "MISSING"],
    );
    assert!(stderr(&out.code(1)).starts_with("error: secret `MISSING` has no value"));
    // A bad value is a usage error.
    let out = run(&env, &[("FNOX_IF_MISSING_DEFAULT", "sometimes")], &["get", "MISSING"]).code(2);
    assert_eq!(
        stderr(&out),
        "error: FNOX_IF_MISSING_DEFAULT must be error, warn or ignore, not `sometimes`\n"
    );
}

/// A project with `GOOD` and a damaged `BROKEN`; `top` first in the file.
fn damaged(top: &str, broken_extra: &str) -> TestEnv {
    let env = TestEnv::with_local();
    env.set("GOOD", b"good-value").success();
    let text = format!(
        "{top}{}BROKEN = {{ provider = \"local\", value = \"AQAAAAA=\"{broken_extra} }}\n",
        env.read("fnox.toml")
    );
    env.write("fnox.toml", &text);
    env
}

/// What exec says about BROKEN, after its first line.
const CAUSE: &str = "  cause: the stored value is truncated: 5 bytes is too short for a `local` ciphertext\n  hint: the value in the file is damaged: set the value again with `fnox set BROKEN`\n";

#[test]
fn a_value_that_does_not_decrypt_fails_by_default_even_where_missing_ones_warn() {
    let env = damaged("", "");
    let broken = at(&env, "BROKEN");
    let out = env.fnox(&["exec", "--", "echo", "ran"]).code(1);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!("error: cannot decrypt secret `BROKEN` (provider `local`, {broken})\n{CAUSE}")
    );
    env.fnox(&["export"]).code(1).stdout("");
}

/// Where `warn` comes from: the file's top, BROKEN's entry, variables, flags.
type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

#[test]
fn an_explicit_warn_from_any_source_covers_a_value_that_does_not_decrypt() {
    let script = "echo \"$GOOD [${BROKEN-unset}]\"";
    let exec = ["exec", "--", "sh", "-c", script];
    let cases: [Case; 5] = [
        ("", "", &[], &["--if-missing", "warn"]),
        ("", "", &[("FNOX_IF_MISSING", "warn")], &[]),
        ("", ", if_missing = \"warn\"", &[], &[]),
        ("if_missing = \"warn\"\n", "", &[], &[]),
        ("", "", &[("FNOX_IF_MISSING_DEFAULT", "warn")], &[]),
    ];
    for (top, extra, vars, flags) in cases {
        let env = damaged(top, extra);
        let broken = at(&env, "BROKEN");
        let args: Vec<&str> = flags.iter().chain(&exec).copied().collect();
        let out = run(&env, vars, &args).success();
        assert_eq!(stdout(&out), "good-value [unset]\n");
        assert_eq!(
            stderr(&out),
            format!(
                "warning: cannot decrypt secret `BROKEN` (provider `local`, {broken}); running without it\n{CAUSE}"
            )
        );
    }
    // get: a warning, nothing printed, success.
    let env = damaged("", "");
    let broken = at(&env, "BROKEN");
    let out = run(&env, &[("FNOX_IF_MISSING", "warn")], &["get", "BROKEN"]).success();
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!("warning: cannot decrypt secret `BROKEN` (provider `local`, {broken})\n{CAUSE}")
    );
    let out = run(&env, &[("FNOX_IF_MISSING", "warn")], &["export"]).success();
    assert_eq!(stdout(&out), "GOOD='good-value'\n");
    assert!(stderr(&out).ends_with(&format!("{broken}); left out\n{CAUSE}")), "{}", stderr(&out));
}

#[test]
fn an_explicit_ignore_is_silent_and_says_why_with_verbose() {
    let env = damaged("", ", if_missing = \"ignore\"");
    let broken = at(&env, "BROKEN");
    let script = "echo \"$GOOD [${BROKEN-unset}]\"";
    let out = env.fnox(&["exec", "--", "sh", "-c", script]).success();
    assert_eq!((stdout(&out), stderr(&out)), ("good-value [unset]\n".into(), String::new()));
    let out = env.fnox(&["-v", "exec", "--", "sh", "-c", script]).success();
    assert_eq!(
        stderr(&out),
        format!(
            "loaded fnox.toml\nprofile: default\nignored (if-missing ignore): cannot decrypt secret `BROKEN` (provider `local`, {broken})\n{CAUSE}"
        )
    );
    env.fnox(&["get", "BROKEN"]).success().stdout("").stderr("");
    // An explicit error stays an error.
    let out = env.fnox(&["--if-missing", "error", "get", "BROKEN"]).code(1);
    assert!(stderr(&out).starts_with("error: cannot decrypt secret `BROKEN`"), "{}", stderr(&out));
}
