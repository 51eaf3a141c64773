//! What happens to a secret without a value: `--if-missing` over
//! `FNOX_IF_MISSING` over the secret's `if_missing` over the profile's over
//! the top level's over the command's default (error for `get`, warn for
//! `exec` and `export`). Each test sets every level below the one it is
//! about to something else, so only that level can explain the outcome.

use crate::common::{TestEnv, stderr, stdout};

#[derive(Debug, PartialEq, Clone, Copy)]
enum Outcome {
    Error,
    Warn,
    Ignore,
}
use Outcome::*;

/// The `if_missing` settings written into the config.
#[derive(Default)]
struct Levels {
    top: Option<&'static str>,
    profile: Option<&'static str>,
    secret: Option<&'static str>,
}

/// A project with `A` set and `MISSING` defined without a value, and a
/// `ci` profile.
fn project(levels: &Levels) -> TestEnv {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let mut text = String::new();
    if let Some(v) = levels.top {
        text.push_str(&format!("if_missing = \"{v}\"\n"));
    }
    text.push_str(&env.read("fnox.toml"));
    match levels.secret {
        Some(v) => text.push_str(&format!("MISSING = {{ if_missing = \"{v}\" }}\n")),
        None => text.push_str("MISSING = { description = \"set me\" }\n"),
    }
    text.push_str("\n[profiles.ci]\n");
    if let Some(v) = levels.profile {
        text.push_str(&format!("if_missing = \"{v}\"\n"));
    }
    env.write("fnox.toml", &text);
    env
}

/// Where MISSING is defined, as messages show it.
fn missing_at(env: &TestEnv) -> String {
    let text = env.read("fnox.toml");
    let line = text.lines().position(|l| l.starts_with("MISSING = ")).unwrap() + 1;
    format!("fnox.toml:{line}")
}

/// Runs `fnox ARGS exec -- ...` with `vars` and tells what it did about
/// MISSING, checking the exact output of each outcome.
fn exec_outcome(env: &TestEnv, vars: &[(&str, &str)], args: &[&str]) -> Outcome {
    let mut cmd = env.cmd();
    cmd.envs(vars.iter().copied()).args(args);
    cmd.args(["exec", "--", "sh", "-c", "echo \"$A [${MISSING-unset}]\""]);
    let out = cmd.write_stdin(Vec::<u8>::new()).assert();
    let (code, out_text, err_text) = (out.get_output().status.code(), stdout(&out), stderr(&out));
    let at = missing_at(env);
    match code {
        Some(1) => {
            assert_eq!(
                err_text,
                format!(
                    "error: secret `MISSING` has no value ({at})\n  hint: set it with `fnox set MISSING`\n"
                )
            );
            assert_eq!(out_text, "");
            Error
        }
        Some(0) => {
            assert_eq!(out_text, "alpha [unset]\n");
            if err_text.is_empty() {
                Ignore
            } else {
                assert_eq!(
                    err_text,
                    format!("warning: secret `MISSING` has no value ({at}); running without it\n")
                );
                Warn
            }
        }
        _ => panic!("unexpected exit {code:?}: {err_text}"),
    }
}

#[test]
fn command_defaults_error_for_get_and_warn_for_exec_and_export() {
    let env = project(&Levels::default());
    let at = missing_at(&env);
    assert_eq!(exec_outcome(&env, &[], &[]), Warn);
    let out = env.fnox(&["export"]).success();
    assert_eq!(stdout(&out), "A='alpha'\n");
    assert_eq!(stderr(&out), format!("warning: secret `MISSING` has no value ({at}); left out\n"));
    let out = env.fnox(&["get", "MISSING"]).code(1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: secret `MISSING` has no value ({at})\n  hint: set it with `fnox set MISSING`\n"
        )
    );
}

#[test]
fn top_level_wins_over_the_command_default() {
    let env = project(&Levels { top: Some("ignore"), ..Levels::default() });
    // get would fail by default; the top level says ignore.
    env.fnox(&["get", "MISSING"]).success().stdout("").stderr("");
    let env = project(&Levels { top: Some("error"), ..Levels::default() });
    // exec would warn by default; the top level says error.
    assert_eq!(exec_outcome(&env, &[], &[]), Error);
    env.fnox(&["export"]).code(1).stdout("");
}

#[test]
fn profile_wins_over_top_level() {
    let env = project(&Levels { top: Some("error"), profile: Some("ignore"), ..Levels::default() });
    assert_eq!(exec_outcome(&env, &[], &["-P", "ci"]), Ignore);
    // The default profile has no profile setting: the top level applies.
    assert_eq!(exec_outcome(&env, &[], &[]), Error);
    let env = project(&Levels { top: Some("ignore"), profile: Some("warn"), ..Levels::default() });
    assert_eq!(exec_outcome(&env, &[("FNOX_PROFILE", "ci")], &[]), Warn);
    // A profile file's top level is the profile's setting too.
    let env = project(&Levels { top: Some("error"), ..Levels::default() });
    env.write("fnox.ci.toml", "if_missing = \"ignore\"\n");
    assert_eq!(exec_outcome(&env, &[], &["-P", "ci"]), Ignore);
}

#[test]
fn secret_wins_over_profile() {
    let levels = Levels { top: Some("error"), profile: Some("error"), secret: Some("ignore") };
    let env = project(&levels);
    assert_eq!(exec_outcome(&env, &[], &["-P", "ci"]), Ignore);
    let levels = Levels { top: Some("ignore"), profile: Some("ignore"), secret: Some("warn") };
    assert_eq!(exec_outcome(&project(&levels), &[], &["-P", "ci"]), Warn);
}

#[test]
fn environment_wins_over_secret() {
    let levels = Levels { top: Some("error"), profile: Some("error"), secret: Some("error") };
    let env = project(&levels);
    assert_eq!(exec_outcome(&env, &[("FNOX_IF_MISSING", "ignore")], &["-P", "ci"]), Ignore);
    let levels = Levels { top: Some("ignore"), profile: Some("ignore"), secret: Some("ignore") };
    let env = project(&levels);
    assert_eq!(exec_outcome(&env, &[("FNOX_IF_MISSING", "error")], &["-P", "ci"]), Error);
}

#[test]
fn flag_wins_over_environment() {
    let levels = Levels { top: Some("error"), profile: Some("error"), secret: Some("error") };
    let env = project(&levels);
    let vars = [("FNOX_IF_MISSING", "error")];
    assert_eq!(exec_outcome(&env, &vars, &["-P", "ci", "--if-missing", "ignore"]), Ignore);
    assert_eq!(exec_outcome(&env, &vars, &["-P", "ci", "--if-missing", "warn"]), Warn);
    let levels = Levels { top: Some("ignore"), profile: Some("ignore"), secret: Some("ignore") };
    let env = project(&levels);
    let vars = [("FNOX_IF_MISSING", "ignore")];
    assert_eq!(exec_outcome(&env, &vars, &["-P", "ci", "--if-missing", "error"]), Error);
    // A bad value is a usage error, from either place.
    let out = env.fnox(&["--if-missing", "sometimes", "exec", "--", "true"]).code(2);
    assert!(stderr(&out).contains("sometimes"), "{}", stderr(&out));
    let out = env.cmd().env("FNOX_IF_MISSING", "sometimes").args(["exec", "--", "true"]).assert();
    assert_eq!(
        stderr(&out.code(2)),
        "error: if-missing must be error, warn or ignore, not `sometimes`\n"
    );
}
