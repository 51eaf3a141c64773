//! README.md, run: the quick-start command and every block of the tour are
//! executed here, in order, in one scratch world, and what they print must
//! be what the README shows. The worked migration of
//! docs/migrating-from-jdx-fnox.md is run the same way.
//!
//! - A `console` block is a list of `$ COMMAND` lines, each followed by the
//!   output it prints (stdout and stderr, as a terminal shows them). The
//!   commands run in one bash session: `cd` and `export` carry over.
//! - A block tagged `readme-tty=A,B` runs on a pseudo-terminal, typing `A`,
//!   then `B`, each at the next prompt.
//! - A `toml readme-edit=FILE` block replaces the table of the same header
//!   in FILE (the by-hand edit the text describes).
//! - A block tagged `readme-needs=age` or `readme-needs=kms` needs the age
//!   CLI or the KMS test server (the rest of the tour is skipped without it,
//!   which fails under `CI=true`).
//!
//! What differs from run to run is matched, not compared: age recipients and
//! `local` key ids (each must stand for the same value everywhere it
//! appears, and is put into later commands and edits), ciphertexts and
//! timings. `/tmp/demo` stands for the test's scratch directory, and the
//! README's KMS endpoint and alias for the test server's.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    process::{Command, Stdio},
};

use regex::Regex;

use crate::common::{aws_env, bin, kms_endpoint, require_tool, unique_name};

const README: &str = include_str!("../../README.md");
const MIGRATING: &str = include_str!("../../docs/migrating-from-jdx-fnox.md");

/// The scratch root as the README writes it.
const DOC_ROOT: &str = "/tmp/demo";
/// The KMS endpoint and alias as the README writes them.
const DOC_ENDPOINT: &str = "http://127.0.0.1:5000";
const DOC_ALIAS: &str = "alias/app";
/// What the quick-start command starts with; the binary under test is put
/// on PATH instead.
const INSTALL: &str = "cargo install --locked --path . && ";

// ---------------------------------------------------------------------
// The document

#[derive(Debug)]
struct Block {
    /// The words of the info string: language, then tags.
    info: Vec<String>,
    body: String,
}

impl Block {
    fn tag(&self, key: &str) -> Option<&str> {
        self.info.iter().find_map(|w| match w.strip_prefix(key)? {
            "" => Some(""),
            value => value.strip_prefix('='),
        })
    }
}

/// Every fenced block of `section` of `doc` (from its `## ` heading to
/// the next).
fn blocks_of(doc: &str, section: &str) -> Vec<Block> {
    let start = doc.find(&format!("\n## {section}\n")).expect("the section");
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    let mut out = Vec::new();
    let mut lines = rest[..end].lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else { continue };
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        let info = info.split(' ').map(str::to_string).collect();
        out.push(Block { info, body: body.iter().map(|l| format!("{l}\n")).collect() });
    }
    out
}

/// Every fenced block of `section` of the README.
fn blocks(section: &str) -> Vec<Block> {
    blocks_of(README, section)
}

/// `(command, expected output)` of each `$ ` line of a console block. A
/// command that ends with a here-document (`<<EOF`, `<<'EOF'`) takes the
/// lines up to its end marker.
fn commands(body: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut lines = body.lines();
    while let Some(line) = lines.next() {
        if let Some(cmd) = line.strip_prefix("$ ") {
            let mut cmd = cmd.to_string();
            if let Some((_, marker)) = cmd.rsplit_once("<<") {
                let marker = marker.trim_matches('\'').to_string();
                for next in lines.by_ref() {
                    cmd = format!("{cmd}\n{next}");
                    if next == marker {
                        break;
                    }
                }
            }
            out.push((cmd, String::new()));
        } else {
            let last = out.last_mut().expect("a console block starts with `$ `");
            last.1 += line;
            last.1 += "\n";
        }
    }
    out
}

// ---------------------------------------------------------------------
// Matching what differs from run to run

