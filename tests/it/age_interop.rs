//! Interop with the real `age` CLI, both ways, for X25519 and SSH keys.

use crate::common::{TestEnv, require_tool, sh, stdout};

#[test]
fn fnox_value_decrypts_with_age_cli() {
    if !require_tool("age") {
        return;
    }
    let env = TestEnv::new();
    env.fnox(&["init", "--provider", "age"]).success();
    let value = "multi\nline ✓ \"quoted\"\n";
    env.set("DB_PASSWORD", value.as_bytes()).success();
    std::fs::write(env.project.join("stored.b64"), env.stored("DB_PASSWORD")).unwrap();
    let key = env.config_dir.join("age.txt");
    let out = sh(&env.project, &format!("base64 -d stored.b64 | age -d -i '{}'", key.display()));
    assert_eq!(out, value);
}

#[test]
fn age_cli_file_decrypts_with_fnox() {
    if !require_tool("age") {
        return;
    }
    let env = TestEnv::new();
    env.fnox(&["init", "--provider", "age"]).success();
    let doc: toml_edit::DocumentMut = env.read("fnox.toml").parse().unwrap();
    let recipient = doc["providers"]["age"]["recipients"][0].as_str().unwrap().to_string();
    // A value encrypted by hand with the age CLI; base64 wraps at 76 columns.
    env.write("plain.txt", "from the age CLI\nsecond line");
    let b64 = sh(&env.project, &format!("age -r {recipient} plain.txt | base64"));
    assert!(b64.lines().count() > 1, "expected wrapped base64");
    let one_line = b64.replace('\n', "");
    let text = format!(
        "{}ONE_LINE = {{ provider = \"age\", value = \"{one_line}\" }}\nWRAPPED = {{ provider = \"age\", value = \"\"\"\n{b64}\"\"\" }}\n",
        env.read("fnox.toml")
    );
    env.write("fnox.toml", &text);
    assert_eq!(env.get("ONE_LINE"), b"from the age CLI\nsecond line");
    assert_eq!(env.get("WRAPPED"), b"from the age CLI\nsecond line");
    // Armored age files (age -a) are accepted too.
    let armored = sh(&env.project, &format!("age -a -r {recipient} plain.txt | base64 -w0"));
    let text = format!(
        "{}ARMORED = {{ provider = \"age\", value = \"{armored}\" }}\n",
        env.read("fnox.toml")
    );
    env.write("fnox.toml", &text);
    assert_eq!(env.get("ARMORED"), b"from the age CLI\nsecond line");
}

#[test]
fn ssh_ed25519_recipient_both_ways() {
    if !require_tool("age") || !require_tool("ssh-keygen") {
        return;
    }
    let env = TestEnv::new();
    sh(&env.project, "ssh-keygen -q -t ed25519 -N '' -C test -f id_ed25519");
    let public = std::fs::read_to_string(env.project.join("id_ed25519.pub")).unwrap();
    env.write(
        "fnox.toml",
        &format!(
            "[providers.team]\ntype = \"age\"\nrecipients = [\"{}\"]\n\n[secrets]\n",
            public.trim()
        ),
    );
    let key = env.project.join("id_ed25519");
    env.cmd()
        .env("FNOX_AGE_KEY_FILE", &key)
        .args(["set", "SSH_SECRET"])
        .write_stdin("via ssh")
        .assert()
        .success();
    let doc: toml_edit::DocumentMut = env.read("fnox.toml").parse().unwrap();
    std::fs::write(
        env.project.join("v.b64"),
        doc["secrets"]["SSH_SECRET"]["value"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(sh(&env.project, "base64 -d v.b64 | age -d -i id_ed25519"), "via ssh");
    let out =
        env.cmd().env("FNOX_AGE_KEY_FILE", &key).args(["get", "SSH_SECRET"]).assert().success();
    assert_eq!(stdout(&out), "via ssh\n");
    // The key itself in FNOX_AGE_KEY works as well.
    let text = std::fs::read_to_string(&key).unwrap();
    let out = env.cmd().env("FNOX_AGE_KEY", text).args(["get", "SSH_SECRET"]).assert().success();
    assert_eq!(stdout(&out), "via ssh\n");
}

#[test]
fn two_recipients_each_decrypt() {
    if !require_tool("age") {
        return;
    }
    let env = TestEnv::new();
    sh(&env.project, "age-keygen -o alice.txt 2>/dev/null; age-keygen -o bob.txt 2>/dev/null");
    let public = |f: &str| sh(&env.project, &format!("age-keygen -y {f}")).trim().to_string();
    env.write(
        "fnox.toml",
        &format!(
            "[providers.age]\ntype = \"age\"\nrecipients = [\"{}\", \"{}\"]\n\n[secrets]\n",
            public("alice.txt"),
            public("bob.txt")
        ),
    );
    env.set("SHARED", b"for both").success();
    for who in ["alice.txt", "bob.txt"] {
        let out = env
            .cmd()
            .env("FNOX_AGE_KEY_FILE", env.project.join(who))
            .args(["get", "SHARED"])
            .assert()
            .success();
        assert_eq!(stdout(&out), "for both\n", "{who}");
    }
}
