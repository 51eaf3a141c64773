//! jdx/fnox's profile habits (issue 12): a stack of profiles (`-P a,b`,
//! `-P a -P b`, `FNOX_PROFILE=a,b`), each overlaying the ones before it;
//! `--write-profile` for `set`, `remove` and `import`, required when several
//! profiles are active; `fnox.local.toml` over `fnox.<profile>.toml`;
//! `root = true` in any file of a directory; `list` and `export` in the
//! files' order.

use assert_cmd::assert::Assert;

use crate::common::{TestEnv, stderr, stdout};

const FIXTURE: &str = r#"root = true

[providers.local]
type = "local"

[secrets]
ZETA = { default = "top-zeta" }
API_URL = { default = "https://dev.example" }
LOG_LEVEL = { default = "info" }

[profiles.staging.secrets]
API_URL = { default = "https://staging.example" }
STAGE_ONLY = { default = "stage" }

[profiles.ci.secrets]
LOG_LEVEL = { default = "debug" }
API_URL = { default = "https://ci.example" }
"#;

fn project() -> TestEnv {
    let env = TestEnv::new();
    env.write("fnox.toml", FIXTURE);
    env
}

/// `fnox ARGS` with `input` on stdin.
fn with_stdin(env: &TestEnv, args: &[&str], input: &str) -> Assert {
    let mut cmd = env.cmd();
    cmd.args(args).write_stdin(input);
    cmd.assert()
}

/// `fnox ARGS`: succeeds with nothing on stderr; returns stdout.
fn ok(env: &TestEnv, args: &[&str]) -> String {
    let out = env.fnox(args).success();
    assert_eq!(stderr(&out), "", "fnox {args:?}");
    stdout(&out)
}

/// The `value` of `name` in the table at `path` of project file `rel`.
fn stored(env: &TestEnv, rel: &str, path: &[&str], name: &str) -> String {
    let doc: toml_edit::DocumentMut = env.read(rel).parse().expect("parses");
    let table = path.iter().fold(doc.as_item(), |item, key| &item[key]);
    table[name]["value"].as_str().expect("a value").to_string()
}

#[test]
fn later_profiles_overlay_earlier_ones() {
    let env = project();
    assert_eq!(
        ok(&env, &["-P", "staging,ci", "list"]),
        "NAME        PROVIDER   DESCRIPTION  FILE\n\
         ZETA        (default)               fnox.toml:7\n\
         API_URL     (default)               fnox.toml:17\n\
         LOG_LEVEL   (default)               fnox.toml:16\n\
         STAGE_ONLY  (default)               fnox.toml:13\n"
    );
    assert_eq!(ok(&env, &["-P", "staging,ci", "get", "API_URL"]), "https://ci.example\n");
    assert_eq!(ok(&env, &["-P", "ci,staging", "get", "API_URL"]), "https://staging.example\n");
    assert_eq!(ok(&env, &["-P", "ci,staging", "get", "LOG_LEVEL"]), "debug\n");
    let script = "echo \"$ZETA $API_URL $LOG_LEVEL $STAGE_ONLY\"";
    assert_eq!(
        ok(&env, &["-P", "staging,ci", "exec", "--", "sh", "-c", script]),
        "top-zeta https://ci.example debug stage\n"
    );
    // --no-defaults: the profiles' own entries only, in profile order.
    assert_eq!(
        ok(&env, &["-P", "staging,ci", "--no-defaults", "export"]),
        "API_URL='https://ci.example'\nSTAGE_ONLY='stage'\nLOG_LEVEL='debug'\n"
    );
    // A profile named twice counts at its last place; `default` adds nothing.
    assert_eq!(ok(&env, &["-P", "ci,staging,ci", "get", "API_URL"]), "https://ci.example\n");
    assert_eq!(ok(&env, &["-P", "default,staging", "get", "API_URL"]), "https://staging.example\n");
}

