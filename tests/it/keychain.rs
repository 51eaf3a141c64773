//! `key_store = "keychain"`: the `local` keyring in a real Secret Service
//! (gnome-keyring on a private D-Bus session bus, started by
//! scripts/test.sh), moved to another machine and into CI with
//! `fnox keys export/import`.

use crate::common::{TestEnv, secret_service, stderr, stdout};

const CONFIG: &str = "[providers.local]\ntype = \"local\"\nkey_store = \"keychain\"\n\n[secrets]\n";

/// A project whose `local` keyring is in the test Secret Service.
fn keychain_project() -> Option<TestEnv> {
    let bus = secret_service()?;
    let mut env = TestEnv::new();
    env.extra_env.push(("DBUS_SESSION_BUS_ADDRESS".into(), bus));
    env.write("fnox.toml", CONFIG);
    Some(env)
}

#[test]
fn the_keyring_lives_in_the_secret_service_and_moves_with_keys_export_import() {
    let Some(env) = keychain_project() else { return };
    env.set("API_TOKEN", b"tok-123").success();
    assert_eq!(env.get("API_TOKEN"), b"tok-123");
    // No key file was written: the keyring is in the keychain.
    assert!(!env.config_dir.join("local.key").exists());
    let item = format!("keychain item fnox/{}", env.config_dir.join("local.key").display());
    let listed = stdout(&env.fnox(&["keys", "list"]).success());
    let first = listed.lines().next().unwrap().to_string();
    assert_eq!(first, format!("{item}:"));
    assert_eq!(listed.lines().count(), 2);
    assert!(listed.lines().nth(1).unwrap().contains("  primary  created 20"), "{listed}");

    // Laptop to laptop: export to a file, import into the other machine's keychain.
    let out = env.tmp.path().join("keys.txt");
    let done = env.fnox(&["keys", "export", "-o", out.to_str().unwrap()]).success();
    assert!(stderr(&done).contains(&format!("wrote 1 key of {item} to")), "{}", stderr(&done));
    let other = keychain_project().unwrap();
    let imported = other.fnox(&["keys", "import", out.to_str().unwrap()]).success();
    let other_item = format!("keychain item fnox/{}", other.config_dir.join("local.key").display());
    assert!(stderr(&imported).starts_with(&format!("created {other_item}: added 1 key")));
    std::fs::write(other.project.join("fnox.toml"), env.read("fnox.toml")).unwrap();
    assert_eq!(other.get("API_TOKEN"), b"tok-123");
    assert!(!other.config_dir.join("local.key").exists());

    // Laptop to CI: FNOX_LOCAL_KEY, no keychain there.
    let line = stdout(&env.fnox(&["keys", "export", "--env"]).success());
    let key = line.trim().strip_prefix("FNOX_LOCAL_KEY=").unwrap().to_string();
    let mut ci = TestEnv::new();
    ci.extra_env.push(("FNOX_LOCAL_KEY".into(), key));
    ci.write("fnox.toml", &env.read("fnox.toml"));
    assert_eq!(ci.get("API_TOKEN"), b"tok-123");
}

#[test]
fn without_a_secret_service_the_error_says_so() {
    let Some(mut env) = keychain_project() else { return };
    env.extra_env.retain(|(k, _)| k != "DBUS_SESSION_BUS_ADDRESS");
    let missing = env.tmp.path().join("no-bus");
    env.extra_env
        .push(("DBUS_SESSION_BUS_ADDRESS".into(), format!("unix:path={}", missing.display())));
    let out = env.cmd().args(["set", "A"]).write_stdin("v").assert().failure().code(1);
    let err = stderr(&out);
    let item = format!("keychain item fnox/{}", env.config_dir.join("local.key").display());
    assert!(err.contains(&format!("cause: {item}: ")), "{err}");
    assert!(err.ends_with(
        "hint: the keyring is in the OS keychain (`key_store = \"keychain\"`): unlock it (on Linux a Secret Service such as GNOME Keyring must run on the session bus); where there is none (CI), set FNOX_LOCAL_KEY (`fnox keys export --env`)\n"
    ), "{err}");
    assert!(!env.config_dir.join("local.key").exists());
}

