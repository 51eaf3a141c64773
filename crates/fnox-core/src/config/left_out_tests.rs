//! The load for `set NAME` (other secrets' entries left out, their values
//! found by the scan of `left_out.rs`) gives the check of `local` keys the
//! same key ids as the full load, for generated projects (several
//! providers, default providers at the top level and in profiles, active
//! profiles, `--no-defaults`, a profile file, envelopes, odd formatting);
//! and a new entry's place is the full reading's, or not known.

use std::{cell::Cell, path::Path};

use proptest::{
    prelude::*,
    test_runner::{Config as Cases, TestRunner},
};

use super::{LoadOptions, OnlyOne, load};
use crate::{codec::encode_base64, env::Environment, keys::used_key_ids};

/// A stored `local` value under key `key`: direct, or an envelope whose
/// data key it wraps.
fn stored(key: u8, envelope: bool, salt: u8) -> String {
    let mut wrapped = vec![1, key, 0xa0 ^ key, 7, 9];
    wrapped.extend([salt; 40]);
    if !envelope {
        return encode_base64(&wrapped);
    }
    let mut out = b"FNXE\x02".to_vec();
    out.extend((wrapped.len() as u32).to_be_bytes());
    out.extend(&wrapped);
    out.extend([salt; 12 + 16 + 5]);
    encode_base64(&out)
}

/// A value as written (quotes included).
fn value() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        6 => (0u8..3, prop::bool::weighted(0.2), any::<u8>()).prop_map(|(k, e, s)| stored(k, e, s)),
        1 => Just("short".to_string()),
        1 => Just(String::new()),
    ];
    (text, 0..20u8).prop_map(|(text, how)| match how {
        0 => format!("'{text}'"),
        // An escape: the same text, which the scan does not follow.
        1 if !text.is_empty() => format!("\"\\u{:04X}{}\"", text.as_bytes()[0], &text[1..]),
        _ => format!("\"{text}\""),
    })
}

fn provider() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        12 => Just(None),
        12 => Just(Some("\"l1\"".to_string())),
        12 => Just(Some("'l2'".to_string())),
        2 => Just(Some("\"p\"".to_string())),
        // Not defined: the full load fails (unless another entry overrides it).
        1 => Just(Some("\"nope\"".to_string())),
    ]
}

fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => Just(" "), 1 => Just(""), 1 => Just("  \t")]
}

fn other_field() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("description = \"a \\\"quoted\\\" { [ text\"".to_string()),
        4 => Just("if_missing = 'warn'".to_string()),
        4 => Just("as_file = true".to_string()),
        4 => Just("line = 2".to_string()),
        // The scan does not follow it: the file is read whole.
        1 => Just("description = \"\"\"\nmulti\"\"\"".to_string()),
    ]
}

/// The fields of one entry, in some order.
fn fields() -> impl Strategy<Value = Vec<(String, String)>> {
    (prop::option::weighted(0.85, value()), provider(), prop::collection::vec(other_field(), 0..2))
        .prop_map(|(value, provider, others)| {
            let mut fields: Vec<(String, String)> = Vec::new();
            fields.extend(provider.map(|p| ("provider".to_string(), p)));
            fields.extend(value.map(|v| ("value".to_string(), v)));
            for o in others {
                let (k, v) = o.split_once(" = ").unwrap();
                if !fields.iter().any(|(f, _)| f == k) {
                    fields.push((k.to_string(), v.to_string()));
                }
            }
            fields
        })
        .prop_shuffle()
}

fn comment() -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => Just(""), 1 => Just(" # a [comment] with \"quotes\" and 'x'"), 1 => Just("\t#")]
}

/// One entry named `name` of a `[secrets]` table, as lines of that table
/// (`Err`: as a `[secrets.NAME]` table of its own, its lines).
fn entry(name: String) -> impl Strategy<Value = Result<String, String>> {
    (fields(), 0..16u8, ws(), comment()).prop_map(move |(fields, form, ws, comment)| {
        let pairs: Vec<String> = fields.iter().map(|(k, v)| format!("{k}{ws}={ws}{v}")).collect();
        match form {
            0 => Ok(fields.iter().map(|(k, v)| format!("{name}.{k} = {v}{comment}\n")).collect()),
            1 => Err(pairs.iter().map(|p| format!("{p}{comment}\n")).collect()),
            2 => Ok(format!("\"{name}\" = {{ {} }}\n", pairs.join(", "))),
            3 => Ok(format!("{name} = {{\n  {} }}\n", pairs.join(", "))),
            _ if pairs.is_empty() => Ok(format!("{name}{ws}={ws}{{}}{comment}\n")),
            _ => Ok(format!(
                "{name}{ws}={ws}{{{ws}{}{ws}}}{comment}\n",
                pairs.join(&format!(",{ws}"))
            )),
        }
    })
}

/// The `[secrets]` table at `prefix` (`""`, `profiles.dev.`) with `n`
/// entries `S0`, `S1`, ...; with `headless`, it may have no header of its
/// own (its entries dotted keys of the table before it, which is its
/// parent).
fn table(prefix: &'static str, headless: bool) -> impl Strategy<Value = String> {
    (0..5usize, prop::bool::weighted(0.1), prop::bool::weighted(if headless { 0.2 } else { 0.0 }))
        .prop_flat_map(move |(n, blank_lines, no_header)| {
            let entries: Vec<_> = (0..n).map(|i| entry(format!("S{i}"))).collect();
            entries.prop_map(move |entries| {
                let header = if no_header { String::new() } else { format!("[{prefix}secrets]\n") };
                let mut own = header;
                let mut tables = String::new();
                for (i, e) in entries.into_iter().enumerate() {
                    match e {
                        Ok(lines) if no_header => {
                            for line in lines.lines() {
                                let dotted = line.starts_with(['S', '"']);
                                own.push_str(if dotted { "secrets." } else { "" });
                                own.push_str(line);
                                own.push('\n');
                            }
                        }
                        Ok(lines) => own.push_str(&lines),
                        Err(lines) => {
                            tables.push_str(&format!("[{prefix}secrets.S{i}]\n{lines}"));
                        }
                    }
                    if blank_lines {
                        own.push_str("\n# between\n");
                    }
                }
                format!("{own}{tables}")
            })
        })
}

