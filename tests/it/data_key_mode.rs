//! `data_key = true` on aws-kms and vault-transit (against moto and
//! OpenBao, through the counting proxy): one data key per (provider,
//! file), wrapped once; values AES-256-GCM under it; one unwrap request per
//! (provider, file) whatever the number of secrets; tamper and swap of
//! values and of the wrapped key; concurrent first `set`s.

use std::collections::BTreeMap;

use base64::Engine as _;

use crate::{
    common::{TestEnv, aws_env, create_kms_key, kms_endpoint, stderr, stdout},
    proxy::CountingProxy,
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A KMS provider block named `name` with `data_key = true`.
fn kms_provider(name: &str, endpoint: &str, key: &str) -> String {
    format!(
        "[providers.{name}]\ntype = \"aws-kms\"\nkey_id = \"{key}\"\nendpoint = \"{endpoint}\"\ndata_key = true\n\n"
    )
}

/// A project with one data-key KMS provider `kms`, through a counting
/// proxy to moto. `None` when there is no KMS server (see `skipped`).
fn kms_data_key_project() -> Option<(TestEnv, CountingProxy, String)> {
    let endpoint = kms_endpoint()?;
    let (_, _, alias) = create_kms_key(&endpoint);
    let proxy = CountingProxy::start(&endpoint);
    let mut env = TestEnv::new();
    env.extra_env = aws_env();
    env.write("fnox.toml", &format!("{}[secrets]\n", kms_provider("kms", &proxy.url, &alias)));
    Some((env, proxy, alias))
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The `[data_keys]` table of `text`: provider to line.
fn data_keys(text: &str) -> BTreeMap<String, String> {
    let doc: toml_edit::DocumentMut = text.parse().unwrap();
    let Some(t) = doc.get("data_keys").and_then(|t| t.as_table_like()) else {
        return BTreeMap::new();
    };
    t.iter().map(|(k, v)| (k.to_string(), v.as_str().unwrap().to_string())).collect()
}

/// The id (hex) in a `[data_keys]` line.
fn line_id(line: &str) -> &str {
    line.split(':').nth(1).unwrap()
}

#[test]
fn kms_values_share_one_data_key_and_exec_unwraps_it_once() {
    let Some((env, proxy, _)) = kms_data_key_project() else { return };
    env.set("S01", b"value 1").success();
    // The first set creates the data key: one Encrypt (its wrapping).
    assert_eq!(proxy.counts(), counts(&[("Encrypt", 1)]));
    for i in 2..=12 {
        env.set(&format!("S{i:02}"), format!("value {i}").as_bytes()).success();
    }
    // Every later set unwraps it: one Decrypt each, no Encrypt.
    assert_eq!(proxy.counts(), counts(&[("Decrypt", 11), ("Encrypt", 1)]));
    let text = env.read("fnox.toml");
    let keys = data_keys(&text);
    assert_eq!(keys.keys().collect::<Vec<_>>(), ["kms"]);
    let id = line_id(&keys["kms"]).to_string();
    assert_eq!(id.len(), 32);
    for i in 1..=12 {
        let bytes = env.stored_bytes(&format!("S{i:02}"));
        assert_eq!(&bytes[..5], b"FNXK\x01");
        let hex: String = bytes[5..21].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, id);
    }

    for args in [
        &["exec", "--", "true"][..],
        &["export", "--format", "json"],
        &["list", "--values"],
        &["get", "S07"],
    ] {
        proxy.reset();
        let out = env.fnox(args).success();
        assert_eq!(proxy.counts(), counts(&[("Decrypt", 1)]), "{args:?}");
        if args[0] == "get" {
            assert_eq!(stdout(&out), "value 7\n");
        }
    }
    let out = env.fnox(&["exec", "--", "sh", "-c", "printf '%s|' \"$S01\" \"$S12\""]).success();
    assert_eq!(stdout(&out), "value 1|value 12|");
}

#[test]
fn kms_two_files_and_two_providers_unwrap_once_each() {
    let Some((env, proxy, alias)) = kms_data_key_project() else { return };
    let top = format!(
        "{}{}[secrets]\n",
        kms_provider("kms", &proxy.url, &alias),
        kms_provider("kms2", &proxy.url, &alias)
    );
    env.write("fnox.toml", &top);
    env.write("app/fnox.toml", "[secrets]\n");
    for (dir, provider, name) in
        [(".", "kms", "A1"), (".", "kms", "A2"), (".", "kms2", "B1"), ("app", "kms", "C1")]
    {
        env.cmd_in(&env.project.join(dir))
            .args(["set", "--provider", provider, name])
            .write_stdin(format!("{name} value"))
            .assert()
            .success();
    }
    env.cmd_in(&env.project.join("app"))
        .args(["set", "--provider", "kms2", "D1"])
        .write_stdin("D1 value")
        .assert()
        .success();
    let (top, app) = (data_keys(&env.read("fnox.toml")), data_keys(&env.read("app/fnox.toml")));
    assert_eq!(top.keys().collect::<Vec<_>>(), ["kms", "kms2"]);
    assert_eq!(app.keys().collect::<Vec<_>>(), ["kms", "kms2"]);
    let ids: std::collections::BTreeSet<_> =
        top.values().chain(app.values()).map(|l| line_id(l).to_string()).collect();
    assert_eq!(ids.len(), 4, "four distinct data keys");
    proxy.reset();
    let out = env
        .cmd_in(&env.project.join("app"))
        .args(["exec", "--", "sh", "-c", "printf '%s|' \"$A1\" \"$A2\" \"$B1\" \"$C1\" \"$D1\""])
        .assert()
        .success();
    assert_eq!(stdout(&out), "A1 value|A2 value|B1 value|C1 value|D1 value|");
    assert_eq!(proxy.counts(), counts(&[("Decrypt", 4)]), "one per (provider, file)");
}

#[test]
fn kms_swapped_or_tampered_values_and_keys_fail_without_output() {
    let Some((env, proxy, alias)) = kms_data_key_project() else { return };
    let two = format!(
        "default_provider = \"kms\"\n\n{}{}[secrets]\n",
        kms_provider("kms", &proxy.url, &alias),
        kms_provider("kms2", &proxy.url, &alias)
    );
    env.write("fnox.toml", &two);
    env.set("A", b"alpha").success();
    env.set("B", b"bravo").success();
    env.cmd().args(["set", "--provider", "kms2", "C"]).write_stdin("charlie").assert().success();
    let original = env.read("fnox.toml");
    let fails = |what: &str, expected: &str| {
        let out = env.fnox(&["get", "A"]).code(1);
        assert_eq!(stdout(&out), "", "{what}");
        let err = stderr(&out);
        assert!(err.contains(expected), "{what}: {err}");
        assert!(!err.contains("alpha") && !err.contains("bravo"), "{what}: {err}");
        env.write("fnox.toml", &original);
    };

    // A value under another name.
    env.swap_stored("A", "B");
    fails("swap", "moved from another secret, or tampered with");
    // Any byte of the value.
    let mut bytes = env.stored_bytes("A");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    env.write("fnox.toml", &original.replace(&env.stored("A"), &B64.encode(&bytes)));
    fails("tampered value", "moved from another secret, or tampered with");
    // A value of the same file's other provider: another data key.
    let c = env.stored("C");
    env.write("fnox.toml", &original.replace(&env.stored("A"), &c));
    fails("value of kms2", "was made under data key");
    // The wrapped key, one byte changed.
    let keys = data_keys(&original);
    let line = &keys["kms"];
    let (head, wrapped) = line.rsplit_once(':').unwrap();
    let mut blob = B64.decode(wrapped).unwrap();
    let mid = blob.len() / 2;
    blob[mid] ^= 1;
    env.write("fnox.toml", &original.replace(line, &format!("{head}:{}", B64.encode(&blob))));
    fails("tampered wrapped key", "does not unwrap");
    // The other provider's wrapped key (bound to `kms2`), and its id.
    env.write(
        "fnox.toml",
        &original.replace(&format!("kms = \"{line}\""), &format!("kms = \"{}\"", keys["kms2"])),
    );
    fails("kms2's data key under kms", "does not unwrap");
    // kms2's wrapped key with kms's id: KMS refuses the binding.
    let (_, wrapped2) = keys["kms2"].rsplit_once(':').unwrap();
    env.write("fnox.toml", &original.replace(line, &format!("{head}:{wrapped2}")));
    fails("kms2's wrapped key, kms's id", "does not unwrap");
    // No data key at all.
    env.write("fnox.toml", &original.replace(&format!("kms = \"{line}\"\n"), ""));
    fails("no data key", "has no `[data_keys]` entry `kms`");
    assert_eq!(env.get("A"), b"alpha");
}

#[test]
fn kms_a_value_copied_to_another_file_fails_and_a_moved_file_reads() {
    let Some((env, _proxy, _)) = kms_data_key_project() else { return };
    env.set("A", b"alpha").success();
    let first = env.read("fnox.toml");
    let other = TestEnv::new();
    let mut other = other;
    other.extra_env = aws_env();
    // The whole file moves: it reads (the binding names no path).
    other.write("elsewhere/fnox.toml", &first);
    let out = other.cmd_in(&other.project.join("elsewhere")).args(["get", "A"]).assert().success();
    assert_eq!(stdout(&out), "alpha\n");
    // A value copied into a file with its own data key: refused by id.
    env.write("b/fnox.toml", "[secrets]\n");
    env.cmd_in(&env.project.join("b")).args(["set", "B"]).write_stdin("bravo").assert().success();
    let b = env.read("b/fnox.toml");
    let b_value = {
        let doc: toml_edit::DocumentMut = b.parse().unwrap();
        doc["secrets"]["B"]["value"].as_str().unwrap().to_string()
    };
    env.write("b/fnox.toml", &b.replace(&b_value, &env.stored("A")).replace("B =", "A ="));
    let out = env.cmd_in(&env.project.join("b")).args(["get", "A"]).assert().code(1);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("copied from another file"), "{}", stderr(&out));
}

