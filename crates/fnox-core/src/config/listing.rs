//! The loaded files in the order `fnox config-files` lists them (jdx/fnox's
//! order): nearest directory first, each file followed by its imports, the
//! global file last.

use std::path::{Path, PathBuf};

use super::model::Config;

impl Config {
    /// The loaded files, nearest directory first: the files of the working
    /// directory (or the `-c` file), each followed by the files it imports
    /// (and theirs), then those of its parent, and so on up; the global
    /// file (with its imports) last. Within a directory, the files keep the
    /// order in which they apply. A file loaded twice is listed once, at
    /// its first place. [`Config::files`] has the same files in merge
    /// order (lowest precedence first).
    pub fn files_nearest_first(&self) -> Vec<PathBuf> {
        // In merge order a file comes just after its imports: rebuild each
        // file that is not an import with its imports after it.
        let mut trees: Vec<(usize, Vec<&Path>)> = Vec::new();
        for (i, path) in self.files.iter().enumerate() {
            let depth = self.file_depths.get(i).copied().unwrap_or(0);
            let children = trees.iter().rposition(|(d, _)| *d <= depth).map_or(0, |p| p + 1);
            let mut tree = vec![path.as_path()];
            for (_, imported) in trees.drain(children..) {
                tree.extend(imported);
            }
            trees.push((depth, tree));
        }
        let mut global = Vec::new();
        let mut dirs: Vec<(Option<&Path>, Vec<&Path>)> = Vec::new();
        for (_, tree) in trees {
            if tree[0] == self.global_file {
                global = tree;
                continue;
            }
            let dir = tree[0].parent();
            match dirs.last_mut() {
                Some((d, files)) if *d == dir => files.extend(tree),
                _ => dirs.push((dir, tree)),
            }
        }
        let mut out: Vec<PathBuf> = Vec::new();
        for path in dirs.into_iter().rev().flat_map(|(_, files)| files).chain(global) {
            if !out.iter().any(|p| p == path) {
                out.push(path.to_path_buf());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(files: &[(&str, usize)], global: &str) -> Config {
        Config {
            profile: "default".into(),
            files: files.iter().map(|(p, _)| PathBuf::from(p)).collect(),
            global_file: PathBuf::from(global),
            file_depths: files.iter().map(|(_, d)| *d).collect(),
            ..Config::default()
        }
    }

    #[test]
    fn nearest_directory_first_each_file_before_its_imports_global_last() {
        // Merge order: the global file (importing g.toml), the parent's
        // fnox.toml (importing shared.toml, which imports base.toml), the
        // child's fnox.toml, fnox.staging.toml (importing ../x.toml) and
        // fnox.local.toml.
        let c = config(
            &[
                ("/c/g.toml", 1),
                ("/c/config.toml", 0),
                ("/p/base.toml", 2),
                ("/p/shared.toml", 1),
                ("/p/fnox.toml", 0),
                ("/p/a/fnox.toml", 0),
                ("/p/x.toml", 1),
                ("/p/a/fnox.staging.toml", 0),
                ("/p/a/fnox.local.toml", 0),
            ],
            "/c/config.toml",
        );
        let listed: Vec<String> =
            c.files_nearest_first().iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            listed,
            [
                "/p/a/fnox.toml",
                "/p/a/fnox.staging.toml",
                "/p/x.toml",
                "/p/a/fnox.local.toml",
                "/p/fnox.toml",
                "/p/shared.toml",
                "/p/base.toml",
                "/c/config.toml",
                "/c/g.toml",
            ]
        );
    }

    #[test]
    fn a_file_loaded_twice_is_listed_once() {
        let c = config(
            &[("/p/fnox.toml", 0), ("/p/fnox.toml", 1), ("/p/a/fnox.toml", 0)],
            "/c/config.toml",
        );
        let listed = c.files_nearest_first();
        assert_eq!(listed, [PathBuf::from("/p/a/fnox.toml"), PathBuf::from("/p/fnox.toml")]);
    }
}