#[test]
fn comma_repeated_and_environment_forms_are_the_same_stack() {
    let env = project();
    let expected =
        "ZETA='top-zeta'\nAPI_URL='https://ci.example'\nLOG_LEVEL='debug'\nSTAGE_ONLY='stage'\n";
    for args in [
        &["-P", "staging,ci", "export"][..],
        &["-P", "staging", "-P", "ci", "export"],
        &["--profile", "staging", "export", "--profile=ci"],
        &["-P", "staging, ci", "export"],
        &["-Pstaging", "-P", "ci", "export"],
    ] {
        assert_eq!(ok(&env, args), expected, "{args:?}");
    }
    let out = env.cmd().env("FNOX_PROFILE", "staging,ci").arg("export").assert().success();
    assert_eq!(stdout(&out), expected);
    // -P replaces FNOX_PROFILE's whole list.
    let out = env
        .cmd()
        .env("FNOX_PROFILE", "staging,ci")
        .args(["-P", "staging", "get", "API_URL"])
        .assert();
    assert_eq!(stdout(&out.success()), "https://staging.example\n");
    // -v says which profiles.
    let out = env.fnox(&["-v", "-P", "staging", "-P", "ci", "get", "ZETA"]).success();
    assert_eq!(stderr(&out), "loaded fnox.toml\nprofile: staging,ci\n");
}

#[test]
fn every_profile_of_the_stack_must_be_defined() {
    let env = project();
    let out = env.fnox(&["-P", "staging,stagng", "list"]).code(1);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "error: profile `stagng` is not defined (no [profiles.stagng] table in any loaded file, no fnox.stagng.toml)\n  \
         hint: did you mean `staging`?\n  \
         hint: defined profiles: default, ci, staging; to create `stagng`, set a secret in it: `fnox -P stagng set NAME`\n"
    );
    let out = env.cmd().env("FNOX_PROFILE", "nope,ci").args(["get", "ZETA"]).assert().code(1);
    assert!(stderr(&out).starts_with("error: profile `nope` is not defined"), "{}", stderr(&out));
    assert!(stderr(&out).ends_with(
        "  hint: the profile comes from FNOX_PROFILE in the environment; -P NAME overrides it\n"
    ));
    // An empty item is a usage error, not a shorter list.
    for (args, list) in
        [(&["-P", "staging,", "list"][..], "staging,"), (&["-P", "a,,b", "list"], "a,,b")]
    {
        let out = env.fnox(args).code(2);
        assert_eq!(stderr(&out), format!("error: empty profile name in the list `{list}`\n"));
    }
    let out = env.cmd().env("FNOX_PROFILE", ",ci").arg("list").assert().code(2);
    assert_eq!(stderr(&out), "error: empty profile name in the list `,ci`\n");
    let out = env.fnox(&["-P", "staging,prod/x", "list"]).code(2);
    assert_eq!(
        stderr(&out),
        "error: `prod/x` is not a valid profile name (letters, digits, `-` and `_`)\n  \
         hint: profile names use letters, digits, `-` and `_`\n"
    );
}

#[test]
fn a_write_with_several_profiles_needs_write_profile() {
    let env = project();
    let refusal = "error: several profiles are active (staging, ci): pass --write-profile NAME to say which one to write to\n";
    let out = with_stdin(&env, &["-P", "staging,ci", "set", "TOKEN"], "tok").code(2);
    assert_eq!(stderr(&out), refusal);
    let out = with_stdin(&env, &["-P", "staging", "-P", "ci", "import"], "TOKEN=tok\n").code(2);
    assert_eq!(stderr(&out), refusal);
    let out = env.fnox(&["-P", "staging,ci", "remove", "API_URL"]).code(2);
    assert_eq!(stderr(&out), refusal);
    let out = env.cmd().env("FNOX_PROFILE", "staging,ci").args(["remove", "API_URL"]).assert();
    assert_eq!(
        stderr(&out.code(2)),
        format!("{refusal}  hint: the profiles come from FNOX_PROFILE in the environment\n")
    );
    assert_eq!(env.read("fnox.toml"), FIXTURE);
    // Reading commands take the whole stack, and ignore --write-profile.
    assert_eq!(
        ok(&env, &["-P", "staging,ci", "--write-profile", "ci", "get", "API_URL"]),
        "https://ci.example\n"
    );
}

