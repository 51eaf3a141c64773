//! Tab completion: `fnox completions SHELL` prints a script that runs
//! `COMPLETE=SHELL fnox -- WORDS` at each Tab; fnox answers with the
//! candidates, names included (secrets, profiles, providers) from the
//! config of the current directory. Run here as the scripts run it, and
//! through the scripts themselves in bash, zsh and fish.

use std::ffi::OsString;

use assert_cmd::assert::Assert;

use crate::common::{TestEnv, bin, require_tool, stderr, stdout};

/// Two providers (one `local`), two top-level secrets, a `production`
/// profile in fnox.toml and a `staging` one in its own file. No key and no
/// value anywhere: completion reads names only.
fn project() -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "fnox.toml",
        r#"default_provider = "main"

[providers.main]
type = "local"

[providers.team]
type = "age"
recipients = ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]

[secrets]
DATABASE_URL = { description = "the app's database" }
API_TOKEN = { description = "line one\nline two" }

[profiles.production.secrets]
PROD_ONLY = {}
"#,
    );
    env.write("fnox.staging.toml", "[secrets]\nSTAGING_ONLY = {}\n");
    env
}

/// What bash's script runs for `words` with the cursor on the last one;
/// the candidates are one a line.
pub(crate) fn bash(env: &TestEnv, words: &[&str]) -> Assert {
    env.cmd()
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
        .env("_CLAP_IFS", "\n")
        .arg("--")
        .args(words)
        .assert()
}

/// The candidates for `words` (cursor on the last one), asserting that
/// nothing went to stderr.
fn candidates(env: &TestEnv, words: &[&str]) -> String {
    let out = bash(env, words).success();
    assert_eq!(stderr(&out), "", "{words:?}");
    stdout(&out)
}

/// The options `get` offers after its names, one a line.
const GET_OPTIONS: &str = "--no-newline\n--json\n--base64-decode\n--help\n--config\n--profile\n--write-profile\n--no-defaults\n--quiet\n--verbose\n--color\n--no-color\n--if-missing\n--non-interactive\n--no-daemon";

#[test]
fn secret_names_complete_for_every_command_that_takes_them() {
    let env = project();
    assert_eq!(
        candidates(&env, &["fnox", "get", ""]),
        format!("DATABASE_URL\nAPI_TOKEN\n{GET_OPTIONS}")
    );
    assert_eq!(candidates(&env, &["fnox", "get", "D"]), "DATABASE_URL");
    assert_eq!(candidates(&env, &["fnox", "remove", "A"]), "API_TOKEN");
    assert_eq!(candidates(&env, &["fnox", "rm", "A"]), "API_TOKEN");
    assert_eq!(candidates(&env, &["fnox", "set", "DATA"]), "DATABASE_URL");
    assert_eq!(candidates(&env, &["fnox", "rotate", "API_TOKEN", "D"]), "DATABASE_URL");
    assert_eq!(candidates(&env, &["fnox", "exec", "--only", "A"]), "API_TOKEN");
    assert_eq!(
        candidates(&env, &["fnox", "export", "--only", "API_TOKEN,D"]),
        "API_TOKEN,DATABASE_URL"
    );
    // Completing reads the config and nothing else: no key was created.
    assert!(!env.config_dir.exists());
}

#[test]
fn secret_names_are_those_of_the_profile_on_the_line() {
    let env = project();
    assert_eq!(candidates(&env, &["fnox", "get", "P"]), "");
    for words in [
        &["fnox", "-P", "production", "get", "P"][..],
        &["fnox", "get", "-P", "production", "P"],
        &["fnox", "-Pproduction", "get", "P"],
        &["fnox", "--profile=production", "get", "P"],
        &["fnox", "get", "--profile", "production", "P"],
    ] {
        assert_eq!(candidates(&env, words), "PROD_ONLY", "{words:?}");
    }
    assert_eq!(
        candidates(&env, &["fnox", "-P", "production", "--no-defaults", "export", "--only", ""]),
        "PROD_ONLY"
    );
    assert_eq!(candidates(&env, &["fnox", "-P", "staging", "get", "S"]), "STAGING_ONLY");
    let from_env = env
        .cmd()
        .env("FNOX_PROFILE", "staging")
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .args(["--", "fnox", "get", "S"])
        .assert()
        .success();
    assert_eq!(stdout(&from_env), "STAGING_ONLY");
    env.write("other/fnox.toml", "[secrets]\nOTHER = {}\n");
    assert_eq!(candidates(&env, &["fnox", "-c", "other/fnox.toml", "get", "O"]), "OTHER");
}

#[test]
fn profile_and_provider_names_complete() {
    let env = project();
    assert_eq!(candidates(&env, &["fnox", "-P", ""]), "production\nstaging");
    assert_eq!(candidates(&env, &["fnox", "list", "--profile", "p"]), "production");
    assert_eq!(candidates(&env, &["fnox", "set", "X", "--provider", ""]), "main\nteam");
    assert_eq!(candidates(&env, &["fnox", "import", "-p", "t"]), "team");
    assert_eq!(candidates(&env, &["fnox", "rotate", "--provider", ""]), "main\nteam");
    assert_eq!(candidates(&env, &["fnox", "rotate", "--to", ""]), "main\nteam");
    // `keys` works on keyrings: `local` providers only.
    assert_eq!(candidates(&env, &["fnox", "keys", "export", "-p", ""]), "main");
}

