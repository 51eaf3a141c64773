//! A `local` keyring file at rest: the keyring's text, or, after
//! `fnox keys protect`, that text encrypted with a passphrase as an armored
//! age file (scrypt; see [`super::passphrase`]), which `age -d FILE` opens
//! by hand.
//!
//! Opening a protected keyring asks the agent first (it keeps unlocked
//! keyrings, keyed by the file's bytes, so a changed file is a miss), then
//! the user, through the context's [`crate::prompt::Prompter`]. What was
//! opened is kept for the rest of the process ([`Unlocked`]), with the
//! passphrase when it was typed, so that a command that rewrites the
//! keyring (`rotate --new-key`, `keys import`) encrypts it again under the
//! same passphrase without a second question.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Mutex,
};

use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::{
    error::ProviderError,
    passphrase::{self, PassphraseError},
    provider::Context,
};
use crate::{agent::protocol::PutEntry, secret::SecretBytes};

/// The keyrings this process opened, by file.
#[derive(Default)]
pub(crate) struct Unlocked {
    entries: Mutex<HashMap<PathBuf, Opened>>,
}

struct Opened {
    /// SHA-256 of the file's bytes when it was opened.
    digest: [u8; 32],
    text: Zeroizing<String>,
    /// The passphrase, when it was typed in this process.
    passphrase: Option<Zeroizing<String>>,
}

impl Unlocked {
    fn get(&self, path: &Path, digest: &[u8; 32]) -> Option<(Zeroizing<String>, bool)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let opened = entries.get(path).filter(|o| &o.digest == digest)?;
        Some((opened.text.clone(), opened.passphrase.is_some()))
    }

    fn passphrase(&self, path: &Path, digest: &[u8; 32]) -> Option<Zeroizing<String>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(path).filter(|o| &o.digest == digest)?.passphrase.clone()
    }

    fn keep(&self, path: &Path, opened: Opened) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(path.to_path_buf(), opened);
    }
}

/// True when keyring file `bytes` are protected with a passphrase.
pub fn is_protected(bytes: &[u8]) -> bool {
    passphrase::is_age_file(bytes)
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The agent's key for the keyring in file `path` with `bytes`.
fn agent_key(path: &Path, bytes: &[u8]) -> crate::agent::Key {
    crate::agent::entry_key(b"fnox local keyring", &path.to_string_lossy(), bytes)
}

fn error(path: &Path, e: PassphraseError) -> ProviderError {
    let source_name = path.display().to_string();
    match e {
        PassphraseError::Wrong => ProviderError::LocalKeyringWrongPassphrase { source_name },
        PassphraseError::NotPassphrase => ProviderError::BadKey {
            source_name,
            reason: "an age file encrypted to recipients, not with a passphrase: not a keyring"
                .into(),
        },
        PassphraseError::Damaged(reason) => ProviderError::BadKey {
            source_name,
            reason: format!("the passphrase-protected keyring cannot be opened: {reason}"),
        },
    }
}

fn as_text(path: &Path, bytes: &[u8]) -> Result<Zeroizing<String>, ProviderError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_string())),
        Err(_) => Err(ProviderError::BadKey {
            source_name: path.display().to_string(),
            reason: "not text: neither a keyring nor one protected with a passphrase".into(),
        }),
    }
}

/// The keyring text of file `path`, whose bytes are `bytes`: the bytes
/// themselves, or, when protected, what the agent or the user's passphrase
/// opens.
pub fn open(ctx: &Context, path: &Path, bytes: &[u8]) -> Result<Zeroizing<String>, ProviderError> {
    if !is_protected(bytes) {
        return as_text(path, bytes);
    }
    let digest = digest(bytes);
    if let Some((text, _)) = ctx.unlocked.get(path, &digest) {
        return Ok(text);
    }
    passphrase::check(bytes).map_err(|e| error(path, e))?;
    let key = agent_key(path, bytes);
    if let Some(Some(text)) = ctx.agent.get_now(vec![key]).and_then(|mut v| v.pop()) {
        let text = as_text(path, text.expose())?;
        ctx.unlocked.keep(path, Opened { digest, text: text.clone(), passphrase: None });
        return Ok(text);
    }
    let (text, typed) = ask_and_open(ctx, path, bytes)?;
    remember(ctx, path, bytes, text.clone(), Some(typed));
    Ok(text)
}

