//! `set NAME` reads the file for NAME alone (issue 14): the other secrets'
//! entries are left out of the model, and what the check of `local` keys
//! needs of them (each value's key, its provider) is found by a scan.
//! What a user sees stays: the same refusal of a new key, in every form an
//! entry can take; the same bytes written; a file the scan does not
//! follow is read whole, with the same result.

use crate::common::{TestEnv, stderr};

/// The refusal of `set` when `file` holds values under local key `key`,
/// which this machine lacks.
fn refusal(file: &str, key: &str) -> String {
    format!("error: {file} holds values of provider `local` under local key {key} that this machine does not have; a value under another key would leave the file with keys that no single machine has
  hint: this machine does not have local key {key}: on a machine that has it run `fnox keys export -o FILE`, then `fnox keys import FILE` here; in CI set FNOX_LOCAL_KEY (`fnox keys export --env`). A new key would not decrypt these values
  hint: if a value under another key is intended (every reader then needs both keys), pass --new-key-ok
")
}

/// The id of the keyring's (first) key.
fn key_id(env: &TestEnv) -> String {
    let ring = std::fs::read_to_string(env.config_dir.join("local.key")).unwrap();
    let line = ring.lines().find(|l| !l.starts_with('#') && !l.trim().is_empty()).unwrap();
    line.split_whitespace().next().unwrap().to_string()
}

/// A project whose `T` is stored under a key (returned, with `T`'s stored
/// text) that this machine no longer has, beside 1,000 values under the
/// key it has now.
fn project_with_a_foreign_value() -> (TestEnv, String, String) {
    let env = TestEnv::with_local();
    env.set("T", b"under the old key").success();
    let (old_key, t) = (key_id(&env), env.stored("T"));
    std::fs::remove_file(env.config_dir.join("local.key")).unwrap();
    env.cmd().args(["set", "S0000", "--new-key-ok"]).write_stdin("v").assert().success();
    let lines: String = (1..1000).map(|i| format!("S{i:04}=value-{i}\n")).collect();
    env.write("secrets.env", &lines);
    env.fnox(&["import", "-q", "secrets.env"]).success();
    (env, old_key, t)
}

#[test]
fn set_refuses_a_new_key_whatever_form_the_entry_under_the_missing_one_has() {
    let (env, old_key, t) = project_with_a_foreign_value();
    let inline = env.read("fnox.toml");
    let entry = format!("T = {{ provider = \"local\", value = \"{t}\" }}\n");
    assert!(inline.contains(&entry), "{inline}");
    let without = inline.replace(&entry, "");
    let forms = [
        ("inline", inline.clone()),
        ("table", format!("{without}[secrets.T]\nprovider = \"local\"\nvalue = \"{t}\"\n")),
        ("dotted", inline.replace(&entry, &format!("T.value = '{t}'   # dotted\n"))),
        ("odd spacing", inline.replace(&entry, &format!("T={{value=\"{t}\",description='x'}}\n"))),
        (
            "an active profile's",
            format!("{without}[profiles.dev.secrets]\nT = {{ value = \"{t}\" }}\n"),
        ),
        // A multi-line string elsewhere: the scan gives up, the file is read whole.
        ("read whole", format!("{inline}NOTE = {{ default = \"\"\"\nmulti\nline\"\"\" }}\n")),
    ];
    for (form, text) in forms {
        env.write("fnox.toml", &text);
        for name in ["S0500", "NEW_SECRET"] {
            let out = env.cmd().args(["-P", "dev", "set", name]).write_stdin("x").assert().code(1);
            assert_eq!(stderr(&out), refusal("fnox.toml", &old_key), "{form}, {name}");
            assert_eq!(env.read("fnox.toml"), text, "{form}");
        }
    }
    // An inactive profile's value is not checked (as before).
    let text = format!("{without}[profiles.dev.secrets]\nT = {{ value = \"{t}\" }}\n");
    env.write("fnox.toml", &text);
    env.cmd().args(["set", "NEW_SECRET"]).write_stdin("new").assert().success();
    let line = "NEW_SECRET = { provider = \"local\", value = \"";
    let at = text.find("[profiles.dev.secrets]").unwrap();
    let now = env.read("fnox.toml");
    let new = format!("{line}{}\" }}\n", stored_of(&now, line));
    assert_eq!(now, format!("{}{new}{}", &text[..at], &text[at..]));
    assert_eq!(env.get("NEW_SECRET"), b"new");
}

/// The stored text on the line that starts with `line`.
fn stored_of<'t>(text: &'t str, line: &str) -> &'t str {
    let start = text.find(line).unwrap() + line.len();
    &text[start..start + text[start..].find('"').unwrap()]
}

