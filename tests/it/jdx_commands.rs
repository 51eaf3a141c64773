//! jdx/fnox's command names and commands (issue 12): each alias runs our
//! command; `version`, `check`, `ci-redact`, `config-files`, `profiles`
//! and `reencrypt` print what a jdx/fnox user's scripts expect; `doctor`
//! fails on a secret that `if_missing = "error"` requires.

use crate::common::{TestEnv, stderr, stdout};

const VERSION_LINE: &str = concat!("fnox ", env!("CARGO_PKG_VERSION"), "\n");

/// A project with the `local` provider and secrets A = "a" and B = "b".
fn two_secrets() -> TestEnv {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    env.set("B", b"b").success();
    env
}

/// stdout and stderr of a successful `fnox ARGS`.
fn ok(env: &TestEnv, args: &[&str]) -> (String, String) {
    let out = env.fnox(args).success();
    (stdout(&out), stderr(&out))
}

/// `out` with each timing (`0.4 ms`, in `doctor`'s report) as `<t> ms`.
fn without_timings(out: (String, String)) -> (String, String) {
    let timing = regex::Regex::new(r"[0-9]+\.[0-9]+ ms").unwrap();
    (timing.replace_all(&out.0, "<t> ms").into_owned(), out.1)
}

// ---------------------------------------------------------------------
// Aliases

#[test]
fn every_read_alias_prints_what_its_command_prints() {
    let env = two_secrets();
    for (alias, command) in [
        (&["ls"][..], &["list"][..]),
        (&["secrets"], &["list"]),
        (&["ex"], &["export"]),
        (&["c"], &["check"]),
        (&["dr"], &["doctor"]),
        (&["v"], &["version"]),
        (&["profile"], &["profiles"]),
        (&["completion", "bash"], &["completions", "bash"]),
        (&["complete", "zsh"], &["completions", "zsh"]),
        (
            &["x", "--", "sh", "-c", "printf %s-%s \"$A\" \"$B\""],
            &["exec", "--", "sh", "-c", "printf %s-%s \"$A\" \"$B\""],
        ),
        (
            &["run", "--", "sh", "-c", "printf %s \"$A\""],
            &["exec", "--", "sh", "-c", "printf %s \"$A\""],
        ),
    ] {
        let expected = without_timings(ok(&env, command));
        let out = without_timings(ok(&env, alias));
        assert_eq!(out, expected, "`fnox {alias:?}` is not `fnox {command:?}`");
        assert!(!out.0.is_empty(), "{command:?} printed nothing");
    }
    assert_eq!(ok(&env, &["ex"]).0, "A='a'\nB='b'\n");
    assert_eq!(ok(&env, &["x", "--", "sh", "-c", "printf %s-%s \"$A\" \"$B\""]).0, "a-b");
}

#[test]
fn every_write_alias_does_what_its_command_does() {
    // i = init
    let env = TestEnv::new();
    let init = env.fnox(&["i"]).success();
    assert!(
        stderr(&init).contains("created fnox.toml with provider `local`\n"),
        "{}",
        stderr(&init)
    );
    assert!(env.read("fnox.toml").contains("[providers.local]"));
    // s = set
    let set = env.cmd().args(["s", "A"]).write_stdin("a").assert().success();
    assert_eq!(stderr(&set), "set A (provider `local`) in fnox.toml\n");
    assert_eq!(env.get("A"), b"a");
    // im = import
    env.write("app.env", "B=b\nC=c\n");
    env.fnox(&["im", "app.env"]).success();
    assert_eq!(env.get("B"), b"b");
    assert_eq!(env.get("C"), b"c");
    // rm and delete = remove
    for (alias, name) in [("rm", "B"), ("delete", "C")] {
        let out = env.fnox(&[alias, name]).success();
        assert_eq!(stderr(&out), format!("removed {name} from fnox.toml\n"), "{alias}");
        assert!(!env.read("fnox.toml").contains(&format!("\n{name} =")), "{alias}");
    }
    assert_eq!(ok(&env, &["ls"]).0.lines().count(), 2, "header and A");
}

