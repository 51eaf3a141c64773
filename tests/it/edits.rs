//! In-place edits: `set` and `remove` change only the entry's own lines;
//! every other byte of fnox.toml (comments, spacing, order, style) stays.

use std::{fs, os::unix::fs::PermissionsExt, path::Path};

use base64::Engine as _;

use crate::common::{TestEnv, sh, stderr};

/// A hand-written file with comments, odd spacing, inline and table
/// entries, a profile section and settings `set`/`remove` must not touch.
/// Line numbers below refer to this text (1-based).
const FIXTURE: &str = r#"# Project secrets -- reviewed by the platform team.
   # (indented comment, kept as is)
default_provider   =   "local"
if_missing="warn"

[providers.local]
type = "local"    # the laptop key

[providers.other]   # a second provider, unused
type="local"
key_file = "other.key"

[secrets]
# The database.
DB_URL = {provider="local",   value = "b2xkLWRi"}  # c
LOG_LEVEL    = { default = 'info' }
	API_TOKEN = { provider = "local", value = "b2xkLXRva2Vu", description = "the API token" }   # trailing


# two blank lines above
EMPTY={default=""}

[secrets.B]
# about B's value
provider = "local"
value    =    "b2xkLWI="   # B's value
description = "table form"

# comment before C
[secrets.C]
default = "c"

[profiles.x]
default_provider = "local"

[profiles.x.secrets]
DB_URL = { provider = "local", value = "eC1kYg==" }   # x override
ONLY_X = { default = "only in x" }
"#;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Git with no user or system configuration, so the tests see the same
/// defaults everywhere.
const GIT: &str = "export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1; \
                   git -c user.email=test@example.com -c user.name=test";

/// A project holding `text` as fnox.toml, committed to a fresh git repo.
fn committed(text: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write("fnox.toml", text);
    sh(
        &env.project,
        &format!("{GIT} init -q . && {GIT} add fnox.toml && {GIT} commit -qm fixture"),
    );
    env
}

/// `git diff --numstat` of the working tree.
fn numstat(env: &TestEnv) -> String {
    sh(&env.project, &format!("{GIT} diff --numstat"))
}

/// `fnox ARGS` with `value` on stdin; asserts success and exactly `note`
/// on stderr.
fn run(env: &TestEnv, args: &[&str], value: &str, note: &str) {
    let out = env.cmd().args(args).write_stdin(value).assert().success();
    assert_eq!(stderr(&out), note, "fnox {args:?}");
    assert!(out.get_output().stdout.is_empty(), "fnox {args:?} printed on stdout");
}

/// The stored `value` of secret `name` in the table at `path`.
fn stored(env: &TestEnv, path: &[&str], name: &str) -> String {
    let doc: toml_edit::DocumentMut = env.read("fnox.toml").parse().expect("fnox.toml parses");
    let mut item = doc.as_item();
    for key in path {
        item = &item[*key];
    }
    item[name]["value"].as_str().expect("a string value").to_string()
}

/// Checks that `stored` is a fresh `local` value (version 1, key id,
/// nonce, ciphertext, tag) of a `plain_len`-byte plaintext.
fn assert_local_value(stored: &str, plain_len: usize) {
    let bytes = B64.decode(stored).expect("base64");
    assert_eq!(bytes[0], 1, "version byte of {stored}");
    assert_eq!(bytes.len(), 1 + 4 + 12 + plain_len + 16, "length of {stored}");
}