#[test]
fn a_set_that_reads_the_file_whole_writes_the_same_bytes() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    env.set("B", b"beta").success();
    let plain = env.read("fnox.toml");
    let multi = "NOTE = { default = \"\"\"\nmulti\nline\"\"\" }\n";
    for (text, how) in [(plain.clone(), "scanned"), (format!("{plain}{multi}"), "read whole")] {
        env.write("fnox.toml", &text);
        // A new value for A: its value token alone changes.
        env.set("A", b"alpha 2").success();
        let now = env.read("fnox.toml");
        let (old, new) =
            (stored_of(&text, "A = { provider = \"local\", value = \""), env.stored("A"));
        assert_eq!(now, text.replace(old, &new), "{how}");
        // A new entry: its line after the table's last entry.
        env.set("C", b"gamma").success();
        let after = env.read("fnox.toml");
        let c = format!("C = {{ provider = \"local\", value = \"{}\" }}\n", env.stored("C"));
        assert_eq!(after, format!("{now}{c}"), "{how}");
        assert_eq!(
            [env.get("A"), env.get("B"), env.get("C")],
            [b"alpha 2".to_vec(), b"beta".to_vec(), b"gamma".to_vec()]
        );
    }
}

#[test]
fn a_mistake_in_another_entry_is_left_to_the_commands_that_read_it() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let text = format!("{}B = {{ valu = \"x\" }}\n", env.read("fnox.toml"));
    env.write("fnox.toml", &text);
    // `set A` reads A's entry alone; `list` reads every entry.
    env.set("A", b"alpha 2").success();
    assert_eq!(env.get("A"), b"alpha 2");
    let line = text.lines().count();
    let out = env.fnox(&["list"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: fnox.toml:{line}: unknown key `valu` in secret `B`
  hint: did you mean `value`?
  hint: allowed keys here: `provider`, `value`, `default`, `sensitive`, `description`, `if_missing`, `allow_exec_control`, `env`, `as_file`, `json_path`, `line`
"
        )
    );
}

#[test]
fn an_entry_left_out_that_overrides_a_broken_one_is_read_after_all() {
    // fnox.dev.toml is read whole (a multi-line string); its `B` names a
    // provider that is not defined, and fnox.toml's `[profiles.dev.secrets]`
    // `B` overrides it, so the full load is fine: `set` (and `get`) fall
    // back to it.
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let text =
        format!("{}[profiles.dev.secrets]\nB = {{ default = \"b\" }}\n", env.read("fnox.toml"));
    env.write("fnox.toml", &text);
    env.write(
        "fnox.dev.toml",
        "[secrets]\nB = { provider = \"nope\", default = \"x\" }\nN = { default = \"\"\"\nm\"\"\" }\n",
    );
    let out = env.cmd().args(["-P", "dev", "set", "A"]).write_stdin("alpha 2").assert().success();
    assert_eq!(stderr(&out), "set A (provider `local`) in fnox.dev.toml\n");
    let out = env.fnox(&["-P", "dev", "get", "A"]).success();
    assert_eq!(out.get_output().stdout, b"alpha 2\n");
}