#[test]
fn init_keychain_makes_the_keyring_in_the_keychain_and_says_where() {
    let Some(env) = keychain_project() else { return };
    std::fs::remove_file(env.project.join("fnox.toml")).unwrap();
    let item = format!("keychain item fnox/{}", env.config_dir.join("local.key").display());
    let made = env.fnox(&["init", "--keychain"]).success();
    let err = stderr(&made);
    let first = err.lines().next().unwrap();
    let id = first
        .strip_prefix("created local key ")
        .and_then(|rest| rest.strip_suffix(&format!(" in the {item}")))
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(id.len(), 8, "{err}");
    assert!(
        env.read("fnox.toml").ends_with(
            "[providers.local]\ntype = \"local\"\nkey_store = \"keychain\"\n\n[secrets]\n"
        )
    );
    assert!(!env.config_dir.join("local.key").exists());

    // Run again, with or without the flag: the same item, named.
    for args in [&["init", "--keychain"][..], &["init"][..]] {
        let again = stderr(&env.fnox(args).success());
        assert_eq!(
            again,
            format!(
                "using the local key {id} in the {item}\nfnox.toml already has a provider `local`; nothing changed\n"
            )
        );
    }
    env.set("API_TOKEN", b"tok-1").success();
    assert_eq!(env.get("API_TOKEN"), b"tok-1");

    // A keyring file cannot be kept behind a passphrase and in the keychain at once.
    env.fnox(&["init", "--keychain", "--passphrase"]).failure().code(2);
}

#[test]
fn init_keychain_on_a_provider_with_a_keyring_file_says_how_to_move_it() {
    let Some(env) = keychain_project() else { return };
    env.write("fnox.toml", "[providers.local]\ntype = \"local\"\n\n[secrets]\n");
    let before = env.read("fnox.toml");
    let out = env.fnox(&["init", "--keychain"]).failure().code(2);
    assert_eq!(
        stderr(&out),
        "error: provider `local` in fnox.toml keeps its keyring in a file; to move it into the OS keychain, add key_store = \"keychain\" to it and `fnox keys import` the export of the file's keys\n"
    );
    assert_eq!(env.read("fnox.toml"), before);
    assert!(!env.config_dir.join("local.key").exists());
}

