//! `export`: every format gives back the exact bytes when the consumer
//! reads it (bash `source`/`eval`, dotenvy via `fnox import`, GitHub's
//! $GITHUB_ENV rules, JSON); masks first; private files; `--only`; missing
//! values.

use std::{collections::BTreeMap, os::unix::fs::PermissionsExt, path::Path};

use crate::common::{TestEnv, sh, stderr, stdout};

/// 50 values that break naive quoting, escaping or line handling.
pub fn nasty_values() -> Vec<(&'static str, Vec<u8>)> {
    let long: String = (0..2000).map(|i| format!("{i}'\"$\\\n")).collect();
    let values: Vec<(&str, &str)> = vec![
        ("NL", "a\nb"),
        ("NL_TRAILING", "value\n"),
        ("NL_LEADING", "\nvalue"),
        ("NL_ONLY", "\n"),
        ("NL_MANY", "\n\n\n"),
        ("CRLF", "line1\r\nline2\r\n"),
        ("CR", "a\rb"),
        ("CR_TRAILING", "x\r"),
        ("CR_AND_QUOTE", "it's\r\nwindows\r"),
        ("SQ", "it's"),
        ("SQ_ONLY", "'"),
        ("SQ_MANY", "'''"),
        ("DQ", "say \"hi\""),
        ("DQ_ONLY", "\""),
        ("QUOTES_MIXED", "'\"'\"'"),
        ("DOLLAR_VAR", "$HOME"),
        ("DOLLAR_BRACE", "${HOME}"),
        ("DOLLAR_BRACE_OPEN", "${X"),
        ("DOLLAR_ALONE", "$"),
        ("DOLLAR_END", "costs 5$"),
        ("DOLLAR_AND_SQ", "it's $HOME and ${PATH}"),
        ("DOLLAR_PAREN", "$(touch pwned)"),
        ("BACKTICK", "`touch pwned`"),
        ("BACKSLASH", "a\\b"),
        ("BACKSLASH_END", "abc\\"),
        ("BACKSLASH_END_TWO", "abc\\\\"),
        ("BACKSLASH_ONLY", "\\"),
        ("BACKSLASH_END_SQ", "it's\\"),
        ("LITERAL_BACKSLASH_N", "\\n"),
        ("LITERAL_BACKSLASH_N_SQ", "it's \\n, not a newline"),
        ("BACKSLASH_SQ", "\\'"),
        ("BACKSLASH_DQ", "\\\""),
        ("UNICODE", "héllo wörld ✓ 秘密 🔑"),
        ("UNICODE_COMBINING_RTL", "e\u{301} \u{202e}abc\u{200b}"),
        ("SPACES_LEADING", "   lead"),
        ("SPACES_TRAILING", "trail   "),
        ("TABS", "\ttab\t"),
        ("EQUALS", "a=b==c"),
        ("EQUALS_LEADING", "=x"),
        ("HASH", "#not a comment"),
        ("HASH_INLINE", "value # not a comment"),
        ("EMPTY", ""),
        ("SPACE_ONLY", " "),
        ("SHELL_SYNTAX", "a; touch pwned | cat && true > pwned < /dev/null &"),
        ("GLOB_TILDE_BANG", "*.txt ?[a] ~/x ~root !! !$"),
        ("PERCENT", "100% %25 %0D %0A"),
        ("WORKFLOW_COMMANDS", "::warning::x\n::add-mask::y\n::stop-commands::z"),
        ("HEREDOC_LOOKALIKE", "EOF\nX<<EOF\nghadelimiter_1\nFNOX_EOF_00\n"),
        ("PEM", "-----BEGIN KEY-----\nMIIBVgIBADAN\n-----END KEY-----\n"),
        ("LONG", long.as_str()),
    ];
    assert_eq!(values.len(), 50);
    values.into_iter().map(|(n, v)| (n, v.as_bytes().to_vec())).collect()
}

