//! `fnox activate`, `hook-env` and `deactivate` in real bash, zsh and fish:
//! each shell runs the activation code, then calls the hook as its prompt
//! would (`__fnox_hook`, which PROMPT_COMMAND, precmd_functions and the
//! fish_prompt event run), and prints what it has.

use std::process::Output;

use crate::common::{TestEnv, bin, require_tool};

#[derive(Clone, Copy, PartialEq)]
enum Sh {
    Bash,
    Zsh,
    Fish,
}

const SHELLS: [Sh; 3] = [Sh::Bash, Sh::Zsh, Sh::Fish];

impl Sh {
    fn name(self) -> &'static str {
        match self {
            Sh::Bash => "bash",
            Sh::Zsh => "zsh",
            Sh::Fish => "fish",
        }
    }

    /// The line that activates fnox in this shell.
    fn activate(self) -> String {
        match self {
            Sh::Fish => "$FNOX activate fish | source".into(),
            s => format!("eval \"$($FNOX activate {})\"", s.name()),
        }
    }

    /// Prints `NAME=[value]`, or `NAME=(unset)`.
    fn show(self, names: &[&str]) -> String {
        names
            .iter()
            .map(|n| match self {
                Sh::Fish => format!(
                    "if set -q {n}; printf '%s=[%s]\\n' {n} \"${n}\"; else; echo {n}=\\(unset\\); end\n"
                ),
                _ => format!(
                    "if [ -n \"${{{n}+x}}\" ]; then printf '%s=[%s]\\n' {n} \"${n}\"; else echo '{n}=(unset)'; fi\n"
                ),
            })
            .collect()
    }

    /// Prints `hooks=[...]`: what runs at the prompt, and the functions.
    fn hooks(self) -> &'static str {
        match self {
            Sh::Bash => "echo \"hooks=[$PROMPT_COMMAND$(type -t __fnox_hook fnox)]\"\n",
            Sh::Zsh => {
                "echo \"hooks=[$precmd_functions${functions[__fnox_hook]}${functions[fnox]}]\"\n"
            }
            Sh::Fish => "set -l h (functions -n | string match -e fnox)\necho \"hooks=[$h]\"\n",
        }
    }

    fn export(self, name: &str, value: &str) -> String {
        match self {
            Sh::Fish => format!("set -gx {name} {value}\n"),
            _ => format!("export {name}={value}\n"),
        }
    }

    /// Runs `script` in this shell, in `dir`, with `$FNOX` the binary.
    fn run(self, env: &TestEnv, dir: &std::path::Path, script: &str) -> Output {
        let mut cmd = env.program(self.name());
        match self {
            Sh::Bash => cmd.args(["--norc", "--noprofile", "-c"]),
            Sh::Zsh => cmd.args(["-f", "-c"]),
            Sh::Fish => cmd.args(["--no-config", "-c"]),
        };
        cmd.arg(script).current_dir(dir).env("FNOX", bin()).output().expect("shell")
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A project: A and B (`env = true` by default), E (`env = "exec"`), N
/// (`env = false`), a `ci` profile that changes A, and a nested project
/// `inner` that adds C.
fn project() -> TestEnv {
    let env = TestEnv::with_local();
    env.set("A", b"a-value").success();
    env.set("B", b"b-value").success();
    let text = env.read("fnox.toml")
        + "E = { default = \"e\", env = \"exec\" }\nN = { default = \"n\", env = false }\n\
           [profiles.ci.secrets]\nA = { default = \"ci-a\" }\n";
    env.write("fnox.toml", &text);
    env.write("inner/fnox.toml", "[secrets]\nC = { default = \"c-value\" }\n");
    std::fs::create_dir_all(env.project.join("sub")).unwrap();
    env
}

fn tools() -> bool {
    SHELLS.iter().all(|s| require_tool(s.name()))
}

#[test]
fn cd_in_and_out_nested_projects_and_profile_switch_in_every_shell() {
    if !tools() {
        return;
    }
    let env = project();
    let outside = env.tmp.path();
    for sh in SHELLS {
        let show = sh.show(&["A", "B", "C", "E", "N"]);
        let script = format!(
            "{}{}\necho '# activated'\n{show}cd project; __fnox_hook\necho '# project'\n{show}\
             cd sub; __fnox_hook\ncd ../inner; __fnox_hook\necho '# inner'\n{show}\
             cd ..; __fnox_hook\n{}__fnox_hook\necho '# ci'\n{show}cd ..; __fnox_hook\necho '# left'\n{show}",
            sh.export("A", "mine"),
            sh.activate(),
            sh.export("FNOX_PROFILE", "ci"),
        );
        let out = sh.run(&env, outside, &script);
        assert_eq!(
            text(&out.stdout),
            "# activated\nA=[mine]\nB=(unset)\nC=(unset)\nE=(unset)\nN=(unset)\n\
             # project\nA=[a-value]\nB=[b-value]\nC=(unset)\nE=(unset)\nN=(unset)\n\
             # inner\nA=[a-value]\nB=[b-value]\nC=[c-value]\nE=(unset)\nN=(unset)\n\
             # ci\nA=[ci-a]\nB=[b-value]\nC=(unset)\nE=(unset)\nN=(unset)\n\
             # left\nA=[mine]\nB=(unset)\nC=(unset)\nE=(unset)\nN=(unset)\n",
            "{}",
            sh.name()
        );
        assert_eq!(
            text(&out.stderr),
            "fnox: +2 A B\nfnox: +1 C ~2 A B\nfnox: -1 C ~2 A B\nfnox: ~2 A B\nfnox: -2 A B\n",
            "{}",
            sh.name()
        );
        assert!(out.status.success(), "{}", sh.name());
    }
}

/// Every character a shell could misread, and a leading dash.
const HOSTILE: &str = "-n -e 'single' \"double\" $HOME $$ `touch pwned` $(touch pwned) \\ \\' ; | & * ? ~ !x\n\tsecond line\n";

#[test]
fn a_hostile_value_arrives_exactly_and_nothing_in_it_runs() {
    if !tools() {
        return;
    }
    let env = TestEnv::with_local();
    env.set("H", HOSTILE.as_bytes()).success();
    env.set("D", b"-").success();
    for sh in SHELLS {
        let script = format!(
            "{}\n__fnox_hook\nprintf '%s' \"$H\" > shell.txt\nprintenv H > child.txt\n{}",
            sh.activate(),
            sh.show(&["D"])
        );
        let out = sh.run(&env, &env.project, &script);
        assert_eq!(text(&out.stdout), "D=[-]\n", "{}", sh.name());
        assert_eq!(text(&out.stderr), "fnox: +2 H D\n", "{}", sh.name());
        assert_eq!(env.read("shell.txt"), HOSTILE, "{}", sh.name());
        assert_eq!(env.read("child.txt"), format!("{HOSTILE}\n"), "{}", sh.name());
        assert!(!env.project.join("pwned").exists(), "{}", sh.name());
    }
}

#[test]
fn a_config_edit_is_picked_up_and_deactivate_gives_everything_back() {
    if !tools() {
        return;
    }
    let env = project();
    for sh in SHELLS {
        let script = format!(
            "{}{}\n__fnox_hook\nprintf new | fnox set A\n__fnox_hook\n{}fnox deactivate\n{}{}",
            sh.export("A", "mine"),
            sh.activate(),
            sh.show(&["A"]),
            sh.show(&["A", "B", "__FNOX_STATE"]),
            sh.hooks(),
        );
        let out = sh.run(&env, &env.project, &script);
        assert_eq!(
            text(&out.stdout).replace(' ', ""),
            "A=[new]\nA=[mine]\nB=(unset)\n__FNOX_STATE=(unset)\nhooks=[]\n",
            "{}",
            sh.name()
        );
        assert_eq!(
            text(&out.stderr),
            "fnox: +2 A B\nset A (provider `local`) in fnox.toml\nfnox: ~2 A B\nfnox: -2 A B\n",
            "{}",
            sh.name()
        );
        env.set("A", b"a-value").success();
    }
}

#[test]
fn a_value_that_does_not_decrypt_unloads_everything_and_keeps_the_shell() {
    if !tools() {
        return;
    }
    let env = project();
    let good = env.read("fnox.toml");
    let (a, b) = (env.stored("A"), env.stored("B"));
    // A's ciphertext under B's name's place: authenticated data differs.
    let broken = good.replace(&a, &b);
    env.write("good.toml", &good);
    env.write("broken.toml", &broken);
    for sh in SHELLS {
        let script = format!(
            "{}{}\n__fnox_hook\ncp broken.toml fnox.toml\n__fnox_hook\n{}__fnox_hook\necho still here\n\
             cp good.toml fnox.toml\n__fnox_hook\n{}",
            sh.export("A", "mine"),
            sh.activate(),
            sh.show(&["A", "B"]),
            sh.show(&["A", "B"]),
        );
        let out = sh.run(&env, &env.project, &script);
        assert_eq!(
            text(&out.stdout),
            "A=[mine]\nB=(unset)\nstill here\nA=[a-value]\nB=[b-value]\n",
            "{}",
            sh.name()
        );
        let err = text(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 3, "{}: {err}", sh.name());
        assert_eq!(lines[0], "fnox: +2 A B");
        assert!(lines[1].starts_with("fnox: error: "), "{err}");
        assert!(lines[1].ends_with("; no secret loaded (-2 A B)"), "{err}");
        assert_eq!(lines[2], "fnox: +2 A B");
        assert!(out.status.success());
    }
}

#[test]
fn a_prompt_where_nothing_changed_prints_nothing_and_decrypts_nothing() {
    let env = project();
    let first = env.fnox(&["hook-env", "bash"]).success();
    assert_eq!(crate::common::stderr(&first), "fnox: +2 A B\n");
    let code = crate::common::stdout(&first);
    let state = code.lines().last().unwrap();
    let state = state.strip_prefix("export __FNOX_STATE='").unwrap().strip_suffix('\'').unwrap();
    // Without the key nothing could be decrypted: the prompt still passes.
    std::fs::remove_file(env.config_dir.join("local.key")).unwrap();
    let again = env.cmd().args(["hook-env", "bash"]).env("__FNOX_STATE", state).assert().success();
    assert_eq!(crate::common::stdout(&again), "");
    assert_eq!(crate::common::stderr(&again), "");
    // A subdirectory without a config of its own: the same files.
    let a = env
        .cmd_in(&env.project.join("sub"))
        .args(["hook-env", "zsh"])
        .env("__FNOX_STATE", state)
        .assert()
        .success();
    assert_eq!(crate::common::stdout(&a), "");
    let debug = env
        .cmd()
        .args(["hook-env", "fish"])
        .env("__FNOX_STATE", state)
        .env("FNOX_SHELL_OUTPUT", "debug")
        .assert()
        .success();
    assert_eq!(crate::common::stderr(&debug), format!("fnox: unchanged ({})\n", &state[2..18]));
    // FNOX_PROFILE changes the fingerprint: a reload, which now fails.
    let ci = env
        .cmd()
        .args(["hook-env", "bash"])
        .env("__FNOX_STATE", state)
        .env("FNOX_SHELL_OUTPUT", "none")
        .env("FNOX_PROFILE", "ci")
        .assert()
        .success();
    assert_eq!(crate::common::stderr(&ci), "");
    assert!(crate::common::stdout(&ci).starts_with(
        "if [ -n \"${__fnox_prev_A+x}\" ]; then export A=\"$__fnox_prev_A\"; unset __fnox_prev_A; else unset A; fi\n"
    ));
}

#[test]
fn hook_env_prints_only_shell_code_per_shell() {
    let env = TestEnv::with_local();
    env.set("Q", b"it's \\ $x").success();
    let bash = env.fnox(&["hook-env", "bash"]).success();
    let out = crate::common::stdout(&bash);
    let (code, state) = out.rsplit_once("export __FNOX_STATE=").unwrap();
    assert_eq!(
        code,
        "if [ -n \"${Q+x}\" ]; then __fnox_prev_Q=\"$Q\"; fi\nexport Q='it'\\''s \\ $x'\n"
    );
    assert!(state.starts_with("'1:") && state.contains(":Q:"), "{state}");
    assert!(state.ends_with("'\n") && state.lines().count() == 1, "{state}");
    let zsh = crate::common::stdout(&env.fnox(&["hook-env", "zsh"]).success());
    assert!(zsh.starts_with(
        "if [ -n \"${Q+x}\" ]; then typeset -g __fnox_prev_Q=\"$Q\"; fi\nexport Q='it'\\''s \\ $x'\n"
    ));
    let fish = crate::common::stdout(&env.fnox(&["hook-env", "fish"]).success());
    assert!(
        fish.starts_with(
            "if set -q Q; set -g __fnox_prev_Q $Q; end\nset -gx -- Q 'it\\'s \\\\ $x'\n"
        )
    );
}

#[test]
fn refused_values_and_variables_are_said_and_never_set() {
    let env = TestEnv::with_local();
    env.set("OK", b"fine").success();
    env.set("BIN", b"\xff\xfe").success();
    let a = env.fnox(&["hook-env", "bash"]).success();
    assert_eq!(
        crate::common::stderr(&a),
        "warning: secret `BIN` is not UTF-8, which the shell code cannot hold exactly; left out of the shell (`fnox exec` passes it)\nfnox: +1 OK\n"
    );
    assert!(!crate::common::stdout(&a).contains("BIN"));
    let text = env.read("fnox.toml") + "PATH = { default = \"./evil\" }\n";
    env.write("fnox.toml", &text);
    let a = env.fnox(&["hook-env", "bash"]).success();
    let err = crate::common::stderr(&a);
    assert!(err.starts_with("fnox: error: "), "{err}");
    assert!(err.contains("PATH"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!crate::common::stdout(&a).contains("export PATH"));
}

/// The lines of an interactive session's output (CR and terminal escapes
/// dropped) that fnox or the commands printed.
fn session_lines(raw: &[u8]) -> Vec<String> {
    let text = text(raw).replace('\r', "");
    text.lines()
        .filter_map(|l| {
            let start = l.find("fnox: ").or_else(|| l.find("A=["))?;
            Some(l[start..].trim_end().to_string())
        })
        // Not the terminal's echo of a typed line.
        .filter(|l| !l.contains('$') && !l.contains('('))
        .collect()
}

#[test]
fn the_prompt_runs_the_hook_in_interactive_shells_under_a_terminal() {
    if !tools() || !require_tool("script") {
        return;
    }
    let env = project();
    let fnox = bin().display().to_string();
    env.write("rc.bash", &format!("PS1='$ '\neval \"$('{fnox}' activate bash)\"\n"));
    env.write("zdot/.zshrc", &format!("PS1='% '\neval \"$('{fnox}' activate zsh)\"\n"));
    let fish_init = format!("'{fnox}' activate fish | source");
    let rc = env.project.join("rc.bash").display().to_string();
    let sessions: [(&str, Vec<String>); 3] = [
        ("bash", vec!["bash".into(), "--rcfile".into(), rc, "-i".into()]),
        ("zsh", vec!["zsh".into(), "-i".into()]),
        ("fish", vec!["fish".into(), "--no-config".into(), "-i".into(), "-C".into(), fish_init]),
    ];
    for (name, argv) in sessions {
        let input = if name == "fish" {
            "cd project\necho A=[$A]\ncd ..\nset -q A; or echo A=(echo '[unset]')\nexit\n"
        } else {
            "cd project\necho A=[$A]\ncd ..\necho A=[${A-unset}]\nexit\n"
        };
        let quoted: Vec<String> = argv.iter().map(|a| format!("'{a}'")).collect();
        let out = env
            .program("script")
            .args(["-qec", &quoted.join(" "), "/dev/null"])
            .current_dir(env.tmp.path())
            .env("ZDOTDIR", env.project.join("zdot"))
            .env("TERM", "dumb")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(input.as_bytes())?;
                child.wait_with_output()
            })
            .expect("script");
        assert_eq!(
            session_lines(&out.stdout),
            ["fnox: +2 A B", "A=[a-value]", "fnox: -2 A B", "A=[unset]"],
            "{name}: {}",
            text(&out.stdout)
        );
    }
}