#[test]
fn a_keychain_keyring_rotates_to_a_new_key_and_its_retired_key_is_deleted_with_a_backup_item() {
    let Some(env) = keychain_project() else { return };
    env.set("A", b"alpha").success();
    env.set("B", b"beta").success();
    let item = format!("keychain item fnox/{}", env.config_dir.join("local.key").display());
    let key_ids = |env: &TestEnv| -> Vec<String> {
        stdout(&env.fnox(&["keys", "list"]).success())
            .lines()
            .skip(1)
            .map(|l| l.trim().to_string())
            .collect()
    };
    let before = key_ids(&env);
    assert_eq!(before.len(), 1, "{before:?}");
    let old = before[0].split_whitespace().next().unwrap().to_string();

    let rotated = env.fnox(&["rotate", "--new-key", "--retire-old", "--yes"]).success();
    let err = stderr(&rotated);
    assert!(
        err.contains(&format!(
            "retired local keys {old} in {item}: they no longer encrypt and still decrypt; `fnox keys delete-retired` deletes them\n"
        )),
        "{err}"
    );
    let after = key_ids(&env);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after[0].starts_with(&format!("{old}  retired")), "{after:?}");
    assert!(after[1].contains("  primary"), "{after:?}");
    let new = after[1].split_whitespace().next().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(env.get("A"), b"alpha");
    assert_eq!(env.get("B"), b"beta");
    assert!(!env.config_dir.join("local.key").exists());

    let deleted = env.fnox(&["keys", "delete-retired", "--yes"]).success();
    let last = stderr(&deleted).lines().last().unwrap().to_string();
    let backup = last
        .strip_prefix(&format!("backed up {item} to keychain item fnox/"))
        .and_then(|rest| rest.strip_suffix(&format!("; deleted retired key {old}")))
        .unwrap_or_else(|| panic!("{last}"))
        .to_string();
    let stamp = backup
        .strip_prefix(&format!("{}.backup-", env.config_dir.join("local.key").display()))
        .unwrap_or_else(|| panic!("{backup}"));
    assert!(stamp.parse::<u64>().is_ok(), "{backup}");
    // The backup is a keychain item too (no file): a provider pointed at it reads both keys.
    let mut other = keychain_project().unwrap();
    other.write(
        "fnox.toml",
        &format!(
            "[providers.local]\ntype = \"local\"\nkey_store = \"keychain\"\nkey_file = \"{backup}\"\n"
        ),
    );
    other.extra_env.push(("FNOX_CONFIG_DIR".into(), env.config_dir.display().to_string()));
    let saved = key_ids(&other);
    assert_eq!(saved.len(), 2, "{saved:?}");
    assert!(saved[0].starts_with(&format!("{old}  retired")), "{saved:?}");
    assert!(!std::path::Path::new(&backup).exists());
    let left = key_ids(&env);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(&format!("{new}  primary")), "{left:?}");
    assert_eq!(env.get("A"), b"alpha");
    assert!(!env.config_dir.join("local.key").exists());
}

#[test]
fn a_keychain_key_older_than_max_key_age_fails_doctor_strict_until_rotate_older_than() {
    let Some(env) = keychain_project() else { return };
    // An old key: made in a keyring file elsewhere, dated January, imported into the item.
    let maker = TestEnv::new();
    maker.write("fnox.toml", "[providers.local]\ntype = \"local\"\n");
    maker.set("X", b"x").success();
    let made = std::fs::read_to_string(maker.config_dir.join("local.key")).unwrap();
    let old_text: String = made
        .lines()
        .map(|line| match line.split_once(" created=") {
            Some((key, _)) if !line.starts_with('#') => {
                format!("{key} created=2026-01-01T00:00:00Z\n")
            }
            _ => format!("{line}\n"),
        })
        .collect();
    assert!(old_text.contains(" created=2026-01-01T00:00:00Z\n"), "{made}");
    let old_file = env.tmp.path().join("old-keys.txt");
    std::fs::write(&old_file, old_text).unwrap();
    let mut perms = std::fs::metadata(&old_file).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    std::fs::set_permissions(&old_file, perms).unwrap();
    env.fnox(&["keys", "import", old_file.to_str().unwrap()]).success();
    env.write("fnox.toml", &format!("max_key_age = \"90d\"\n{CONFIG}"));
    env.set("A", b"alpha").success();

    let failed = env.fnox(&["doctor", "--strict"]).failure().code(1);
    assert!(
        stderr(&failed).ends_with(
            "error: 1 problem found\n  - 1 value of provider `local` is under a key older than max_key_age 90d: A\n    hint: run `fnox rotate --provider local --older-than 90d`\n"
        ),
        "{}",
        stderr(&failed)
    );
    env.fnox(&["rotate", "--older-than", "90d", "--yes"]).success();
    env.fnox(&["doctor", "--strict"]).success();
    assert_eq!(env.get("A"), b"alpha");
    let listed = stdout(&env.fnox(&["keys", "list"]).success());
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    assert!(lines[1].contains("  old      created 2026-01-01T00:00:00Z"), "{listed}");
    assert!(lines[2].contains("  primary  created "), "{listed}");
    assert!(!env.config_dir.join("local.key").exists());
}
