//! jdx/fnox's spellings of `import` and `export`: `import [FORMAT] -i FILE`
//! with env, json, toml and yaml, `--filter`, `--prefix`, `-f`, `-n`;
//! `export -f env|yaml|toml`, `--header`, `-n`. Each asserts what a jdx/fnox
//! user sees: the output, the exit status and the files.

use std::collections::BTreeMap;

use crate::common::{TestEnv, require_tool, stderr, stdout};
use crate::export::nasty_values;

const JSON: &str = r#"{"API_TOKEN": "tok_1", "PORT": 5432, "DEBUG": true, "NOTE": "a $HOME b"}"#;

fn imported(env: &TestEnv, names: &[(&str, &str)]) {
    for (name, value) in names {
        assert_eq!(String::from_utf8(env.get(name)).unwrap(), *value, "{name}");
    }
}

#[test]
fn import_json_reads_the_file_given_with_i() {
    let env = TestEnv::with_local();
    env.write("secrets.json", JSON);
    let out = env.fnox(&["import", "json", "-i", "secrets.json", "-p", "local"]).success();
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "imported 4 secrets (provider `local`) into fnox.toml\nsecrets.json still holds the plaintext; delete it when you no longer need it\n"
    );
    // Booleans and integers as their text; `$` is never expanded in JSON.
    imported(
        &env,
        &[("API_TOKEN", "tok_1"), ("PORT", "5432"), ("DEBUG", "true"), ("NOTE", "a $HOME b")],
    );
    assert!(!env.read("fnox.toml").contains("tok_1"));
}

