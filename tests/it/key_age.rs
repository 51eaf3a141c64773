//! A rotation policy: `local` keys record when they were created,
//! `max_key_age` makes `doctor` warn (and `doctor --strict` fail) about
//! values under an older key, and `rotate --older-than` selects exactly
//! those; an aws-kms key is dated by its newest key material (moto).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::{TestEnv, aws, create_kms_key, kms_endpoint, kms_project, stderr, stdout};

/// The date old keys are given in these tests.
const OLD: &str = "2020-01-01T00:00:00Z";

/// Whole days since [`OLD`], as doctor counts them.
fn days_since_old() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    (now - 1_577_836_800) / 86_400
}

fn keyring(env: &TestEnv) -> String {
    std::fs::read_to_string(env.config_dir.join("local.key")).unwrap()
}

/// Gives key `id` of the keyring the date `created` (`None`: no date).
fn date_key(env: &TestEnv, id: &str, created: Option<&str>) {
    let text: Vec<String> = keyring(env)
        .lines()
        .map(|l| match l.starts_with(id) {
            true => {
                let kept: Vec<&str> = l.split(' ').filter(|f| !f.starts_with("created=")).collect();
                let date = created.map(|c| format!(" created={c}")).unwrap_or_default();
                format!("{}{date}", kept.join(" "))
            }
            false => l.to_string(),
        })
        .collect();
    std::fs::write(env.config_dir.join("local.key"), text.join("\n") + "\n").unwrap();
}

/// The key ids of the keyring, in file order.
fn key_ids(env: &TestEnv) -> Vec<String> {
    keyring(env)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect()
}

fn with_policy(env: &TestEnv, policy: &str) {
    env.write("fnox.toml", &format!("max_key_age = \"{policy}\"\n{}", env.read("fnox.toml")));
}

/// The fnox.toml line of secret `name`.
fn line_of(env: &TestEnv, name: &str) -> String {
    env.read("fnox.toml").lines().find(|l| l.starts_with(&format!("{name} ="))).unwrap().into()
}

#[test]
fn doctor_strict_fails_on_an_old_key_and_passes_after_rotate_older_than() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    env.set("B", b"beta").success();
    env.set("C", b"gamma").success();
    // C moves to a new primary key; A and B stay under the first, made in 2020.
    env.fnox(&["rotate", "--new-key", "--yes", "C"]).success();
    let ids = key_ids(&env);
    date_key(&env, &ids[0], Some(OLD));
    with_policy(&env, "90d");

    let out = env.fnox(&["doctor"]).success();
    let report = stdout(&out);
    let section = report.split_once("key ages:\n").unwrap().1;
    let lines: Vec<&str> = section.lines().collect();
    assert_eq!(lines[0], "  local (local): max_key_age 90d (fnox.toml:1)");
    assert!(lines[1].starts_with(&format!("    {}  current  created ", ids[1])), "{section}");
    assert!(lines[1].ends_with(" old  values: C"), "{section}");
    assert_eq!(
        lines[2],
        format!(
            "    {}  old      created 2020-01-01, {} days old  values: A, B  TOO OLD",
            ids[0],
            days_since_old()
        )
    );
    assert_eq!(lines.len(), 3, "{section}");
    assert_eq!(
        stderr(&out),
        "warning: 2 values of provider `local` are under a key older than max_key_age 90d: A, B; run `fnox rotate --provider local --older-than 90d`\n\
         note: 2 values are not under their provider's current key (A, B); `fnox rotate` moves them\n"
    );

    let out = env.fnox(&["doctor", "--strict"]).code(1);
    assert_eq!(
        stderr(&out),
        "note: 2 values are not under their provider's current key (A, B); `fnox rotate` moves them\n\
         error: 1 problem found\n  \
         - 2 values of provider `local` are under a key older than max_key_age 90d: A, B\n    \
         hint: run `fnox rotate --provider local --older-than 90d`\n"
    );

    // The dry run lists exactly A and B, and writes nothing.
    let before = env.read("fnox.toml");
    let keys_before = keyring(&env);
    let out = env.fnox(&["rotate", "--older-than", "90d", "--dry-run"]).success();
    assert_eq!(
        stdout(&out),
        "A  fnox.toml:12  re-encrypt  local\nB  fnox.toml:13  re-encrypt  local\n\
         dry run: 2 of 2 secrets would change; nothing was written\n"
    );
    assert_eq!(env.read("fnox.toml"), before);
    assert_eq!(keyring(&env), keys_before);

    let c_line = line_of(&env, "C");
    env.fnox(&["rotate", "--older-than", "90d", "--yes"]).success();
    assert_eq!(line_of(&env, "C"), c_line, "a value under a young key is not touched");
    assert_ne!(env.read("fnox.toml"), before);
    // The primary key was young: no new key.
    assert_eq!(keyring(&env), keys_before);
    env.fnox(&["doctor", "--strict"]).success().stderr("");
    for (name, value) in [("A", "alpha"), ("B", "beta"), ("C", "gamma")] {
        assert_eq!(env.get(name), value.as_bytes());
    }
}