#[test]
fn kms_concurrent_first_sets_keep_one_data_key_and_every_value() {
    let Some((env, proxy, _)) = kms_data_key_project() else { return };
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut cmd = env.process();
            cmd.args(["set", &format!("V{i}")])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(format!("value {i}").as_bytes()).unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let text = env.read("fnox.toml");
    assert_eq!(data_keys(&text).len(), 1, "{text}");
    assert_eq!(text.matches("[data_keys]").count(), 1);
    proxy.reset();
    let script = (0..8).map(|i| format!("\"$V{i}\"")).collect::<Vec<_>>().join(" ");
    let out = env.fnox(&["exec", "--", "sh", "-c", &format!("printf '%s|' {script}")]).success();
    let expected: String = (0..8).map(|i| format!("value {i}|")).collect();
    assert_eq!(stdout(&out), expected);
    assert_eq!(proxy.counts(), counts(&[("Decrypt", 1)]));
}

#[test]
fn kms_rotate_to_a_new_key_rewraps_each_data_key_once_and_leaves_values() {
    let Some((env, proxy, alias)) = kms_data_key_project() else { return };
    for i in 0..5 {
        env.set(&format!("R{i}"), format!("value {i}").as_bytes()).success();
    }
    let before = env.read("fnox.toml");
    let endpoint = kms_endpoint().unwrap();
    let (_, _, alias2) = create_kms_key(&endpoint);
    env.write("fnox.toml", &before.replace(&alias, &alias2));
    let moved = env.read("fnox.toml");
    proxy.reset();
    let out = env.fnox(&["rotate", "--dry-run"]).success();
    assert!(stdout(&out).contains("data key of `kms` in fnox.toml: re-wrap"), "{}", stdout(&out));
    assert_eq!(env.read("fnox.toml"), moved, "a dry run writes nothing");
    proxy.reset();
    env.fnox(&["rotate", "--yes"]).success();
    assert_eq!(proxy.counts(), counts(&[("ReEncrypt", 1)]));
    let after = env.read("fnox.toml");
    let (old, new) = (data_keys(&moved)["kms"].clone(), data_keys(&after)["kms"].clone());
    assert_eq!(line_id(&old), line_id(&new), "same data key");
    assert_ne!(old, new, "wrapped under the new key");
    // Only the data key's line changed: every value byte-identical.
    assert_eq!(after, moved.replace(&old, &new));
    assert_eq!(env.get("R3"), b"value 3");
    // Again: the data key is under the current key already.
    proxy.reset();
    env.fnox(&["rotate", "--yes"]).success();
    assert_eq!(proxy.counts(), counts(&[("ReEncrypt", 1)]));
    assert_eq!(env.read("fnox.toml"), after);
}

