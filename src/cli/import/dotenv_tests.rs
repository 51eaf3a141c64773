use proptest::prelude::*;

use super::{ParseError, parse};

/// (name, value, line, expanded) of each entry.
fn read(text: &str, expand: bool) -> Vec<(String, String, usize, Vec<String>)> {
    parse(text.as_bytes(), expand)
        .expect("parses")
        .into_iter()
        .map(|e| {
            let value = String::from_utf8(e.value.expose().to_vec()).expect("utf-8");
            (e.name, value, e.line, e.expanded)
        })
        .collect()
}

fn values(text: &str, expand: bool) -> Vec<(String, String)> {
    read(text, expand).into_iter().map(|(n, v, _, _)| (n, v)).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

#[test]
fn quotes_escapes_comments_and_export() {
    let text = "# c\n  export A=1\nB='x $A \\n'  # c\nC=\"q\\\"\\\\\\n\\$A\\`\"\nD=s\\ ix#no\nE=\nF=  # c\nexport=e\r\nG =  \"a\"'b'c\n";
    assert_eq!(
        values(text, true),
        pairs(&[
            ("A", "1"),
            ("B", "x $A \\n"),
            ("C", "q\"\\\n$A`"),
            ("D", "s ix#no"),
            ("E", ""),
            ("F", ""),
            ("export", "e"),
            ("G", "abc"),
        ])
    );
}

#[test]
fn multi_line_values_keep_their_lines_and_count_them() {
    let text = "A='one\ntwo'\nB=\"x\ny\"\n\nC=3\n";
    let got = read(text, true);
    assert_eq!(got[0].1, "one\ntwo");
    assert_eq!(got[1].1, "x\ny");
    assert_eq!(got.iter().map(|e| e.2).collect::<Vec<_>>(), [1, 3, 6]);
}

#[test]
fn references_take_only_earlier_entries() {
    let text = "A=a\nB=\"${A}-$A/$A_X ${C} $C\"\nC=c\nD=$B\nE=${A\nF=\"$ $1 ${} $$A\"\nA=${A}2\n";
    let got = read(text, true);
    assert_eq!(got[1].1, "a-a/$A_X ${C} $C");
    assert_eq!(got[1].3, ["A"]);
    assert_eq!(got[3].1, "a-a/$A_X ${C} $C");
    assert_eq!(got[4].1, "${A");
    assert_eq!(got[5].1, "$ $1 ${} $a");
    assert_eq!(got[6].1, "a2");
    // Unquoted and double-quoted values expand; single-quoted do not.
    assert_eq!(values("A=1\nB=$A\nC='$A'\n", true)[1..], pairs(&[("B", "1"), ("C", "$A")]));
}

#[test]
fn a_self_reference_or_an_undefined_name_stays_literal() {
    let got = parse(b"PW=\"p@ss$word!\"\nHOME=$HOME\nT=${GITHUB_TOKEN}\n", true).unwrap();
    let shown: Vec<(&[u8], usize)> = got.iter().map(|e| (e.value.expose(), e.literal)).collect();
    assert_eq!(shown, [(&b"p@ss$word!"[..], 1), (b"$HOME", 1), (b"${GITHUB_TOKEN}", 1)]);
    assert!(got.iter().all(|e| e.expanded.is_empty()));
}

#[test]
fn no_expand_keeps_every_reference() {
    let got = parse(b"A=1\nB=\"$A ${A}\"\n", false).unwrap();
    assert_eq!(got[1].value.expose(), b"$A ${A}");
    assert_eq!((got[1].literal, got[1].expanded.len()), (2, 0));
}

#[test]
fn errors_say_where_and_never_hold_a_value() {
    let bad = |t: &str| parse(t.as_bytes(), true).unwrap_err();
    let entry = |line, name: &str| ParseError::BadValue { line, name: name.to_string() };
    assert_eq!(bad("A=1\nsk_live_x\n"), ParseError::NotAnEntry { line: 2 });
    assert_eq!(bad("1A=x\n"), ParseError::NotAnEntry { line: 1 });
    assert_eq!(bad("export\n"), ParseError::NotAnEntry { line: 1 });
    assert_eq!(bad("A=1\n\nK=\"open\nB=2\n"), entry(3, "K"));
    assert_eq!(bad("K='open\n"), entry(1, "K"));
    assert_eq!(bad("K=a b\n"), entry(1, "K"));
    assert_eq!(bad("K=\"x\\q\"\n"), entry(1, "K"));
    assert_eq!(bad("K=\"x\" y\n"), entry(1, "K"));
    assert_eq!(bad("K=x\\"), entry(1, "K"));
    assert_eq!(parse(b"A=\xff\n", true).unwrap_err(), ParseError::NotUtf8);
}

/// Double quotes around `value`, escaping only what double quotes need.
fn double_quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

proptest! {
    /// With nothing defined before it, any text (dollars, braces, quotes,
    /// newlines) comes back byte for byte: nothing is looked up elsewhere.
    #[test]
    fn a_value_with_no_earlier_entry_is_kept_byte_for_byte(value in "\\PC*|[$A-Z_{}\"'\\\\\n ]*") {
        let text = format!("# x\nexport   K={}\n", double_quoted(&value));
        let got = parse(text.as_bytes(), true).unwrap();
        prop_assert_eq!(got.len(), 1);
        prop_assert_eq!(got[0].value.expose(), value.as_bytes());
        prop_assert!(got[0].expanded.is_empty());
    }

    /// Single quotes keep anything but a quote; earlier names do not matter.
    #[test]
    fn single_quotes_are_literal(value in "[^']*") {
        let text = format!("A=1\nK='{value}'\n");
        let got = parse(text.as_bytes(), true).unwrap();
        prop_assert_eq!(got[1].value.expose(), value.as_bytes());
    }

    /// A reference to an earlier entry takes exactly its value.
    #[test]
    fn references_take_the_earlier_value(a in "[^'\n]*", tail in "[a-z/ -]*") {
        let text = format!("A='{a}'\nB=\"${{A}}{tail}\"\nC=\"$A\"\n");
        let got = parse(text.as_bytes(), true).unwrap();
        let joined = format!("{a}{tail}");
        prop_assert_eq!(got[1].value.expose(), joined.as_bytes());
        prop_assert_eq!(got[2].value.expose(), a.as_bytes());
    }

    /// Any input: an answer, never a panic.
    #[test]
    fn never_panics(text in "[A-Z=$\"'\\\\{}# \n\r\ta-z]*") {
        let _ = parse(text.as_bytes(), true);
    }
}
