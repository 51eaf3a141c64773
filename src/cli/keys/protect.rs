//! `fnox keys protect`, `unprotect` and `passphrase`: a passphrase on the
//! keyring file (age's scrypt encryption, so `age -d FILE` opens it by
//! hand), asked on the terminal when a command needs a key.

use fnox_core::keys;

use super::{Env, Which, keyring};
use crate::{
    cli::{error::CommandError, ui::Ui},
    exit_codes::ExitStatus,
};

/// What to do to the keyring's passphrase.
#[derive(Debug, Clone, Copy)]
pub(super) enum Change {
    Protect,
    Unprotect,
    Passphrase,
}

pub(super) fn run(
    ui: &Ui,
    env: &Env,
    which: &Which,
    change: Change,
) -> Result<ExitStatus, CommandError> {
    let (_, store) = keyring(env, which)?;
    let path = store.file().map(std::path::Path::to_path_buf).ok_or_else(|| {
        CommandError::user(format!(
            "{store} is in the OS keychain, which protects it itself; a passphrase is for keyring files"
        ))
    })?;
    let ctx = env.fnox.context();
    let shown = ui.path(&path);
    match change {
        Change::Protect => {
            keys::protect(&path, ctx)?;
            ui.note(&format!(
                "protected {shown} with a passphrase: fnox asks for it when it needs a key (once per session with `fnox agent start`); `age -d {shown}` opens it by hand"
            ));
        }
        Change::Unprotect => {
            keys::unprotect(&path, ctx)?;
            ui.note(&format!(
                "removed the passphrase of {shown}: the keys are in it as plain text again"
            ));
        }
        Change::Passphrase => {
            keys::change_passphrase(&path, ctx)?;
            ui.note(&format!("changed the passphrase of {shown}"));
        }
    }
    Ok(ExitStatus::SUCCESS)
}
