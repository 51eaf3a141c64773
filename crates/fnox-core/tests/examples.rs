//! The examples in `examples/`, run as an application would run them: in a
//! project directory with its own `fnox.toml`, keys in a config directory
//! of the test's own. Their output is checked line by line.

#![expect(clippy::unwrap_used, reason = "a test that cannot set up should stop at once")]

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use fnox_core::{Environment, Fnox, LoadOptions, SecretBytes};

/// A project with a `local` provider: `API_TOKEN` and `DATABASE_URL`
/// encrypted, `LOG_LEVEL` a plain default, and a `production` profile
/// with its own `DATABASE_URL`.
struct Project {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    config_dir: PathBuf,
}

impl Project {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("app");
        let config_dir = tmp.path().join("config");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("fnox.toml"), "[providers.local]\ntype = \"local\"\n").unwrap();
        let project = Self { _tmp: tmp, dir, config_dir };
        let sealer = project.fnox().load(&LoadOptions::default()).unwrap().sealer("local").unwrap();
        let seal = |name: &str, value: &str| {
            sealer.seal(name, &SecretBytes::from_slice(value.as_bytes())).unwrap()
        };
        let text = format!(
            "[providers.local]\ntype = \"local\"\n\n[secrets]\nAPI_TOKEN = {{ value = \"{}\" }}\nDATABASE_URL = {{ value = \"{}\" }}\nLOG_LEVEL = {{ default = \"info\" }}\n\n[profiles.production.secrets]\nDATABASE_URL = {{ value = \"{}\" }}\n",
            seal("API_TOKEN", "tok-123"),
            seal("DATABASE_URL", "postgres://dev"),
            seal("DATABASE_URL", "postgres://prod.internal"),
        );
        std::fs::write(project.dir.join("fnox.toml"), text).unwrap();
        project
    }

    fn fnox(&self) -> Fnox {
        let env = Environment::new(&self.dir)
            .with_var("FNOX_CONFIG_DIR", self.config_dir.display().to_string());
        Fnox::new(env).unwrap()
    }

    /// Runs example `name` with `args` in the project; returns stdout.
    fn run(&self, name: &str, args: &[&str]) -> String {
        let out = Command::new(example(name))
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("HOME", self.dir.parent().unwrap())
            .env("FNOX_CONFIG_DIR", &self.config_dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().replace(&self.dir.display().to_string(), "[APP]")
    }
}

/// The example binary `name` (built by `cargo test`, which builds the
/// examples; built here when it is missing).
fn example(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let debug = deps.parent().and_then(Path::parent).unwrap();
    let path = debug.join("examples").join(name);
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "fnox-core", "--example", name])
            .status()
            .unwrap();
        assert!(status.success(), "cannot build example {name}");
    }
    path
}

#[test]
fn read_secrets_reads_one_secret_and_all_of_a_profile() {
    let project = Project::new();
    assert_eq!(
        project.run("read_secrets", &["default", "API_TOKEN"]),
        "profile default\nAPI_TOKEN = tok-123\nAPI_TOKEN (7 bytes)\nDATABASE_URL (14 bytes)\nLOG_LEVEL = info (a plain default, not secret)\n"
    );
    assert_eq!(
        project.run("read_secrets", &["production"]),
        "profile production\nDATABASE_URL = postgres://prod.internal\nAPI_TOKEN (7 bytes)\nDATABASE_URL (24 bytes)\nLOG_LEVEL = info (a plain default, not secret)\n"
    );
}

#[test]
fn seal_fields_binds_each_value_to_its_context() {
    let project = Project::new();
    assert_eq!(
        project.run("seal_fields", &["local"]),
        "sealed users/42/api_token with provider `local`\n\
         opened users/42/api_token: tok-42-abcdef\n\
         users/43/api_token: refused (cannot decrypt secret `users/43/api_token` (provider `local`, [APP]/fnox.toml))\n\
         opened again, blocking: 13 bytes\n"
    );
}

#[test]
fn the_library_works_from_plain_and_from_async_code() {
    let project = Project::new();
    let loaded = project.fnox().load(&LoadOptions::default()).unwrap();
    // Plain code: no runtime anywhere.
    let value = loaded.get("API_TOKEN").unwrap().unwrap();
    assert_eq!(value.expose(), b"tok-123");
    // Async code, on a runtime of the caller's: both the async and the
    // blocking calls work, and nothing panics when the library is dropped
    // inside it.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let v = loaded.get_async("DATABASE_URL").await.unwrap().unwrap();
        assert_eq!(v.expose(), b"postgres://dev");
        let v = loaded.get("LOG_LEVEL").unwrap().unwrap();
        assert_eq!(v.expose(), b"info");
        let all = loaded.resolve_async(&[]).await.unwrap();
        let names: Vec<_> = all.iter().map(|(d, _)| d.name.as_str()).collect();
        assert_eq!(names, ["API_TOKEN", "DATABASE_URL", "LOG_LEVEL"]);
        drop(loaded);
    });
}
