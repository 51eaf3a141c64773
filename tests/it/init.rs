//! `init` (issue 11, point 3): it says what it created, never "nothing
//! changed" after making a key; a second provider leaves `fnox set NAME`
//! working (`default_provider`), and the `next:` line names the
//! `--provider` to pass when it is not the default.

use crate::common::{TestEnv, stderr};

const NEXT: &str = "next: `fnox set NAME` to add a secret, `fnox get NAME` to read it\n";

/// The id of the primary key in the keyring at `path`.
fn primary_id(path: &std::path::Path) -> String {
    let ring = std::fs::read_to_string(path).unwrap();
    let line = ring.lines().find(|l| l.contains(" primary")).unwrap();
    line.split(' ').next().unwrap().to_string()
}

/// The recipient in the age identity file at `path`.
fn recipient(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().find_map(|l| l.strip_prefix("# public key: ")).unwrap().to_string()
}

#[test]
fn init_says_what_it_created_and_what_it_left() {
    let env = TestEnv::new();
    let key = env.config_dir.join("local.key");
    let out = env.fnox(&["init"]).success();
    let id = primary_id(&key);
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "created local key {id} in [TMP]/config/local.key\ncreated fnox.toml with provider `local`\n{NEXT}"
        )
    );
    let first = env.read("fnox.toml");

    let out = env.fnox(&["init"]).success();
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "using the local key {id} in [TMP]/config/local.key\nfnox.toml already has a provider `local`; nothing changed\n"
        )
    );

    // The key is gone (a new machine, say): init makes one and says so.
    std::fs::remove_file(&key).unwrap();
    let out = env.fnox(&["init"]).success();
    let new_id = primary_id(&key);
    assert_ne!(new_id, id);
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "created local key {new_id} in [TMP]/config/local.key\nfnox.toml already has a provider `local` and is unchanged\n"
        )
    );
    assert_eq!(env.read("fnox.toml"), first);
}

#[test]
fn init_makes_the_key_file_an_existing_provider_names() {
    let env = TestEnv::new();
    let text = "[providers.local]\ntype = \"local\"\nkey_file = \"keys/dev.key\"\n\n[secrets]\n";
    env.write("fnox.toml", text);
    let out = env.fnox(&["init"]).success();
    let id = primary_id(&env.project.join("keys/dev.key"));
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "created local key {id} in keys/dev.key\nfnox.toml already has a provider `local` and is unchanged\n"
        )
    );
    assert!(!env.config_dir.join("local.key").exists());
    assert_eq!(env.read("fnox.toml"), text);
    env.set("A", b"alpha").success();
    assert_eq!(env.get("A"), b"alpha");
}

#[test]
fn init_age_asks_for_a_recipient_only_when_it_is_not_listed() {
    let env = TestEnv::new();
    env.fnox(&["init", "--provider", "age"]).success();
    let out = env.fnox(&["init", "--provider", "age"]).success();
    assert_eq!(
        env.redact(&stderr(&out)),
        "using the age identity in [TMP]/config/age.txt\nfnox.toml already has a provider `age`; nothing changed\n"
    );
    // A teammate's new identity: created, and its recipient to pass on.
    let bob = env.tmp.path().join("bob/age.txt");
    let out = env
        .cmd()
        .env("FNOX_AGE_KEY_FILE", &bob)
        .args(["init", "--provider", "age"])
        .assert()
        .success();
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "created age identity [TMP]/bob/age.txt\nfnox.toml already has a provider `age` and is unchanged\nyour recipient {}: ask a teammate to add it to `recipients` of provider `age` and run `fnox rotate --provider age`\n",
            recipient(&bob)
        )
    );
}

