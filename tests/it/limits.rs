//! Config files that are not files, too big, or imported too deep fail at
//! once with a clear error; `init` over a dangling `fnox.toml` link too.

use std::{
    process::Command as StdCommand,
    time::{Duration, Instant},
};

use crate::common::{TestEnv, stderr};

/// Long enough for a debug build on a busy machine, short of a hang.
const QUICK: Duration = Duration::from_secs(10);

/// `fnox list` in the project: exit 1, and exactly `expected` on stderr.
fn list_fails(env: &TestEnv, expected: &str) {
    let out = env.cmd().arg("list").timeout(QUICK).write_stdin(Vec::<u8>::new()).assert().code(1);
    assert_eq!(env.redact(&stderr(&out)), expected);
}

#[test]
fn an_import_of_a_fifo_fails_without_waiting_for_a_writer() {
    let env = TestEnv::new();
    env.write("fnox.toml", "root = true\nimport = [\"pipe.toml\"]\n");
    let fifo = env.project.join("pipe.toml");
    assert!(StdCommand::new("mkfifo").arg(&fifo).status().unwrap().success());
    list_fails(
        &env,
        "error: fnox.toml:2: import `pipe.toml` cannot be loaded\n  cause: cannot load pipe.toml: it is a FIFO, not a file\n",
    );
    // The same as a fnox.local.toml found on the walk.
    std::fs::rename(&fifo, env.project.join("fnox.local.toml")).unwrap();
    env.write("fnox.toml", "root = true\n");
    list_fails(&env, "error: cannot load fnox.local.toml: it is a FIFO, not a file\n");
}

#[test]
fn an_import_of_dev_zero_fails_before_reading_it() {
    let env = TestEnv::new();
    env.write("fnox.toml", "root = true\nimport = [\"/dev/zero\"]\n");
    list_fails(
        &env,
        "error: fnox.toml:2: import `/dev/zero` cannot be loaded\n  cause: cannot load /dev/zero: it is a character device, not a file\n",
    );
    // Through a symbolic link, and as the explicit `-c` file.
    std::os::unix::fs::symlink("/dev/zero", env.project.join("zero.toml")).unwrap();
    let out = env.cmd().args(["-c", "zero.toml", "list"]).timeout(QUICK).assert().code(1);
    assert_eq!(
        stderr(&out),
        "error: cannot load zero.toml: it is a character device, not a file\n"
    );
}

/// `fnox.toml` imports `c1.toml`, which imports `c2.toml`, ... down to
/// `c{depth}.toml`, which defines `DEEP`.
fn chain(env: &TestEnv, depth: usize) {
    env.write("fnox.toml", "root = true\nimport = [\"chain/c1.toml\"]\n");
    for i in 1..depth {
        env.write(&format!("chain/c{i}.toml"), &format!("import = [\"c{}.toml\"]\n", i + 1));
    }
    env.write(&format!("chain/c{depth}.toml"), "[secrets]\nDEEP = { default = \"bottom\" }\n");
}

#[test]
fn imports_nest_at_most_64_deep_and_a_30000_deep_chain_fails_quickly() {
    let env = TestEnv::new();
    chain(&env, 64);
    let out = env.cmd().args(["get", "DEEP"]).timeout(QUICK).assert().success();
    assert_eq!(out.get_output().stdout, b"bottom\n");
    chain(&env, 65);
    list_fails(
        &env,
        "error: chain/c64.toml:1: import `c65.toml` is nested more than 64 levels deep\n",
    );
    let env = TestEnv::new();
    chain(&env, 30_000);
    let started = Instant::now();
    list_fails(
        &env,
        "error: chain/c64.toml:1: import `c65.toml` is nested more than 64 levels deep\n",
    );
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
}

#[test]
fn a_config_file_over_16_mib_is_refused_before_it_is_read() {
    let env = TestEnv::new();
    env.write("fnox.toml", "root = true\nimport = [\"big.toml\"]\n");
    let big = std::fs::File::create(env.project.join("big.toml")).unwrap();
    big.set_len(16 * 1024 * 1024 + 1).unwrap();
    list_fails(
        &env,
        "error: fnox.toml:2: import `big.toml` cannot be loaded\n  cause: cannot load big.toml: it is larger than 16 MiB, the limit for a config file\n",
    );
    // A fnox.toml itself, on the walk.
    std::fs::rename(env.project.join("big.toml"), env.project.join("fnox.toml")).unwrap();
    list_fails(
        &env,
        "error: cannot load fnox.toml: it is larger than 16 MiB, the limit for a config file\n",
    );
}

#[test]
fn init_over_a_dangling_fnox_toml_link_fails_at_once_and_creates_nothing() {
    let env = TestEnv::new();
    let link = env.project.join("fnox.toml");
    std::os::unix::fs::symlink("elsewhere/missing.toml", &link).unwrap();
    let started = Instant::now();
    let out = env.cmd().arg("init").timeout(QUICK).write_stdin(Vec::<u8>::new()).assert().code(1);
    let took = started.elapsed();
    assert_eq!(
        stderr(&out),
        "error: fnox.toml is a symbolic link to elsewhere/missing.toml, which does not exist\n  \
         hint: remove the link (`rm fnox.toml`) and run `fnox init` again, or create the file it points to\n"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(std::fs::read_link(&link).unwrap().to_str(), Some("elsewhere/missing.toml"));
    assert!(!env.config_dir.exists(), "no key was created");
    let entries: Vec<_> = std::fs::read_dir(&env.project).unwrap().collect();
    assert_eq!(entries.len(), 1, "nothing but the link");
    // Something that is not a file at all.
    std::fs::remove_file(&link).unwrap();
    std::fs::create_dir(&link).unwrap();
    let out = env.cmd().arg("init").timeout(QUICK).write_stdin(Vec::<u8>::new()).assert().code(1);
    assert_eq!(
        stderr(&out),
        "error: fnox.toml exists and is not a regular file\n  \
         hint: move it away, or pass `-c PATH` to create the config elsewhere\n"
    );
}
