//! `import`: a real .env file (dotenv's rules) in, encrypted entries out,
//! in one write; dry runs, overwrites, names, stdin, parse errors that
//! never show a value, and `$` references that never read the environment
//! of whoever imports.

use crate::common::{TestEnv, stderr, stdout};

/// A .env file with what real ones have, and what each entry must become.
const DOTENV: &str = r#"# Production settings. Lines like this one are comments.
   # an indented comment

export EXPORTED=from-export
PLAIN=plainvalue
INLINE_COMMENT=value # not part of the value
SINGLE='single $NOT_EXPANDED "dq" \n # kept'
DOUBLE="double \"escaped\" \\ back\nslash"
MULTI_SINGLE='line one
line two
'
MULTI_DOUBLE="first
  second"
HASH_IN_DOUBLE="a # b"
HASH_IN_SINGLE='#c'
SPACES_AROUND =   'x y'
EMPTY=
EMPTY_QUOTED=""
SUBSTITUTED="${PLAIN}-suffix and $PLAIN/x"
export   PEM="-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n"
"#;

fn expected() -> Vec<(&'static str, &'static str)> {
    vec![
        ("EXPORTED", "from-export"),
        ("PLAIN", "plainvalue"),
        ("INLINE_COMMENT", "value"),
        ("SINGLE", "single $NOT_EXPANDED \"dq\" \\n # kept"),
        ("DOUBLE", "double \"escaped\" \\ back\nslash"),
        ("MULTI_SINGLE", "line one\nline two\n"),
        ("MULTI_DOUBLE", "first\n  second"),
        ("HASH_IN_DOUBLE", "a # b"),
        ("HASH_IN_SINGLE", "#c"),
        ("SPACES_AROUND", "x y"),
        ("EMPTY", ""),
        ("EMPTY_QUOTED", ""),
        ("SUBSTITUTED", "plainvalue-suffix and plainvalue/x"),
        ("PEM", "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n"),
    ]
}

#[test]
fn every_entry_of_a_real_env_file_decrypts_to_its_source() {
    let env = TestEnv::with_local();
    env.write(".env", DOTENV);
    let out = env.fnox(&["import", ".env", "--allow-empty"]).success();
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "imported 14 secrets (provider `local`) into fnox.toml\n.env still holds the plaintext; delete it when you no longer need it\n"
    );
    for (name, value) in expected() {
        assert_eq!(String::from_utf8(env.get(name)).unwrap(), value, "{name}");
    }
    // Encrypted, one line each, nothing in plain text.
    let file = env.read("fnox.toml");
    let entries: Vec<&str> =
        file.lines().filter(|l| l.contains("{ provider = \"local\", value = ")).collect();
    assert_eq!(entries.len(), 14, "{file}");
    for plain in ["plainvalue", "from-export", "line one", "BEGIN KEY"] {
        assert!(!file.contains(plain), "{plain} in {file}");
    }
}

#[test]
fn stdin_is_read_when_no_file_is_given() {
    let env = TestEnv::with_local();
    let out = env.cmd().arg("import").write_stdin("A=1\nB='two words'\n").assert().success();
    assert_eq!(stderr(&out), "imported 2 secrets (provider `local`) into fnox.toml\n");
    assert_eq!(env.get("A"), b"1");
    assert_eq!(env.get("B"), b"two words");
    let out = env.cmd().args(["import", "-"]).write_stdin("C=3\n").assert().success();
    assert_eq!(stderr(&out), "imported 1 secret (provider `local`) into fnox.toml\n");
    assert_eq!(env.get("C"), b"3");
}