/// Adding a second provider keeps `fnox set NAME` on the first one (set
/// as `default_provider`, and said), and the `next:` line names the new
/// one's `--provider`. A third provider changes nothing more.
#[test]
fn a_second_provider_keeps_set_working_and_says_how_to_use_it() {
    let env = TestEnv::with_local();
    let out = env.fnox(&["init", "--provider", "age"]).success();
    let r = recipient(&env.config_dir.join("age.txt"));
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "created age identity [TMP]/config/age.txt
updated fnox.toml with provider `age` (recipient {r})
set default_provider = \"local\" in fnox.toml: `fnox set NAME` still encrypts with `local`
next: `fnox set --provider age NAME` to add a secret with `age`, `fnox get NAME` to read it
"
        )
    );
    let file = env.read("fnox.toml");
    assert!(
        file.ends_with(&format!(
            "#   fnox exec -- CMD   run CMD with every secret in its environment

default_provider = \"local\"

[providers.local]
type = \"local\"

[providers.age]
type = \"age\"
recipients = [\"{r}\"]

[secrets]
"
        )),
        "{file}"
    );
    env.set("A", b"alpha").success();
    env.cmd().args(["set", "--provider", "age", "B"]).write_stdin("beta").assert().success();
    let file = env.read("fnox.toml");
    assert!(file.contains("A = { provider = \"local\", value = "), "{file}");
    assert!(file.contains("B = { provider = \"age\", value = "), "{file}");

    let out = env
        .fnox(&["init", "--provider", "aws-kms", "--key-id", "alias/app", "--region", "eu-west-1"])
        .success();
    assert_eq!(
        stderr(&out),
        "updated fnox.toml with provider `kms` (key alias/app)\nnext: `fnox set --provider kms NAME` to add a secret with `kms`, `fnox get NAME` to read it\n"
    );
    assert_eq!(env.read("fnox.toml").matches("default_provider").count(), 1);
}

/// Two providers and no `default_provider` already: init cannot know which
/// one `set` should use, so it sets none and names the `--provider`.
#[test]
fn without_a_default_to_keep_the_next_line_names_the_provider() {
    let env = TestEnv::new();
    let text = "[providers.a]\ntype = \"local\"\n\n[providers.b]\ntype = \"local\"\n";
    env.write("fnox.toml", text);
    let out = env.fnox(&["init", "--name", "c"]).success();
    let id = primary_id(&env.config_dir.join("local.key"));
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "created local key {id} in [TMP]/config/local.key
updated fnox.toml with provider `c`
next: `fnox set --provider c NAME` to add a secret with `c`, `fnox get NAME` to read it
"
        )
    );
    assert_eq!(env.read("fnox.toml"), format!("{text}\n[providers.c]\ntype = \"local\"\n"));
    env.cmd().args(["set", "--provider", "c", "A"]).write_stdin("alpha").assert().success();
    assert_eq!(env.get("A"), b"alpha");
}

/// A new project under a global config that has a provider of its own:
/// the project's provider is the default, so `fnox set NAME` works.
#[test]
fn a_new_file_next_to_a_global_provider_makes_its_own_the_default() {
    let env = TestEnv::new();
    env.fnox(&["init", "-q"]).success();
    std::fs::rename(env.project.join("fnox.toml"), env.config_dir.join("config.toml")).unwrap();
    let out = env.fnox(&["init", "--name", "mine"]).success();
    let id = primary_id(&env.config_dir.join("local.key"));
    assert_eq!(
        env.redact(&stderr(&out)),
        format!(
            "using the local key {id} in [TMP]/config/local.key
created fnox.toml with provider `mine`
set default_provider = \"mine\" in fnox.toml: `fnox set NAME` encrypts with `mine`
{NEXT}"
        )
    );
    env.set("A", b"alpha").success();
    assert!(env.read("fnox.toml").contains("A = { provider = \"mine\", value = "));
}

#[test]
fn a_provider_of_another_type_under_that_name_is_refused_before_anything_is_made() {
    let env = TestEnv::with_local();
    let before = env.read("fnox.toml");
    let out = env.fnox(&["init", "--provider", "age", "--name", "local"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: fnox.toml already has a provider `local` of type `local`\n  hint: pass `--name NAME` to add the `age` provider under another name\n"
    );
    assert!(!env.config_dir.join("age.txt").exists());
    assert_eq!(env.read("fnox.toml"), before);
}
