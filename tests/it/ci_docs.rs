//! docs/ci.md, run: every block marked `ci-test=NAME` is executed here as
//! GitHub Actions or GitLab CI would run it (the `run:` steps, the
//! `before_script:`/`script:` lines), in a fresh copy of a project, with
//! the variables that CI system sets; the `ci-output=NAME` blocks are the
//! logs it must print. Only the `cargo install` line is not run: the
//! binary under test is put on PATH instead.
//!
//! The workflows are read with a small YAML subset reader (block maps and
//! lists, one-line scalars), enough for the docs and strict about the rest.

use std::{collections::BTreeMap, path::PathBuf, process::Command};

use crate::common::{TestEnv, aws_env, create_kms_key, kms_endpoint, require_tool};

const DOC: &str = include_str!("../../docs/ci.md");

/// The install step every workflow has; the tests put `fnox` on PATH instead.
const INSTALL: &str = "cargo install --locked --git https://github.com/your-org/fnox fnox";

const DATABASE_URL: &str = "postgres://deploy:pa55w0rd-x7@db.internal:5432/app";
const API_TOKEN: &str = "tok_live_5f2c9a8b7d6e5f4";

// ---------------------------------------------------------------------
// The document's blocks

/// The body of the one fenced block whose info string has `tag`
/// (e.g. `ci-test=github-local`).
fn block(tag: &str) -> String {
    let found = blocks().into_iter().filter(|(t, _)| t == tag).collect::<Vec<_>>();
    assert_eq!(found.len(), 1, "docs/ci.md needs exactly one block marked {tag}");
    found.into_iter().next().unwrap().1
}

/// `(tag, body)` of every fenced block with a `ci-...` tag.
fn blocks() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = DOC.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else { continue };
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        if let Some(tag) = info.split(' ').find(|w| w.starts_with("ci-")) {
            out.push((tag.to_string(), body.join("\n") + "\n"));
        }
    }
    out
}

#[test]
fn every_example_is_run_by_a_test_here() {
    let tags: Vec<String> = blocks().into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        tags,
        [
            "ci-test=local-key-github",
            "ci-test=local-key-gitlab",
            "ci-test=github-local",
            "ci-fixture=deploy.sh",
            "ci-output=deploy",
            "ci-test=gitlab-local",
            "ci-test=age-identity-create",
            "ci-test=age-identity-store",
            "ci-test=github-age-export",
            "ci-fixture=integration-tests.sh",
            "ci-output=integration",
            "ci-test=kms-config",
            "ci-test=github-kms",
            "ci-test=gitlab-kms",
        ],
        "a block was added to or removed from docs/ci.md: run it in a test here"
    );
    // The one line not run is the documented install command, verbatim.
    assert!(DOC.contains(&format!("```sh\n{INSTALL}\n```")));
    for workflow in
        ["github-local", "github-age-export", "github-kms", "gitlab-local", "gitlab-kms"]
    {
        assert!(block(&format!("ci-test={workflow}")).contains(INSTALL), "{workflow}");
    }
}

// ---------------------------------------------------------------------
// A YAML subset reader

#[derive(Debug, Clone)]
enum Yaml {
    Scalar(String),
    Map(Vec<(String, Yaml)>),
    List(Vec<Yaml>),
}