#[test]
fn dry_run_lists_and_changes_nothing() {
    let env = TestEnv::with_local();
    env.set("PLAIN", b"old").success();
    let before = env.read_bytes("fnox.toml");
    env.write(".env", "PLAIN=new\nZED=z\nALPHA=a\n");
    let out = env.fnox(&["import", ".env", "--dry-run", "--force"]).success();
    assert_eq!(
        stdout(&out),
        "ALPHA  new      fnox.toml  local  .env:3\n\
         PLAIN  replace  fnox.toml  local  .env:1\n\
         ZED    new      fnox.toml  local  .env:2\n\
         dry run: 3 secrets would be imported; nothing was written\n"
    );
    assert_eq!(stderr(&out), "");
    assert_eq!(env.read_bytes("fnox.toml"), before);
    assert_eq!(env.get("PLAIN"), b"old");
}

/// Without --force, the dry run still shows the whole plan with the
/// conflicting names marked, then fails as the real run would.
#[test]
fn dry_run_marks_existing_names_and_exits_as_the_import_would() {
    let env = TestEnv::with_local();
    env.set("PLAIN", b"old").success();
    env.set("KEEP", b"kept").success();
    let before = env.read_bytes("fnox.toml");
    env.write(".env", "PLAIN=new\nZED=z\nKEEP=x\n");
    let out = env.fnox(&["import", ".env", "-n"]).code(1);
    assert_eq!(
        stdout(&out),
        "KEEP   exists  fnox.toml  local  .env:3\n\
         PLAIN  exists  fnox.toml  local  .env:1\n\
         ZED    new     fnox.toml  local  .env:2\n\
         dry run: 3 secrets would be imported with --force; nothing was written\n"
    );
    assert_eq!(
        stderr(&out),
        "error: these secrets are already defined: KEEP, PLAIN; pass --force to overwrite\n"
    );
    assert_eq!(env.read_bytes("fnox.toml"), before);
}