#[test]
fn import_json_reads_stdin_without_i_or_with_i_dash() {
    let env = TestEnv::with_local();
    let out = env.cmd().args(["import", "json"]).write_stdin(r#"{"A": "1"}"#).assert().success();
    assert_eq!(stderr(&out), "imported 1 secret (provider `local`) into fnox.toml\n");
    let out = env
        .cmd()
        .args(["import", "json", "-i", "-"])
        .write_stdin(r#"{"B": "2"}"#)
        .assert()
        .success();
    assert_eq!(stderr(&out), "imported 1 secret (provider `local`) into fnox.toml\n");
    imported(&env, &[("A", "1"), ("B", "2")]);
}

#[test]
fn import_toml_and_yaml_files() {
    let env = TestEnv::with_local();
    env.write("s.toml", "DB_URL = \"postgres://db\"\nRETRIES = 3\nPEM = '''\nline1\nline2'''\n");
    env.fnox(&["import", "toml", "-i", "s.toml"]).success();
    imported(&env, &[("DB_URL", "postgres://db"), ("RETRIES", "3"), ("PEM", "line1\nline2")]);
    env.write("s.yml", "Y_TOKEN: abc\nY_ON: on\nY_MULTI: |\n  one\n  two\n");
    let out = env.fnox(&["import", "yaml", "--input", "s.yml"]).success();
    assert_eq!(
        stderr(&out),
        "imported 3 secrets (provider `local`) into fnox.toml\ns.yml still holds the plaintext; delete it when you no longer need it\n"
    );
    // YAML 1.2: `on` is text, not a boolean.
    imported(&env, &[("Y_TOKEN", "abc"), ("Y_ON", "on"), ("Y_MULTI", "one\ntwo\n")]);
}

#[test]
fn env_is_a_format_and_a_path_is_still_a_file() {
    let env = TestEnv::with_local();
    env.write(".env", "A=1\n");
    env.fnox(&["import", "env", "-i", ".env"]).success();
    env.write("prod.env", "B=2\n");
    env.fnox(&["import", "prod.env"]).success();
    env.write("other.env", "C=3\n");
    env.fnox(&["import", "dotenv", "--input", "other.env"]).success();
    env.write("more.env", "D=4\n");
    env.fnox(&["import", "-i", "more.env"]).success();
    imported(&env, &[("A", "1"), ("B", "2"), ("C", "3"), ("D", "4")]);
}

#[test]
fn a_file_named_like_a_format_is_imported_with_i() {
    let env = TestEnv::with_local();
    env.write("json", "FROM_FILE=1\n");
    let out = env.cmd().args(["import", "json"]).write_stdin(r#"{"FROM_STDIN": "2"}"#).assert();
    let out = out.success();
    assert_eq!(
        stderr(&out),
        "warning: `json` is read as the format json, from stdin; to import the file json, pass -i json\n\
         imported 1 secret (provider `local`) into fnox.toml\n"
    );
    env.fnox(&["import", "-i", "json"]).success();
    imported(&env, &[("FROM_STDIN", "2"), ("FROM_FILE", "1")]);
}

#[test]
fn a_file_and_i_together_are_refused() {
    let env = TestEnv::with_local();
    env.write("a.env", "A=1\n");
    let before = env.read_bytes("fnox.toml");
    let out = env.fnox(&["import", "a.env", "-i", "b.env"]).code(2);
    assert_eq!(
        stderr(&out),
        "error: two inputs: a.env and -i b.env; give one\n  \
         hint: the first argument is a format (env, json, toml, yaml) or the file to read\n"
    );
    assert_eq!(env.read_bytes("fnox.toml"), before);
}

#[test]
fn filter_chooses_names_and_prefix_renames_them() {
    let env = TestEnv::with_local();
    env.write(".env", "STRIPE_KEY=sk\nSTRIPE_PUB=pk\nOTHER=o\nNOT_STRIPE_X=n\n");
    let before = env.read_bytes("fnox.toml");
    let args = ["import", ".env", "--filter", "^STRIPE_", "--prefix", "PROD_"];
    let out = env.fnox(&[&args[..], &["-n"]].concat()).success();
    assert_eq!(
        stdout(&out),
        "PROD_STRIPE_KEY  new  fnox.toml  local  .env:1\n\
         PROD_STRIPE_PUB  new  fnox.toml  local  .env:2\n\
         dry run: 2 secrets would be imported; nothing was written\n"
    );
    assert_eq!(env.read_bytes("fnox.toml"), before);
    env.fnox(&args).success();
    imported(&env, &[("PROD_STRIPE_KEY", "sk"), ("PROD_STRIPE_PUB", "pk")]);
    let out = env.fnox(&["get", "OTHER"]).code(1);
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
}

#[test]
fn a_filter_that_is_not_a_regex_is_an_error() {
    let env = TestEnv::with_local();
    env.write(".env", "A=1\n");
    let before = env.read_bytes("fnox.toml");
    let out = env.fnox(&["import", ".env", "--filter", "(A"]).code(2);
    assert_eq!(
        stderr(&out),
        "error: --filter `(A` is not a valid regex\n  cause: unclosed group\n"
    );
    assert_eq!(env.read_bytes("fnox.toml"), before);
}

#[test]
fn a_filter_that_matches_nothing_is_an_error() {
    let env = TestEnv::with_local();
    env.write("s.json", r#"{"A": "1", "B": "2"}"#);
    let out = env.fnox(&["import", "json", "-i", "s.json", "--filter", "^Z"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: --filter `^Z` matches no name of s.json (2 entries read); nothing was imported\n"
    );
}

#[test]
fn a_prefix_that_makes_a_bad_name_is_refused() {
    let env = TestEnv::with_local();
    let out = env.cmd().args(["import", "--prefix", "1-"]).write_stdin("A=1\n").assert().code(1);
    assert_eq!(stderr(&out), "error: stdin: `1-A` (with --prefix) is not a valid secret name\n");
}

#[test]
fn bad_json_says_where_and_never_shows_a_value() {
    let env = TestEnv::with_local();
    let before = env.read_bytes("fnox.toml");
    env.write("s.json", "{\"A\": \"sk_live_1\",\n \"B\": sk_live_2}\n");
    let out = env.fnox(&["import", "json", "-i", "s.json"]).code(1);
    assert_eq!(stderr(&out), "error: s.json: not valid JSON: expected value at line 2 column 7\n");
    env.write("s.json", "[\"sk_live_1\"]");
    let out = env.fnox(&["import", "json", "-i", "s.json"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: s.json: the top level is an array; fnox imports one object of NAME and value\n"
    );
    env.write("s.toml", "A = 'ok'\nB = \"sk_live_3\n");
    let out = env.fnox(&["import", "toml", "-i", "s.toml"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: s.toml:2: not valid TOML: invalid basic string, expected `\"`\n"
    );
    env.write("s.yaml", "A: ok\nB: \"sk_live_4\n");
    let out = env.fnox(&["import", "yaml", "-i", "s.yaml"]).code(1);
    assert!(stderr(&out).starts_with("error: s.yaml:"), "{}", stderr(&out));
    assert!(stderr(&out).contains(": not valid YAML (column "), "{}", stderr(&out));
    assert!(!stderr(&out).contains("sk_live"));
    assert_eq!(env.read_bytes("fnox.toml"), before);
}

#[test]
fn nested_null_and_fractional_values_are_refused_by_name() {
    let env = TestEnv::with_local();
    let before = env.read_bytes("fnox.toml");
    for (text, what) in [
        (r#"{"A": "1", "NESTED": {"x": "sk_live"}}"#, "`NESTED` is an object"),
        (r#"{"A": "1", "LIST": ["sk_live"]}"#, "`LIST` is an array"),
        (r#"{"A": "1", "NOTHING": null}"#, "`NOTHING` is null"),
        (r#"{"A": "1", "RATE": 1.50}"#, "`RATE` is a number with a fraction or an exponent"),
    ] {
        env.write("s.json", text);
        let out = env.fnox(&["import", "json", "-i", "s.json"]).code(1);
        assert_eq!(
            stderr(&out),
            format!(
                "error: s.json: {what}; fnox imports text, booleans and integers\n  \
                 hint: write the value as a string, or leave the key out with --filter\n"
            )
        );
        // Nothing was written, not even A.
        assert_eq!(env.read_bytes("fnox.toml"), before);
    }
    // A filter that leaves the key out lets the rest in.
    env.fnox(&["import", "json", "-i", "s.json", "--filter", "^A$"]).success();
    imported(&env, &[("A", "1")]);
    env.write("s.yaml", "A2: x\nT: 2001-12-14\nF: 0.5\n");
    let out = env.fnox(&["import", "yaml", "-i", "s.yaml"]).code(1);
    assert!(stderr(&out).starts_with("error: s.yaml: `F` is a floating-point number;"));
}

#[test]
fn an_export_document_of_jdx_fnox_imports_its_secrets() {
    let env = TestEnv::with_local();
    env.write(
        "export.json",
        r#"{"secrets": {"API_TOKEN": "tok", "DB": "pg"}, "metadata": {"profile": "default", "exported_at": "2025-01-01T00:00:00+00:00", "total_secrets": 2}}"#,
    );
    env.fnox(&["import", "json", "-i", "export.json"]).success();
    env.write("export.toml", "[secrets]\nT_TOKEN = \"t\"\n\n[metadata]\ntotal_secrets = 1\n");
    env.fnox(&["import", "toml", "-i", "export.toml"]).success();
    imported(&env, &[("API_TOKEN", "tok"), ("DB", "pg"), ("T_TOKEN", "t")]);
}

#[test]
fn dry_run_of_structured_input_changes_nothing_and_force_overwrites() {
    let env = TestEnv::with_local();
    env.set("API_TOKEN", b"old").success();
    let before = env.read_bytes("fnox.toml");
    env.write("s.json", r#"{"API_TOKEN": "new", "B": "b"}"#);
    let out = env.fnox(&["import", "json", "-i", "s.json", "-n"]).code(1);
    assert_eq!(
        stdout(&out),
        "API_TOKEN  exists  fnox.toml  local  s.json\n\
         B          new     fnox.toml  local  s.json\n\
         dry run: 2 secrets would be imported with --force; nothing was written\n"
    );
    assert_eq!(
        stderr(&out),
        "error: this secret is already defined: API_TOKEN; pass --force to overwrite\n"
    );
    let out = env.fnox(&["import", "json", "-i", "s.json", "-n", "-f"]).success();
    assert!(stdout(&out).starts_with("API_TOKEN  replace  fnox.toml  local  s.json\n"));
    assert_eq!(env.read_bytes("fnox.toml"), before);
    env.fnox(&["import", "json", "-i", "s.json", "-f"]).success();
    imported(&env, &[("API_TOKEN", "new"), ("B", "b")]);
}

#[test]
fn a_json_file_read_as_env_hints_at_the_format() {
    let env = TestEnv::with_local();
    env.write("secrets.json", JSON);
    let out = env.fnox(&["import", "secrets.json"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: secrets.json:1: cannot parse a line that is not NAME=VALUE\n  \
         hint: it was read as a .env file; for json: fnox import json -i secrets.json\n"
    );
}

/// A project with two plain secrets, for the exact outputs.
fn two_secrets() -> TestEnv {
    let env = TestEnv::with_local();
    env.set("API_TOKEN", b"tok_live_5f2c").success();
    env.set("ON", b"it's \"quoted\"\nnext").success();
    env
}

#[test]
fn export_env_is_dotenv_and_f_is_format() {
    let env = two_secrets();
    let dotenv = stdout(&env.fnox(&["export", "--format", "dotenv"]).success());
    assert_eq!(dotenv, "API_TOKEN='tok_live_5f2c'\nON='it'\\''s \"quoted\"\nnext'\n");
    assert_eq!(stdout(&env.fnox(&["export", "-f", "env"]).success()), dotenv);
}

#[test]
fn export_yaml_and_toml() {
    let env = two_secrets();
    let yaml = env.fnox(&["export", "-f", "yaml"]).success();
    // `ON` is quoted: a YAML 1.1 reader would take it for a boolean.
    assert_eq!(
        stdout(&yaml),
        "API_TOKEN: \"tok_live_5f2c\"\n\"ON\": \"it's \\\"quoted\\\"\\nnext\"\n"
    );
    let toml = env.fnox(&["export", "-f", "toml", "-o", "s.toml"]).success();
    assert_eq!(stdout(&toml), "");
    assert_eq!(
        env.read("s.toml"),
        "API_TOKEN = \"tok_live_5f2c\"\nON = \"it's \\\"quoted\\\"\\nnext\"\n"
    );
}

/// Every nasty value comes back through `export -f FORMAT | import FORMAT`.
#[test]
fn yaml_toml_and_json_round_trip_every_value() {
    let env = TestEnv::with_local();
    for (name, value) in nasty_values() {
        env.set(name, &value).success();
    }
    for format in ["yaml", "toml", "json"] {
        let file = format!("all.{format}");
        env.fnox(&["export", "-f", format, "-o", &file]).success();
        let other = TestEnv::with_local();
        std::fs::write(other.project.join(&file), env.read_bytes(&file)).unwrap();
        other.fnox(&["import", format, "-i", &file, "--allow-empty"]).success();
        for (name, value) in nasty_values() {
            assert_eq!(other.get(name), value, "{format}: {name}");
        }
    }
}

/// PyYAML (YAML 1.1) and tomllib read the files back byte for byte.
#[test]
fn other_readers_get_every_value_back() {
    if !require_tool("python3") {
        return;
    }
    let env = TestEnv::with_local();
    for (name, value) in nasty_values() {
        env.set(name, &value).success();
    }
    env.set("YES", b"no").success();
    env.fnox(&["export", "-f", "yaml", "-o", "all.yaml"]).success();
    env.fnox(&["export", "-f", "toml", "-o", "all.toml"]).success();
    let script = "import json, sys, tomllib, yaml\n\
        y = yaml.safe_load(open('all.yaml', encoding='utf-8'))\n\
        t = tomllib.load(open('all.toml', 'rb'))\n\
        json.dump({'yaml': y, 'toml': t}, sys.stdout)\n";
    let out = env.program("python3").args(["-c", script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: BTreeMap<String, BTreeMap<String, String>> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    for reader in ["yaml", "toml"] {
        for (name, value) in nasty_values().into_iter().chain([("YES", b"no".to_vec())]) {
            assert_eq!(
                got[reader].get(name).map(|v| v.as_bytes()),
                Some(&value[..]),
                "{reader}: {name}"
            );
        }
    }
}

#[test]
fn header_says_profile_time_and_count() {
    let env = two_secrets();
    let time = regex::Regex::new(r"^# Exported at: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").unwrap();
    for (format, body) in [
        ("env", "API_TOKEN='tok_live_5f2c'\n"),
        ("shell", "export API_TOKEN='tok_live_5f2c'\n"),
        ("yaml", "API_TOKEN: \"tok_live_5f2c\"\n"),
        ("toml", "API_TOKEN = \"tok_live_5f2c\"\n"),
    ] {
        let out = env.fnox(&["export", "-f", format, "--header", "--only", "API_TOKEN"]).success();
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "# Exported from profile: default", "{format}");
        assert!(time.is_match(lines[1]), "{format}: {}", lines[1]);
        assert_eq!(lines[2..].join("\n") + "\n", format!("# Total secrets: 1\n\n{body}"));
    }
    env.cmd().args(["-P", "ci", "set", "--raw", "CI_ONLY"]).write_stdin("x").assert().success();
    let out = env.fnox(&["-P", "ci", "export", "--header", "-o", "ci.env"]).success();
    assert_eq!(stdout(&out), "");
    let text = env.read("ci.env");
    assert!(text.starts_with("# Exported from profile: ci\n"), "{text}");
    for format in ["json", "github"] {
        let out = env.fnox(&["export", "-f", format, "--header", "-o", "x"]).code(2);
        assert_eq!(
            stderr(&out),
            format!("error: --header writes comment lines, which --format {format} cannot hold\n")
        );
    }
    assert!(!env.project.join("x").exists());
}

#[test]
fn dry_run_names_what_would_be_written_and_writes_nothing() {
    let env = two_secrets();
    let out = env.fnox(&["export", "-n", "-o", ".env"]).success();
    assert_eq!(
        stdout(&out),
        "API_TOKEN\nON\ndry run: 2 secrets would be written to .env (mode 0600) as dotenv; nothing was written\n"
    );
    assert_eq!(stderr(&out), "");
    assert!(!env.project.join(".env").exists());
    env.write("old.yaml", "kept\n");
    let out = env.fnox(&["export", "--dry-run", "-f", "yaml", "-o", "old.yaml"]).success();
    assert!(stdout(&out).ends_with("as yaml; nothing was written\n"));
    assert_eq!(env.read("old.yaml"), "kept\n");
    // Without -o nothing is printed but the names: no value.
    let out = env.fnox(&["export", "-n", "--only", "API_TOKEN"]).success();
    assert_eq!(
        stdout(&out),
        "API_TOKEN\ndry run: 1 secret would be printed as dotenv; nothing was written\n"
    );
    // github: nothing appended, no mask printed.
    env.write("gh_env", "");
    let out = env.cmd().args(["export", "-f", "github", "-n"]).env("GITHUB_ENV", "gh_env").assert();
    assert_eq!(
        stdout(&out.success()),
        "API_TOKEN\nON\ndry run: 2 secrets would be appended to gh_env as github; nothing was written\n"
    );
    assert_eq!(env.read("gh_env"), "");
}

#[test]
fn dry_run_fails_as_the_export_would() {
    let env = TestEnv::with_local();
    env.set("BIN", &[0xff, 0xfe]).success();
    for (format, what) in [
        ("json", "error: secret `BIN` is not UTF-8 text, so it cannot be exported as JSON\n"),
        ("yaml", "error: secret `BIN` is not UTF-8 text, so it cannot be exported as YAML\n"),
        ("toml", "error: secret `BIN` is not UTF-8 text, so it cannot be exported as TOML\n"),
    ] {
        let out = env.fnox(&["export", "-f", format, "-n", "-o", "x"]).code(1);
        assert_eq!(stderr(&out), what);
        assert_eq!(stdout(&out), "");
    }
    assert!(!env.project.join("x").exists());
}