#[test]
fn help_lists_the_aliases_and_completion_offers_each_command_once() {
    let env = TestEnv::new();
    let help = stdout(&env.fnox(&["--help"]).success());
    for line in [
        "  list          List secrets: name, provider, description, defining file [aliases: ls, secrets]\n",
        "  remove        Delete a secret from the file that defines it [aliases: rm, delete]\n",
        "  exec          Run a command with the secrets in its environment [alias: x]\n",
        "  check         Check the config and that every secret has a value, without decrypting [alias: c]\n",
        "  version       Print fnox's version (as `fnox --version` does) [alias: v]\n",
    ] {
        assert!(help.contains(line), "{line}in {help}");
    }
    // A Tab on the command name: names, not aliases.
    let commands = |prefix: &str| {
        let out = env
            .cmd()
            .env("COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", "1")
            .env("_CLAP_IFS", "\n")
            .args(["--", "fnox", prefix])
            .assert()
            .success();
        stdout(&out)
    };
    assert_eq!(commands("ex"), "exec\nexport");
    assert_eq!(commands("re"), "remove");
    assert_eq!(commands("de"), "delete", "an alias only it matches is offered");
    // After an alias, its command's arguments complete.
    env.write("fnox.toml", "[providers.local]\ntype = \"local\"\n\n[secrets]\nDATABASE_URL = {}\n");
    let out = env
        .cmd()
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .env("_CLAP_IFS", "\n")
        .args(["--", "fnox", "rm", "D"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "DATABASE_URL");
}

// ---------------------------------------------------------------------
// version

#[test]
fn version_prints_what_dash_dash_version_prints() {
    let env = TestEnv::new();
    assert_eq!(ok(&env, &["--version"]), (VERSION_LINE.to_string(), String::new()));
    assert_eq!(ok(&env, &["version"]), (VERSION_LINE.to_string(), String::new()));
    assert_eq!(ok(&env, &["v"]), (VERSION_LINE.to_string(), String::new()));
    // It reads no config and no profile: a bad FNOX_PROFILE does not matter.
    let out = env.cmd().arg("version").env("FNOX_PROFILE", "a b").assert().success();
    assert_eq!(stdout(&out), VERSION_LINE);
}

// ---------------------------------------------------------------------
// reencrypt = rotate

#[test]
fn reencrypt_dry_run_changes_nothing_and_force_skips_the_question() {
    let env = two_secrets();
    let before = env.read("fnox.toml");
    for dry in ["-n", "--dry-run"] {
        let out = env.fnox(&["reencrypt", dry, "--new-key"]).success();
        assert_eq!(
            stdout(&out),
            "A  fnox.toml:11  re-encrypt  local\nB  fnox.toml:12  re-encrypt  local\ndry run: 2 of 2 secrets would change; nothing was written\n"
        );
        assert_eq!(env.read("fnox.toml"), before);
    }
    // Without --force (or --yes), stdin not a terminal: refused.
    let out = env.fnox(&["reencrypt", "--new-key"]).code(2);
    assert_eq!(
        stderr(&out),
        "error: rotate changes files; pass --yes to confirm (stdin is not a terminal)\n"
    );
    assert_eq!(env.read("fnox.toml"), before);
    let (a, b) = (env.stored("A"), env.stored("B"));
    env.fnox(&["reencrypt", "-f", "--new-key"]).success();
    let (a2, b2) = (env.stored("A"), env.stored("B"));
    assert!(a2 != a && b2 != b, "both values re-encrypted");
    env.fnox(&["reencrypt", "--force", "--new-key", "A"]).success();
    assert!(env.stored("A") != a2, "A re-encrypted");
    assert_eq!(env.stored("B"), b2, "only the key named");
    assert_eq!((env.get("A"), env.get("B")), (b"a".to_vec(), b"b".to_vec()));
}

#[test]
fn reencrypt_filter_takes_the_names_that_match() {
    let env = two_secrets();
    env.set("STRIPE_KEY", b"sk").success();
    let out = env.fnox(&["reencrypt", "-n", "--new-key", "--filter", "^(A|STRIPE_.*)$"]).success();
    assert_eq!(
        stdout(&out),
        "A           fnox.toml:11  re-encrypt  local\nSTRIPE_KEY  fnox.toml:13  re-encrypt  local\ndry run: 2 of 2 secrets would change; nothing was written\n"
    );
    let (a, b, s) = (env.stored("A"), env.stored("B"), env.stored("STRIPE_KEY"));
    env.fnox(&["reencrypt", "-p", "local", "--filter", "STRIPE", "--new-key", "-f"]).success();
    assert_eq!((env.stored("A"), env.stored("B")), (a, b), "not matched, not changed");
    assert!(env.stored("STRIPE_KEY") != s);
    assert_eq!(env.get("STRIPE_KEY"), b"sk");
    // The same flag on `rotate`.
    let out = env.fnox(&["rotate", "-n", "--filter", "^B$"]).success();
    assert_eq!(
        stdout(&out),
        "B  fnox.toml:12  re-encrypt  local\ndry run: 1 of 1 secrets would change; nothing was written\n",
        "B is under the old key now"
    );
    let out = env.fnox(&["reencrypt", "-n", "--filter", "NOPE"]).success();
    assert_eq!(
        (stdout(&out), stderr(&out)),
        (String::new(), "no secret matches; nothing to rotate\n".into())
    );
    let out = env.fnox(&["reencrypt", "-n", "--filter", "("]).code(2);
    assert!(
        stderr(&out).starts_with("error: --filter is not a valid regular expression: "),
        "{}",
        stderr(&out)
    );
}

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
        "::add-mask::-----BEGIN-----\n::add-mask::MIIB%25x%0D\n::add-mask::-----END-----\n::add-mask::hunter2\n::add-mask::tok_5f2c\n"
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
// config-files

#[test]
fn config_files_nearest_directory_first_imports_after_their_file_global_last() {
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.config_dir).unwrap();
    std::fs::write(env.config_dir.join("config.toml"), "").unwrap();
    env.write("fnox.toml", "import = [\"shared/base.toml\"]\n");
    env.write("shared/base.toml", "");
    env.write("app/fnox.toml", "");
    env.write("app/fnox.staging.toml", "");
    env.write("app/fnox.local.toml", "");
    let app = env.project.join("app");
    let p = |rel: &str| format!("{}\n", env.project.join(rel).display());
    let global = format!("{}\n", env.config_dir.join("config.toml").display());
    let run = |args: &[&str]| stdout(&env.cmd_in(&app).args(args).assert().success());
    assert_eq!(
        run(&["config-files"]),
        [
            p("app/fnox.toml"),
            p("app/fnox.local.toml"),
            p("fnox.toml"),
            p("shared/base.toml"),
            global.clone()
        ]
        .concat()
    );
    assert_eq!(
        run(&["-P", "staging", "config-files"]),
        [
            p("app/fnox.toml"),
            p("app/fnox.staging.toml"),
            p("app/fnox.local.toml"),
            p("fnox.toml"),
            p("shared/base.toml"),
            global.clone()
        ]
        .concat()
    );
    // root = true stops the walk up; the global file is still read.
    env.write("app/fnox.toml", "root = true\n");
    assert_eq!(
        run(&["config-files"]),
        [p("app/fnox.toml"), p("app/fnox.local.toml"), global.clone()].concat()
    );
    // -c: that file, its imports, the global file.
    let out = env.cmd().args(["-c", "fnox.toml", "config-files"]).assert().success();
    assert_eq!(stdout(&out), [p("fnox.toml"), p("shared/base.toml"), global].concat());
}

