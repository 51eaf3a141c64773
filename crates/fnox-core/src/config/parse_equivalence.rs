//! The two front ends of `parse.rs` agree: for generated config files (valid
//! ones, ones with every kind of mistake fnox reports, and broken TOML), the
//! fast reader and `toml_edit` accept the same files, and give the same
//! model (every field, spans included) or the same error (kind, message,
//! line). And the reading of one secret (`lite.rs`, for `get NAME`) gives
//! the model of the full reading for that secret, and for every provider
//! and setting. And the simple reading of a whole file (`simple.rs`, for
//! `exec`, `export`, `list`) gives the usual reading's model, or leaves the
//! file to it.

use std::path::Path;

use proptest::prelude::*;

use super::{
    ConfigError, OnlyOne,
    fields::Lines,
    model::ParsedFile,
    parse::{parse_fast, parse_file, parse_for, parse_plain, parse_with_edit},
    simple,
};

/// Both readings of `text`: `None` for the fast one when it refused the
/// text as TOML.
fn both(text: &str) -> (Option<Result<ParsedFile, ConfigError>>, Result<ParsedFile, ConfigError>) {
    let path = Path::new("dir/fnox.toml");
    let lines = Lines::new(path, text);
    (parse_fast(path, text, &lines), parse_with_edit(path, text, &lines))
}

fn check(text: &str) -> Result<(), TestCaseError> {
    match both(text) {
        (None, Err(ConfigError::Syntax { .. })) => {}
        (None, other) => {
            return Err(TestCaseError::fail(format!(
                "only the fast reader refused:\n{text}\n{other:?}"
            )));
        }
        (Some(_), Err(e @ ConfigError::Syntax { .. })) => {
            return Err(TestCaseError::fail(format!("only toml_edit refused:\n{text}\n{e}")));
        }
        (Some(fast), edit) => {
            // Only the fast reader finds where new entries go (the splice
            // proptest in `edit` checks those places against toml_edit's).
            let fast = fast.map(|mut f| {
                f.new_entry_at.clear();
                f
            });
            prop_assert_eq!(format!("{fast:?}"), format!("{edit:?}"), "{}", text);
        }
    }
    Ok(())
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just("A".to_string()),
        6 => "[A-Z][A-Z0-9_]{0,6}",
        1 => Just("9BAD".to_string()),
        1 => Just("\"quoted key\"".to_string()),
        1 => Just("'lit'".to_string()),
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9+/=]{0,40}".prop_map(|s| format!("\"{s}\"")),
        1 => Just(r#""esc \" \\ \n \u00e9 \t""#.to_string()),
        1 => Just("'literal \\n'".to_string()),
        1 => Just("\"\"\"\nmulti\nline\"\"\"".to_string()),
        1 => Just("'''\nraw\n'''".to_string()),
        1 => Just("\"\"".to_string()),
    ]
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => string(),
        1 => Just("true".to_string()),
        1 => Just("false".to_string()),
        1 => prop_oneof![Just("0"), Just("-1"), Just("2"), Just("0x10"), Just("1_000"), Just("+7"),
            Just("99999999999999999999"), Just("1.5"), Just("1979-05-27")].prop_map(str::to_string),
        1 => Just("[\"a\", \"b\"]".to_string()),
        1 => Just("[1, \"a\"]".to_string()),
        1 => Just("{ k = \"v\" }".to_string()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("provider"),
        Just("value"),
        Just("default"),
        Just("sensitive"),
        Just("description"),
        Just("if_missing"),
        Just("allow_exec_control"),
        Just("env"),
        Just("as_file"),
        Just("json_path"),
        Just("line"),
        Just("sync"),
        Just("daemon_cache"),
        Just("valu"),
        Just("type"),
        Just("key_file"),
        Just("envelope"),
        Just("recipients"),
        Just("identity"),
        Just("key_id"),
        Just("region"),
        Just("context"),
        Just("bind_name"),
        Just("mount"),
        Just("key"),
        Just("address"),
        Just("file"),
        Just("format"),
        Just("auth_command"),
        Just("max_key_age"),
    ]
    .prop_map(str::to_string)
}

fn typed() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"local\""),
        Just("\"age\""),
        Just("\"plain\""),
        Just("\"aws-kms\""),
        Just("\"vault-transit\""),
        Just("\"1password\""),
        Just("\"age-2fa\""),
        Just("\"lokal\""),
        Just("1"),
    ]
    .prop_map(str::to_string)
}