#[test]
fn an_old_primary_key_is_replaced_before_its_values_move() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let old = key_ids(&env)[0].clone();
    date_key(&env, &old, Some(OLD));
    with_policy(&env, "30d");
    env.fnox(&["doctor", "--strict"]).code(1);

    let out = env.fnox(&["rotate", "--older-than", "30d", "--yes"]).success();
    assert_eq!(
        stderr(&out).lines().next().unwrap().split(" in 0.").next().unwrap(),
        "rotated 1 of 1 secret in 1 file"
    );
    let ids = key_ids(&env);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], old);
    let listed = stdout(&env.fnox(&["keys", "list"]).success());
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines[1], format!("  {old}  old      created {OLD}"));
    assert!(lines[2].starts_with(&format!("  {}  primary  created 20", ids[1])), "{listed}");
    assert!(lines[2].ends_with('Z'), "{listed}");
    assert_eq!(env.get("A"), b"alpha");
    env.fnox(&["doctor", "--strict"]).success().stderr("");
    // Nothing is older now: a second run has nothing to do.
    let out = env.fnox(&["rotate", "--older-than", "30d", "--yes"]).success();
    assert_eq!(stderr(&out), "no secret matches; nothing to rotate\n");
}

#[test]
fn a_key_without_a_date_is_of_unknown_age_and_not_selected() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let id = key_ids(&env)[0].clone();
    date_key(&env, &id, None);
    let listed = stdout(&env.fnox(&["keys", "list"]).success());
    assert_eq!(listed.lines().nth(1).unwrap(), format!("  {id}  primary  created date unknown"));
    with_policy(&env, "90d");
    let out = env.fnox(&["doctor", "--strict"]).success();
    assert_eq!(
        stderr(&out),
        format!(
            "warning: key {id} of provider `local` has no created date, so its age is unknown (values: A); `fnox rotate --provider local --new-key` puts the values under a new, dated key\n"
        )
    );
    let out = env.fnox(&["rotate", "--older-than", "1s", "--yes"]).success();
    assert_eq!(stderr(&out), "no secret matches; nothing to rotate\n");
}

#[test]
fn the_most_specific_max_key_age_wins() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    date_key(&env, &key_ids(&env)[0], Some(OLD));
    with_policy(&env, "90d");
    let text = env.read("fnox.toml").replace(
        "[providers.local]\ntype = \"local\"\n",
        "[providers.local]\ntype = \"local\"\nmax_key_age = \"10000d\"\n",
    );
    env.write("fnox.toml", &text);
    let out = env.fnox(&["doctor", "--strict", "--json"]).success();
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let ages = &report["key_ages"][0];
    assert_eq!(ages["max_key_age"], "10000d");
    assert_eq!(ages["keys"][0]["created"], OLD);
    assert_eq!(ages["keys"][0]["too_old"], false);
    assert_eq!(ages["keys"][0]["secrets"], serde_json::json!(["A"]));
    // A profile's policy is over the top level's, under the provider's.
    let text = env.read("fnox.toml").replace("max_key_age = \"10000d\"\n", "")
        + "\n[profiles.ci]\nmax_key_age = \"1000d\"\n";
    env.write("fnox.toml", &text);
    env.fnox(&["-P", "ci", "doctor", "--strict"]).code(1);
    env.write("fnox.toml", &text.replace("1000d", "10000d"));
    env.fnox(&["-P", "ci", "doctor", "--strict"]).success();
    env.fnox(&["doctor", "--strict"]).code(1);
}

