//! The fast path of `set_secrets` (`splice.rs`) gives `toml_edit`'s text,
//! byte for byte, whenever it gives one; and it gives one for the common
//! files.

use proptest::prelude::*;

use super::{SecretUpdate, set_secrets_with_edit, splice::splice_updates};

type Update = (Vec<String>, String, Option<String>, Option<String>, Vec<(&'static str, String)>);

fn check(text: &str, updates: &[Update]) -> Result<bool, TestCaseError> {
    let list: Vec<(&[String], &str, SecretUpdate<'_>)> = updates
        .iter()
        .map(|(path, name, provider, description, _)| {
            (
                path.as_slice(),
                name.as_str(),
                SecretUpdate {
                    provider: provider.as_deref(),
                    value: "",
                    description: description.as_deref(),
                    settings: &[],
                },
            )
        })
        .collect();
    let settings: Vec<Vec<(&str, &str)>> =
        updates.iter().map(|u| u.4.iter().map(|(k, v)| (*k, v.as_str())).collect()).collect();
    let values: Vec<String> = (0..updates.len())
        .map(|i| if i % 2 == 0 { "dmFsdWU=".into() } else { format!("v \"{i}\"\\") })
        .collect();
    let list: Vec<_> = list
        .into_iter()
        .zip(&settings)
        .zip(&values)
        .map(|(((p, n, mut u), s), v)| {
            u.settings = s;
            u.value = v;
            (p, n, u)
        })
        .collect();
    let fast = splice_updates(text, &list).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let Some(fast) = fast else { return Ok(false) };
    match set_secrets_with_edit(text, &list) {
        Ok(edit) => prop_assert_eq!(&fast, &edit, "file:\n{}\nupdates: {:?}", text, updates),
        Err(e) => {
            return Err(TestCaseError::fail(format!("only toml_edit failed: {e}\n{text}")));
        }
    }
    Ok(true)
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("[secrets]".to_string()),
        1 => Just("[secrets]  # the secrets".to_string()),
        1 => Just("[providers.l]\ntype = \"local\"".to_string()),
        1 => Just("[secrets.T]\nvalue = \"dA==\"".to_string()),
        1 => Just("[secrets.T.inner]".to_string()),
        1 => Just("[profiles.prod.secrets]".to_string()),
        1 => Just("[profiles.prod]\nenv = false".to_string()),
        1 => Just("[[secrets.ARR]]".to_string()),
        1 => Just("[other]".to_string()),
        6 => prop_oneof![Just("A"), Just("B"), Just("C"), Just("NEW")].prop_flat_map(|n| prop_oneof![
            Just(format!("{n} = {{ default = \"x\" }}")),
            Just(format!("{n} = {{ provider = \"l\", value = \"b2xk\" }}  # kept")),
            Just(format!("{n} = {{value=\"b2xk\"}}")),
            Just(format!("  {n} = {{ provider = \"m\", value = \"b2xk\" }}")),
            Just(format!("{n} = {{ default = \"a\", sensitive = false }}")),
            Just(format!("{n}.default = \"x\"")),
            Just(format!("{n} = \"plain\"")),
            Just(format!("{n} = [\n  \"a\",\n  \"b\",\n]")),
            Just(format!("{n} = {{ default = \"\"\"\nmulti\nline\"\"\" }}")),
        ]),
        2 => Just("# a comment".to_string()),
        2 => Just(String::new()),
    ]
}

fn file() -> impl Strategy<Value = String> {
    // Files end with a line break: a replaced value leaves a file without
    // one as it was, where `toml_edit` adds one (a new entry is then left
    // to `toml_edit`: see below).
    let end = prop_oneof![6 => Just("\n"), 1 => Just("\n\n# tail\n")];
    let eol = prop_oneof![8 => Just("\n"), 1 => Just("\r\n")];
    (proptest::collection::vec(piece(), 0..10), eol, end)
        // One kind of line end per file: `toml_edit`'s rendering makes a
        // file of mixed ends all CRLF, where a splice leaves them be.
        .prop_map(|(pieces, eol, end)| (pieces.join("\n") + end).replace('\n', eol))
}

fn update() -> impl Strategy<Value = Update> {
    let path = prop_oneof![
        4 => Just(vec!["secrets".to_string()]),
        1 => Just(vec!["profiles".into(), "prod".into(), "secrets".into()]),
        1 => Just(vec!["secrets".into(), "T".into()]),
        1 => Just(vec!["other".into()]),
    ];
    let name = prop_oneof![Just("A"), Just("B"), Just("NEW"), Just("Z_9"), Just("T"), Just("a-b")];
    let provider = prop_oneof![2 => Just(None), 2 => Just(Some("l")), 1 => Just(Some("m \"q\""))];
    let description = prop_oneof![3 => Just(None), 1 => Just(Some("about it: 'x' \"y\""))];
    let settings = prop_oneof![
        4 => Just(vec![]),
        1 => Just(vec![("default", "d".to_string())]),
        1 => Just(vec![("if_missing", "warn".to_string()), ("default", "a\nb".to_string())]),
    ];
    (path, name, provider, description, settings).prop_map(|(p, n, pr, d, s)| {
        (p, n.to_string(), pr.map(str::to_string), d.map(str::to_string), s)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn splicing_gives_toml_edits_text(
        text in file(),
        updates in proptest::collection::vec(update(), 1..4),
    ) {
        check(&text, &updates)?;
    }
}

#[test]
fn new_entries_of_common_files_are_spliced() {
    let secrets = vec!["secrets".to_string()];
    let prod: Vec<String> = ["profiles", "prod", "secrets"].map(String::from).to_vec();
    let new =
        |path: &Vec<String>| (path.clone(), "NEW".to_string(), Some("l".into()), None, vec![]);
    for (text, path) in [
        (
            "[providers.l]\ntype = \"local\"\n\n[secrets]\nA = { provider = \"l\", value = \"eA==\" }\n",
            &secrets,
        ),
        (
            "[secrets]\nA = { value = \"eA==\" } # c\n\n# about B\n[secrets.B]\nvalue = \"eA==\"\n",
            &secrets,
        ),
        ("[secrets]\n\n[profiles.prod.secrets]\nA = { default = \"p\" }\n# end\n", &secrets),
        (
            "[secrets]\nA = { default = \"a\" }\n[profiles.prod.secrets]\nA = { default = \"p\" }\n",
            &prod,
        ),
    ] {
        assert!(check(text, &[new(path)]).unwrap(), "not spliced:\n{text}");
    }
}

#[test]
fn a_new_entry_in_a_file_without_a_final_line_break_is_left_to_toml_edit() {
    let new = (vec!["secrets".to_string()], "NEW".to_string(), None, None, vec![]);
    assert!(!check("[secrets]\nA = { value = \"eA==\" }", std::slice::from_ref(&new)).unwrap());
    assert!(check("[secrets]\nA = { value = \"eA==\" }\n", &[new]).unwrap());
}
