//! Variables that change what code a program loads or runs. A `fnox.toml`
//! is committed and shared: an entry such as `PATH = { default = "./evil" }`
//! or `LD_PRELOAD = ...` would make `fnox exec -- make` run someone else's
//! code. `exec`, `export` and shell activation refuse to set these unless
//! the entry says `allow_exec_control = true`; `doctor` lists every entry
//! that sets one.
//!
//! The list is [`EXEC_CONTROL`], in this one place; each entry says why it
//! is there (the words are shown in errors and by `doctor`).

use crate::{config::SecretDef, error::Error};

/// A variable, or a family of them, that changes what a program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecControl {
    /// The variable's name, or a prefix followed by `*` for a family.
    pub pattern: &'static str,
    /// What it does, as words that follow the variable's name.
    pub why: &'static str,
}

const fn entry(pattern: &'static str, why: &'static str) -> ExecControl {
    ExecControl { pattern, why }
}

/// Every variable fnox refuses to set without `allow_exec_control = true`.
pub const EXEC_CONTROL: &[ExecControl] = &[
    entry("PATH", "decides which file runs for a command name"),
    entry(
        "LD_*",
        "is read by the dynamic loader, which can load other code into every program (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT)",
    ),
    entry(
        "DYLD_*",
        "is read by the macOS dynamic loader, which can load other code into every program (DYLD_INSERT_LIBRARIES)",
    ),
    entry("GCONV_PATH", "makes glibc's iconv load code from another directory"),
    entry("BASH_ENV", "names a file that every non-interactive bash runs first"),
    entry("ENV", "names a file that sh runs first (interactive shells, and bash in POSIX mode)"),
    entry("ZDOTDIR", "is where zsh reads its start-up files, which it runs"),
    entry("PROMPT_COMMAND", "is run by bash before each prompt"),
    entry("PS0", "is expanded by interactive bash, running any command substitution in it"),
    entry("PS1", "is expanded by interactive shells, running any command substitution in it"),
    entry("PS2", "is expanded by interactive shells, running any command substitution in it"),
    entry(
        "PS4",
        "is expanded by shells that trace commands, running any command substitution in it",
    ),
    entry("SHELLOPTS", "turns bash options on at start (e.g. xtrace, which expands PS4)"),
    entry("BASHOPTS", "turns bash shopt options on at start"),
    entry("IFS", "changes how a shell splits words, so scripts run other commands than they say"),
    entry("PYTHONPATH", "puts modules first on Python's import path"),
    entry("PYTHONHOME", "moves Python's standard library, which every Python program imports"),
    entry("PYTHONSTARTUP", "names a file that interactive Python runs"),
    entry("PYTHONBREAKPOINT", "names the function Python calls at breakpoint()"),
    entry("NODE_OPTIONS", "adds options such as --require to every Node.js program"),
    entry("NODE_PATH", "adds directories Node.js loads modules from"),
    entry("PERL5OPT", "adds options such as -M (load a module) to every Perl program"),
    entry("PERL5LIB", "puts modules first on Perl's load path"),
    entry("PERLLIB", "puts modules first on Perl's load path"),
    entry("RUBYOPT", "adds options such as -r (require a file) to every Ruby program"),
    entry("RUBYLIB", "puts files first on Ruby's load path"),
    entry("JAVA_TOOL_OPTIONS", "adds options such as -javaagent to every JVM"),
    entry("_JAVA_OPTIONS", "adds options such as -javaagent to every JVM"),
    entry("JDK_JAVA_OPTIONS", "adds options such as -javaagent to the java launcher"),
    entry("CLASSPATH", "puts classes first on the JVM's class path"),
    entry(
        "GIT_CONFIG*",
        "gives git configuration (core.sshCommand, core.hooksPath, aliases...), which can run programs",
    ),
    entry("GIT_EXEC_PATH", "is where git finds its own sub-commands"),
    entry("GIT_DIR", "points git at another repository, with its hooks and configuration"),
    entry("GIT_TEMPLATE_DIR", "gives new repositories hooks to run"),
    entry("GIT_SSH", "is the program git runs to reach a remote"),
    entry("GIT_SSH_COMMAND", "is the command git runs to reach a remote"),
    entry("GIT_PROXY_COMMAND", "is the command git runs to reach a git:// remote"),
    entry("GIT_ASKPASS", "is the program git runs to ask for a password"),
    entry("GIT_EXTERNAL_DIFF", "is the program git runs to show a diff"),
    entry("GIT_PAGER", "is the program git runs to page its output"),
    entry("GIT_EDITOR", "is the program git runs to edit a message"),
    entry("GIT_SEQUENCE_EDITOR", "is the program git runs to edit a rebase list"),
    entry("SSH_ASKPASS", "is the program ssh runs to ask for a passphrase"),
    entry("SUDO_ASKPASS", "is the program sudo runs to ask for a password"),
    entry("EDITOR", "is the program many tools run to edit a file"),
    entry("VISUAL", "is the program many tools run to edit a file"),
    entry("PAGER", "is the program many tools run to page their output"),
    entry("LESSOPEN", "is a command less runs on every file it opens"),
    entry("LESSCLOSE", "is a command less runs after every file it opens"),
    entry("RUSTC_WRAPPER", "is a program cargo runs around every compiler call"),
];