#[test]
fn a_bad_max_key_age_names_file_and_line() {
    let env = TestEnv::with_local();
    let text = env.read("fnox.toml");
    for (bad, line, entry) in [
        (format!("max_key_age = \"90\"\n{text}"), 1, "the top level"),
        (format!("{text}\n[profiles.ci]\nmax_key_age = \"0s\"\n"), 13, "profile `ci`"),
        (
            text.replace("type = \"local\"\n", "type = \"local\"\nmax_key_age = 90\n"),
            9,
            "provider `local`",
        ),
    ] {
        env.write("fnox.toml", &bad);
        let out = env.fnox(&["list"]).code(1);
        assert_eq!(
            stderr(&out),
            format!(
                "error: fnox.toml:{line}: in {entry}: `max_key_age` must be a duration such as \"90d\" (units: s, m, h, d, w), 1s or more\n"
            ),
            "{bad}"
        );
    }
    env.write("fnox.toml", &text);
    let out = env.fnox(&["rotate", "--older-than", "soon", "--yes"]).code(2);
    assert!(
        stderr(&out).starts_with("error: invalid value 'soon' for '--older-than <AGE>': expected a duration such as \"90d\" (units: s, m, h, d, w), 1s or more\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rotate_older_than_is_refused_with_fnox_local_key() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let mut cmd = env.cmd();
    cmd.env("FNOX_LOCAL_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let out = cmd.args(["rotate", "--older-than", "90d", "--yes"]).write_stdin("").assert().code(2);
    assert_eq!(
        stderr(&out),
        "error: --older-than needs the keyring (a file or the OS keychain), but FNOX_LOCAL_KEY is set; unset it\n"
    );
}

#[test]
fn an_aws_kms_key_is_dated_by_its_newest_key_material() {
    let Some(endpoint) = kms_endpoint() else { return };
    let (id, _, alias) = create_kms_key(&endpoint);
    let env = kms_project(&endpoint, &alias);
    env.write(
        "fnox.toml",
        &env.read("fnox.toml")
            .replace("type = \"aws-kms\"\n", "type = \"aws-kms\"\nmax_key_age = \"3s\"\n"),
    );
    env.set("A", b"alpha").success();
    let json = |env: &TestEnv| -> serde_json::Value {
        serde_json::from_slice(&env.fnox(&["doctor", "--json"]).success().get_output().stdout)
            .unwrap()
    };
    let report = json(&env);
    let key = &report["key_ages"][0]["keys"][0];
    assert_eq!(key["id"], id.as_str());
    assert_eq!(key["current"], true);
    assert_eq!(key["too_old"], false);
    assert_eq!(key["secrets"], serde_json::json!(["A"]));

    std::thread::sleep(Duration::from_secs(5));
    let out = env.fnox(&["doctor", "--strict"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: 1 problem found\n  \
             - 1 value of provider `kms` is under a key older than max_key_age 3s: A\n    \
             hint: KMS makes new key material, and keeps the old to decrypt: run `aws kms rotate-key-on-demand --key-id {id}`, or turn on automatic rotation with a period of 3s or less\n"
        )
    );
    // New key material (ListKeyRotations reports its date): young again.
    aws(&endpoint, &["kms", "rotate-key-on-demand", "--key-id", &id]);
    env.fnox(&["doctor", "--strict"]).success();
    assert_eq!(env.get("A"), b"alpha");
}
