//! What a secret gives (T6): defaults that use other secrets, the variable
//! of its name, the part of its value; each secret's own outcome.

use super::{Source, tests::project, tests::project_with};
use crate::{Error, Project, interpolate::ReferenceError};

/// A value as `(text, source, secret)`, or the error's messages.
type Got = Result<Option<(String, Source, bool)>, String>;

/// Each asked secret as `(name, value or error message, source, secret)`.
fn each(project: &Project, names: &[&str]) -> Vec<(String, Got)> {
    let only: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    project
        .resolve_each(&only)
        .unwrap()
        .into_iter()
        .map(|(d, o)| {
            let o = o
                .map(|v| {
                    v.map(|v| {
                        let text = String::from_utf8_lossy(v.expose()).into_owned();
                        (text, v.source(), v.is_secret())
                    })
                })
                .map_err(|e| crate::error::chain(&e).join(" / "));
            (d.name, o)
        })
        .collect()
}

fn value(
    text: &str,
    source: Source,
    secret: bool,
) -> Result<Option<(String, Source, bool)>, String> {
    Ok(Some((text.to_string(), source, secret)))
}

#[test]
fn a_default_uses_other_secrets_declared_anywhere_and_is_secret_when_they_are() {
    let (_tmp, project) = project(&[
        ("URL", r#"{ default = "postgres://${USER}:${PASS}@${HOST}/db" }"#),
        ("USER", r#"{ default = "app" }"#),
        ("PASS", "a:hunter2"),
        ("HOST", r#"{ default = "${REGION}.db.internal" }"#),
        ("REGION", r#"{ default = "eu" }"#),
        ("PLAIN", r#"{ default = "${USER} at ${HOST}" }"#),
        ("FORCED", r#"{ default = "${PASS}", sensitive = false }"#),
        ("LITERAL", r#"{ default = "$${USER} costs $5, ${ unclosed" }"#),
    ]);
    let got = each(&project, &["URL", "PLAIN", "FORCED", "LITERAL"]);
    assert_eq!(
        got,
        [
            (
                "URL".into(),
                value("postgres://app:hunter2@eu.db.internal/db", Source::Default, true)
            ),
            ("PLAIN".into(), value("app at eu.db.internal", Source::Default, false)),
            // A secret value in a default stays secret, whatever the entry says.
            ("FORCED".into(), value("hunter2", Source::Default, true)),
            ("LITERAL".into(), value("${USER} costs $5, ${ unclosed", Source::Default, false)),
        ]
    );
    // What the config alone tells (list --json) agrees.
    let config = project.config();
    let static_secret = |n: &str| crate::interpolate::is_secret(config, &config.secrets[n]);
    assert!(static_secret("URL") && static_secret("FORCED") && !static_secret("PLAIN"));
}

#[test]
fn undefined_references_and_cycles_fail_the_call_naming_the_entries() {
    let (_tmp, project) = project(&[
        ("A", r#"{ default = "${B}" }"#),
        ("B", r#"{ default = "x${C}" }"#),
        ("C", r#"{ default = "${A}" }"#),
        ("SELF", r#"{ default = "${SELF}" }"#),
        ("TYPO", r#"{ default = "${HOTS}" }"#),
        ("HOST", r#"{ default = "h" }"#),
        ("EMPTY", r#"{ default = "${}" }"#),
        ("OK", r#"{ default = "fine" }"#),
    ]);
    let err = |names: &[&str]| {
        let only: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        project.resolve_each(&only).unwrap_err()
    };
    let e = err(&["OK", "B"]);
    assert!(
        e.to_string()
            .ends_with(": the defaults of secrets use each other in a cycle: B -> C -> A -> B"),
        "{e}"
    );
    let e = err(&["SELF"]);
    assert!(
        e.to_string().ends_with(
            "fnox.toml:13: the defaults of secrets use each other in a cycle: SELF -> SELF"
        ),
        "{e}"
    );
    let e = err(&["TYPO"]);
    assert!(
        e.to_string().ends_with(
            "fnox.toml:14: the default of secret `TYPO` uses `${HOTS}`, but profile `default` has no secret `HOTS`"
        ),
        "{e}"
    );
    assert_eq!(
        e.hints(),
        [
            crate::Hint::DidYouMean(vec!["HOST".into()]),
            crate::Hint::ListOrAdd { secret: "HOTS".into() }
        ]
    );
    assert!(!e.is_value_failure());
    let e = err(&["EMPTY"]);
    assert!(matches!(e, Error::Reference(ReferenceError::Empty { .. })), "{e:?}");
    assert_eq!(e.hints(), [crate::Hint::LiteralDollarBrace]);
    // What is not asked for, and not used, does not matter.
    assert_eq!(each(&project, &["OK", "HOST"]).len(), 2);
}

#[test]
fn a_failure_stays_with_its_secret_and_the_defaults_that_use_it() {
    let (_tmp, project) = project(&[
        ("GOOD", "a:one"),
        ("BAD", r#"{ provider = "a", value = "AQAAAAA=" }"#),
        ("USES_BAD", r#"{ default = "x-${BAD}" }"#),
        ("NONE", r#"{ description = "no value" }"#),
        ("USES_NONE", r#"{ default = "x-${NONE}" }"#),
    ]);
    let got = each(&project, &["GOOD", "BAD", "USES_BAD", "NONE", "USES_NONE"]);
    assert_eq!(got[0].1, value("one", Source::Decrypted, true));
    let bad = got[1].1.as_ref().unwrap_err();
    assert!(bad.starts_with("cannot decrypt secret `BAD` (provider `a`, "), "{bad}");
    let uses_bad = got[2].1.as_ref().unwrap_err();
    assert!(uses_bad.starts_with("the default of secret `USES_BAD` ("), "{uses_bad}");
    assert!(
        uses_bad.contains("uses `${BAD}`, which cannot be resolved / cannot decrypt secret `BAD`"),
        "{uses_bad}"
    );
    assert_eq!(got[3].1, Ok(None));
    let uses_none = got[4].1.as_ref().unwrap_err();
    assert!(uses_none.ends_with("uses `${NONE}`, which has no value"), "{uses_none}");
    // Each is a failure of one value, which an explicit warn/ignore covers.
    for (_, o) in project.resolve_each(&[]).unwrap() {
        if let Err(e) = o {
            assert!(e.is_value_failure(), "{e}");
        }
    }
    // The failure that two secrets share reads the same for both.
    let outcomes = project.resolve_each(&["BAD".into(), "USES_BAD".into()]).unwrap();
    let Err(shared) = &outcomes[0].1 else { panic!("BAD fails") };
    assert!(matches!(shared, Error::Shared(_)), "{shared:?}");
    assert_eq!(shared.secret(), Some("BAD"));
    // Asked alone, it is the provider's error as it is.
    let alone = project.resolve_each(&["BAD".into()]).unwrap().pop().unwrap().1.unwrap_err();
    assert!(matches!(alone, Error::Decrypt { .. }), "{alone:?}");
}

#[test]
fn with_no_value_and_no_default_the_variable_of_its_name_applies() {
    let (_tmp, project) = project_with(
        &[
            ("TOKEN", r#"{ description = "from CI" }"#),
            ("LEVEL", r#"{ sensitive = false }"#),
            ("FNOX_AGE_KEY", "{}"),
            ("UNSET", "{}"),
            ("SET", "a:stored"),
            ("DEFAULTED", r#"{ default = "d" }"#),
            ("USES", r#"{ default = "t=${TOKEN}" }"#),
        ],
        &[
            ("TOKEN", "ci-token"),
            ("LEVEL", "debug"),
            ("FNOX_AGE_KEY", "AGE-SECRET-KEY-1"),
            ("SET", "env"),
            ("DEFAULTED", "env"),
        ],
    );
    let got =
        each(&project, &["TOKEN", "LEVEL", "FNOX_AGE_KEY", "UNSET", "SET", "DEFAULTED", "USES"]);
    let values: Vec<_> = got.into_iter().map(|(_, o)| o).collect();
    assert_eq!(
        values,
        [
            value("ci-token", Source::Environment, true),
            value("debug", Source::Environment, false),
            Ok(None),
            Ok(None),
            value("stored", Source::Decrypted, true),
            value("d", Source::Default, false),
            value("t=ci-token", Source::Default, true),
        ]
    );
}

#[test]
fn json_path_and_line_take_a_part_of_every_kind_of_value() {
    let json = r#"{"db": {"password": "pw", "port": 5432}}"#;
    let (_tmp, project) = project_with(
        &[
            ("DB_PASS", &format!("a:{json}")),
            ("DB_PORT", &format!("{{ default = '{json}', json_path = \"db.port\" }}")),
            ("FIRST", "{ default = \"one\\ntwo\\n\", line = 2 }"),
            ("FROM_ENV", "{ json_path = \"db.password\" }"),
            ("USES_PART", r#"{ default = "pass=${DB_PASS}" }"#),
            ("MISSING_KEY", "{ default = '{\"db\": {}}', json_path = \"db.user\" }"),
            ("NOT_JSON", "{ default = \"hunter2\", json_path = \"a\" }"),
            ("SHORT", "{ default = \"one\", line = 3 }"),
        ],
        &[("FROM_ENV", json)],
    );
    // The sealed value is JSON; the entry gets its json_path afterwards.
    let text = std::fs::read_to_string(project.config().files[0].clone()).unwrap();
    let text = text.replacen(
        "DB_PASS = { provider",
        "DB_PASS = { json_path = \"db.password\", provider",
        1,
    );
    std::fs::write(&project.config().files[0], text).unwrap();
    let project = project.fnox().load(&crate::LoadOptions::default()).unwrap();
    let got = each(
        &project,
        &[
            "DB_PASS",
            "DB_PORT",
            "FIRST",
            "FROM_ENV",
            "USES_PART",
            "MISSING_KEY",
            "NOT_JSON",
            "SHORT",
        ],
    );
    let values: Vec<_> = got.into_iter().map(|(_, o)| o).collect();
    assert_eq!(values[0], value("pw", Source::Decrypted, true));
    assert_eq!(values[1], value("5432", Source::Default, false));
    assert_eq!(values[2], value("two", Source::Default, false));
    assert_eq!(values[3], value("pw", Source::Environment, true));
    assert_eq!(values[4], value("pass=pw", Source::Default, true));
    let errors: Vec<String> = values[5..].iter().map(|o| o.clone().unwrap_err()).collect();
    let tail = |e: &str| {
        e.split_once(") / ")
            .map(|(head, tail)| (head.split(" (").next().unwrap().to_string(), tail.to_string()))
            .unwrap()
    };
    assert_eq!(
        errors.iter().map(|e| tail(e)).collect::<Vec<_>>(),
        [
            (
                "cannot take json_path `db.user` from secret `MISSING_KEY`".into(),
                "the value has no key `user` in `db`".into()
            ),
            (
                "cannot take json_path `a` from secret `NOT_JSON`".into(),
                "the value is not valid JSON (error at line 1, column 1)".into()
            ),
            ("cannot take line 3 from secret `SHORT`".into(), "the value has 1 line".into()),
        ]
    );
}