#[test]
fn write_profile_chooses_the_profile_set_import_and_remove_write_to() {
    let env = project();
    let out = with_stdin(
        &env,
        &["-P", "staging,ci", "--write-profile", "staging", "set", "TOKEN"],
        "stage-tok",
    );
    assert_eq!(
        stderr(&out.success()),
        "set TOKEN (provider `local`) in fnox.toml [profiles.staging.secrets]\n"
    );
    let args = ["-P", "staging,ci", "import", "--write-profile", "ci"];
    let out = with_stdin(&env, &args, "CI_TOKEN=ci-tok\n");
    assert_eq!(stderr(&out.success()), "imported 1 secret (provider `local`) into fnox.toml\n");
    let out = env.fnox(&["--write-profile", "staging", "-P", "staging,ci", "remove", "STAGE_ONLY"]);
    assert_eq!(stderr(&out.success()), "removed STAGE_ONLY from fnox.toml\n");
    let token = stored(&env, "fnox.toml", &["profiles", "staging", "secrets"], "TOKEN");
    let ci_token = stored(&env, "fnox.toml", &["profiles", "ci", "secrets"], "CI_TOKEN");
    let expected = FIXTURE
        .replace(
            "STAGE_ONLY = { default = \"stage\" }\n",
            &format!("TOKEN = {{ provider = \"local\", value = \"{token}\" }}\n"),
        )
        .replace(
            "API_URL = { default = \"https://ci.example\" }\n",
            &format!(
                "API_URL = {{ default = \"https://ci.example\" }}\nCI_TOKEN = {{ provider = \"local\", value = \"{ci_token}\" }}\n"
            ),
        );
    assert_eq!(env.read("fnox.toml"), expected);
    assert_eq!(ok(&env, &["-P", "staging,ci", "get", "TOKEN"]), "stage-tok\n");
    assert_eq!(ok(&env, &["-P", "ci", "get", "CI_TOKEN"]), "ci-tok\n");
    // A write profile that is not active: a new one is created, as with -P.
    let out = with_stdin(&env, &["-P", "staging,ci", "--write-profile", "qa", "set", "QA"], "q");
    assert_eq!(
        stderr(&out.success()),
        "set QA (provider `local`) in fnox.toml [profiles.qa.secrets] (new profile `qa`)\n"
    );
}

#[test]
fn local_file_wins_over_the_profile_file_and_profile_tables_win_over_both() {
    let env = project();
    env.write(
        "fnox.staging.toml",
        "[secrets]\nREGION = { default = \"staging-region\" }\nTIER = { default = \"staging-tier\" }\n",
    );
    env.write(
        "fnox.local.toml",
        "[secrets]\nREGION = { default = \"my-region\" }\nAPI_URL = { default = \"http://localhost\" }\n",
    );
    assert_eq!(ok(&env, &["-P", "staging", "get", "REGION"]), "my-region\n");
    assert_eq!(ok(&env, &["-P", "staging", "get", "TIER"]), "staging-tier\n");
    // [profiles.staging.secrets] in fnox.toml wins over every top level.
    assert_eq!(ok(&env, &["-P", "staging", "get", "API_URL"]), "https://staging.example\n");
    assert_eq!(ok(&env, &["get", "API_URL"]), "http://localhost\n");
    let out = env.fnox(&["-v", "-P", "staging", "list"]).success();
    assert_eq!(
        stderr(&out),
        "loaded fnox.toml\nloaded fnox.staging.toml\nloaded fnox.local.toml\nprofile: staging\n"
    );
    assert_eq!(
        stdout(&out),
        "NAME        PROVIDER   DESCRIPTION  FILE\n\
         ZETA        (default)               fnox.toml:7\n\
         API_URL     (default)               fnox.toml:12\n\
         LOG_LEVEL   (default)               fnox.toml:9\n\
         REGION      (default)               fnox.local.toml:2\n\
         TIER        (default)               fnox.staging.toml:3\n\
         STAGE_ONLY  (default)               fnox.toml:13\n"
    );
    // --no-defaults keeps the profile file, not fnox.local.toml.
    assert_eq!(
        ok(&env, &["-P", "staging", "--no-defaults", "export"]),
        "REGION='staging-region'\nTIER='staging-tier'\nAPI_URL='https://staging.example'\nSTAGE_ONLY='stage'\n"
    );
    // The dotfile of each name loads just after it and wins over it.
    env.write(".fnox.staging.toml", "[secrets]\nTIER = { default = \"dot-tier\" }\n");
    env.write(".fnox.local.toml", "[secrets]\nREGION = { default = \"dot-region\" }\n");
    let out = env.fnox(&["-v", "-P", "staging", "get", "TIER"]).success();
    assert_eq!(stdout(&out), "dot-tier\n");
    assert_eq!(
        stderr(&out),
        "loaded fnox.toml\nloaded fnox.staging.toml\nloaded .fnox.staging.toml\nloaded fnox.local.toml\nloaded .fnox.local.toml\nprofile: staging\n"
    );
    assert_eq!(ok(&env, &["get", "REGION"]), "dot-region\n");
}

