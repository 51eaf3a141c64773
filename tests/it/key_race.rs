//! `set` racing `rotate --new-key --retire-old` (issue 10, section 3): no
//! value is ever written under a key that is retired or gone, whatever the
//! interleaving. The run lasts `FNOX_RACE_SECS` seconds (default 20; the
//! issue's 60 s run was done by hand with `FNOX_RACE_SECS=60`).

use std::{
    collections::BTreeMap,
    io::Write,
    process::Stdio,
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use crate::common::TestEnv;

fn value_of(name: &str) -> String {
    format!("value of {name}")
}

/// `fnox set --raw NAME` with its value on stdin; its stderr when it failed.
fn set(env: &TestEnv, name: &str) -> Result<(), String> {
    let mut child = env
        .process()
        .args(["set", "--raw", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fnox");
    child.stdin.take().expect("stdin").write_all(value_of(name).as_bytes()).expect("stdin");
    let out = child.wait_with_output().expect("wait");
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into()) }
}

/// Keyring lines as (id, third field).
fn keyring(env: &TestEnv) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(env.config_dir.join("local.key")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_string(), f.get(2).unwrap_or(&"").to_string())
        })
        .collect()
}

/// Each secret's stored value and the local key id in it.
fn stored_keys(env: &TestEnv) -> BTreeMap<String, String> {
    use base64::Engine as _;
    let doc: toml_edit::DocumentMut = env.read("fnox.toml").parse().unwrap();
    let secrets = doc["secrets"].as_table().unwrap();
    secrets
        .iter()
        .map(|(name, item)| {
            let value = item["value"].as_str().unwrap();
            let bytes = base64::engine::general_purpose::STANDARD.decode(value).unwrap();
            (name.to_string(), bytes[1..5].iter().map(|b| format!("{b:02x}")).collect())
        })
        .collect()
}

#[test]
fn set_racing_rotate_retire_old_never_writes_under_a_retired_key() {
    let secs: u64 = std::env::var("FNOX_RACE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let env = TestEnv::with_local();
    for i in 0..5 {
        set(&env, &format!("BASE_{i}")).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (sets, rotations, refused) =
        (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|scope| {
        for writer in 0..2 {
            let (env, sets) = (&env, &sets);
            scope.spawn(move || {
                let mut i = 0;
                while Instant::now() < deadline {
                    // New names, and now and then an existing one again.
                    let name = if i % 4 == 3 {
                        format!("W{writer}_{}", i / 2)
                    } else {
                        format!("W{writer}_{i}")
                    };
                    set(env, &name).unwrap_or_else(|e| panic!("set {name} failed:\n{e}"));
                    sets.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                    // Gaps of varying length, so that rotations get through
                    // and sets land at every moment of theirs.
                    std::thread::sleep(Duration::from_millis(5 * (i % 8)));
                }
            });
        }
        scope.spawn(|| {
            while Instant::now() < deadline {
                let out = env
                    .cmd()
                    .args(["rotate", "--new-key", "--retire-old", "--yes"])
                    .output()
                    .expect("rotate");
                let err = String::from_utf8_lossy(&out.stderr);
                if out.status.success() {
                    rotations.fetch_add(1, Ordering::Relaxed);
                } else {
                    // A value written meanwhile under the old key (seen under
                    // the keyring's lock), or a value changed meanwhile.
                    assert!(
                        err.contains("still use them")
                            || err.contains("still uses them")
                            || err.contains("changed while rotate ran"),
                        "{err}"
                    );
                    refused.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    });
    let ring = keyring(&env);
    let stored = stored_keys(&env);
    let (sets, rotations, refused) =
        (sets.into_inner(), rotations.into_inner(), refused.into_inner());
    eprintln!(
        "{secs} s: {sets} sets, {rotations} rotations, {refused} refused, {} values, {} keys",
        stored.len(),
        ring.len()
    );
    assert!(rotations > 0 && sets > 0, "{rotations} rotations, {sets} sets");
    // No value under a key that is retired or not in the keyring.
    let bad: Vec<String> = stored
        .iter()
        .filter(|(_, id)| ring.get(*id).is_none_or(|state| state == "retired"))
        .map(|(name, id)| format!("{name} under {id} ({:?})", ring.get(id)))
        .collect();
    assert!(bad.is_empty(), "values under retired or missing keys: {bad:?}");
    // And every value decrypts, without a warning, to what was set.
    let out = env.fnox(&["export", "--format", "json"]).success();
    assert_eq!(crate::common::stderr(&out), "");
    let json: BTreeMap<String, String> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json.len(), stored.len());
    for (name, value) in json {
        assert_eq!(value, value_of(&name));
    }
}
