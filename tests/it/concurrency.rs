//! Concurrent writers: `set`s running at the same time never lose each
//! other's entries, never leave a torn file, and agree on one local key.

use std::{
    collections::BTreeSet,
    io::Write,
    process::{Child, Stdio},
};

use crate::common::TestEnv;

const WRITERS: usize = 8;
const ROUNDS: usize = 20;

/// `fnox set --raw NAME` as a plain process with the test environment
/// (what `TestEnv::cmd` sets up), its value written to stdin.
fn spawn_set(env: &TestEnv, name: &str, value: &str) -> Child {
    let mut child = env
        .process()
        .args(["set", "--raw", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fnox");
    child.stdin.take().expect("stdin").write_all(value.as_bytes()).expect("write stdin");
    child
}

/// Starts one `set` per name at once, then waits for all of them; each
/// must succeed with its own note and nothing on stdout.
fn set_all_at_once(env: &TestEnv, names: &[String]) {
    let children: Vec<(String, Child)> =
        names.iter().map(|n| (n.clone(), spawn_set(env, n, &value_of(n)))).collect();
    for (name, child) in children {
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "set {name}: {:?}\n{err}", out.status);
        assert_eq!(err, format!("set {name} (provider `local`) in fnox.toml\n"));
        assert!(out.stdout.is_empty(), "set {name} printed on stdout");
    }
}

fn value_of(name: &str) -> String {
    format!("value of {name}: {}", name.len())
}

/// The names in the file's `[secrets]` table; the file must parse.
fn names_in_file(env: &TestEnv) -> BTreeSet<String> {
    let text = env.read("fnox.toml");
    let doc: toml_edit::DocumentMut =
        text.parse().unwrap_or_else(|e| panic!("fnox.toml does not parse: {e}\n{text}"));
    doc["secrets"].as_table().expect("[secrets]").iter().map(|(k, _)| k.to_string()).collect()
}

/// The names `fnox list --json` reports.
fn names_listed(env: &TestEnv) -> BTreeSet<String> {
    let out = env.fnox(&["list", "--json"]).success();
    let json: serde_json::Value =
        serde_json::from_slice(&out.get_output().stdout).expect("list --json is JSON");
    json.as_array()
        .expect("an array")
        .iter()
        .map(|o| o["name"].as_str().expect("a name").to_string())
        .collect()
}

/// The ids of the keys in the local keyring (`ID BASE64 [primary]` lines).
fn key_ids(env: &TestEnv) -> Vec<String> {
    let ring = std::fs::read_to_string(env.config_dir.join("local.key")).expect("local.key");
    ring.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect()
}

fn no_temp_files(env: &TestEnv) {
    for dir in [&env.project, &env.config_dir] {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
            assert!(!name.starts_with(".fnox-"), "temp file {name} left in {}", dir.display());
        }
    }
}

#[test]
fn concurrent_sets_never_lose_an_entry() {
    let env = TestEnv::with_local();
    let initial = env.read("fnox.toml");
    let mut expected = BTreeSet::new();
    for round in 0..ROUNDS {
        let names: Vec<String> = (0..WRITERS).map(|w| format!("R{round}_W{w}")).collect();
        set_all_at_once(&env, &names);
        expected.extend(names);
        assert_eq!(names_in_file(&env), expected, "after round {round}");
        assert_eq!(names_listed(&env), expected, "after round {round}");
    }
    assert_eq!(expected.len(), ROUNDS * WRITERS);
    for name in ["R0_W0", "R0_W7", "R7_W3", "R13_W5", "R19_W0", "R19_W7"] {
        assert_eq!(env.get(name), value_of(name).as_bytes(), "get {name}");
    }
    // `init` ends with `[secrets]`: the file is what it wrote plus one
    // line per entry.
    let text = env.read("fnox.toml");
    assert!(text.starts_with(&initial), "{text}");
    assert_eq!(text.lines().count(), initial.lines().count() + ROUNDS * WRITERS);
    no_temp_files(&env);
}

#[test]
fn concurrent_sets_on_a_fresh_machine_create_one_key() {
    for attempt in 0..5 {
        let env = TestEnv::new();
        env.write("fnox.toml", "[providers.local]\ntype = \"local\"\n");
        assert!(!env.config_dir.exists());
        let names: Vec<String> = (0..WRITERS).map(|w| format!("FRESH_{w}")).collect();
        set_all_at_once(&env, &names);

        assert_eq!(key_ids(&env).len(), 1, "attempt {attempt}: one key in the keyring");
        assert_eq!(names_in_file(&env), names.iter().cloned().collect(), "attempt {attempt}");
        for name in &names {
            assert_eq!(env.get(name), value_of(name).as_bytes(), "attempt {attempt}: get {name}");
        }
        no_temp_files(&env);
    }
}