/// Asks for the passphrase of protected keyring file `path` (never the
/// agent: for `keys unprotect` and `keys passphrase`) and opens `bytes`
/// with it: the keyring text and the passphrase.
pub fn ask_and_open(
    ctx: &Context,
    path: &Path,
    bytes: &[u8],
) -> Result<(Zeroizing<String>, Zeroizing<String>), ProviderError> {
    let source_name = path.display().to_string();
    let question = format!("Passphrase of the local keyring {source_name}");
    let typed = ctx
        .prompter
        .ask_secret(&question)
        .ok_or(ProviderError::LocalKeyringNeedsTerminal { source_name })?;
    let plain = passphrase::decrypt(bytes, &typed).map_err(|e| error(path, e))?;
    Ok((as_text(path, &plain)?, typed))
}

/// Asks for a new passphrase for keyring file `path`, twice.
pub fn ask_new(ctx: &Context, path: &Path) -> Result<Zeroizing<String>, ProviderError> {
    let source_name = path.display().to_string();
    let needs_terminal =
        || ProviderError::LocalKeyringNeedsTerminal { source_name: source_name.clone() };
    let first = ctx
        .prompter
        .ask_secret(&format!("New passphrase for the local keyring {source_name}"))
        .ok_or_else(needs_terminal)?;
    if first.is_empty() {
        return Err(ProviderError::EmptyPassphrase);
    }
    let again = ctx.prompter.ask_secret("Confirm the new passphrase").ok_or_else(needs_terminal)?;
    if *first != *again {
        return Err(ProviderError::PassphrasesDiffer);
    }
    Ok(first)
}

/// Keyring `text` encrypted with `passphrase`, as the file's new text.
pub fn protect(path: &Path, text: &str, passphrase: &str) -> Result<String, ProviderError> {
    passphrase::encrypt(text.as_bytes(), passphrase).map_err(|e| error(path, e))
}

/// What to write to keyring file `path`, whose bytes now are `old`, for
/// keyring `text`: the text when the file is plain; when it is protected,
/// the text encrypted under its passphrase (asked again when this process
/// opened the file through the agent). The new file is known unlocked to
/// this process and handed to the agent, so the next command does not ask.
pub fn seal_like(
    ctx: &Context,
    path: &Path,
    old: &[u8],
    text: &str,
) -> Result<Zeroizing<String>, ProviderError> {
    if !is_protected(old) {
        return Ok(Zeroizing::new(text.to_string()));
    }
    let typed = match ctx.unlocked.passphrase(path, &digest(old)) {
        Some(p) => p,
        None => ask_and_open(ctx, path, old)?.1,
    };
    let sealed = Zeroizing::new(protect(path, text, &typed)?);
    remember(ctx, path, sealed.as_bytes(), Zeroizing::new(text.to_string()), Some(typed));
    Ok(sealed)
}

/// Keeps keyring `text` of file `path` with `bytes` for this process, and
/// hands it to the agent.
fn remember(
    ctx: &Context,
    path: &Path,
    bytes: &[u8],
    text: Zeroizing<String>,
    passphrase: Option<Zeroizing<String>>,
) {
    ctx.agent.put_now(vec![PutEntry {
        key: agent_key(path, bytes),
        provider: "local keyring".into(),
        secret: path.display().to_string(),
        value: SecretBytes::new(text.as_bytes().to_vec()),
    }]);
    ctx.unlocked.keep(path, Opened { digest: digest(bytes), text, passphrase });
}
