//! Which file wins: the directory walk, `fnox.local.toml`,
//! `fnox.<profile>.toml`, `[profiles.NAME.secrets]`, `--no-defaults`,
//! `root = true`, `-c PATH`, `import`, the global file; and which file
//! `set` writes to.

use std::path::{Path, PathBuf};

use crate::common::{TestEnv, stderr, stdout};

/// The parent project: providers and secrets. `root = true` keeps the
/// walk inside the test's temp directory.
const PARENT: &str = r#"root = true

[providers.local]
type = "local"

[secrets]
A = { default = "parent-a" }
B = { default = "parent-b" }
C = { default = "parent-c" }

[profiles.production.secrets]
A = { default = "parent-production-a" }
"#;

/// The child directory's fnox.toml: overrides A only.
const CHILD: &str = r#"[secrets]
A = { default = "child-a" }
"#;

/// A parent (the project directory) and its `child` directory.
struct Tree {
    env: TestEnv,
    child: PathBuf,
}

impl Tree {
    fn new() -> Self {
        let env = TestEnv::new();
        env.write("fnox.toml", PARENT);
        env.write("child/fnox.toml", CHILD);
        let child = env.project.join("child");
        Self { env, child }
    }

    /// `fnox ARGS` in `dir`, with `vars` set; asserts success, returns stdout.
    fn ok_in(&self, dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> String {
        let mut cmd = self.env.cmd_in(dir);
        cmd.envs(vars.iter().copied()).args(args).write_stdin(Vec::<u8>::new());
        let out = cmd.assert().success();
        assert_eq!(stderr(&out), "", "fnox {args:?}");
        stdout(&out)
    }

    /// `fnox ARGS` in the child directory.
    fn ok(&self, args: &[&str]) -> String {
        self.ok_in(&self.child, &[], args)
    }

    /// `fnox get NAME` (with `flags` before it) in the child directory.
    fn get(&self, flags: &[&str], name: &str) -> String {
        let args: Vec<&str> = flags.iter().copied().chain(["get", name]).collect();
        self.ok(&args)
    }

    /// `fnox ARGS` in the child directory, expecting exit 1; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.env.cmd_in(&self.child).args(args).write_stdin(Vec::<u8>::new()).assert();
        let out = out.code(1);
        assert_eq!(stdout(&out), "", "fnox {args:?}");
        self.env.redact(&stderr(&out))
    }

    /// `fnox set NAME` with `value` on stdin in `dir`; returns stderr.
    fn set_in(&self, dir: &Path, flags: &[&str], name: &str, value: &str) -> String {
        let mut cmd = self.env.cmd_in(dir);
        cmd.args(flags).args(["set", name]).write_stdin(value);
        self.env.redact(&stderr(&cmd.assert().success()))
    }

    fn write(&self, rel: &str, text: &str) {
        self.env.write(rel, text);
    }

    fn read(&self, rel: &str) -> String {
        self.env.read(rel)
    }
}

fn not_defined(name: &str, profile: &str) -> String {
    format!(
        "error: secret `{name}` is not defined in profile `{profile}`\n  \
         hint: run `fnox list` to see the secrets, or `fnox set {name}` to add it\n"
    )
}

/// The `value` of `name` in the table at `path` of a file's `text`.
fn stored(text: &str, path: &[&str], name: &str) -> String {
    let doc: toml_edit::DocumentMut = text.parse().expect("parses");
    let mut item = doc.as_item();
    for key in path {
        item = &item[*key];
    }
    item[name]["value"].as_str().expect("a string value").to_string()
}

#[test]
fn nearer_file_wins_and_the_rest_is_inherited() {
    let t = Tree::new();
    assert_eq!(t.get(&[], "A"), "child-a\n");
    assert_eq!(t.get(&[], "B"), "parent-b\n");
    // From the parent directory the child's file is not seen.
    assert_eq!(t.ok_in(&t.env.project, &[], &["get", "A"]), "parent-a\n");
    // Files outside the working directory are shown with their full path.
    assert_eq!(
        t.env.redact(&t.ok(&["list"])),
        "NAME  PROVIDER   DESCRIPTION  FILE\n\
         A     (default)               fnox.toml:2\n\
         B     (default)               [TMP]/project/fnox.toml:8\n\
         C     (default)               [TMP]/project/fnox.toml:9\n"
    );
}