fn pair() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (key(), scalar()).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => typed().prop_map(|t| format!("type = {t}")),
        1 => Just("if_missing = \"warn\"".to_string()),
        1 => Just("env = \"exec\"".to_string()),
        1 => prop_oneof![Just("\"90d\""), Just("\"12h 30m\""), Just("\"0s\""), Just("\"soon\"")]
            .prop_map(|v| format!("max_key_age = {v}")),
        1 => Just("provider = \"p\"".to_string()),
    ]
}

fn inline(pairs: Vec<String>) -> String {
    format!("{{ {} }}", pairs.join(", "))
}

/// One piece of a file: a header, an entry, a top-level key, or a comment.
fn piece() -> impl Strategy<Value = String> {
    let table = prop_oneof![
        Just("secrets".to_string()),
        Just("providers".to_string()),
        name().prop_map(|n| format!("providers.{n}")),
        name().prop_map(|n| format!("secrets.{n}")),
        name().prop_map(|n| format!("profiles.{n}")),
        name().prop_map(|n| format!("profiles.{n}.secrets")),
        name().prop_map(|n| format!("profiles.prod.providers.{n}")),
        Just("profiles.prod.secrets".to_string()),
        Just("scan".to_string()),
        Just("daemon".to_string()),
        Just("bogus".to_string()),
    ];
    prop_oneof![
        3 => table.clone().prop_map(|t| format!("[{t}]")),
        1 => table.prop_map(|t| format!("[[{t}]]")),
        6 => (name(), proptest::collection::vec(pair(), 0..4))
            .prop_map(|(n, p)| format!("{n} = {}", inline(p))),
        2 => (name(), key(), scalar()).prop_map(|(n, k, v)| format!("{n}.{k} = {v}")),
        4 => pair(),
        1 => prop_oneof![
            Just("root = true"), Just("default_provider = \"p\""), Just("import = [\"other.toml\"]"),
            Just("trusted_dirs = [\"/x\"]"), Just("allow = [\"x\"]"), Just("leases = {}"),
            Just("[providers.p]\ntype = \"local\""), Just("# a comment"), Just(""),
            Just("A = { default = \"a\" }\nA = { default = \"b\" }"),
        ].prop_map(str::to_string),
    ]
}

/// A file of pieces, sometimes with one byte changed or removed.
fn file() -> impl Strategy<Value = String> {
    let eol = prop_oneof![4 => Just("\n"), 1 => Just("\r\n")];
    let mutation = prop_oneof![
        6 => Just(None),
        1 => (any::<prop::sample::Index>(), prop::sample::select(vec![
            "", "\"", "=", "[", "]", "{", "}", ",", ".", "\n", "#", "'", " ", "\\", "\t", "é", "\0",
        ])).prop_map(Some),
    ];
    (proptest::collection::vec(piece(), 0..14), eol, mutation).prop_map(|(pieces, eol, m)| {
        let mut text = pieces.join(eol) + eol;
        if let Some((at, with)) = m {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            let end = (i + 1..=text.len()).find(|&e| text.is_char_boundary(e)).unwrap_or(i);
            let end = if with.is_empty() { end } else { i };
            text.replace_range(i..end, with);
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn both_front_ends_give_the_same_model_or_error(text in file()) {
        check(&text)?;
    }
}

/// `parsed` with the entries of secrets other than `name` left out, and
/// no new-entry points (the reading of one secret finds them otherwise).
fn for_one(mut parsed: ParsedFile, name: &str) -> String {
    for layer in std::iter::once(&mut parsed.base).chain(parsed.profiles.values_mut()) {
        layer.secrets.retain(|s| s.name == name);
    }
    parsed.new_entry_at.clear();
    // What `set` keeps of the entries left out (left_out_tests.rs checks it).
    parsed.left_out = None;
    format!("{parsed:?}")
}

/// The secret a reading of one secret asks for: mostly `A`, which the
/// generators write, else any name.
fn secret_name() -> impl Strategy<Value = String> {
    prop_oneof![3 => Just("A".to_string()), 1 => "[A-Z][A-Z0-9_]{0,6}"]
}

fn check_one(text: &str, name: &str) -> Result<(), TestCaseError> {
    let path = Path::new("dir/fnox.toml");
    // With value spans: they are where the full reading has them.
    let only = OnlyOne { name: name.to_string(), in_place: true };
    let (full, one) = (parse_file(path, text), parse_for(path, text.to_string(), Some(&only)));
    match (full, one) {
        (Ok(full), Ok(one)) => {
            prop_assert_eq!(for_one(full, name), for_one(one, name), "{}", text);
        }
        (Ok(_), Err(e)) => {
            return Err(TestCaseError::fail(format!(
                "only the reading of one failed:\n{text}\n{e}"
            )));
        }
        // The whole file is read after any problem, so it is the same error.
        (Err(full), Err(one)) => prop_assert_eq!(full.to_string(), one.to_string()),
        // A mistake in an entry that was left out.
        (Err(_), Ok(_)) => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn reading_one_secret_gives_its_part_of_the_full_model(
        text in file(),
        name in secret_name(),
    ) {
        check_one(&text, &name)?;
    }
}

#[test]
fn files_of_the_repository_read_the_same() {
    for text in [
        include_str!("../../../../fnox.example.toml"),
        "[providers.l]\ntype = \"local\"\n[secrets]\nA = { provider = \"l\", value = \"x\" }\n\
         [secrets.B]\nvalue = 'y'\n[profiles.prod.secrets]\nA.default = \"p\"\n[profiles.prod]\nenv = false\n",
        "",
        "a = 1\n[secrets\n",
    ] {
        check(text).unwrap();
        for name in ["A", "B", "DATABASE_URL"] {
            check_one(text, name).unwrap();
        }
    }
}

/// The simple reading of `text` against the usual one: the same model,
/// new-entry points included. True when the simple reading took the file.
fn check_simple(text: &str) -> Result<bool, TestCaseError> {
    let path = Path::new("dir/fnox.toml");
    let lines = Lines::new(path, text);
    let Some(simple) = simple::parse(path, text, &lines) else { return Ok(false) };
    match parse_plain(path, text, &lines) {
        Ok(plain) => prop_assert_eq!(format!("{simple:?}"), format!("{plain:?}"), "{}", text),
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "only the simple reading accepted:\n{text}\n{e}"
            )));
        }
    }
    Ok(true)
}