/// Kinds of text that differ between runs. `recipient`, `keyid` and `uuid`
/// (a KMS key's id) are learned: one README value must always stand for the
/// same real one.
fn volatile() -> Regex {
    Regex::new(concat!(
        r"(?P<recipient>age1[0-9a-z]{58})",
        r"|(?P<uuid>(?:key )?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
        r"|(?P<keyid>key [0-9a-f]{8}\b)",
        r"|(?P<date>\b20\d\d-\d\d-\d\d\b)",
        r"|(?P<time>\b\d+(?:\.\d+)? (?:ms|s)\b)",
        r#"|(?P<b64>(?:value = "|"ciphertext": ")[A-Za-z0-9+/=]{4,})"#,
    ))
    .expect("regex")
}

/// The pattern that matches any real value of the kind `kind`, and
/// whether a README value of that kind is learned.
fn class(kind: &str, piece: &str) -> (String, bool) {
    match kind {
        "recipient" => (r"age1[0-9a-z]{58}".into(), true),
        "keyid" => (r"key [0-9a-f]{8}\b".into(), true),
        "uuid" => {
            (r"(?:key )?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}".into(), true)
        }
        "date" => (r"20\d\d-\d\d-\d\d".into(), false),
        "time" => (r"\d+(?:\.\d+)? (?:ms|s)\b".into(), false),
        _ => {
            // Base64 has no quote: the prefix ends at the last one.
            let prefix = &piece[..=piece.rfind('"').expect("quote")];
            (format!("{}[A-Za-z0-9+/=]+", regex::escape(prefix)), false)
        }
    }
}

/// The scratch world the README's commands run in, and what was learned.
struct World {
    tmp: tempfile::TempDir,
    /// `export -p` of the session after the last command.
    state: PathBuf,
    /// Its working directory.
    cwd: PathBuf,
    /// README text -> real text, for commands and edits.
    fixed: Vec<(String, String)>,
    /// README value -> real value, learned from outputs.
    learned: BTreeMap<String, String>,
    volatile: Regex,
}