#[test]
fn set_in_a_profile_writes_to_its_file_unless_a_later_file_would_hide_it() {
    let env = project();
    env.write("fnox.staging.toml", "# staging only\n[secrets]\nTIER = { default = \"staging\" }\n");
    env.write("fnox.local.toml", "[secrets]\nMINE = { default = \"mine\" }\n");
    let out = with_stdin(&env, &["-P", "staging", "set", "NEW"], "new-value");
    assert_eq!(stderr(&out.success()), "set NEW (provider `local`) in fnox.staging.toml\n");
    // ZETA is top-level in fnox.toml, beneath the profile file: it goes there too.
    let out = with_stdin(&env, &["-P", "staging", "set", "ZETA"], "staging-zeta");
    assert_eq!(stderr(&out.success()), "set ZETA (provider `local`) in fnox.staging.toml\n");
    let new = stored(&env, "fnox.staging.toml", &["secrets"], "NEW");
    let zeta = stored(&env, "fnox.staging.toml", &["secrets"], "ZETA");
    assert_eq!(
        env.read("fnox.staging.toml"),
        format!(
            "# staging only\n[secrets]\nTIER = {{ default = \"staging\" }}\nNEW = {{ provider = \"local\", value = \"{new}\" }}\nZETA = {{ provider = \"local\", value = \"{zeta}\" }}\n"
        )
    );
    // MINE comes from fnox.local.toml, which would hide the profile file:
    // the override goes to [profiles.staging.secrets], which wins.
    let out = with_stdin(&env, &["-P", "staging", "set", "MINE"], "staging-mine");
    assert_eq!(
        stderr(&out.success()),
        "set MINE (provider `local`) in fnox.toml [profiles.staging.secrets]\n"
    );
    assert_eq!(env.read("fnox.local.toml"), "[secrets]\nMINE = { default = \"mine\" }\n");
    let script = "echo \"$NEW $ZETA $MINE\"";
    assert_eq!(
        ok(&env, &["-P", "staging", "exec", "--", "sh", "-c", script]),
        "new-value staging-zeta staging-mine\n"
    );
    assert_eq!(ok(&env, &["get", "ZETA"]), "top-zeta\n");
    // An entry of the profile file is updated where it is, and removed from it.
    let out = with_stdin(&env, &["-P", "staging", "set", "NEW"], "newer");
    assert_eq!(stderr(&out.success()), "set NEW (provider `local`) in fnox.staging.toml\n");
    let out = env.fnox(&["-P", "staging", "remove", "TIER"]).success();
    assert_eq!(stderr(&out), "removed TIER from fnox.staging.toml\n");
    assert!(env.read("fnox.staging.toml").starts_with("# staging only\n[secrets]\nNEW = "));
}