#[test]
fn encrypted_values_decrypt_through_the_hierarchy() {
    let t = Tree::new();
    // Encrypted in the parent, read from the child.
    let note = t.set_in(&t.env.project, &[], "TOKEN", "parent-token\n");
    assert_eq!(note, "set TOKEN (provider `local`) in fnox.toml\n");
    assert_eq!(t.get(&[], "TOKEN"), "parent-token\n");
    // A new secret set in the child goes to the child's file, encrypted
    // with the provider the parent defines.
    let note = t.set_in(&t.child, &[], "CHILD_TOKEN", "child-token\n");
    assert_eq!(note, "set CHILD_TOKEN (provider `local`) in fnox.toml\n");
    let value = stored(&t.read("child/fnox.toml"), &["secrets"], "CHILD_TOKEN");
    assert_eq!(
        t.read("child/fnox.toml"),
        format!("{CHILD}CHILD_TOKEN = {{ provider = \"local\", value = \"{value}\" }}\n")
    );
    assert_eq!(t.get(&[], "CHILD_TOKEN"), "child-token\n");
    assert_eq!(t.get(&[], "TOKEN"), "parent-token\n");
    let out = t.env.cmd().args(["get", "CHILD_TOKEN"]).assert().code(1);
    assert_eq!(stderr(&out), not_defined("CHILD_TOKEN", "default"));
}

#[test]
fn local_file_wins_over_fnox_toml_of_its_own_directory_only() {
    let t = Tree::new();
    t.write(
        "fnox.local.toml",
        "[secrets]\nA = { default = \"parent-local-a\" }\nB = { default = \"parent-local-b\" }\n",
    );
    t.write("child/fnox.local.toml", "[secrets]\nC = { default = \"child-local-c\" }\n");
    // The child's fnox.toml is nearer than the parent's fnox.local.toml.
    assert_eq!(t.get(&[], "A"), "child-a\n");
    assert_eq!(t.get(&[], "B"), "parent-local-b\n");
    assert_eq!(t.get(&[], "C"), "child-local-c\n");
    assert_eq!(t.ok_in(&t.env.project, &[], &["get", "A"]), "parent-local-a\n");
}

#[test]
fn global_file_is_the_lowest_layer() {
    let t = Tree::new();
    std::fs::create_dir_all(&t.env.config_dir).expect("mkdir");
    std::fs::write(
        t.env.config_dir.join("config.toml"),
        "[secrets]\nA = { default = \"global-a\" }\nG = { default = \"global-g\" }\n",
    )
    .expect("write");
    assert_eq!(t.get(&[], "G"), "global-g\n");
    assert_eq!(t.get(&[], "A"), "child-a\n");
}

#[test]
fn profile_entries_win_over_top_level_ones() {
    let t = Tree::new();
    t.write("child/fnox.production.toml", "[secrets]\nB = { default = \"child-production-b\" }\n");
    // [profiles.production.secrets] of the parent beats the child's [secrets].
    assert_eq!(t.get(&["-P", "production"], "A"), "parent-production-a\n");
    assert_eq!(t.get(&["--profile", "production"], "B"), "child-production-b\n");
    assert_eq!(t.get(&["-P", "production"], "C"), "parent-c\n");
    // Without a profile neither is seen.
    assert_eq!(t.get(&[], "A"), "child-a\n");
    assert_eq!(t.get(&[], "B"), "parent-b\n");
    // FNOX_PROFILE chooses the profile too; the flag beats it.
    let prod = [("FNOX_PROFILE", "production")];
    assert_eq!(t.ok_in(&t.child, &prod, &["get", "A"]), "parent-production-a\n");
    assert_eq!(t.ok_in(&t.child, &prod, &["get", "B"]), "child-production-b\n");
    // A profile that overrides nothing (here defined by an empty table)
    // sees the top level.
    t.write("child/fnox.toml", &format!("{CHILD}\n[profiles.staging]\n"));
    let staging = [("FNOX_PROFILE", "staging")];
    assert_eq!(t.ok_in(&t.child, &staging, &["get", "A"]), "child-a\n");
    assert_eq!(
        t.ok_in(&t.child, &staging, &["-P", "production", "get", "A"]),
        "parent-production-a\n"
    );
}

#[test]
fn profile_file_gets_its_own_local_overrides() {
    let t = Tree::new();
    t.write("child/fnox.production.toml", "[secrets]\nB = { default = \"child-production-b\" }\n");
    t.write(
        "child/fnox.local.toml",
        "[profiles.production.secrets]\nB = { default = \"child-local-production-b\" }\n",
    );
    assert_eq!(t.get(&["-P", "production"], "B"), "child-local-production-b\n");
    assert_eq!(t.get(&[], "B"), "parent-b\n");
}

