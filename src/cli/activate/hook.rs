//! `fnox hook-env`: at each prompt, compare the fingerprint of the config
//! files and the profile with the one in `__FNOX_STATE`; when they differ,
//! unload what fnox loaded (giving back the variables it hid) and load the
//! active profile's `env = true` secrets, as shell code on stdout. Nothing
//! else goes to stdout; one line on stderr says what changed.
//!
//! A load that fails (a value that does not decrypt, a refused variable, a
//! broken config) leaves the shell usable: one error line, nothing loaded,
//! the previous secrets unloaded, and the new fingerprint kept, so that the
//! next prompt does not try again until something changes.

use std::path::PathBuf;

use fnox_core::{config::IfMissing, inject::Target};

use super::{Shell, script, shell::shell_text, state};
use crate::{
    cli::{Env, error::CommandError, ui::Ui},
    exit_codes::ExitStatus,
};

/// `FNOX_SHELL_OUTPUT`: how much the hook says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    None,
    Normal,
    Debug,
}

impl Output {
    fn from_env(env: &Env) -> Self {
        match env.fnox.env().var(super::OUTPUT_VAR) {
            Some("none") => Self::None,
            Some("debug") => Self::Debug,
            _ => Self::Normal,
        }
    }

    fn line(self, ui: &Ui, text: &str) {
        if self != Self::None {
            ui.note(&format!("fnox: {text}"));
        }
    }

    fn debug(self, ui: &Ui, text: &str) {
        if self == Self::Debug {
            ui.note(&format!("fnox: {text}"));
        }
    }
}

pub(super) fn run(ui: &Ui, env: &Env, shell: Shell) -> Result<ExitStatus, CommandError> {
    let output = Output::from_env(env);
    let environment = env.fnox.env();
    let old = state::State::read(environment).unwrap_or_default();
    let config_dir = env.fnox.config_dir();
    let profiles = &env.load.profiles;
    let now = state::fingerprint(environment, config_dir, profiles, &old.files);
    if now == old.fingerprint {
        output.debug(ui, &format!("unchanged ({now})"));
        return Ok(ExitStatus::SUCCESS);
    }
    output.debug(ui, &format!("fingerprint {} -> {now}: loading", or_none(&old.fingerprint)));
    let mut out = String::new();
    for name in &old.names {
        shell.unset(&mut out, name);
    }
    let quiet;
    let ui = if output == Output::None {
        quiet = Ui::new(false, true, false, env.cwd().to_path_buf());
        &quiet
    } else {
        ui
    };
    let (values, files, failed) = match load(ui, env) {
        Ok((values, files)) => (values, files, None),
        Err(e) => (Vec::new(), Vec::new(), Some(ui.relative(&e.message))),
    };
    let mut names = Vec::new();
    for (name, value) in &values {
        match shell_text(value.expose()) {
            Ok(text) => {
                shell.set(&mut out, name, text, true);
                names.push(name.clone());
            }
            Err(why) => ui.warn(&format!(
                "secret `{name}` {why}, which the shell code cannot hold exactly; left out of the shell (`fnox exec` passes it)"
            )),
        }
    }
    let fingerprint = state::fingerprint(environment, config_dir, profiles, &files);
    let new = state::State { fingerprint, names, files };
    shell.own(&mut out, state::VAR, Some(&new.text()));
    match (failed, changes(&old.names, &new.names)) {
        (Some(error), None) => output.line(ui, &format!("error: {error}; no secret loaded")),
        (Some(error), Some(c)) => {
            output.line(ui, &format!("error: {error}; no secret loaded ({c})"))
        }
        (None, Some(line)) => output.line(ui, &line),
        (None, None) => {}
    }
    ui.stdout(out.as_bytes())?;
    Ok(ExitStatus::SUCCESS)
}

/// `fnox deactivate`: unload, forget the state, remove the hook.
pub(super) fn deactivate(ui: &Ui, env: &Env, shell: Shell) -> Result<ExitStatus, CommandError> {
    let output = Output::from_env(env);
    let old = state::State::read(env.fnox.env()).unwrap_or_default();
    let mut out = String::new();
    for name in &old.names {
        shell.unset(&mut out, name);
    }
    shell.own(&mut out, state::VAR, None);
    out.push_str(script::remove(shell));
    if let Some(line) = changes(&old.names, &[]) {
        output.line(ui, &line);
    }
    ui.stdout(out.as_bytes())?;
    Ok(ExitStatus::SUCCESS)
}

type Loaded = (Vec<(String, fnox_core::Plaintext)>, Vec<PathBuf>);

/// The values to set and the files read; none outside a project.
fn load(ui: &Ui, env: &Env) -> Result<Loaded, CommandError> {
    let project = env.fnox.load(&env.load)?;
    let files = project.config().files.clone();
    if files.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let selected = env.resolve_selected(ui, &[], Target::Shell, false, IfMissing::Warn)?;
    Ok((selected.values, files))
}

/// `+N names -N names ~N names`: set now and not before, unset, set again.
fn changes(old: &[String], new: &[String]) -> Option<String> {
    let added: Vec<&str> = new.iter().filter(|n| !old.contains(n)).map(String::as_str).collect();
    let removed: Vec<&str> = old.iter().filter(|n| !new.contains(n)).map(String::as_str).collect();
    let again: Vec<&str> = new.iter().filter(|n| old.contains(n)).map(String::as_str).collect();
    let parts: Vec<String> = [("+", added), ("-", removed), ("~", again)]
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(sign, names)| format!("{sign}{} {}", names.len(), names.join(" ")))
        .collect();
    if parts.is_empty() { None } else { Some(parts.join(" ")) }
}

fn or_none(text: &str) -> &str {
    if text.is_empty() { "none" } else { text }
}

#[cfg(test)]
mod tests {
    use super::changes;

    #[test]
    fn changes_name_what_came_went_and_came_again() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(changes(&[], &s(&["A", "B"])).unwrap(), "+2 A B");
        assert_eq!(changes(&s(&["A", "B"]), &[]).unwrap(), "-2 A B");
        assert_eq!(changes(&s(&["A", "B"]), &s(&["B", "C"])).unwrap(), "+1 C -1 A ~1 B");
        assert_eq!(changes(&[], &[]), None);
    }
}