impl ExecControl {
    /// True when `name` is this variable or one of this family.
    pub fn matches(&self, name: &str) -> bool {
        match self.pattern.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == self.pattern,
        }
    }
}

/// The entry of [`EXEC_CONTROL`] that `name` falls under, if any.
pub fn exec_control(name: &str) -> Option<&'static ExecControl> {
    EXEC_CONTROL.iter().find(|e| e.matches(name))
}

/// The entries of `defs` that would set such a variable (they have a value
/// or a default), allowed or not, with the list entry each falls under.
pub fn setters<'a>(
    defs: impl IntoIterator<Item = &'a SecretDef>,
) -> Vec<(&'a SecretDef, &'static ExecControl)> {
    defs.into_iter()
        .filter(|d| d.value.is_some() || d.default.is_some())
        .filter_map(|d| exec_control(&d.name).map(|e| (d, e)))
        .collect()
}

/// Fails on the first entry of `defs` that would set such a variable
/// without `allow_exec_control = true`. Call it before setting any
/// variable: a refused entry fails the whole command.
pub fn check<'a>(defs: impl IntoIterator<Item = &'a SecretDef>) -> Result<(), Error> {
    match setters(defs).into_iter().find(|(d, _)| !d.allow_exec_control) {
        None => Ok(()),
        Some((def, control)) => Err(refusal(def, control)),
    }
}

/// The error that refuses `def`, which falls under `control`.
pub fn refusal(def: &SecretDef, control: &ExecControl) -> Error {
    Error::ExecControl { name: def.name.clone(), at: def.at.clone(), why: control.why }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_families() {
        for name in ["PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "BASH_ENV"] {
            assert!(exec_control(name).is_some(), "{name}");
        }
        for name in ["GIT_CONFIG", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_PARAMETERS", "GIT_SSH_COMMAND"]
        {
            assert!(exec_control(name).is_some(), "{name}");
        }
        for name in ["PATHS", "MY_PATH", "path", "LDFLAGS", "GIT_AUTHOR_NAME", "ENVIRONMENT"] {
            assert!(exec_control(name).is_none(), "{name}");
        }
    }

    #[test]
    fn the_configuration_page_lists_every_entry_with_its_words() {
        let doc = include_str!("../../../docs/configuration.md");
        for e in EXEC_CONTROL {
            let row = format!("| `{}` | {} |", e.pattern, e.why);
            assert!(doc.contains(&row), "docs/configuration.md lacks {row}");
        }
    }

    #[test]
    fn every_entry_says_why() {
        for e in EXEC_CONTROL {
            assert!(!e.why.is_empty(), "{}", e.pattern);
            assert_eq!(EXEC_CONTROL.iter().filter(|o| o.pattern == e.pattern).count(), 1);
        }
    }
}