#[test]
fn no_defaults_leaves_out_the_top_level_secrets() {
    let t = Tree::new();
    t.write("child/fnox.production.toml", "[secrets]\nB = { default = \"child-production-b\" }\n");
    assert_eq!(t.get(&["-P", "production", "--no-defaults"], "A"), "parent-production-a\n");
    assert_eq!(t.get(&["-P", "production", "--no-defaults"], "B"), "child-production-b\n");
    assert_eq!(
        t.fails(&["-P", "production", "--no-defaults", "get", "C"]),
        not_defined("C", "production")
    );
    let vars = [("FNOX_PROFILE", "production"), ("FNOX_NO_DEFAULTS", "true")];
    let out = t.env.cmd_in(&t.child).envs(vars).args(["get", "C"]).assert().code(1);
    assert_eq!(stderr(&out), not_defined("C", "production"));
    assert_eq!(t.ok_in(&t.child, &vars, &["get", "A"]), "parent-production-a\n");
    // The profile file's top level comes first, then the [profiles.production] entries.
    assert_eq!(
        t.env.redact(&t.ok(&["-P", "production", "--no-defaults", "list"])),
        "NAME  PROVIDER   DESCRIPTION  FILE\n\
         B     (default)               fnox.production.toml:2\n\
         A     (default)               [TMP]/project/fnox.toml:12\n"
    );
    // Without a profile there is nothing to leave out: the top level is the profile.
    assert_eq!(t.get(&["--no-defaults"], "C"), "parent-c\n");
}

#[test]
fn root_true_stops_the_walk() {
    let t = Tree::new();
    t.write("child/fnox.toml", &format!("root = true\n\n{CHILD}"));
    assert_eq!(t.get(&[], "A"), "child-a\n");
    assert_eq!(t.fails(&["get", "B"]), not_defined("B", "default"));
    assert_eq!(
        t.ok(&["list"]),
        "NAME  PROVIDER   DESCRIPTION  FILE\n\
         A     (default)               fnox.toml:4\n"
    );
    // The parent's provider is out of reach too.
    t.write(
        "child/fnox.toml",
        "root = true\n\n[secrets]\nA = { provider = \"local\", default = \"child-a\" }\n",
    );
    assert_eq!(
        t.fails(&["get", "A"]),
        "error: fnox.toml:4: secret `A` uses provider `local`, which is not defined\n  \
         hint: no provider is defined: add one under [providers], or run `fnox init`\n"
    );
}

#[test]
fn explicit_config_file_replaces_the_walk() {
    let t = Tree::new();
    t.write("other/fnox.toml", "[secrets]\nA = { default = \"explicit-a\" }\n");
    // -c reads that file (plus imports and the global file) only.
    t.write("other/fnox.local.toml", "[secrets]\nA = { default = \"ignored\" }\n");
    assert_eq!(t.get(&["-c", "../other/fnox.toml"], "A"), "explicit-a\n");
    assert_eq!(t.get(&["--config", "../other/fnox.toml"], "A"), "explicit-a\n");
    assert_eq!(t.fails(&["-c", "../other/fnox.toml", "get", "B"]), not_defined("B", "default"));
    // A new secret set with -c goes to that file.
    let other = t.env.project.join("other");
    std::fs::write(
        other.join("fnox.toml"),
        "[providers.local]\ntype = \"local\"\n\n[secrets]\nA = { default = \"explicit-a\" }\n",
    )
    .expect("write");
    let note = t.set_in(&t.child, &["-c", "../other/fnox.toml"], "NEW", "via-c\n");
    assert_eq!(note, "set NEW (provider `local`) in ../other/fnox.toml\n");
    assert_eq!(t.get(&["-c", "../other/fnox.toml"], "NEW"), "via-c\n");
    assert_eq!(t.read("child/fnox.toml"), CHILD);
    assert_eq!(t.read("fnox.toml"), PARENT);
}

#[test]
fn imports_sit_beneath_the_importing_file() {
    let t = Tree::new();
    t.write(
        "fnox.toml",
        &PARENT.replace("root = true\n", "root = true\nimport = [\"shared/common.toml\"]\n"),
    );
    t.write(
        "shared/common.toml",
        "[secrets]\nB = { default = \"imported-b\" }\nD = { default = \"imported-d\" }\n",
    );
    // The import path is relative to the importing file, not to the cwd.
    assert_eq!(t.get(&[], "D"), "imported-d\n");
    assert_eq!(t.get(&[], "B"), "parent-b\n");
    assert_eq!(t.get(&[], "A"), "child-a\n");
    // Imports of a -c file are loaded too.
    t.write("other/fnox.toml", "import = [\"../shared/common.toml\"]\n");
    assert_eq!(t.get(&["-c", "../other/fnox.toml"], "D"), "imported-d\n");
}