#[test]
fn kms_rotate_new_data_key_reseals_the_files_values() {
    let Some((env, proxy, _)) = kms_data_key_project() else { return };
    for i in 0..4 {
        env.set(&format!("N{i}"), format!("value {i}").as_bytes()).success();
    }
    let before = env.read("fnox.toml");
    proxy.reset();
    env.fnox(&["rotate", "--new-data-key", "--yes"]).success();
    assert_eq!(proxy.counts(), counts(&[("Decrypt", 1), ("Encrypt", 1)]));
    let after = env.read("fnox.toml");
    let (old, new) = (data_keys(&before)["kms"].clone(), data_keys(&after)["kms"].clone());
    assert_ne!(line_id(&old), line_id(&new));
    for i in 0..4 {
        let bytes = env.stored_bytes(&format!("N{i}"));
        let hex: String = bytes[5..21].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, line_id(&new));
        assert_eq!(env.get(&format!("N{i}")), format!("value {i}").as_bytes());
    }
}

#[test]
fn kms_new_data_key_refuses_to_leave_another_profiles_values_behind() {
    let Some((env, proxy, _)) = kms_data_key_project() else { return };
    env.set("A", b"default value").success();
    env.cmd().args(["-P", "prod", "set", "A"]).write_stdin("prod value").assert().success();
    let before = env.read("fnox.toml");
    proxy.reset();
    // The active profile's A alone would move to a new key and leave prod's
    // A under a replaced one: refused, nothing written, nothing asked.
    let out = env.fnox(&["rotate", "--new-data-key", "--yes"]).failure();
    assert!(
        stderr(&out).contains("--new-data-key replaces the data key of provider `kms` in this file, and other values under it are not part of this rotation"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.read("fnox.toml"), before);
    assert_eq!(proxy.counts().get("Encrypt"), None);
    // With every profile, both move.
    env.fnox(&["rotate", "--new-data-key", "--all-profiles", "--yes"]).success();
    assert_ne!(
        line_id(&data_keys(&env.read("fnox.toml"))["kms"]),
        line_id(&data_keys(&before)["kms"])
    );
    assert_eq!(env.get("A"), b"default value");
    let prod = env.fnox(&["-P", "prod", "get", "A"]).success();
    assert_eq!(stdout(&prod), "prod value\n");
}

#[test]
fn kms_migration_to_data_key_and_back_is_all_or_nothing() {
    let Some((env, proxy, _)) = kms_data_key_project() else { return };
    let with_key = env.read("fnox.toml");
    let per_secret = with_key.replace("data_key = true\n", "");
    env.write("fnox.toml", &per_secret);
    for name in ["M1", "M2", "M3"] {
        env.set(name, format!("{name} value").as_bytes()).success();
    }
    let plain_file = env.read("fnox.toml");
    assert!(data_keys(&plain_file).is_empty());
    // Per-secret -> data key.
    env.write("fnox.toml", &plain_file.replace("endpoint", "data_key = true\nendpoint"));
    let marked = env.read("fnox.toml");
    let out = env.fnox(&["rotate", "--dry-run"]).success();
    let plan = stdout(&out);
    assert!(plan.contains("data key of `kms` in fnox.toml: new"), "{plan}");
    assert!(plan.contains("dry run: 3 of 3 secrets would change"), "{plan}");
    assert_eq!(env.read("fnox.toml"), marked);
    proxy.reset();
    env.fnox(&["rotate", "--yes"]).success();
    assert_eq!(proxy.counts(), counts(&[("Decrypt", 3), ("Encrypt", 1)]));
    for name in ["M1", "M2", "M3"] {
        assert_eq!(&env.stored_bytes(name)[..4], b"FNXK");
    }
    proxy.reset();
    env.fnox(&["exec", "--", "true"]).success();
    assert_eq!(proxy.counts(), counts(&[("Decrypt", 1)]));
    // Data key -> per-secret, with one value broken: nothing is written.
    let keyed = env.read("fnox.toml");
    let back = keyed.replace("data_key = true\n", "");
    env.write("fnox.toml", &back);
    env.swap_stored("M1", "M2");
    let swapped = env.read("fnox.toml");
    let out = env.fnox(&["rotate", "--yes"]).code(1);
    assert!(stderr(&out).contains("no file was changed"), "{}", stderr(&out));
    assert_eq!(env.read("fnox.toml"), swapped);
    env.write("fnox.toml", &back);
    proxy.reset();
    env.fnox(&["rotate", "--yes"]).success();
    assert_eq!(proxy.counts(), counts(&[("Decrypt", 1), ("Encrypt", 3)]));
    let done = env.read("fnox.toml");
    assert!(data_keys(&done).is_empty(), "the unused data key is removed:\n{done}");
    for name in ["M1", "M2", "M3"] {
        assert_ne!(&env.stored_bytes(name)[..4], b"FNXK");
        assert_eq!(env.get(name), format!("{name} value").as_bytes());
    }
}

#[test]
fn transit_values_share_one_data_key_and_rotation_rewraps_it_once() {
    use crate::common::{bao, bao_server, unique_name};
    let Some((addr, token)) = bao_server() else { return };
    let key = unique_name("fnox-dk");
    bao(&addr, &token, &["write", "-f", &format!("transit/keys/{key}"), "derived=true"]);
    let proxy = CountingProxy::start(&addr);
    let mut env = TestEnv::new();
    env.extra_env = vec![("FNOX_VAULT_TOKEN".into(), token.clone())];
    env.write(
        "fnox.toml",
        &format!(
            "[providers.vault]\ntype = \"vault-transit\"\naddress = \"{}\"\nkey = \"{key}\"\ndata_key = true\n\n[secrets]\n",
            proxy.url
        ),
    );
    for i in 0..6 {
        env.set(&format!("T{i}"), format!("transit {i}").as_bytes()).success();
    }
    assert_eq!(proxy.counts(), counts(&[("transit/decrypt", 5), ("transit/encrypt", 1)]));
    let line = data_keys(&env.read("fnox.toml"))["vault"].clone();
    assert!(line.split(':').nth(2) == Some("vault"), "{line}");
    proxy.reset();
    let out = env.fnox(&["exec", "--", "sh", "-c", "printf '%s|' \"$T0\" \"$T5\""]).success();
    assert_eq!(stdout(&out), "transit 0|transit 5|");
    assert_eq!(proxy.counts(), counts(&[("transit/decrypt", 1)]));
    // A swapped value fails without output.
    let before = env.read("fnox.toml");
    env.swap_stored("T1", "T2");
    let out = env.fnox(&["get", "T1"]).code(1);
    assert_eq!(stdout(&out), "");
    env.write("fnox.toml", &before);
    // A new key version: one rewrap, values untouched.
    bao(&addr, &token, &["write", "-f", &format!("transit/keys/{key}/rotate")]);
    proxy.reset();
    env.fnox(&["rotate", "--yes"]).success();
    assert_eq!(proxy.counts(), counts(&[("transit/rewrap", 1)]));
    let after = env.read("fnox.toml");
    let new = data_keys(&after)["vault"].clone();
    assert!(new.contains(":vault:v2:"), "{new}");
    assert_eq!(after, before.replace(&line, &new));
    assert_eq!(env.get("T4"), b"transit 4");
}

#[test]
fn kms_import_and_edit_seal_under_the_files_data_key() {
    let Some((env, proxy, _)) = kms_data_key_project() else { return };
    // import of three values into a file without a data key: the key is
    // made once (one Encrypt) and all three are sealed under it.
    env.cmd().args(["import", "-"]).write_stdin("A=one\nB=two\nC=three\n").assert().success();
    assert_eq!(proxy.counts(), counts(&[("Encrypt", 1)]));
    let id = line_id(&data_keys(&env.read("fnox.toml"))["kms"]).to_string();
    for name in ["A", "B", "C"] {
        let bytes = env.stored_bytes(name);
        assert_eq!(&bytes[..5], b"FNXK\x01", "{name}");
        let hex: String = bytes[5..21].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, id, "{name}");
    }
    // edit changes B and adds D: one unwrap of the data key serves the
    // editor's values and the new seals (1 Decrypt), no new data key.
    proxy.reset();
    let editor = env.tmp.path().join("editor.sh");
    crate::common::write_executable(
        &editor,
        "#!/bin/sh\nsed -i 's/^B=.*/B=2/' \"$1\"\necho D=four >> \"$1\"\n",
    );
    let a = env.cmd().arg("edit").env("EDITOR", &editor).write_stdin(Vec::new()).assert();
    let a = a.success();
    assert_eq!(stderr(&a), "fnox.toml [secrets] (profile `default`): changed B; added D\n");
    assert_eq!(proxy.counts(), counts(&[("Decrypt", 1)]));
    let text = env.read("fnox.toml");
    assert_eq!(line_id(&data_keys(&text)["kms"]), id);
    for name in ["B", "D"] {
        assert_eq!(&env.stored_bytes(name)[..5], b"FNXK\x01", "{name}");
    }
    proxy.reset();
    let out = env.fnox(&["export", "--format", "json"]).success();
    assert_eq!(stdout(&out), "{\"A\":\"one\",\"B\":\"2\",\"C\":\"three\",\"D\":\"four\"}\n");
    assert_eq!(proxy.counts(), counts(&[("Decrypt", 1)]));
}
