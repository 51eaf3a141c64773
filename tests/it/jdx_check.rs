//! jdx/fnox's checking commands (issue 12): `check` (without decrypting),
//! `ci-redact` (GitHub Actions masks), and `doctor` failing on a secret that
//! `if_missing = "error"` requires, as `exec` does.

use crate::common::{TestEnv, stderr, stdout};
use crate::jdx_commands::{ok, two_secrets};

// ---------------------------------------------------------------------
// check

#[test]
fn check_ok_is_one_line_and_decrypts_nothing() {
    let env = two_secrets();
    env.write("fnox.toml", &(env.read("fnox.toml") + "LOG_LEVEL = { default = \"info\" }\n"));
    // No key on this machine: doctor fails, check does not need it.
    std::fs::remove_file(env.config_dir.join("local.key")).unwrap();
    env.fnox(&["doctor"]).code(1);
    assert_eq!(
        ok(&env, &["check"]),
        (
            "ok: 3 secrets and 1 provider in profile default; nothing decrypted\n".into(),
            String::new()
        )
    );
    assert_eq!(ok(&env, &["c", "--all"]), ok(&env, &["check"]));
}

#[test]
fn check_names_each_problem_and_exits_1() {
    let env = TestEnv::new();
    env.write(
        "fnox.toml",
        r#"[providers.a]
type = "local"

[providers.b]
type = "local"
key_file = "b.key"

[secrets]
NO_PROVIDER = { value = "AAAA" }
REQUIRED = { if_missing = "error", description = "the deploy token" }
OPTIONAL = { description = "set it if you have one" }
QUIET = { if_missing = "ignore" }
LD_PRELOAD = { default = "/tmp/x.so" }
FINE = { provider = "a", value = "AAAA" }
"#,
    );
    let out = env.fnox(&["check"]).code(1);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "warning: secret `OPTIONAL` has no value (fnox.toml:11); `exec` and `export` leave it out (if_missing = warn; --all makes it a problem)
error: 3 problems found
  - no provider given for secret `NO_PROVIDER` and no default provider
    hint: pass `--provider NAME` or set `default_provider` in fnox.toml; defined providers: a, b
  - secret `REQUIRED` has no value (fnox.toml:10)
    hint: set it with `fnox set REQUIRED`
  - refusing to set `LD_PRELOAD` (fnox.toml:13): LD_PRELOAD is read by the dynamic loader, which can load other code into every program (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT)
    hint: if this entry is meant to set LD_PRELOAD, add `allow_exec_control = true` to it
"
    );
    // --all: every secret without a value is a problem.
    let all = stderr(&env.fnox(&["check", "-a"]).code(1));
    assert!(all.starts_with("error: 5 problems found\n"), "{all}");
    assert!(all.contains("\n  - secret `OPTIONAL` has no value (fnox.toml:11)\n"), "{all}");
    assert!(all.contains("\n  - secret `QUIET` has no value (fnox.toml:12)\n"), "{all}");
}