impl World {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        let bin_dir = root.join("bin");
        std::fs::create_dir_all(&bin_dir).expect("mkdir");
        std::os::unix::fs::symlink(bin(), bin_dir.join("fnox")).expect("symlink");
        let home = root.join("home");
        std::fs::create_dir_all(&home).expect("mkdir");
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
        let mut state = String::new();
        for (k, v) in [
            ("PATH", path.as_str()),
            ("HOME", &home.display().to_string()),
            ("LANG", "C.UTF-8"),
            ("TERM", "dumb"),
        ] {
            state += &format!("export {k}={}\n", shell_quote(v));
        }
        // No AWS or fnox settings leak in from the test's own environment.
        for (k, v) in aws_env() {
            if !k.starts_with("AWS_REGION") && !k.starts_with("AWS_DEFAULT") {
                state += &format!("export {k}={}\n", shell_quote(&v));
            }
        }
        let state_file = root.join("state.sh");
        std::fs::write(&state_file, state).expect("write state");
        let fixed = vec![(DOC_ROOT.to_string(), root.display().to_string())];
        Self {
            cwd: root.to_path_buf(),
            state: state_file,
            fixed,
            learned: BTreeMap::new(),
            volatile: volatile(),
            tmp,
        }
    }

    /// README text as it must run here.
    fn to_real(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (doc, real) in self.fixed.iter().map(|(d, r)| (d, r)).chain(&self.learned) {
            text = text.replace(doc.as_str(), real);
        }
        text
    }

    /// Real output as the README would show it (fixed pieces only).
    fn to_doc(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (doc, real) in &self.fixed {
            text = text.replace(real.as_str(), doc);
        }
        text
    }

    /// Runs one README command; returns what it printed and its status.
    fn run(&mut self, command: &str, typed: Option<&[&str]>) -> (String, i32) {
        let command = self.to_real(command);
        let root = self.tmp.path();
        let cwd_file = root.join("cwd");
        let prelude = format!(
            ". {state}; cd {cwd} || exit 99",
            state = shell_quote(&self.state.display().to_string()),
            cwd = shell_quote(&self.cwd.display().to_string()),
        );
        let epilogue = format!(
            "status=$?; pwd >{cwd_file}; export -p >{state}; exit $status",
            cwd_file = shell_quote(&cwd_file.display().to_string()),
            state = shell_quote(&self.state.display().to_string()),
        );
        let out = match typed {
            None => {
                let script = format!("{prelude}\n{{ {command}\n}} </dev/null 2>&1\n{epilogue}\n");
                Command::new("bash")
                    .arg("-c")
                    .arg(script)
                    .env_clear()
                    .stdin(Stdio::null())
                    .output()
                    .expect("bash")
            }
            Some(typed) => {
                let script = format!("{prelude}\n{command}\n{epilogue}\n");
                Command::new("python3")
                    .arg("-c")
                    .arg(TTY_HARNESS)
                    .arg(script)
                    .args(typed)
                    .env_clear()
                    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                    .stdin(Stdio::null())
                    .output()
                    .expect("python3")
            }
        };
        assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
        let cwd = std::fs::read_to_string(&cwd_file).expect("the command's working directory");
        self.cwd = PathBuf::from(cwd.trim_end());
        let shown = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
        (self.to_doc(&shown), out.status.code().unwrap_or(-1))
    }

    /// Asserts that `actual` is `expected` up to the volatile pieces, and
    /// learns what each README value stands for.
    fn matches(&mut self, command: &str, expected: &str, actual: &str) {
        let mismatch = || {
            format!("README command `{command}`:\n--- README\n{expected}--- real run\n{actual}---")
        };
        let mut pattern = String::from("^");
        let mut learn = Vec::new();
        let mut last = 0;
        for caps in self.volatile.captures_iter(expected) {
            let m = caps.get(0).expect("match");
            let kind = ["recipient", "uuid", "keyid", "date", "time", "b64"]
                .into_iter()
                .find(|k| caps.name(k).is_some())
                .expect("a kind");
            let (class, learned) = class(kind, m.as_str());
            pattern += &regex::escape(&expected[last..m.start()]);
            pattern += &format!("({class})");
            learn.push(learned.then(|| m.as_str().to_string()));
            last = m.end();
        }
        pattern += &regex::escape(&expected[last..]);
        pattern += "$";
        let re = Regex::new(&pattern).expect("pattern");
        let caps = re.captures(actual).unwrap_or_else(|| panic!("{}", mismatch()));
        for (i, doc) in learn.into_iter().enumerate() {
            let Some(doc) = doc else { continue };
            let real = caps[i + 1].to_string();
            match self.learned.get(&doc) {
                Some(known) => assert_eq!(known, &real, "{doc} stood for {known}\n{}", mismatch()),
                None => {
                    assert!(
                        !self.learned.values().any(|v| v == &real),
                        "{real} already stands for another README value\n{}",
                        mismatch()
                    );
                    self.learned.insert(doc, real);
                }
            }
        }
    }

    /// Runs a console block and checks every command's output.
    fn console(&mut self, block: &Block) {
        let typed: Option<Vec<&str>> = block.tag("readme-tty").map(|t| t.split(',').collect());
        for (command, expected) in commands(&block.body) {
            let (shown, status) = self.run(&command, typed.as_deref());
            let fails = expected.lines().any(|l| l.starts_with("error: "));
            assert_eq!(
                status != 0,
                fails,
                "`{command}` exited with {status}; the README shows {}:\n{shown}",
                if fails { "an error" } else { "success" }
            );
            self.matches(&command, &expected, &shown);
        }
    }

    /// Replaces the table that `block` shows in its file.
    fn edit(&self, file: &str, block: &Block) {
        let path = self.cwd.join(file);
        let text = std::fs::read_to_string(&path).expect("the file the README edits");
        let new = self.to_real(&block.body);
        let header = new.lines().next().expect("a table header");
        let start = text.find(&format!("{header}\n")).expect("the table the README edits");
        let end = text[start + header.len()..]
            .find("\n[")
            .map_or(text.len(), |e| start + header.len() + e + 1);
        let table = text[start..end].trim_end_matches('\n');
        let edited = text.replacen(table, new.trim_end_matches('\n'), 1);
        std::fs::write(&path, edited).expect("write the edit");
    }
}