/// `text` with its 1-based line `n` replaced by `line`.
fn with_line(text: &str, n: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines[n - 1] = line;
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `text` with `line` inserted so that it becomes 1-based line `n`.
fn with_inserted(text: &str, n: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(n - 1, line);
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `text` without its 1-based lines `range`.
fn without(text: &str, range: std::ops::RangeInclusive<usize>) -> String {
    text.lines()
        .enumerate()
        .filter(|(i, _)| !range.contains(&(i + 1)))
        .map(|(_, l)| format!("{l}\n"))
        .collect()
}

/// The 1-based numbers of the lines that differ between two texts of the
/// same number of lines.
fn changed_lines(before: &str, after: &str) -> Vec<usize> {
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(b.len(), a.len(), "line count changed:\n{after}");
    (0..b.len()).filter(|&i| b[i] != a[i]).map(|i| i + 1).collect()
}

#[test]
fn fixture_line_numbers_are_what_the_tests_say() {
    // Guards the line numbers used below against edits of FIXTURE.
    let line = |n: usize| FIXTURE.lines().nth(n - 1).unwrap();
    assert_eq!(line(15), r#"DB_URL = {provider="local",   value = "b2xkLWRi"}  # c"#);
    assert_eq!(line(16), "LOG_LEVEL    = { default = 'info' }");
    assert_eq!(line(21), r#"EMPTY={default=""}"#);
    assert_eq!(line(26), r#"value    =    "b2xkLWI="   # B's value"#);
    assert_eq!(line(37), r#"DB_URL = { provider = "local", value = "eC1kYg==" }   # x override"#);
    assert_eq!(FIXTURE.lines().count(), 38);
}

#[test]
fn set_existing_inline_secret_changes_only_its_line() {
    let env = committed(FIXTURE);
    run(&env, &["set", "DB_URL"], "new-db\n", "set DB_URL (provider `local`) in fnox.toml\n");

    assert_eq!(numstat(&env), "1\t1\tfnox.toml\n");
    let after = env.read("fnox.toml");
    assert_eq!(changed_lines(FIXTURE, &after), [15]);
    let value = stored(&env, &["secrets"], "DB_URL");
    assert_local_value(&value, "new-db".len());
    let line = format!(r#"DB_URL = {{provider="local",   value = "{value}"}}  # c"#);
    assert_eq!(after, with_line(FIXTURE, 15, &line));
    assert_eq!(env.get("DB_URL"), b"new-db");
}

#[test]
fn set_table_entry_changes_only_its_value_line() {
    let env = committed(FIXTURE);
    run(&env, &["set", "B"], "new-b\n", "set B (provider `local`) in fnox.toml\n");

    assert_eq!(numstat(&env), "1\t1\tfnox.toml\n");
    let value = stored(&env, &["secrets"], "B");
    assert_local_value(&value, "new-b".len());
    let line = format!(r#"value    =    "{value}"   # B's value"#);
    assert_eq!(env.read("fnox.toml"), with_line(FIXTURE, 26, &line));
    assert_eq!(env.get("B"), b"new-b");
}

#[test]
fn set_on_a_default_only_entry_adds_its_fields_within_the_line() {
    let env = committed(FIXTURE);
    run(&env, &["set", "LOG_LEVEL"], "debug\n", "set LOG_LEVEL (provider `local`) in fnox.toml\n");

    assert_eq!(numstat(&env), "1\t1\tfnox.toml\n");
    let value = stored(&env, &["secrets"], "LOG_LEVEL");
    let line =
        format!(r#"LOG_LEVEL    = {{ default = 'info', provider = "local", value = "{value}" }}"#);
    assert_eq!(env.read("fnox.toml"), with_line(FIXTURE, 16, &line));
    assert_eq!(env.get("LOG_LEVEL"), b"debug");
}

#[test]
fn set_profile_override_changes_only_its_line() {
    let env = committed(FIXTURE);
    run(
        &env,
        &["-P", "x", "set", "DB_URL"],
        "x-db\n",
        "set DB_URL (provider `local`) in fnox.toml [profiles.x.secrets]\n",
    );

    assert_eq!(numstat(&env), "1\t1\tfnox.toml\n");
    let value = stored(&env, &["profiles", "x", "secrets"], "DB_URL");
    let line = format!(r#"DB_URL = {{ provider = "local", value = "{value}" }}   # x override"#);
    assert_eq!(env.read("fnox.toml"), with_line(FIXTURE, 37, &line));
    assert_eq!(env.fnox(&["-P", "x", "get", "DB_URL"]).success().get_output().stdout, b"x-db\n");
}

#[test]
fn set_new_secret_adds_exactly_one_line_after_the_last_entry() {
    let env = committed(FIXTURE);
    run(&env, &["set", "NEW"], "fresh\n", "set NEW (provider `local`) in fnox.toml\n");

    assert_eq!(numstat(&env), "1\t0\tfnox.toml\n");
    let value = stored(&env, &["secrets"], "NEW");
    assert_local_value(&value, "fresh".len());
    let line = format!(r#"NEW = {{ provider = "local", value = "{value}" }}"#);
    // Right after EMPTY (line 21), the last inline entry of [secrets].
    assert_eq!(env.read("fnox.toml"), with_inserted(FIXTURE, 22, &line));
    assert_eq!(env.get("NEW"), b"fresh");
}

#[test]
fn set_new_profile_secret_adds_one_line_to_the_profile_section() {
    let env = committed(FIXTURE);
    run(
        &env,
        &["-P", "x", "set", "NEW_X"],
        "fresh-x\n",
        "set NEW_X (provider `local`) in fnox.toml [profiles.x.secrets]\n",
    );

    assert_eq!(numstat(&env), "1\t0\tfnox.toml\n");
    let value = stored(&env, &["profiles", "x", "secrets"], "NEW_X");
    let line = format!(r#"NEW_X = {{ provider = "local", value = "{value}" }}"#);
    assert_eq!(env.read("fnox.toml"), with_inserted(FIXTURE, 39, &line));
    assert_eq!(env.fnox(&["-P", "x", "get", "NEW_X"]).success().get_output().stdout, b"fresh-x\n");
    // Not a top-level secret.
    env.fnox(&["get", "NEW_X"]).code(1);
}

#[test]
fn remove_inline_entry_removes_its_line_and_its_comment() {
    let env = committed(FIXTURE);
    run(&env, &["remove", "DB_URL"], "", "removed DB_URL from fnox.toml\n");

    assert_eq!(numstat(&env), "0\t2\tfnox.toml\n");
    // Line 14 is `# The database.`, line 15 the entry.
    assert_eq!(env.read("fnox.toml"), without(FIXTURE, 14..=15));
    let out = env.fnox(&["get", "DB_URL"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: secret `DB_URL` is not defined in profile `default`\n  \
         hint: run `fnox list` to see the secrets, or `fnox set DB_URL` to add it\n"
    );
}

#[test]
fn remove_inline_entry_without_comment_removes_one_line() {
    let env = committed(FIXTURE);
    run(&env, &["remove", "API_TOKEN"], "", "removed API_TOKEN from fnox.toml\n");

    assert_eq!(numstat(&env), "0\t1\tfnox.toml\n");
    assert_eq!(env.read("fnox.toml"), without(FIXTURE, 17..=17));
}

#[test]
fn remove_table_entry_removes_its_lines() {
    let env = committed(FIXTURE);
    run(&env, &["remove", "B"], "", "removed B from fnox.toml\n");

    // Lines 23-27 are `[secrets.B]` and its keys; of the blank lines on
    // both sides of it (22 and 28) one stays to separate EMPTY from C.
    assert_eq!(numstat(&env), "0\t6\tfnox.toml\n");
    assert_eq!(env.read("fnox.toml"), without(FIXTURE, 23..=28));
}

#[test]
fn remove_table_entry_takes_the_comment_directly_above_it() {
    let env = committed(FIXTURE);
    run(&env, &["remove", "C"], "", "removed C from fnox.toml\n");

    // `# comment before C`, the header, its key, and the blank line that
    // separated it from [profiles.x] (line 28 still separates B).
    assert_eq!(numstat(&env), "0\t4\tfnox.toml\n");
    assert_eq!(env.read("fnox.toml"), without(FIXTURE, 29..=32));
}

#[test]
fn remove_profile_entry_removes_its_line_only() {
    let env = committed(FIXTURE);
    run(&env, &["-P", "x", "remove", "DB_URL"], "", "removed DB_URL from fnox.toml\n");

    assert_eq!(numstat(&env), "0\t1\tfnox.toml\n");
    assert_eq!(env.read("fnox.toml"), without(FIXTURE, 37..=37));
}

/// Replaces every stored `local` value made in this test with a marker,
/// so the file can be snapshotted.
fn redact_values(env: &TestEnv, text: &str, names: &[(&[&str], &str)]) -> String {
    let mut text = text.to_string();
    for (path, name) in names {
        let value = stored(env, path, name);
        text = text.replace(&value, &format!("[{name} CIPHERTEXT]"));
    }
    text
}

#[test]
fn a_series_of_edits_leaves_everything_else_byte_identical() {
    let env = committed(FIXTURE);
    let secrets: &[&str] = &["secrets"];
    let profile: &[&str] = &["profiles", "x", "secrets"];
    run(&env, &["set", "API_TOKEN"], "t0ken\n", "set API_TOKEN (provider `local`) in fnox.toml\n");
    run(&env, &["set", "B"], "bee\n", "set B (provider `local`) in fnox.toml\n");
    run(&env, &["set", "NEW"], "new\n", "set NEW (provider `local`) in fnox.toml\n");
    run(
        &env,
        &["-P", "x", "set", "ONLY_X"],
        "x\n",
        "set ONLY_X (provider `local`) in fnox.toml [profiles.x.secrets]\n",
    );
    run(&env, &["remove", "EMPTY"], "", "removed EMPTY from fnox.toml\n");
    run(&env, &["remove", "C"], "", "removed C from fnox.toml\n");

    let names = [(secrets, "API_TOKEN"), (secrets, "B"), (secrets, "NEW"), (profile, "ONLY_X")];
    insta::assert_snapshot!(
        "after_a_series_of_edits",
        redact_values(&env, &env.read("fnox.toml"), &names)
    );
    assert_eq!(env.get("API_TOKEN"), b"t0ken");
    assert_eq!(env.get("B"), b"bee");
    assert_eq!(env.get("NEW"), b"new");
    assert_eq!(env.fnox(&["-P", "x", "get", "ONLY_X"]).success().get_output().stdout, b"x\n");
}

#[test]
fn crlf_file_keeps_its_line_endings() {
    let crlf = FIXTURE.replace('\n', "\r\n");
    let env = committed(&crlf);
    run(&env, &["set", "DB_URL"], "new-db\n", "set DB_URL (provider `local`) in fnox.toml\n");

    assert_eq!(numstat(&env), "1\t1\tfnox.toml\n");
    let value = stored(&env, &["secrets"], "DB_URL");
    let line = format!(r#"DB_URL = {{provider="local",   value = "{value}"}}  # c"#);
    assert_eq!(env.read("fnox.toml"), with_line(FIXTURE, 15, &line).replace('\n', "\r\n"));

    run(&env, &["remove", "C"], "", "removed C from fnox.toml\n");
    let expected = without(&with_line(FIXTURE, 15, &line), 29..=32).replace('\n', "\r\n");
    assert_eq!(env.read("fnox.toml"), expected);
    assert_eq!(env.get("DB_URL"), b"new-db");
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn edits_keep_permissions_and_leave_no_temp_files() {
    let env = TestEnv::new();
    env.write("fnox.toml", FIXTURE);
    let path = env.project.join("fnox.toml");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");

    run(&env, &["set", "DB_URL"], "v\n", "set DB_URL (provider `local`) in fnox.toml\n");
    assert_eq!(mode(&path), 0o640);
    run(&env, &["set", "NEW"], "v\n", "set NEW (provider `local`) in fnox.toml\n");
    assert_eq!(mode(&path), 0o640);
    run(&env, &["remove", "B"], "", "removed B from fnox.toml\n");
    assert_eq!(mode(&path), 0o640);

    assert_eq!(entries(&env.project), ["fnox.toml"]);
    assert_eq!(entries(&env.config_dir), ["local.key"]);
    assert_eq!(mode(&env.config_dir.join("local.key")), 0o600);
}

#[test]
fn a_failed_set_leaves_the_file_byte_identical() {
    let env = TestEnv::new();
    env.write("fnox.toml", FIXTURE);
    let out = env.cmd().args(["set", "-p", "nope", "DB_URL"]).write_stdin("v").assert().code(1);
    assert_eq!(
        stderr(&out),
        "error: provider `nope` is not defined\n  hint: defined providers: local, other\n"
    );
    assert_eq!(env.read("fnox.toml"), FIXTURE);
    assert_eq!(entries(&env.project), ["fnox.toml"]);
}

#[test]
fn set_through_a_symlinked_fnox_toml_edits_the_target() {
    let env = TestEnv::new();
    env.write("shared/fnox.toml", FIXTURE);
    std::os::unix::fs::symlink("shared/fnox.toml", env.project.join("fnox.toml")).expect("ln -s");
    run(&env, &["set", "DB_URL"], "new-db\n", "set DB_URL (provider `local`) in fnox.toml\n");

    let link = fs::symlink_metadata(env.project.join("fnox.toml")).expect("lstat");
    assert!(link.file_type().is_symlink(), "fnox.toml is no longer a symlink");
    let value = stored(&env, &["secrets"], "DB_URL");
    let line = format!(r#"DB_URL = {{provider="local",   value = "{value}"}}  # c"#);
    assert_eq!(env.read("shared/fnox.toml"), with_line(FIXTURE, 15, &line));
    assert_eq!(entries(&env.project.join("shared")), ["fnox.toml"]);
    assert_eq!(env.get("DB_URL"), b"new-db");
}