#[test]
fn existing_names_are_refused_unless_forced() {
    let env = TestEnv::with_local();
    env.set("A", b"old a").success();
    env.set("KEEP", b"kept").success();
    let before = env.read_bytes("fnox.toml");
    env.write(".env", "A='new a'\nB='new b'\n");
    let out = env.fnox(&["import", ".env"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: this secret is already defined: A; pass --force to overwrite\n"
    );
    // Nothing was written, not even the new B.
    assert_eq!(env.read_bytes("fnox.toml"), before);
    env.write(".env", "A='new a'\nB='new b'\nKEEP=x\n");
    let out = env.fnox(&["import", ".env"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: these secrets are already defined: A, KEEP; pass --force to overwrite\n"
    );
    env.write(".env", "A='new a'\nB='new b'\n");
    let out = env.fnox(&["import", ".env", "--force"]).success();
    assert_eq!(
        stderr(&out),
        "imported 2 secrets (provider `local`) into fnox.toml\n.env still holds the plaintext; delete it when you no longer need it\n"
    );
    assert_eq!(env.get("A"), b"new a");
    assert_eq!(env.get("B"), b"new b");
    assert_eq!(env.get("KEEP"), b"kept");
    // A replaced entry stays where it was: A is still the first secret line.
    let file = env.read("fnox.toml");
    let names: Vec<&str> = file
        .lines()
        .filter(|l| l.contains(" = { provider"))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(names, ["A", "KEEP", "B"]);
}

#[test]
fn invalid_names_and_empty_input_are_rejected() {
    let env = TestEnv::with_local();
    let before = env.read_bytes("fnox.toml");
    env.write(".env", "GOOD=1\nmy.key=sk_live_not_shown\n");
    let out = env.fnox(&["import", ".env"]).code(1);
    assert_eq!(stderr(&out), "error: .env: `my.key` is not a valid secret name\n");
    env.write(".env", "GOOD=1\n1ABC=sk_live_not_shown\n");
    let out = env.fnox(&["import", ".env"]).code(1);
    assert_eq!(stderr(&out), "error: .env:2: cannot parse a line that is not NAME=VALUE\n");
    env.write(".env", "# only a comment\n\n");
    let out = env.fnox(&["import", ".env"]).code(1);
    assert_eq!(stderr(&out), "error: .env has no entries to import\n");
    assert_eq!(env.read_bytes("fnox.toml"), before);
}

#[test]
fn parse_errors_name_the_line_and_entry_but_never_the_value() {
    let env = TestEnv::with_local();
    let before = env.read_bytes("fnox.toml");
    let secret = "sk_live_51HqLyjWDarjtT1zdp7dc";
    let cases = [
        // A stray line without `=` (say, the rest of a value that was
        // meant to be quoted): it looks like a name, but is not shown.
        (format!("A=1\n{secret}\n"), "stdin:2: cannot parse a line that is not NAME=VALUE"),
        (
            format!("A=1\n\nAPI_KEY=\"{secret}\nB=2\n"),
            "stdin:3: cannot parse the entry `API_KEY` (check its quotes and escapes)",
        ),
        (
            format!("A=1\n  export   TOKEN={secret} and more\n"),
            "stdin:2: cannot parse the entry `TOKEN` (check its quotes and escapes)",
        ),
        (
            format!("TOKEN=\"{secret}\\q\"\n"),
            "stdin:1: cannot parse the entry `TOKEN` (check its quotes and escapes)",
        ),
        (
            format!("# c\nA=ok\nB = \"x\" {secret}\n"),
            "stdin:3: cannot parse the entry `B` (check its quotes and escapes)",
        ),
    ];
    for (input, message) in cases {
        let out = env.cmd().arg("import").write_stdin(input.clone()).assert().code(1);
        let err = stderr(&out);
        assert_eq!(err, format!("error: {message}\n"), "{input:?}");
        assert!(!err.contains("sk_live"), "{err}");
        assert_eq!(stdout(&out), "");
    }
    assert_eq!(env.read_bytes("fnox.toml"), before);
}

#[test]
fn provider_option_picks_the_provider() {
    let env = TestEnv::with_local();
    env.fnox(&["init", "--provider", "age"]).success();
    env.write(".env", "DB='postgres://u:p@db/app'\n");
    let out = env.fnox(&["import", ".env", "--provider", "age"]).success();
    assert_eq!(
        stderr(&out),
        "imported 1 secret (provider `age`) into fnox.toml\n.env still holds the plaintext; delete it when you no longer need it\n"
    );
    assert!(env.read("fnox.toml").contains("DB = { provider = \"age\", value = \"YWdl"));
    assert_eq!(env.get("DB"), b"postgres://u:p@db/app");
    let out = env.fnox(&["import", ".env", "--provider", "nope", "--force"]).code(1);
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    assert!(stderr(&out).contains("`nope`"), "{}", stderr(&out));
}

/// References expand only to entries defined earlier in the same file; the
/// importer's environment (a CI token, the local key, HOME) never reaches a
/// stored value, and anything not defined earlier stays byte for byte.
#[test]
fn references_never_read_the_importers_environment() {
    let env = TestEnv::with_local();
    env.write(
        ".env",
        "PW=\"p@ss$word!\"\nTOKEN=${GITHUB_TOKEN}\nKEY=\"${FNOX_LOCAL_KEY}\"\nH=$HOME/x\nBASE=https://api\nURL=\"${BASE}/v1 $BASE\"\nLATER=$AFTER\nAFTER=a\n",
    );
    let out = env
        .cmd()
        .args(["import", ".env"])
        .env("GITHUB_TOKEN", "ghp_from_the_environment")
        .env("word", "WORD")
        .env("HOME", "/home/importer")
        .env("BASE", "http://from-env")
        .assert()
        .success();
    assert_eq!(
        stderr(&out),
        "imported 8 secrets (provider `local`) into fnox.toml\n.env still holds the plaintext; delete it when you no longer need it\n"
    );
    let want: [(&str, &str); 8] = [
        ("PW", "p@ss$word!"),
        ("TOKEN", "${GITHUB_TOKEN}"),
        ("KEY", "${FNOX_LOCAL_KEY}"),
        ("H", "$HOME/x"),
        ("BASE", "https://api"),
        ("URL", "https://api/v1 https://api"),
        ("LATER", "$AFTER"),
        ("AFTER", "a"),
    ];
    for (name, value) in want {
        assert_eq!(String::from_utf8(env.get(name)).unwrap(), value, "{name}");
    }
}

#[test]
fn no_expand_keeps_every_value_literal() {
    let env = TestEnv::with_local();
    env.write(".env", "BASE=b\nURL=\"${BASE}/v1 $BASE\"\n");
    env.fnox(&["import", ".env", "--no-expand"]).success();
    assert_eq!(env.get("URL"), b"${BASE}/v1 $BASE");
}

#[test]
fn dry_run_shows_each_source_line_and_what_was_expanded_never_a_value() {
    let env = TestEnv::with_local();
    env.write(
        ".env",
        "# comment\nBASE=sk_base_value\nMULTI=\"one\ntwo\"\nURL=\"${BASE}/v1 $BASE $word ${HOME}\"\nPW='p@ss$word'\n",
    );
    let out = env.fnox(&["import", ".env", "-n"]).success();
    assert_eq!(
        stdout(&out),
        "BASE   new  fnox.toml  local  .env:2\n\
         MULTI  new  fnox.toml  local  .env:3\n\
         PW     new  fnox.toml  local  .env:6\n\
         URL    new  fnox.toml  local  .env:5  expanded BASE; 2 references kept literal\n\
         dry run: 4 secrets would be imported; nothing was written\n"
    );
    let out = env.fnox(&["import", ".env", "-n", "--no-expand"]).success();
    assert!(
        stdout(&out).contains("URL    new  fnox.toml  local  .env:5  4 references kept literal\n"),
        "{}",
        stdout(&out)
    );
}

/// `set` refuses an empty value unless --allow-empty; so does import, entry
/// by entry: an empty one is skipped with a note (and marked in the dry
/// run), and an input with nothing else imports nothing.
#[test]
fn empty_values_are_skipped_with_a_note_unless_allowed() {
    let env = TestEnv::with_local();
    env.write(".env", "A=1\nEMPTY=\nQUOTED=\"\"\nB=2\n");
    let out = env.fnox(&["import", ".env", "-n"]).success();
    assert_eq!(
        stdout(&out),
        "A       new   fnox.toml  local  .env:1\n\
         B       new   fnox.toml  local  .env:4\n\
         EMPTY   skip  -          -      .env:2  empty value\n\
         QUOTED  skip  -          -      .env:3  empty value\n\
         dry run: 2 secrets would be imported, 2 empty entries skipped; nothing was written\n"
    );
    let out = env.fnox(&["import", ".env"]).success();
    assert_eq!(
        stderr(&out),
        "skipped 2 empty entries (EMPTY, QUOTED); pass --allow-empty to import them\n\
         imported 2 secrets (provider `local`) into fnox.toml\n\
         .env still holds the plaintext; delete it when you no longer need it\n"
    );
    assert_eq!(env.get("A"), b"1");
    assert!(!env.read("fnox.toml").contains("EMPTY"));
    env.fnox(&["get", "EMPTY"]).code(1);

    let before = env.read_bytes("fnox.toml");
    let out = env.cmd().arg("import").write_stdin("EMPTY=\n").assert().code(1);
    assert_eq!(
        stderr(&out),
        "error: every entry of stdin is empty (EMPTY); nothing was imported\n  hint: pass --allow-empty to import empty values\n"
    );
    assert_eq!(env.read_bytes("fnox.toml"), before);

    let out =
        env.cmd().args(["import", "--allow-empty"]).write_stdin("EMPTY=\n").assert().success();
    assert_eq!(stderr(&out), "imported 1 secret (provider `local`) into fnox.toml\n");
    assert_eq!(env.get("EMPTY"), b"");
}
