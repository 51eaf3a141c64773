//! jdx/fnox's command names and commands (issue 12): each alias runs our
//! command; `version`, `config-files`, `profiles` and `reencrypt` print
//! what a jdx/fnox user's scripts expect. `check`, `ci-redact` and
//! `doctor`: jdx_check.rs.

use crate::common::{TestEnv, stderr, stdout};

const VERSION_LINE: &str = concat!("fnox ", env!("CARGO_PKG_VERSION"), "\n");

/// A project with the `local` provider and secrets A = "a" and B = "b".
pub fn two_secrets() -> TestEnv {
    let env = TestEnv::with_local();
    env.set("A", b"a").success();
    env.set("B", b"b").success();
    env
}

/// stdout and stderr of a successful `fnox ARGS`.
pub fn ok(env: &TestEnv, args: &[&str]) -> (String, String) {
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
    assert_eq!(commands("del"), "delete", "an alias only it matches is offered");
    assert_eq!(commands("de"), "deactivate", "a name wins over an alias");
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
    let global = expected_global(&env);
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
    // -c: that file, its imports, the global file; paths without `..`.
    let out = env.cmd().args(["-c", "fnox.toml", "config-files"]).assert().success();
    let expected = [p("fnox.toml"), p("shared/base.toml"), global.clone()].concat();
    assert_eq!(stdout(&out), expected);
    assert_eq!(run(&["-c", "../fnox.toml", "config-files"]), expected);
    env.write("app/fnox.toml", "root = true\nimport = [\"../shared/base.toml\"]\n");
    assert_eq!(
        run(&["config-files"]),
        [p("app/fnox.toml"), p("shared/base.toml"), p("app/fnox.local.toml"), global].concat()
    );
}

/// The global config file's line in `config-files`.
fn expected_global(env: &TestEnv) -> String {
    format!("{}\n", env.config_dir.join("config.toml").display())
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