fn default_provider() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(String::new()),
        1 => Just("default_provider = \"l1\"\n".to_string()),
        1 => Just("default_provider = \"l2\"\n".to_string()),
    ]
}

/// A config file: its providers, defaults, and `[secrets]` tables of the
/// top level and of the profiles `dev` and `prod`.
fn file() -> impl Strategy<Value = String> {
    (
        default_provider(),
        default_provider(),
        table("", false),
        table("profiles.dev.", true),
        table("profiles.prod.", false),
    )
        .prop_map(|(top_default, dev_default, top, dev, prod)| {
            format!(
                "{top_default}[providers.l1]\ntype = \"local\"\n[providers.l2]\ntype = \"local\"\n\
                 [providers.p]\ntype = \"plain\"\n{top}[profiles.dev]\n{dev_default}{dev}{prod}"
            )
        })
}

fn profiles() -> impl Strategy<Value = (Vec<&'static str>, bool)> {
    (
        prop_oneof![
            Just(vec!["default"]),
            Just(vec!["dev"]),
            Just(vec!["prod"]),
            Just(vec!["prod", "dev"])
        ],
        prop::bool::weighted(0.2),
    )
}

/// The key ids of every provider (and of none) in each file, for the check
/// of `set NAME`.
fn key_ids(config: &super::Config, dir: &Path, name: &str) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for file in ["fnox.toml", "fnox.dev.toml"] {
        for provider in ["l1", "l2", "p", "nope"] {
            all.push(used_key_ids(config, provider, &dir.join(file), name).into_iter().collect());
        }
    }
    all
}

/// Checks one case; `Ok(true)` when the scan read a file (some entries
/// were left out), `Ok(false)` when both were read whole or the full
/// reading fails.
fn check(
    dir: &Path,
    (text, profile_file): &(String, Option<String>),
    name: &str,
    (profiles, no_defaults): &(Vec<&str>, bool),
) -> Result<bool, TestCaseError> {
    std::fs::write(dir.join("fnox.toml"), text).unwrap();
    let dev = dir.join("fnox.dev.toml");
    match profile_file {
        Some(t) => std::fs::write(&dev, t).unwrap(),
        None => drop(std::fs::remove_file(&dev)),
    }
    let env = Environment::new(dir);
    let mut opts = LoadOptions::default().with_profiles(profiles).unwrap();
    opts.no_defaults = *no_defaults;
    let only = OnlyOne { name: name.to_string(), in_place: true };
    let one_opts = LoadOptions { only: Some(only), ..opts.clone() };
    let config_dir = dir.join("config");
    // As `set` does (`Env::load_to_set`): a load for one secret that fails
    // is done again whole (an entry it left out may have overridden one
    // that a file read whole has, and that the full load checks); when
    // that fails too, the first error is told.
    let one = load(&env, &config_dir, &one_opts)
        .or_else(|e| load(&env, &config_dir, &opts).map_err(|_| e));
    let (full, one) = match (load(&env, &config_dir, &opts), one) {
        (Ok(full), Ok(one)) => (full, one),
        (Ok(_), Err(e)) => {
            return Err(TestCaseError::fail(format!("only the load for `{name}` failed: {e}")));
        }
        // A mistake in an entry, reported by the full reading (the reading
        // of one may not see it: the price of leaving entries out).
        (Err(_), _) => return Ok(false),
    };
    prop_assert_eq!(key_ids(&full, dir, name), key_ids(&one, dir, name));
    for file in [dir.join("fnox.toml"), dev] {
        for table in [vec!["secrets"], vec!["profiles", "dev", "secrets"]] {
            let table: Vec<String> = table.into_iter().map(String::from).collect();
            if let Some(at) = one.new_entry_at(&file, &table) {
                prop_assert_eq!(Some(at), full.new_entry_at(&file, &table), "{:?}", table);
            }
        }
    }
    Ok(!one.left_out.is_empty())
}

#[test]
fn the_load_for_set_finds_the_key_ids_of_the_full_load() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    std::fs::write(dir.join("fnox.toml"), "").unwrap();
    let files = (file(), prop::option::weighted(0.3, table("", false)));
    let name = prop_oneof![Just("S0"), Just("S1"), Just("S3"), Just("NEW")];
    let (scanned, cases) = (Cell::new(0), Cell::new(0));
    let mut runner = TestRunner::new(Cases { cases: 1500, ..Cases::default() });
    runner
        .run(&(files, name, profiles()), |(files, name, profiles)| {
            let read = check(&dir, &files, name, &profiles)?;
            cases.set(cases.get() + 1);
            scanned.set(scanned.get() + usize::from(read));
            Ok(())
        })
        .unwrap();
    // The property means something only when the scan is used.
    assert!(scanned.get() * 3 > cases.get(), "{} of {} cases scanned", scanned.get(), cases.get());
}