#[test]
fn dot_fnox_toml_is_found_and_wins_over_fnox_toml_beside_it() {
    let t = Tree::new();
    std::fs::rename(t.child.join("fnox.toml"), t.child.join(".fnox.toml")).expect("rename");
    assert_eq!(t.get(&[], "A"), "child-a\n");
    // As jdx/fnox: fnox.toml first, then .fnox.toml over it.
    t.write(
        "child/fnox.toml",
        "[secrets]\nA = { default = \"plain-a\" }\nD = { default = \"plain-d\" }\n",
    );
    assert_eq!(t.get(&[], "A"), "child-a\n");
    assert_eq!(t.get(&[], "D"), "plain-d\n");
    assert_eq!(t.get(&[], "B"), "parent-b\n");
}

#[test]
fn set_of_a_secret_defined_in_the_parent_writes_the_parent_file() {
    let t = Tree::new();
    let note = t.set_in(&t.child, &[], "B", "new-b\n");
    assert_eq!(note, "set B (provider `local`) in [TMP]/project/fnox.toml\n");
    let parent = t.read("fnox.toml");
    let value = stored(&parent, &["secrets"], "B");
    assert_eq!(
        parent,
        PARENT.replace(
            "B = { default = \"parent-b\" }",
            &format!("B = {{ default = \"parent-b\", provider = \"local\", value = \"{value}\" }}")
        )
    );
    assert_eq!(t.read("child/fnox.toml"), CHILD);
    assert_eq!(t.get(&[], "B"), "new-b\n");
}

#[test]
fn set_of_an_overridden_secret_writes_the_nearer_file() {
    let t = Tree::new();
    let note = t.set_in(&t.child, &[], "A", "new-a\n");
    assert_eq!(note, "set A (provider `local`) in fnox.toml\n");
    let child = t.read("child/fnox.toml");
    let value = stored(&child, &["secrets"], "A");
    assert_eq!(
        child,
        format!(
            "[secrets]\nA = {{ default = \"child-a\", provider = \"local\", value = \"{value}\" }}\n"
        )
    );
    assert_eq!(t.read("fnox.toml"), PARENT);
    assert_eq!(t.get(&[], "A"), "new-a\n");
}

#[test]
fn set_new_profile_secret_goes_to_the_nearest_fnox_toml() {
    let t = Tree::new();
    let note = t.set_in(&t.child, &["-P", "production"], "NEW", "prod-new\n");
    assert_eq!(note, "set NEW (provider `local`) in fnox.toml [profiles.production.secrets]\n");
    let child = t.read("child/fnox.toml");
    let value = stored(&child, &["profiles", "production", "secrets"], "NEW");
    assert_eq!(
        child,
        format!(
            "[secrets]\nA = {{ default = \"child-a\" }}\n\n\
             [profiles.production.secrets]\nNEW = {{ provider = \"local\", value = \"{value}\" }}\n"
        )
    );
    assert_eq!(t.read("fnox.toml"), PARENT);
    assert_eq!(t.get(&["-P", "production"], "NEW"), "prod-new\n");
    assert_eq!(t.fails(&["get", "NEW"]), not_defined("NEW", "default"));
}

#[test]
fn set_in_profile_of_a_parent_profile_secret_writes_the_parent_profile_section() {
    let t = Tree::new();
    let note = t.set_in(&t.child, &["-P", "production"], "A", "prod-a\n");
    assert_eq!(
        note,
        "set A (provider `local`) in [TMP]/project/fnox.toml [profiles.production.secrets]\n"
    );
    let parent = t.read("fnox.toml");
    let value = stored(&parent, &["profiles", "production", "secrets"], "A");
    assert_eq!(
        parent,
        PARENT.replace(
            "A = { default = \"parent-production-a\" }",
            &format!(
                "A = {{ default = \"parent-production-a\", provider = \"local\", value = \"{value}\" }}"
            )
        )
    );
    assert_eq!(t.read("child/fnox.toml"), CHILD);
    assert_eq!(t.get(&["-P", "production"], "A"), "prod-a\n");
    assert_eq!(t.get(&[], "A"), "child-a\n");
}

#[test]
fn set_new_secret_from_a_dir_with_only_a_local_file_goes_to_the_parent() {
    let t = Tree::new();
    std::fs::remove_file(t.child.join("fnox.toml")).expect("rm");
    t.write("child/fnox.local.toml", CHILD);
    let note = t.set_in(&t.child, &[], "NEW", "new\n");
    assert_eq!(note, "set NEW (provider `local`) in [TMP]/project/fnox.toml\n");
    let parent = t.read("fnox.toml");
    let value = stored(&parent, &["secrets"], "NEW");
    assert_eq!(
        parent,
        PARENT.replace(
            "C = { default = \"parent-c\" }\n",
            &format!(
                "C = {{ default = \"parent-c\" }}\nNEW = {{ provider = \"local\", value = \"{value}\" }}\n"
            )
        )
    );
    assert_eq!(t.read("child/fnox.local.toml"), CHILD);
    assert_eq!(t.get(&[], "NEW"), "new\n");
}