#[test]
fn root_true_in_fnox_local_toml_stops_the_walk() {
    let env = TestEnv::new();
    env.write("fnox.toml", "root = true\n\n[secrets]\nPARENT = { default = \"p\" }\n");
    env.write("app/fnox.toml", "[secrets]\nCHILD = { default = \"c\" }\n");
    let app = env.project.join("app");
    let run = |args: &[&str]| env.cmd_in(&app).args(args).write_stdin(Vec::<u8>::new()).assert();
    assert_eq!(stdout(&run(&["export"]).success()), "PARENT='p'\nCHILD='c'\n");
    env.write("app/fnox.local.toml", "root = true\n");
    assert_eq!(stdout(&run(&["export"]).success()), "CHILD='c'\n");
    let out = run(&["get", "PARENT"]).code(1);
    assert!(stderr(&out).starts_with("error: secret `PARENT` is not defined in profile `default`"));
    // So does a profile file's, when its profile is active.
    std::fs::remove_file(app.join("fnox.local.toml")).expect("rm");
    env.write("app/fnox.ci.toml", "root = true\n");
    assert_eq!(stdout(&run(&["export"]).success()), "PARENT='p'\nCHILD='c'\n");
    assert_eq!(stdout(&run(&["-P", "ci", "export"]).success()), "CHILD='c'\n");
}

#[test]
fn list_and_export_keep_the_order_of_the_files() {
    let env = TestEnv::new();
    env.write(
        "fnox.toml",
        "root = true\n\n[secrets]\nZ_LAST = { default = \"z\" }\nM_MIDDLE = { default = \"m\" }\nA_FIRST = { default = \"a\" }\n",
    );
    // An override keeps the place of the entry it overrides; new names follow.
    env.write(
        "fnox.local.toml",
        "[secrets]\nC_LOCAL = { default = \"c\" }\nM_MIDDLE = { default = \"m-local\" }\n",
    );
    assert_eq!(
        ok(&env, &["list"]),
        "NAME      PROVIDER   DESCRIPTION  FILE\n\
         Z_LAST    (default)               fnox.toml:4\n\
         M_MIDDLE  (default)               fnox.local.toml:3\n\
         A_FIRST   (default)               fnox.toml:6\n\
         C_LOCAL   (default)               fnox.local.toml:2\n"
    );
    assert_eq!(ok(&env, &["export"]), "Z_LAST='z'\nM_MIDDLE='m-local'\nA_FIRST='a'\nC_LOCAL='c'\n");
    assert_eq!(
        ok(&env, &["export", "--format", "json"]),
        "{\"Z_LAST\":\"z\",\"M_MIDDLE\":\"m-local\",\"A_FIRST\":\"a\",\"C_LOCAL\":\"c\"}\n"
    );
    let names: Vec<String> =
        serde_json::from_str::<serde_json::Value>(&ok(&env, &["list", "--json"]))
            .expect("json")
            .as_array()
            .expect("array")
            .iter()
            .map(|s| s["name"].as_str().expect("name").to_string())
            .collect();
    assert_eq!(names, ["Z_LAST", "M_MIDDLE", "A_FIRST", "C_LOCAL"]);
}

#[test]
fn profile_lists_complete_item_by_item() {
    let env = project();
    let complete = |words: &[&str]| stdout(&crate::completion::bash(&env, words).success());
    assert_eq!(complete(&["fnox", "-P", ""]), "ci\nstaging");
    assert_eq!(complete(&["fnox", "-P", "staging,"]), "staging,ci");
    assert_eq!(complete(&["fnox", "-P", "ci,s"]), "ci,staging");
    assert_eq!(complete(&["fnox", "--write-profile", "s"]), "staging");
    // The secrets offered are those of the whole stack on the line.
    assert_eq!(complete(&["fnox", "-P", "ci", "-P", "staging", "get", "S"]), "STAGE_ONLY");
}