/// A string of a simple entry, now and then one the simple reading leaves
/// to the usual one.
fn simple_string() -> impl Strategy<Value = String> {
    prop_oneof![
        200 => "[a-zA-Z0-9+/=]{0,24}".prop_map(|s| format!("\"{s}\"")),
        6 => Just("\"with # and ' and é and\ttab\"".to_string()),
        1 => Just("\"\"".to_string()),
        1 => Just(r#""esc \" q""#.to_string()),
        1 => Just("'literal'".to_string()),
        1 => Just("\"\"\"multi\"\"\"".to_string()),
        1 => Just("\"ctl \u{7f}\"".to_string()),
        1 => Just("1".to_string()),
    ]
}

fn simple_key() -> impl Strategy<Value = String> {
    prop_oneof![
        100 => prop_oneof![Just("provider"), Just("value"), Just("default"), Just("description")],
        1 => prop_oneof![Just("sensitive"), Just("env"), Just("sync"), Just("\"value\""), Just("value.x")],
    ]
    .prop_map(str::to_string)
}

fn blank() -> impl Strategy<Value = String> {
    prop_oneof![6 => Just(" "), 2 => Just(""), 1 => Just("\t"), 1 => Just("  ")]
        .prop_map(str::to_string)
}

/// A one-line entry, mostly of the simple form.
fn simple_entry() -> impl Strategy<Value = String> {
    let field = |k: BoxedStrategy<String>| {
        (k, blank(), blank(), simple_string()).prop_map(|(k, b1, b2, v)| format!("{k}{b1}={b2}{v}"))
    };
    let distinct =
        proptest::sample::subsequence(vec!["provider", "value", "default", "description"], 0..=4)
            .prop_shuffle()
            .prop_flat_map(move |keys| {
                keys.into_iter().map(|k| field(Just(k.to_string()).boxed())).collect::<Vec<_>>()
            });
    let fields = prop_oneof![9 => distinct, 1 => proptest::collection::vec(field(simple_key().boxed()), 0..4)];
    let name = prop_oneof![
        150 => "[A-Z_][A-Z0-9_]{0,5}",
        1 => Just("9BAD".to_string()),
        1 => Just("a-b".to_string()),
        1 => Just("\"Q\"".to_string()),
        1 => Just("A.b".to_string()),
    ];
    let tail = prop_oneof![
        40 => Just(String::new()),
        6 => Just(" # note".to_string()),
        1 => Just("# é".to_string()),
        1 => Just(" x".to_string()),
        1 => Just(",".to_string()),
    ];
    (
        "[ \t]{0,2}",
        name,
        blank(),
        fields,
        prop_oneof![8 => Just(", "), 1 => Just(","), 1 => Just(" ,\t")],
        prop_oneof![40 => Just(""), 1 => Just(",")],
        tail,
    )
        .prop_map(|(indent, name, b, fields, sep, trailing, tail)| {
            let inner = fields.join(sep);
            let inner = if inner.is_empty() { inner } else { format!(" {inner}{trailing} ") };
            format!("{indent}{name}{b}={b}{{{inner}}}{tail}")
        })
}

/// A file mostly of `[secrets]` tables of simple entries.
fn simple_file() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        30 => simple_entry(),
        3 => prop_oneof![
            Just("[secrets]"), Just("[profiles.prod.secrets]"), Just("[profiles.dev.secrets] # d"),
            Just("[ secrets ]"), Just("[providers.l]\ntype = \"local\""), Just("[profiles.prod]"),
        ].prop_map(str::to_string),
        1 => prop_oneof![
            Just("[secrets.A]"), Just("[[secrets]]"), Just("[\"secrets\"]"), Just("secrets.B = {}"),
            Just("[profiles.prod]\nsecrets = { C = {} }"), Just("default_provider = \"l\""),
            Just("A.default = \"d\""), Just("B = [\n1]"), Just("# comment"), Just(""),
            Just("[profiles.prod]\nenv = false"), Just("[bogus]"),
        ].prop_map(str::to_string),
    ];
    let eol = prop_oneof![6 => Just("\n"), 1 => Just("\r\n")];
    let last = prop_oneof![6 => Just(true), 1 => Just(false)];
    let first =
        prop_oneof![6 => Just("[secrets]"), 1 => Just("[profiles.prod.secrets]"), 1 => Just("")];
    (first, proptest::collection::vec(piece, 1..12), eol, last).prop_map(
        |(first, pieces, eol, last)| {
            let text =
                std::iter::once(first.to_string()).chain(pieces).collect::<Vec<_>>().join(eol);
            if last { text + eol } else { text }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn the_simple_reading_gives_the_usual_model(text in simple_file()) {
        check_simple(&text)?;
    }

    #[test]
    fn the_simple_reading_of_any_file_gives_the_usual_model(text in file()) {
        check_simple(&text)?;
    }

    #[test]
    fn reading_one_secret_of_a_simple_file_gives_its_part_of_the_full_model(
        text in simple_file(),
        name in secret_name(),
    ) {
        check_one(&text, &name)?;
    }
}

/// The generated files exercise the simple reading, not only its refusals.
#[test]
fn the_simple_reading_takes_a_good_share_of_the_generated_files() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = simple_file();
    let (mut taken, total) = (0, 500);
    for _ in 0..total {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        if check_simple(&text).unwrap() {
            taken += 1;
        }
    }
    assert!(taken * 5 > total, "the simple reading took {taken} of {total} files");
}

#[test]
fn the_simple_reading_takes_what_set_writes() {
    let text = "[providers.l]\ntype = \"local\"\n\n[secrets]\nA = { provider = \"l\", value = \"QUJD\" }\n\
                B = { default = \"b\", description = \"the b\" } # b\n\n\
                [profiles.prod.secrets]\nA = { value = \"WFla\" }\n";
    assert!(check_simple(text).unwrap());
    let path = Path::new("dir/fnox.toml");
    let parsed = simple::parse(path, text, &Lines::new(path, text)).unwrap();
    let a = &parsed.base.secrets[0];
    assert_eq!((a.name.as_str(), a.at.line, a.value.as_deref()), ("A", 5, Some("QUJD")));
    assert_eq!(&text[a.value_span.clone().unwrap().0], "\"QUJD\"");
    assert_eq!(parsed.new_entry_at.len(), 2, "{:?}", parsed.new_entry_at);
}

#[test]
fn a_control_character_in_a_value_is_left_to_the_usual_reading() {
    let text = "[secrets]\nA = { value = \"a\u{7f}b\" }\nB = { default = \"b\" } # \t\n";
    assert!(!check_simple(text).unwrap());
    check_one(text, "A").unwrap();
    check_one(text, "B").unwrap();
}