#[test]
fn config_files_prints_nothing_where_there_is_no_config() {
    let env = TestEnv::new();
    assert_eq!(ok(&env, &["config-files"]), (String::new(), String::new()));
    let out = env.fnox(&["-c", "missing.toml", "config-files"]).code(1);
    assert_eq!(stdout(&out), "");
}

// ---------------------------------------------------------------------
// profiles

#[test]
fn profiles_lists_every_defined_profile_and_marks_the_active_one() {
    let env = TestEnv::with_local();
    env.write(
        "fnox.toml",
        &(env.read("fnox.toml") + "\n[profiles.production.secrets]\nA = { default = \"p\" }\n"),
    );
    env.write("fnox.staging.toml", "[secrets]\n");
    assert_eq!(
        ok(&env, &["profiles"]),
        ("default (active)\nproduction\nstaging\n".into(), String::new())
    );
    assert_eq!(
        ok(&env, &["-P", "staging", "profiles"]).0,
        "default\nproduction\nstaging (active)\n"
    );
    let out = env.cmd().arg("profile").env("FNOX_PROFILE", "production").assert().success();
    assert_eq!(stdout(&out), "default\nproduction (active)\nstaging\n");
    assert_eq!(ok(&env, &["profiles", "--complete"]).0, "default\nproduction\nstaging\n");
    // An active profile that no file defines: listed as it is, and said.
    let (out, err) = ok(&env, &["-P", "prod", "profiles"]);
    assert_eq!(out, "default\nproduction\nstaging\n");
    assert_eq!(
        err,
        "warning: the active profile `prod` is not defined by any file; commands that read secrets fail with it\n"
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