/// A project with the local provider and every nasty value set.
fn nasty_project() -> TestEnv {
    let env = TestEnv::with_local();
    for (name, value) in nasty_values() {
        env.set(name, &value).success();
    }
    env
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The environment a shell script needs to run this env's fnox.
fn fnox_env(env: &TestEnv) -> String {
    format!(
        "export HOME='{}' FNOX_CONFIG_DIR='{}' PATH='{}':\"$PATH\"",
        env.home.display(),
        env.config_dir.display(),
        crate::common::bin().parent().unwrap().display()
    )
}

/// Runs `prelude` in bash, then writes each variable's bytes to out/NAME;
/// returns NAME -> bytes.
fn dump_from_bash(env: &TestEnv, prelude: &str) -> BTreeMap<String, Vec<u8>> {
    let out = env.project.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let names: Vec<&str> = nasty_values().iter().map(|(n, _)| *n).collect();
    let script = format!(
        "{prelude}\nfor n in {}; do printf %s \"${{!n}}\" > 'out'/\"$n\"; done",
        names.join(" ")
    );
    sh(&env.project, &script);
    names.iter().map(|n| (n.to_string(), std::fs::read(out.join(n)).unwrap())).collect()
}

fn assert_all_equal(got: &BTreeMap<String, Vec<u8>>, how: &str) {
    let mut checked = 0;
    for (name, value) in nasty_values() {
        assert_eq!(
            got.get(name).map(|v| String::from_utf8_lossy(v).into_owned()),
            Some(String::from_utf8_lossy(&value).into_owned()),
            "{how}: {name}"
        );
        assert_eq!(got[name], value, "{how}: {name} (bytes)");
        checked += 1;
    }
    assert_eq!(checked, 50);
}

#[test]
fn shell_format_sourced_by_bash_gives_every_value_back() {
    let env = nasty_project();
    env.fnox(&["export", "--format", "shell", "-o", "secrets.sh"]).success().stdout("");
    assert_eq!(mode(&env.project.join("secrets.sh")), 0o600);
    let text = env.read("secrets.sh");
    // In the order the secrets were set (the file's order), not by name.
    assert!(text.starts_with("export NL='a\nb'\nexport NL_TRAILING='value\n'\n"), "{text}");
    assert!(text.contains("\nexport SQ='it'\\''s'\n"), "{text}");
    let got = dump_from_bash(&env, "set -a; source secrets.sh");
    assert_all_equal(&got, "source");
    // Sourcing ran nothing: `$(...)` and backticks stayed text.
    assert!(!env.project.join("pwned").exists());
}

#[test]
fn shell_format_through_eval_gives_every_value_back() {
    let env = nasty_project();
    let got = dump_from_bash(
        &env,
        &format!("{}\neval \"$(fnox export --format shell)\" || exit 1", fnox_env(&env)),
    );
    assert_all_equal(&got, "eval");
}

#[test]
fn non_utf8_values_go_through_shell_and_nul_is_refused() {
    let env = TestEnv::with_local();
    env.set("BIN", &[0xff, 0xfe, b'\'', b'\n', 0x80]).success();
    env.fnox(&["export", "--format", "shell", "-o", "s.sh"]).success();
    sh(&env.project, "set -a; source s.sh; printf %s \"$BIN\" > bin.out");
    assert_eq!(env.read_bytes("bin.out"), [0xff, 0xfe, b'\'', b'\n', 0x80]);
    // The formats that carry text name the secret instead of mangling it.
    for (format, what) in [
        ("dotenv", "so it cannot be written as dotenv"),
        ("json", "so it cannot be exported as JSON"),
    ] {
        let out = env.fnox(&["export", "--format", format]).code(1);
        assert_eq!(stderr(&out), format!("error: secret `BIN` is not UTF-8 text, {what}\n"));
        assert_eq!(stdout(&out), "");
    }
    env.set("NUL", b"a\0b").success();
    let out = env.fnox(&["export", "--only", "NUL", "--format", "shell", "-o", "n.sh"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: secret `NUL` contains a NUL byte, which a shell variable cannot hold; use `fnox get -n NUL` to write it to a file\n"
    );
    assert!(!env.project.join("n.sh").exists());
}

#[test]
fn dotenv_format_imported_with_dotenvy_gives_every_value_back() {
    let env = nasty_project();
    env.fnox(&["export", "-o", ".env"]).success().stdout("");
    assert_eq!(mode(&env.project.join(".env")), 0o600);
    let text = env.read(".env");
    // Single quotes where they can hold the value; when it has a `'` or
    // ends with a backslash, single-quoted runs joined by `\'` and `\\`.
    assert!(text.contains("\nDOLLAR_VAR='$HOME'\n"), "{text}");
    assert!(text.contains("\nSQ='it'\\''s'\n"), "{text}");
    assert!(text.contains("\nBACKSLASH_END='abc'\\\\\n"), "{text}");
    assert!(text.contains("\nDOLLAR_AND_SQ='it'\\''s $HOME and ${PATH}'\n"), "{text}");
    // stdout gives the same bytes as -o.
    let printed = env.fnox(&["export", "--format", "dotenv"]).success();
    assert_eq!(stdout(&printed), text);

    // A second project reads the file with fnox's dotenv parser (dotenvy).
    let other = TestEnv::with_local();
    std::fs::write(other.project.join(".env"), &text).unwrap();
    let out = other.fnox(&["import", ".env", "--allow-empty"]).success();
    assert_eq!(
        stderr(&out),
        "imported 50 secrets (provider `local`) into fnox.toml\n.env still holds the plaintext; delete it when you no longer need it\n"
    );
    let got: BTreeMap<String, Vec<u8>> =
        nasty_values().iter().map(|(n, _)| (n.to_string(), other.get(n))).collect();
    assert_all_equal(&got, "dotenv -> import");
}

/// A $GITHUB_ENV file read the way the GitHub runner reads it on Linux
/// (actions/runner `SetEnvFileCommand`): lines end at `\n`; a line is
/// `NAME=value` when `=` comes before any `<<`, else `NAME<<DELIMITER`
/// followed by the value's lines up to a line that is exactly DELIMITER.
pub fn parse_github_env(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.strip_suffix('\n').unwrap_or(text).split('\n').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<");
        match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                assert!(e > 0, "empty name: {line:?}");
                out.push((line[..e].to_string(), line[e + 1..].to_string()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                assert!(!name.is_empty() && !delimiter.is_empty(), "bad header {line:?}");
                let start = i;
                while lines.get(i).is_some_and(|l| *l != delimiter) {
                    i += 1;
                }
                assert!(i < lines.len(), "delimiter {delimiter} not found");
                out.push((name.to_string(), lines[start..i].join("\n")));
                i += 1;
            }
            _ => panic!("invalid $GITHUB_ENV line {line:?}"),
        }
    }
    out
}

/// What GitHub does with an `::add-mask::` line's data.
fn unescape_mask(data: &str) -> String {
    data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
}

#[test]
fn github_format_round_trips_through_githubs_rules_and_masks_every_line_first() {
    let env = nasty_project();
    let github_env = env.tmp.path().join("github_env");
    std::fs::write(&github_env, "EARLIER=from another step\n").unwrap();
    let out = env
        .cmd()
        .env("GITHUB_ENV", &github_env)
        .args(["export", "--format", "github"])
        .assert()
        .success();
    assert_eq!(stderr(&out), format!("exported 50 secrets to {}\n", github_env.display()));

    // stdout is the masks and nothing else: one per non-blank value line,
    // in the file's order.
    let mut expected_masks = Vec::new();
    for (_, value) in nasty_values() {
        for line in String::from_utf8(value).unwrap().split('\n') {
            if !line.trim().is_empty() {
                expected_masks.push(line.to_string());
            }
        }
    }
    let printed = stdout(&out);
    let masks: Vec<String> = printed
        .strip_suffix('\n')
        .unwrap()
        .split('\n')
        .map(|l| unescape_mask(l.strip_prefix("::add-mask::").unwrap_or_else(|| panic!("{l:?}"))))
        .collect();
    assert_eq!(masks.len(), expected_masks.len());
    for (got, want) in masks.iter().zip(&expected_masks) {
        assert_eq!(got, want);
    }
    // No raw carriage return: the runner would split the command there.
    assert!(!printed.contains('\r'));

    let text = std::fs::read_to_string(&github_env).unwrap();
    let parsed = parse_github_env(&text);
    assert_eq!(parsed[0], ("EARLIER".to_string(), "from another step".to_string()));
    let got: BTreeMap<String, Vec<u8>> =
        parsed[1..].iter().map(|(n, v)| (n.clone(), v.clone().into_bytes())).collect();
    assert_eq!(parsed.len(), 51);
    assert_all_equal(&got, "github");
}

#[test]
fn github_format_needs_a_target_and_creates_it_private() {
    let env = TestEnv::with_local();
    env.set("TOKEN", b"tok-123").success();
    let out = env.fnox(&["export", "--format", "github"]).code(2);
    assert_eq!(
        stderr(&out),
        "error: --format github needs $GITHUB_ENV (set by GitHub Actions) or -o FILE\n"
    );
    assert_eq!(stdout(&out), "");
    let out = env.fnox(&["export", "--format", "github", "-o", "gh.env"]).success();
    assert_eq!(stdout(&out), "::add-mask::tok-123\n");
    assert_eq!(mode(&env.project.join("gh.env")), 0o600);
    let parsed = parse_github_env(&env.read("gh.env"));
    assert_eq!(parsed, [("TOKEN".to_string(), "tok-123".to_string())]);
    // Appending keeps what is there.
    env.fnox(&["export", "--format", "github", "-o", "gh.env"]).success();
    assert_eq!(parse_github_env(&env.read("gh.env")).len(), 2);
}

#[test]
fn json_format_parses_to_the_same_values() {
    let env = nasty_project();
    let out = env.fnox(&["export", "--format", "json"]).success();
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let object = json.as_object().unwrap();
    assert_eq!(object.len(), 50);
    let got: BTreeMap<String, Vec<u8>> =
        object.iter().map(|(n, v)| (n.clone(), v.as_str().unwrap().as_bytes().to_vec())).collect();
    assert_all_equal(&got, "json");
    env.fnox(&["export", "--format", "json", "-o", "s.json"]).success().stdout("");
    assert_eq!(mode(&env.project.join("s.json")), 0o600);
    assert_eq!(env.read_bytes("s.json"), out.get_output().stdout);
}

#[test]
fn output_files_are_private_even_when_they_existed() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    for format in ["dotenv", "shell", "json"] {
        let path = env.project.join(format!("out.{format}"));
        std::fs::write(&path, "old contents\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        env.fnox(&["export", "--format", format, "-o", &format!("out.{format}")]).success();
        assert_eq!(mode(&path), 0o600, "{format}");
        assert!(!std::fs::read_to_string(&path).unwrap().contains("old"), "{format}");
    }
}

#[test]
fn only_exports_the_named_secrets() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    env.set("B", b"beta").success();
    env.set("C", b"gamma").success();
    let out = env.fnox(&["export", "--only", "C,A"]).success();
    assert_eq!(stdout(&out), "C='gamma'\nA='alpha'\n");
    let out = env.fnox(&["export", "--format", "shell", "--only", "B"]).success();
    assert_eq!(stdout(&out), "export B='beta'\n");
    let out = env.fnox(&["export", "--only", "A,NOPE"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: secret `NOPE` is not defined in profile `default`\n  hint: run `fnox list` to see the secrets, or `fnox set NOPE` to add it\n"
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_secret_without_value_warns_and_is_left_out() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let text = env
        .read("fnox.toml")
        .replace("[secrets]\n", "[secrets]\nUNSET = { description = \"set me\" }\n");
    env.write("fnox.toml", &text);
    let out = env.fnox(&["export"]).success();
    assert_eq!(stdout(&out), "A='alpha'\n");
    assert_eq!(stderr(&out), "warning: secret `UNSET` has no value (fnox.toml:11); left out\n");
    let out = env.fnox(&["export", "--format", "json"]).success();
    assert_eq!(stdout(&out), "{\"A\":\"alpha\"}\n");
    // With error, nothing is written at all.
    let out = env.fnox(&["--if-missing", "error", "export", "-o", "x.env"]).code(1);
    assert_eq!(
        stderr(&out),
        "error: secret `UNSET` has no value (fnox.toml:11)\n  hint: set it with `fnox set UNSET`\n"
    );
    assert!(!env.project.join("x.env").exists());
}

#[test]
fn export_refuses_variables_that_change_what_programs_run() {
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    env.write("fnox.toml", &(env.read("fnox.toml") + "BASH_ENV = { default = \"./evil.sh\" }\n"));
    for format in ["dotenv", "shell", "json", "github"] {
        let out = env.fnox(&["export", "--format", format, "-o", "out.env"]).code(1);
        assert_eq!(
            stderr(&out),
            "error: refusing to set `BASH_ENV` (fnox.toml:12): BASH_ENV names a file that every non-interactive bash runs first
  hint: if this entry is meant to set BASH_ENV, add `allow_exec_control = true` to it
",
            "{format}"
        );
        assert_eq!(stdout(&out), "", "{format}");
        assert!(!env.project.join("out.env").exists(), "{format}");
    }
    let text =
        env.read("fnox.toml").replace("evil.sh\" }", "evil.sh\", allow_exec_control = true }");
    env.write("fnox.toml", &text);
    let out = env.fnox(&["export"]).success();
    assert_eq!(stdout(&out), "A='alpha'\nBASH_ENV='./evil.sh'\n");
}

#[test]
fn dotenv_format_sourced_by_sh_runs_nothing_and_gives_every_value_back() {
    let env = nasty_project();
    // A quote makes the value leave the plain single-quoted form.
    let extra: [(&str, &[u8]); 4] = [
        ("SQ_BACKTICK", b"it's `touch pwned`"),
        ("SQ_DOLLAR_PAREN", b"it's $(touch pwned)"),
        ("SQ_BACKSLASH_BACKTICK", b"'\\`touch pwned\\`\\"),
        ("SQ_EVERYTHING", b"'\"$HOME ${X} `id` $(id) \\ \\\\ !! \n\r\t'"),
    ];
    for (name, value) in extra {
        env.set(name, value).success();
    }
    env.fnox(&["export", "-o", ".env"]).success();
    let text = env.read(".env");
    assert!(text.contains("\nSQ_BACKTICK='it'\\''s `touch pwned`'\n"), "{text}");
    let mut all: Vec<(&str, Vec<u8>)> = nasty_values();
    all.extend(extra.iter().map(|(n, v)| (*n, v.to_vec())));
    std::fs::create_dir(env.project.join("out")).unwrap();
    let mut script = String::from("set -a; . ./.env || exit 1\n");
    for (name, _) in &all {
        script.push_str(&format!("printf %s \"${name}\" > out/{name}\n"));
    }
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(&env.project)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!env.project.join("pwned").exists(), "sourcing ran a command");
    for (name, value) in &all {
        assert_eq!(
            String::from_utf8_lossy(&env.read_bytes(&format!("out/{name}"))),
            String::from_utf8_lossy(value),
            "{name}"
        );
    }
    // dotenvy reads the same file back too.
    let other = TestEnv::with_local();
    std::fs::write(other.project.join(".env"), &text).unwrap();
    other.fnox(&["import", ".env", "--allow-empty"]).success();
    for (name, value) in &all {
        assert_eq!(
            String::from_utf8_lossy(&other.get(name)),
            String::from_utf8_lossy(value),
            "{name}"
        );
    }
}

/// `-o FILE` inside a git working tree: a warning (not a refusal) when git
/// would pick the plaintext file up, nothing when it is ignored or outside
/// a working tree.
#[test]
fn output_inside_a_git_tree_warns_unless_git_ignores_it() {
    if !crate::common::require_tool("git") {
        return;
    }
    let env = TestEnv::with_local();
    env.set("A", b"alpha").success();
    let out = env.fnox(&["export", "-o", "out.env"]).success();
    assert_eq!(stderr(&out), "");
    crate::common::sh(&env.project, "git init -q .");
    let out = env.fnox(&["export", "-o", "out.env"]).success();
    assert_eq!(
        stderr(&out),
        "warning: out.env holds plaintext secrets and git does not ignore it; add /out.env to .gitignore\n"
    );
    assert_eq!(env.read("out.env"), "A='alpha'\n");
    std::fs::create_dir(env.project.join("sub")).unwrap();
    let out =
        env.cmd_in(&env.project.join("sub")).args(["export", "-o", "a.env"]).assert().success();
    assert_eq!(
        env.redact(&stderr(&out)),
        "warning: a.env holds plaintext secrets and git does not ignore it; add /sub/a.env to [TMP]/project/.gitignore\n"
    );
    env.write(".gitignore", "*.env\n");
    let out = env.fnox(&["export", "-o", "out.env"]).success();
    assert_eq!(stderr(&out), "");
    crate::common::sh(&env.project, "git add -f out.env");
    let out = env.fnox(&["export", "-o", "out.env"]).success();
    assert_eq!(
        stderr(&out),
        "warning: out.env holds plaintext secrets and git tracks it; untrack it (`git rm --cached out.env`) and ignore it (/out.env in .gitignore)\n"
    );
}