impl Yaml {
    fn parse(text: &str) -> Self {
        let mut lines: Vec<(usize, String)> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| (l.len() - l.trim_start().len(), l.trim_start().to_string()))
            .collect();
        for (_, l) in &lines {
            assert!(!l.starts_with('#') && !l.contains(" #"), "comments are not supported: {l}");
        }
        let mut i = 0;
        let node = Self::node(&mut lines, &mut i, 0);
        assert_eq!(i, lines.len(), "unexpected indentation at {:?}", lines.get(i));
        node
    }

    fn node(lines: &mut [(usize, String)], i: &mut usize, indent: usize) -> Self {
        if lines[*i].1.starts_with("- ") {
            let mut items = Vec::new();
            while *i < lines.len() && lines[*i].0 == indent && lines[*i].1.starts_with("- ") {
                let rest = lines[*i].1[2..].to_string();
                if Self::key_of(&rest).is_some() {
                    // `- key: value`: a map whose keys line up after "- ".
                    lines[*i] = (indent + 2, rest);
                    items.push(Self::node(lines, i, indent + 2));
                } else {
                    items.push(Self::Scalar(rest));
                    *i += 1;
                }
            }
            return Self::List(items);
        }
        let mut entries = Vec::new();
        while *i < lines.len() && lines[*i].0 == indent && !lines[*i].1.starts_with("- ") {
            let line = lines[*i].1.clone();
            let (key, rest) = Self::key_of(&line).unwrap_or_else(|| panic!("not `key:` {line}"));
            *i += 1;
            let value = if rest.is_empty() {
                let deeper = lines.get(*i).map(|l| l.0).filter(|d| *d > indent);
                let deeper = deeper.unwrap_or_else(|| panic!("`{key}:` has no value"));
                Self::node(lines, i, deeper)
            } else {
                assert!(!matches!(rest, "|" | ">" | "|-" | ">-"), "block scalars: {line}");
                Self::Scalar(rest.to_string())
            };
            entries.push((key.to_string(), value));
        }
        Self::Map(entries)
    }

    /// `key: rest` or `key:`; keys are letters, digits, `_`, `-`.
    fn key_of(line: &str) -> Option<(&str, &str)> {
        let end = line.find(':')?;
        let key = &line[..end];
        let rest = &line[end + 1..];
        let is_key = !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        (is_key && (rest.is_empty() || rest.starts_with(' '))).then(|| (key, rest.trim()))
    }

    fn get(&self, key: &str) -> Option<&Self> {
        match self {
            Self::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn str(&self) -> &str {
        match self {
            Self::Scalar(s) => s,
            other => panic!("expected a scalar, got {other:?}"),
        }
    }

    fn list(&self) -> &[Self] {
        match self {
            Self::List(items) => items,
            other => panic!("expected a list, got {other:?}"),
        }
    }

    fn map(&self) -> &[(String, Self)] {
        match self {
            Self::Map(entries) => entries,
            other => panic!("expected a map, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------
// The repository (a developer's machine) and the runner

/// A developer's project: keys in `~/.config/fnox` (where the doc's
/// commands look), `DATABASE_URL` and `API_TOKEN` set, and the doc's
/// fixture scripts.
fn developer(provider: &str) -> TestEnv {
    let mut env = TestEnv::new();
    env.config_dir = env.home.join(".config/fnox");
    env.fnox(&["init", "--provider", provider]).success();
    finish_project(&env);
    env
}

fn finish_project(env: &TestEnv) {
    env.set("DATABASE_URL", DATABASE_URL.as_bytes()).success();
    env.set("API_TOKEN", API_TOKEN.as_bytes()).success();
    for script in ["deploy.sh", "integration-tests.sh"] {
        env.write_executable(script, &block(&format!("ci-fixture={script}")));
    }
}

/// Where a test's stand-ins for `gh` and `glab` keep what they were given.
struct Shims {
    dir: PathBuf,
}

impl Shims {
    fn new(env: &TestEnv) -> Self {
        let dir = env.tmp.path().join("shims");
        std::fs::create_dir_all(&dir).unwrap();
        for tool in ["gh", "glab"] {
            let path = dir.join(tool);
            crate::common::write_executable(
                &path,
                &format!(
                    "#!/bin/sh\n# stands in for the {tool} CLI: keeps its arguments and stdin\nprintf '%s\\n' \"$*\" > '{d}/{tool}.args'\ncat > '{d}/{tool}.stdin'\n",
                    d = dir.display()
                ),
            );
        }
        Self { dir }
    }

    /// `(arguments, stdin)` of the last call of `tool`.
    fn last(&self, tool: &str) -> (String, String) {
        let read = |ext| std::fs::read_to_string(self.dir.join(format!("{tool}.{ext}"))).unwrap();
        (read("args"), read("stdin"))
    }
}

fn fnox_dir() -> PathBuf {
    crate::common::bin().parent().unwrap().to_path_buf()
}

/// Runs a shell block on the developer's machine (HOME is theirs, no
/// FNOX_CONFIG_DIR: fnox and the doc's `~/.config/fnox` agree); returns
/// stderr.
fn run_on_laptop(env: &TestEnv, shims: &Shims, tag: &str) -> String {
    let script = block(tag);
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
        .current_dir(&env.project)
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}:{}",
                shims.dir.display(),
                fnox_dir().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", &env.home)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{tag} failed:\n{script}\n{stderr}");
    stderr
}

/// A runner: an empty HOME (no keyring, no identity) and a checkout of the
/// developer's project.
struct Runner {
    home: PathBuf,
    workspace: PathBuf,
}

impl Runner {
    fn new(developer: &TestEnv, name: &str) -> Self {
        let root = developer.tmp.path().join(name);
        let (home, workspace) = (root.join("home"), root.join("workspace"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&workspace).unwrap();
        for entry in std::fs::read_dir(&developer.project).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, workspace.join(path.file_name().unwrap())).unwrap();
            }
        }
        Self { home, workspace }
    }

    /// The environment every job step starts from.
    fn base_env(&self) -> BTreeMap<String, String> {
        let path =
            format!("{}:{}", fnox_dir().display(), std::env::var("PATH").unwrap_or_default());
        BTreeMap::from([
            ("PATH".to_string(), path),
            ("HOME".to_string(), self.home.display().to_string()),
            ("LC_ALL".to_string(), "C.UTF-8".to_string()),
            ("CI".to_string(), "true".to_string()),
        ])
    }

    fn bash(&self, script: &str, env: &BTreeMap<String, String>) -> (String, String) {
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(&self.workspace)
            .env_clear()
            .envs(env)
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(out.status.success(), "step failed: {script}\nstdout: {stdout}\nstderr: {stderr}");
        (stdout, stderr)
    }

    /// No key was left on the runner.
    fn assert_no_keys_written(&self) {
        let config = self.home.join(".config");
        assert!(!config.exists(), "fnox wrote to {}", config.display());
    }
}

/// What one GitHub step printed, after GitHub's masking.
#[derive(Debug)]
struct StepLog {
    name: String,
    stdout: String,
    stderr: String,
}

/// What the GitHub actions the docs use do to the job's state.
fn run_action(uses: &str, step: &Yaml, state: &mut BTreeMap<String, String>) {
    match uses {
        "actions/checkout@v4" => {} // the workspace is the checkout
        "aws-actions/configure-aws-credentials@v4" => {
            let with = step.get("with").unwrap();
            assert!(with.get("role-to-assume").unwrap().str().starts_with("arn:aws:iam::"));
            let region = with.get("aws-region").unwrap().str();
            // What the action exports after AssumeRoleWithWebIdentity.
            for (k, v) in [
                ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEFROMOIDC"),
                ("AWS_SECRET_ACCESS_KEY", "role-session-secret"),
                ("AWS_SESSION_TOKEN", "role-session-token"),
                ("AWS_REGION", region),
                ("AWS_DEFAULT_REGION", region),
            ] {
                state.insert(k.into(), v.into());
            }
        }
        other => panic!("action {other} is not emulated"),
    }
}

/// Runs every job of a GitHub Actions workflow as the runner would:
/// `${{ secrets.X }}` from `secrets`; `run:` with `bash -eo pipefail`;
/// `::add-mask::` commands and $GITHUB_ENV processed after each step.
/// `extra` is what the test adds (a test KMS endpoint), never a key.
fn run_github(
    tag: &str,
    runner: &Runner,
    secrets: &[(&str, &str)],
    extra: &[(String, String)],
) -> (Vec<StepLog>, BTreeMap<String, String>) {
    let workflow = Yaml::parse(&block(tag));
    let expr = |value: &str| -> String {
        match value.strip_prefix("${{ secrets.").and_then(|v| v.strip_suffix(" }}")) {
            Some(name) => secrets
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("the test has no secret {name}"))
                .1
                .to_string(),
            None => {
                assert!(!value.contains("${{"), "expression not emulated: {value}");
                value.to_string()
            }
        }
    };
    let github_env = runner.home.parent().unwrap().join("github_env");
    let mut logs = Vec::new();
    let mut state: BTreeMap<String, String> = BTreeMap::new();
    let mut masks: Vec<String> = Vec::new();
    for (_, job) in workflow.get("jobs").unwrap().map() {
        assert_eq!(job.get("runs-on").unwrap().str(), "ubuntu-latest");
        let job_env: Vec<(String, String)> = job
            .get("env")
            .map(|e| e.map().iter().map(|(k, v)| (k.clone(), expr(v.str()))).collect())
            .unwrap_or_default();
        for step in job.get("steps").unwrap().list() {
            let name = step.get("name").map_or("", |n| n.str()).to_string();
            if let Some(uses) = step.get("uses") {
                run_action(uses.str(), step, &mut state);
                continue;
            }
            let run = step.get("run").unwrap().str();
            if run == INSTALL {
                continue;
            }
            std::fs::write(&github_env, "").unwrap();
            let mut env = runner.base_env();
            env.insert("GITHUB_ACTIONS".into(), "true".into());
            env.insert("GITHUB_ENV".into(), github_env.display().to_string());
            env.insert("GITHUB_WORKSPACE".into(), runner.workspace.display().to_string());
            env.extend(extra.iter().cloned());
            env.extend(job_env.iter().cloned());
            env.extend(state.clone());
            if let Some(step_env) = step.get("env") {
                env.extend(step_env.map().iter().map(|(k, v)| (k.clone(), expr(v.str()))));
            }
            let (stdout, stderr) = runner.bash(run, &env);
            let mut shown = String::new();
            for line in stdout.split_inclusive('\n') {
                match line.strip_prefix("::add-mask::") {
                    Some(data) => masks.push(
                        data.trim_end_matches('\n')
                            .replace("%0D", "\r")
                            .replace("%0A", "\n")
                            .replace("%25", "%"),
                    ),
                    None => shown.push_str(line),
                }
            }
            let text = std::fs::read_to_string(&github_env).unwrap();
            state.extend(crate::export::parse_github_env(&text));
            let mask = |s: &str| masks.iter().fold(s.to_string(), |s, m| s.replace(m, "***"));
            logs.push(StepLog { name, stdout: mask(&shown), stderr: mask(&stderr) });
        }
    }
    (logs, state)
}