#[test]
fn fish_and_zsh_are_given_descriptions() {
    let env = project();
    let fish = env
        .cmd()
        .env("COMPLETE", "fish")
        .args(["--", "fnox", "set", "--provider", ""])
        .assert()
        .success();
    assert_eq!(stdout(&fish), "main\tlocal\nteam\tage\n");
    // A description is one printable line.
    let zsh = env
        .cmd()
        .env("COMPLETE", "zsh")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .env("_CLAP_IFS", "\n")
        .args(["--", "fnox", "get", "A"])
        .assert()
        .success();
    assert_eq!(stdout(&zsh), "API_TOKEN:line one\\\\nline two");
}

#[test]
fn a_config_that_does_not_load_gives_no_names_and_no_error() {
    let env = project();
    env.write("fnox.toml", "[secrets\nA = {}\n");
    assert_eq!(candidates(&env, &["fnox", "get", ""]), GET_OPTIONS);
    assert_eq!(candidates(&env, &["fnox", "get", "A"]), "");
    let env = project();
    assert_eq!(candidates(&env, &["fnox", "-P", "no/such", "get", "A"]), "");
    // Subcommands still complete.
    assert_eq!(candidates(&env, &["fnox", "ex"]), "exec\nexport");
}

#[test]
fn a_normal_run_ignores_a_stray_complete_variable() {
    let env = project();
    let out =
        env.cmd().env("COMPLETE", "bash").args(["get", "--json", "API_TOKEN"]).assert().code(1);
    assert_eq!(
        stderr(&out),
        "error: secret `API_TOKEN` has no value (fnox.toml:12)\n  hint: set it with `fnox set API_TOKEN`\n"
    );
}

/// `fnox completions SHELL`, asserting success and an empty stderr.
fn script(env: &TestEnv, shell: &str) -> String {
    let out = env.fnox(&["completions", shell]).success();
    assert_eq!(stderr(&out), "");
    stdout(&out)
}

#[test]
fn each_shell_gets_a_script_that_calls_fnox() {
    let env = TestEnv::new();
    let bash = script(&env, "bash");
    assert!(
        bash.contains("        COMPLETE=\"bash\" \\\n        \"fnox\" -- \"${words[@]}\" \\\n"),
        "{bash}"
    );
    assert!(
        bash.contains("complete -o nospace -o bashdefault -o nosort -F _clap_complete_fnox fnox\n")
    );
    let zsh = script(&env, "zsh");
    assert!(zsh.starts_with("#compdef fnox\n"), "{zsh}");
    assert!(zsh.ends_with(
        "compdef _clap_dynamic_completer_fnox fnox\nif [[ ${funcstack[1]} = _fnox ]]; then _clap_dynamic_completer_fnox \"$@\"; fi\n"
    ));
    assert_eq!(
        script(&env, "fish"),
        "complete --keep-order --exclusive --command fnox --arguments \"(COMPLETE=fish fnox -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))\"\n"
    );
    for shell in ["elvish", "powershell"] {
        assert!(script(&env, shell).contains("COMPLETE"), "{shell}");
    }
}

/// `shell ARGS` in the project, with fnox first on PATH (the scripts run
/// `fnox`); returns stdout, asserting success and an empty stderr.
fn in_shell(env: &TestEnv, shell: &str, args: &[&str]) -> String {
    let mut path = OsString::from(bin().parent().unwrap());
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let out = env.program(shell).args(args).env("PATH", path).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{shell} {args:?}");
    assert!(out.status.success(), "{shell} {args:?}: {}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_completes_through_the_script() {
    let env = project();
    env.write("fnox.bash", &script(&env, "bash"));
    // What bash does at a Tab after `fnox -P production get P`.
    let run = r#"source ./fnox.bash
COMP_WORDS=(fnox -P production get P); COMP_CWORD=4
COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; COMP_TYPE=9
_clap_complete_fnox fnox P get
printf '%s\n' "${COMPREPLY[@]}"
complete -p fnox"#;
    assert_eq!(
        in_shell(&env, "bash", &["--norc", "-c", run]),
        "PROD_ONLY\ncomplete -o bashdefault -o nosort -o nospace -F _clap_complete_fnox fnox\n"
    );
}

#[test]
fn zsh_completes_on_the_first_tab_from_fpath() {
    if !require_tool("zsh") {
        return;
    }
    let env = project();
    env.write("zfunc/_fnox", &script(&env, "zsh"));
    // compinit autoloads `_fnox` for `fnox`; `_describe` and `compdef`
    // (zsh's completion system) are stood in for by printing their input.
    let run = r#"fpath=(./zfunc $fpath)
compdef() { print -r -- "compdef $*" }
_describe() { print -rl -- ${(P)${@[-1]}} }
autoload -Uz _fnox
words=(fnox -P production get P); CURRENT=5
_fnox"#;
    assert_eq!(
        in_shell(&env, "zsh", &["-f", "-c", run]),
        "compdef _clap_dynamic_completer_fnox fnox\nPROD_ONLY\n"
    );
    // Sourced (e.g. from .zshrc), the script only registers.
    let sourced = "compdef() { print -r -- \"compdef $*\" }; source ./zfunc/_fnox; echo \"rc=$?\"";
    assert_eq!(
        in_shell(&env, "zsh", &["-f", "-c", sourced]),
        "compdef _clap_dynamic_completer_fnox fnox\nrc=0\n"
    );
}

#[test]
fn fish_completes_through_the_script() {
    if !require_tool("fish") {
        return;
    }
    let env = project();
    env.write("fnox.fish", &script(&env, "fish"));
    let run = r#"source ./fnox.fish
complete -C "fnox get -P production P"
complete -C "fnox -P "
complete -C "fnox set --provider t""#;
    assert_eq!(
        in_shell(&env, "fish", &["--no-config", "-c", run]),
        "PROD_ONLY\nproduction\nstaging\nteam\tage\n"
    );
}