/// Runs `bash -c SCRIPT` on a pseudo-terminal; types each further argument
/// (and Enter) once the output ends with a prompt (`: `) and the terminal
/// no longer echoes (a hidden prompt); prints what the terminal showed and
/// exits with the script's status.
const TTY_HARNESS: &str = r#"
import os, pty, sys, select, termios
script, typed = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "-c", script])
seen = b""
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        sys.stderr.write("no output for 30 s; seen: %r\n" % seen)
        os.kill(pid, 9)
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if typed and seen.endswith(b": "):
        for _ in range(500):
            if not termios.tcgetattr(fd)[3] & termios.ECHO:
                break
            select.select([], [], [], 0.01)
        os.write(fd, typed.pop(0).encode() + b"\n")
sys.stdout.write(seen.decode("utf-8", "replace"))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

// ---------------------------------------------------------------------
// The tests

#[test]
fn the_quick_start_command_prints_what_the_readme_shows() {
    let blocks = blocks("Two commands");
    let run = blocks.iter().find(|b| b.tag("readme-run").is_some()).expect("quick start");
    let output = blocks.iter().find(|b| b.tag("readme-output").is_some()).expect("its output");
    let command = run.body.trim_end().strip_prefix(INSTALL).expect("starts with the install");
    let mut world = World::new();
    let home = world.tmp.path().join("home");
    let doc_home = run.tag("readme-run").expect("HOME");
    world.fixed.insert(0, (doc_home.to_string(), home.display().to_string()));
    let (shown, status) = world.run(command, None);
    assert_eq!(status, 0, "{shown}");
    world.matches(command, &output.body, &shown);
}

#[test]
fn the_tour_prints_what_the_readme_shows() {
    let mut world = World::new();
    if run_blocks(&mut world, blocks("A five-minute tour")) {
        assert!(world.learned.keys().any(|k| k.starts_with("age1")), "the tour ran its age part");
    }
}

#[test]
fn the_worked_migration_from_jdx_fnox_prints_what_the_doc_shows() {
    let mut world = World::new();
    if run_blocks(&mut world, blocks_of(MIGRATING, "A worked migration")) {
        assert!(world.learned.keys().any(|k| k.starts_with("age1")), "the age part ran");
    }
}

/// Runs `blocks` in order in `world`; false when a tool or server they
/// need is missing (see [`require_tool`], [`kms_endpoint`]).
fn run_blocks(world: &mut World, blocks: Vec<Block>) -> bool {
    for block in blocks {
        match block.tag("readme-needs") {
            Some("age") if !require_tool("age-keygen") => return false,
            Some("kms") => {
                let Some(endpoint) = kms_endpoint() else { return false };
                world.fixed.push((DOC_ENDPOINT.into(), endpoint));
                world.fixed.push((DOC_ALIAS.into(), format!("alias/{}", unique_name("readme"))));
            }
            _ => {}
        }
        match (block.info[0].as_str(), block.tag("readme-edit")) {
            ("console", _) => world.console(&block),
            ("toml", Some(file)) => world.edit(file, &block),
            _ => panic!("a block this test does not run: {block:?}"),
        }
    }
    true
}

#[test]
fn the_matcher_learns_and_refuses() {
    let mut world = World::new();
    let r1 = format!("age1{}", "q".repeat(58));
    let r2 = format!("age1{}", "z".repeat(58));
    world.matches(
        "x",
        "recipient age1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ok\n",
        &format!("recipient {r1} ok\n"),
    );
    assert_eq!(world.to_real(&format!("to age1{}", "a".repeat(58))), format!("to {r1}"));
    // The same README value cannot stand for two real ones.
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        world.matches("x", &format!("age1{}\n", "a".repeat(58)), &format!("{r2}\n"));
    }));
    assert!(again.is_err());
    // Timings and ciphertexts match any value; other text must be equal.
    world.matches("x", "in 0.01 s\n", "in 12.5 s\n");
    let missing = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        world.matches("x", "set A\n", "set B\n");
    }));
    assert!(missing.is_err());
}
