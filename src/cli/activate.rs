//! Shell activation: `fnox activate SHELL` prints the code that installs a
//! prompt hook, `fnox hook-env SHELL` is what the hook runs, and `fnox
//! deactivate` takes it all back. See [`hook`] for what a prompt does.

mod hook;
mod script;
mod shell;
mod state;

use std::path::PathBuf;

pub use self::{shell::Shell, state::VAR as STATE_VAR};

/// How much the hook says on stderr: none, normal or debug.
pub const OUTPUT_VAR: &str = "FNOX_SHELL_OUTPUT";
use super::{Env, error::CommandError, ui::Ui};
use crate::exit_codes::ExitStatus;

/// Print the code that loads the secrets in the shell as you `cd`.
///
/// At each prompt the hook loads the active profile's secrets with `env =
/// true` when the working directory has a config (never those with `env =
/// "exec"` or `env = false`), unloads them when you leave, giving back any
/// variable they hid, and reloads after a change of FNOX_PROFILE (export
/// it) or of a config file. A prompt where nothing changed reads no file
/// and decrypts nothing: it compares a fingerprint of the config files
/// (paths, sizes, times, inodes) and the profile with the one kept in
/// $__FNOX_STATE. One line on stderr says what changed (`fnox: +2 A B`,
/// `-2 A B`; `~2 A B`: loaded again); FNOX_SHELL_OUTPUT=none silences it,
/// =debug says more. `fnox deactivate` unloads and removes the hook.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  eval \"$(fnox activate bash)\"        in ~/.bashrc
  eval \"$(fnox activate zsh)\"         in ~/.zshrc
  fnox activate fish | source         in ~/.config/fish/config.fish
  export FNOX_PROFILE=ci              picked up at the next prompt
  fnox deactivate                     unload and remove the hook")]
pub struct ActivateArgs {
    /// The shell: bash, zsh or fish.
    pub shell: Shell,
}

/// Unload the secrets and remove the prompt hook (the `fnox` shell
/// function that activation defines runs this for you).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox deactivate                     in a shell where activation ran
  eval \"$(command fnox deactivate bash)\"   the same, by hand")]
pub struct DeactivateArgs {
    /// The shell: bash, zsh or fish.
    pub shell: Shell,
}

/// The code the prompt hook runs: what to load and unload, as shell code
/// for `eval` (nothing when nothing changed).
#[derive(Debug, clap::Args)]
pub struct HookEnvArgs {
    /// The shell: bash, zsh or fish.
    pub shell: Shell,
}

pub(super) fn activate(
    ui: &Ui,
    _env: &Env,
    args: ActivateArgs,
) -> Result<ExitStatus, CommandError> {
    let exe = std::env::current_exe()
        .map_err(|e| CommandError::io("cannot find the path of the fnox program", e))?;
    let exe = exe_text(exe)?;
    ui.stdout(script::activate(args.shell, &exe).as_bytes())?;
    Ok(ExitStatus::SUCCESS)
}

pub(super) fn deactivate(
    ui: &Ui,
    env: &Env,
    args: DeactivateArgs,
) -> Result<ExitStatus, CommandError> {
    hook::deactivate(ui, env, args.shell)
}

pub(super) fn hook_env(ui: &Ui, env: &Env, args: HookEnvArgs) -> Result<ExitStatus, CommandError> {
    hook::run(ui, env, args.shell)
}

fn exe_text(exe: PathBuf) -> Result<String, CommandError> {
    exe.into_os_string().into_string().map_err(|p| {
        CommandError::user(format!(
            "the path of the fnox program ({}) is not UTF-8, which activation cannot quote",
            PathBuf::from(p).display()
        ))
    })
}