#[test]
fn check_follows_if_missing_from_the_flag_and_the_environment() {
    let env = TestEnv::with_local();
    env.write("fnox.toml", &(env.read("fnox.toml") + "TODO = {}\n"));
    let warned = ok(&env, &["check"]);
    assert_eq!(warned.0, "ok: 1 secret and 1 provider in profile default; nothing decrypted\n");
    assert_eq!(
        warned.1,
        "warning: secret `TODO` has no value (fnox.toml:11); `exec` and `export` leave it out (if_missing = warn; --all makes it a problem)\n"
    );
    assert_eq!(ok(&env, &["check", "--if-missing", "ignore"]).1, "");
    let out = env.fnox(&["check", "--if-missing", "error"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: 1 problem found\n  - secret `TODO` has no value (fnox.toml:11)\n    hint: set it with `fnox set TODO`\n"
    );
    env.cmd().arg("check").env("FNOX_IF_MISSING", "error").assert().code(1);
}

#[test]
fn check_fails_on_a_config_that_does_not_load() {
    let env = TestEnv::with_local();
    env.write(
        "fnox.toml",
        &(env.read("fnox.toml") + "A = { provider = \"nope\", value = \"AAAA\" }\n"),
    );
    let out = env.fnox(&["check"]).code(1);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "error: fnox.toml:11: secret `A` uses provider `nope`, which is not defined\n  hint: defined providers: local\n"
    );
    // A profile that no file defines.
    env.write("fnox.toml", &env.read("fnox.toml").replace("provider = \"nope\", ", ""));
    env.fnox(&["check"]).success();
    let out = env.fnox(&["-P", "nope", "check"]).code(1);
    assert!(stderr(&out).starts_with("error: profile `nope` is not defined"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------
// ci-redact

#[test]
fn ci_redact_prints_a_mask_for_each_line_of_each_secret_value() {
    let env = TestEnv::with_local();
    env.set("TOKEN", b"tok_5f2c").success();
    env.set("CERT", b"-----BEGIN-----\nMIIB%x\r\n\n-----END-----\n").success();
    env.write(
        "fnox.toml",
        &(env.read("fnox.toml")
            + "LOG_LEVEL = { default = \"debug\" }\nPASSWORD = { default = \"hunter2\", sensitive = true }\nLATER = {}\n"),
    );
    let out = env.cmd().arg("ci-redact").env("GITHUB_ACTIONS", "true").assert().success();
    assert_eq!(
        stdout(&out),
        "::add-mask::tok_5f2c\n::add-mask::-----BEGIN-----\n::add-mask::MIIB%25x%0D\n::add-mask::-----END-----\n::add-mask::hunter2\n"
    );
    assert_eq!(
        stderr(&out),
        "warning: secret `LATER` has no value (fnox.toml:15); nothing to mask\n"
    );
    // The same masks as `export --format github`.
    let github =
        env.cmd().args(["export", "--format", "github", "-o", "github.env"]).assert().success();
    assert_eq!(stdout(&github), stdout(&out));
}

#[test]
fn ci_redact_outside_github_actions_says_what_it_is_for() {
    let env = two_secrets();
    for value in [None, Some("false"), Some("1")] {
        let mut cmd = env.cmd();
        cmd.arg("ci-redact");
        if let Some(v) = value {
            cmd.env("GITHUB_ACTIONS", v);
        }
        let out = cmd.assert().code(1);
        assert_eq!(stdout(&out), "");
        assert_eq!(
            stderr(&out),
            "error: ci-redact prints GitHub Actions' `::add-mask::` lines, which hide secret values in a job's log; GITHUB_ACTIONS is not `true`, so this is not a GitHub Actions job\n  hint: elsewhere, `fnox exec --redact -- COMMAND` hides the values in a command's output\n"
        );
    }
}

#[test]
fn ci_redact_fails_when_a_required_secret_has_no_value_or_does_not_decrypt() {
    let env = two_secrets();
    std::fs::remove_file(env.config_dir.join("local.key")).unwrap();
    let out = env.cmd().arg("ci-redact").env("GITHUB_ACTIONS", "true").assert().code(1);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).starts_with("error: cannot decrypt secret `A`"), "{}", stderr(&out));
    let env = two_secrets();
    env.write("fnox.toml", &(env.read("fnox.toml") + "C = { if_missing = \"error\" }\n"));
    let out = env.cmd().arg("ci-redact").env("GITHUB_ACTIONS", "true").assert().code(1);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "error: secret `C` has no value (fnox.toml:13)\n  hint: set it with `fnox set C`\n"
    );
}

// ---------------------------------------------------------------------
// doctor and if_missing = "error"

#[test]
fn doctor_fails_on_a_required_secret_without_a_value() {
    let env = two_secrets();
    env.write(
        "fnox.toml",
        &(env.read("fnox.toml") + "DEPLOY_TOKEN = { if_missing = \"error\" }\n"),
    );
    // exec fails on it ...
    let exec = env.fnox(&["exec", "--", "true"]).code(1);
    assert_eq!(
        stderr(&exec),
        "error: secret `DEPLOY_TOKEN` has no value (fnox.toml:13)\n  hint: set it with `fnox set DEPLOY_TOKEN`\n"
    );
    // ... and so does doctor.
    let out = env.fnox(&["doctor"]).code(1);
    assert!(
        stdout(&out).contains("\n  DEPLOY_TOKEN  no value  fnox.toml:13\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        stderr(&out),
        "error: 1 problem found\n  - secret `DEPLOY_TOKEN` has no value (fnox.toml:13); its if_missing is `error`\n    hint: set it with `fnox set DEPLOY_TOKEN`\n"
    );
    // Without if_missing = "error" (exec would leave it out) doctor passes.
    env.write("fnox.toml", &env.read("fnox.toml").replace("{ if_missing = \"error\" }", "{}"));
    env.fnox(&["exec", "--", "true"]).success();
    env.fnox(&["doctor"]).success();
    // --if-missing error makes it fail again, as it does exec.
    env.fnox(&["doctor", "--if-missing", "error"]).code(1);
}
