use super::{Structured, parse};

/// (name, value or what it is) of each entry, in the input's order.
fn read(format: Structured, text: &str) -> Vec<(String, Result<String, &'static str>)> {
    parse(format, text, "in")
        .expect("parses")
        .into_iter()
        .map(|(n, v)| (n, v.map(|v| String::from_utf8(v.expose().to_vec()).expect("utf-8"))))
        .collect()
}

fn error(format: Structured, text: &str) -> String {
    match parse(format, text, "in") {
        Ok(_) => panic!("parsed: {text}"),
        Err(e) => e.message,
    }
}

fn ok(name: &str, value: &str) -> (String, Result<String, &'static str>) {
    (name.to_string(), Ok(value.to_string()))
}

fn refused(name: &str, what: &'static str) -> (String, Result<String, &'static str>) {
    (name.to_string(), Err(what))
}

#[test]
fn json_strings_booleans_and_integers_are_text_the_rest_is_named() {
    let got = read(
        Structured::Json,
        r#"{"A": "x\ny", "B": true, "C": 5432, "D": -1, "E": 1.50, "F": null, "G": [1], "H": {"x": "y"}}"#,
    );
    assert_eq!(
        got,
        vec![
            ok("A", "x\ny"),
            ok("B", "true"),
            ok("C", "5432"),
            ok("D", "-1"),
            refused("E", "a number with a fraction or an exponent"),
            refused("F", "null"),
            refused("G", "an array"),
            refused("H", "an object"),
        ]
    );
}

#[test]
fn toml_values_keep_their_text_and_tables_are_named() {
    let got = read(
        Structured::Toml,
        "A = 'lit\\n'\nB = \"\"\"\nmulti\"\"\"\nC = 0x1F\nD = false\nE = 1.5\nF = 1979-05-27\nG = [1]\nH = { x = 'y' }\n[T]\nx = 'y'\n",
    );
    assert_eq!(
        got,
        vec![
            ok("A", "lit\\n"),
            ok("B", "multi"),
            ok("C", "31"),
            ok("D", "false"),
            refused("E", "a floating-point number"),
            refused("F", "a date-time"),
            refused("G", "an array"),
            refused("H", "a table"),
            refused("T", "a table"),
        ]
    );
}

#[test]
fn yaml_follows_the_core_schema() {
    // `yes` and `on` are text in YAML 1.2 (booleans only in 1.1).
    let got = read(
        Structured::Yaml,
        "A: plain\nB: 'it''s'\nC: \"a\\tb\"\nD: yes\nE: 0o17\nF: 1.50\nG: ~\nH: [1]\nI:\n  x: y\nJ: |\n  line\n",
    );
    assert_eq!(
        got,
        vec![
            ok("A", "plain"),
            ok("B", "it's"),
            ok("C", "a\tb"),
            ok("D", "yes"),
            ok("E", "15"),
            refused("F", "a floating-point number"),
            refused("G", "null"),
            refused("H", "a list"),
            refused("I", "a mapping"),
            ok("J", "line\n"),
        ]
    );
}

#[test]
fn an_export_document_gives_its_secrets() {
    let json = r#"{"secrets": {"A": "1"}, "metadata": {"profile": "default", "total_secrets": 1}}"#;
    assert_eq!(read(Structured::Json, json), vec![ok("A", "1")]);
    let toml = "[secrets]\nA = '1'\n[metadata]\nprofile = 'default'\n";
    assert_eq!(read(Structured::Toml, toml), vec![ok("A", "1")]);
    let yaml = "secrets:\n  A: '1'\nmetadata:\n  total_secrets: 1\n";
    assert_eq!(read(Structured::Yaml, yaml), vec![ok("A", "1")]);
    // Anything else beside `secrets` makes it an ordinary object.
    let other = r#"{"secrets": {"A": "1"}, "B": "2"}"#;
    assert_eq!(read(Structured::Json, other), vec![refused("secrets", "an object"), ok("B", "2")]);
}

#[test]
fn errors_say_where_and_never_quote_the_input() {
    assert_eq!(
        error(Structured::Json, "{\"A\": \"sk_live\n\"}"),
        "in: not valid JSON: control character (\\u0000-\\u001F) found while parsing a string at line 2 column 0"
    );
    assert_eq!(
        error(Structured::Json, "[\"sk_live\"]"),
        "in: the top level is an array; fnox imports one object of NAME and value"
    );
    let toml = error(Structured::Toml, "A = 'ok'\nB = \"sk_live_unterminated\n");
    assert!(toml.starts_with("in:2: not valid TOML: "), "{toml}");
    assert!(!toml.contains("sk_live"), "{toml}");
    let yaml = error(Structured::Yaml, "A: ok\nB: \"sk_live\nC: [\n");
    assert!(yaml.starts_with("in:") && yaml.contains(": not valid YAML (column "), "{yaml}");
    assert!(!yaml.contains("sk_live"), "{yaml}");
    let dup = error(Structured::Yaml, "A: 1\nA: sk_live\n");
    assert!(!dup.contains("sk_live"), "{dup}");
    assert_eq!(
        error(Structured::Yaml, "A: 1\n---\nB: 2\n"),
        "in holds more than one YAML document; fnox imports one"
    );
    assert_eq!(
        error(Structured::Yaml, "1: x\n"),
        "in: a key is not text; fnox imports names such as API_TOKEN"
    );
    assert_eq!(
        error(Structured::Yaml, "sk_live\n"),
        "in: the top level is text; fnox imports one mapping of NAME and value"
    );
}

#[test]
fn empty_inputs_have_no_entries() {
    assert_eq!(read(Structured::Json, "{}"), vec![]);
    assert_eq!(read(Structured::Toml, ""), vec![]);
    assert_eq!(read(Structured::Yaml, ""), vec![]);
}