/// Runs the one job of a GitLab CI file as the runner would: its
/// `variables:` (with `$CI_PROJECT_DIR`), the project's CI/CD `variables`,
/// an OIDC token for each `id_tokens:` entry, then `before_script:` and
/// `script:` as one `bash -eo pipefail` script. Returns (stdout, stderr).
fn run_gitlab(
    tag: &str,
    runner: &Runner,
    variables: &[(&str, &str)],
    extra: &[(String, String)],
) -> (String, String) {
    let file = Yaml::parse(&block(tag));
    let [(_, job)] = file.map() else { panic!("one job per example") };
    let project_dir = runner.workspace.display().to_string();
    let mut env = runner.base_env();
    env.insert("GITLAB_CI".into(), "true".into());
    env.insert("CI_PROJECT_DIR".into(), project_dir.clone());
    env.extend(extra.iter().cloned());
    env.extend(variables.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    if let Some(vars) = job.get("variables") {
        for (k, v) in vars.map() {
            env.insert(k.clone(), v.str().replace("$CI_PROJECT_DIR", &project_dir));
        }
    }
    if let Some(tokens) = job.get("id_tokens") {
        for (name, token) in tokens.map() {
            assert_eq!(token.get("aud").unwrap().str(), "sts.amazonaws.com");
            env.insert(name.clone(), FAKE_OIDC_TOKEN.into());
        }
    }
    let mut script = Vec::new();
    for section in ["before_script", "script"] {
        for line in job.get(section).map(|s| s.list()).unwrap_or_default() {
            if line.str() != INSTALL {
                script.push(line.str().to_string());
            }
        }
    }
    runner.bash(&script.join("\n"), &env)
}

/// A token of the shape GitLab issues (the test server does not check it).
const FAKE_OIDC_TOKEN: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6Z3JvdXAvYXBwIn0.c2lnbmF0dXJl";

/// Nothing a runner printed contains a secret value.
fn assert_no_values(text: &str) {
    for value in [DATABASE_URL, API_TOKEN, "pa55w0rd"] {
        assert!(!text.contains(value), "a value reached the log:\n{text}");
    }
}

// ---------------------------------------------------------------------
// The examples

/// Runs the doc's `gh secret set` block; returns what GitHub would store.
fn local_key_for_github(dev: &TestEnv) -> String {
    let shims = Shims::new(dev);
    run_on_laptop(dev, &shims, "ci-test=local-key-github");
    let (args, stdin) = shims.last("gh");
    assert_eq!(args, "secret set FNOX_LOCAL_KEY\n");
    stdin
}

#[test]
fn the_local_key_goes_from_the_keyring_to_github_and_gitlab() {
    let dev = developer("local");
    let ring = std::fs::read_to_string(dev.config_dir.join("local.key")).unwrap();
    let primary = ring.lines().find(|l| l.contains(" primary")).unwrap();
    let primary = primary.split(' ').nth(1).unwrap();
    assert_eq!(local_key_for_github(&dev), format!("{primary}\n"));
    let shims = Shims::new(&dev);
    run_on_laptop(&dev, &shims, "ci-test=local-key-gitlab");
    let (args, stdin) = shims.last("glab");
    assert_eq!(args, "variable set FNOX_LOCAL_KEY --masked --protected\n");
    assert_eq!(stdin, format!("{primary}\n"));
}

#[test]
fn github_actions_with_the_local_key() {
    let dev = developer("local");
    let key = local_key_for_github(&dev);
    let runner = Runner::new(&dev, "github");
    let (logs, _) =
        run_github("ci-test=github-local", &runner, &[("FNOX_LOCAL_KEY", key.as_str())], &[]);
    let names: Vec<&str> = logs.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Check that every secret decrypts", "Deploy"]);
    let doctor = &logs[0].stdout;
    assert!(doctor.contains("\n  local (local): ok  encrypt "), "{doctor}");
    assert!(doctor.contains("\n  API_TOKEN     ok  "), "{doctor}");
    assert_eq!(logs[1].stdout, block("ci-output=deploy"));
    assert_eq!(logs[1].stderr, "");
    for log in &logs {
        assert_no_values(&format!("{}{}", log.stdout, log.stderr));
    }
    runner.assert_no_keys_written();
}

/// A developer's `age` project after the doc's steps that give CI its own
/// identity; returns it with the identity GitHub would store.
fn age_project_with_ci_identity() -> (TestEnv, String) {
    let dev = developer("age");
    let shims = Shims::new(&dev);
    let printed = run_on_laptop(&dev, &shims, "ci-test=age-identity-create");
    let recipient = printed.trim().strip_prefix("Public key: ").unwrap().to_string();
    assert!(recipient.starts_with("age1"), "{printed}");
    // "Add that public key to the recipients of the age provider."
    let text = dev.read("fnox.toml");
    let start = text.find("recipients = [\"").unwrap();
    let end = start + text[start..].find(']').unwrap();
    dev.write("fnox.toml", &format!("{}, \"{recipient}\"{}", &text[..end], &text[end..]));
    let printed = run_on_laptop(&dev, &shims, "ci-test=age-identity-store");
    assert!(printed.starts_with("rotated 2 of 2 secrets in 1 file"), "{printed}");
    assert!(!dev.project.join("ci-age.txt").exists());
    let (args, identity) = shims.last("gh");
    assert_eq!(args, "secret set FNOX_AGE_KEY\n");
    assert!(identity.starts_with("AGE-SECRET-KEY-1") && identity.ends_with('\n'), "{identity}");
    (dev, identity)
}

#[test]
fn github_actions_with_an_age_key_and_export_for_later_steps() {
    if !require_tool("age-keygen") {
        return;
    }
    let (dev, identity) = age_project_with_ci_identity();
    let runner = Runner::new(&dev, "github");
    let (logs, env) = run_github(
        "ci-test=github-age-export",
        &runner,
        &[("FNOX_AGE_KEY", identity.as_str())],
        &[],
    );
    let names: Vec<&str> = logs.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Load secrets into the job's environment", "Integration tests"]);
    // The export step printed masks only; the values went to $GITHUB_ENV.
    assert_eq!(logs[0].stdout, "");
    assert!(logs[0].stderr.starts_with("exported 2 secrets to "), "{}", logs[0].stderr);
    assert_eq!(env["DATABASE_URL"], DATABASE_URL);
    assert_eq!(env["API_TOKEN"], API_TOKEN);
    assert!(!env.contains_key("FNOX_AGE_KEY"), "the key must stay in its step");
    assert_eq!(logs[1].stdout, block("ci-output=integration"));
    for log in &logs {
        assert_no_values(&format!("{}{}", log.stdout, log.stderr));
    }
    runner.assert_no_keys_written();
}

#[test]
fn gitlab_ci_with_the_local_key_or_an_age_key() {
    let dev = developer("local");
    let shims = Shims::new(&dev);
    run_on_laptop(&dev, &shims, "ci-test=local-key-gitlab");
    let key = shims.last("glab").1;
    let runner = Runner::new(&dev, "gitlab");
    let (stdout, stderr) =
        run_gitlab("ci-test=gitlab-local", &runner, &[("FNOX_LOCAL_KEY", key.as_str())], &[]);
    assert!(stdout.starts_with("config files:\n  fnox.toml\n"), "{stdout}");
    assert!(stdout.ends_with(&block("ci-output=deploy")), "{stdout}");
    assert_eq!(stderr, "");
    assert_no_values(&stdout);
    runner.assert_no_keys_written();

    if !require_tool("age-keygen") {
        return;
    }
    let (dev, identity) = age_project_with_ci_identity();
    let runner = Runner::new(&dev, "gitlab-age");
    let (stdout, stderr) =
        run_gitlab("ci-test=gitlab-local", &runner, &[("FNOX_AGE_KEY", identity.as_str())], &[]);
    assert!(stdout.contains("\n  age (age): ok  encrypt "), "{stdout}");
    assert!(stdout.ends_with(&block("ci-output=deploy")), "{stdout}");
    assert_eq!(stderr, "");
    runner.assert_no_keys_written();
}

/// A developer's project with the doc's `aws-kms` config (its key on the
/// test server) and both secrets set.
fn kms_project(endpoint: &str) -> TestEnv {
    let (_, _, alias) = create_kms_key(endpoint);
    let mut dev = TestEnv::new();
    dev.config_dir = dev.home.join(".config/fnox");
    dev.extra_env = aws_env();
    dev.extra_env.push(("AWS_ENDPOINT_URL_KMS".into(), endpoint.into()));
    let config = block("ci-test=kms-config");
    let providers = &config[..config.find("[secrets]\n").unwrap()];
    assert!(providers.contains("key_id = \"alias/fnox-ci\"\n"));
    dev.write("fnox.toml", &(providers.replace("alias/fnox-ci", &alias) + "[secrets]\n"));
    finish_project(&dev);
    dev
}

/// What the test adds to reach the test KMS server: an endpoint and no
/// ambient AWS configuration. Never credentials.
fn test_server_env(endpoint: &str, variable: &str) -> Vec<(String, String)> {
    [
        (variable, endpoint),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn github_actions_with_kms_through_the_runners_role() {
    let Some(endpoint) = kms_endpoint() else { return };
    let dev = kms_project(&endpoint);
    let runner = Runner::new(&dev, "github");
    let extra = test_server_env(&endpoint, "AWS_ENDPOINT_URL_KMS");
    let (logs, _) = run_github("ci-test=github-kms", &runner, &[], &extra);
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].stdout, block("ci-output=deploy"));
    assert_eq!(logs[0].stderr, "");
    runner.assert_no_keys_written();
    // Without the role's credentials (the action's step), the job fails.
    let mut env = runner.base_env();
    env.extend(extra);
    let out = Command::new(crate::common::bin())
        .args(["exec", "--redact", "--", "./deploy.sh"])
        .current_dir(&runner.workspace)
        .env_clear()
        .envs(&env)
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no AWS credentials found"), "{err}");
}

#[test]
fn gitlab_ci_with_kms_through_web_identity() {
    let Some(endpoint) = kms_endpoint() else { return };
    let dev = kms_project(&endpoint);
    let runner = Runner::new(&dev, "gitlab");
    // AWS_ENDPOINT_URL sends STS (AssumeRoleWithWebIdentity) and KMS to the
    // test server; there are no static credentials anywhere.
    let extra = test_server_env(&endpoint, "AWS_ENDPOINT_URL");
    let (stdout, stderr) = run_gitlab("ci-test=gitlab-kms", &runner, &[], &extra);
    assert_eq!(stdout, block("ci-output=deploy"));
    assert_eq!(stderr, "");
    let token = std::fs::read_to_string(runner.workspace.join(".aws-web-identity-token")).unwrap();
    assert_eq!(token, FAKE_OIDC_TOKEN);
    runner.assert_no_keys_written();
}

#[test]
fn the_yaml_reader_reads_what_the_docs_use() {
    let y = Yaml::parse("a: 1\nb:\n  - x\n  - k: v\n    n: m\nc:\n  d: e\n");
    assert_eq!(y.get("a").unwrap().str(), "1");
    let b = y.get("b").unwrap().list();
    assert_eq!(b[0].str(), "x");
    assert_eq!(b[1].get("k").unwrap().str(), "v");
    assert_eq!(b[1].get("n").unwrap().str(), "m");
    assert_eq!(y.get("c").unwrap().get("d").unwrap().str(), "e");
    assert!(std::panic::catch_unwind(|| Yaml::parse("run: |\n  echo\n")).is_err());
}
