//! age plugins in the `age` provider: recipients such as `age1yubikey1...`
//! and identities such as `AGE-PLUGIN-YUBIKEY-1...` are handled by the
//! binary `age-plugin-NAME` found on `PATH`, through the age plugin
//! protocol (the `age` crate's `plugin` feature), as the `age` CLI does.
//! The plugin's messages and questions go to the [`Prompter`] of the
//! context; a question nobody can answer (no terminal) is remembered, so
//! that the failure says input was needed.

use std::{
    collections::BTreeMap,
    str::FromStr,
    sync::{Arc, Mutex},
};

use age::{Recipient, secrecy::SecretString};

use super::error::ProviderError;
use crate::prompt::SharedPrompter;

/// age's [`age::Callbacks`] over a [`Prompter`](crate::prompt::Prompter),
/// remembering the last request that could not be put to the user.
#[derive(Clone)]
pub(super) struct PluginCallbacks {
    prompter: SharedPrompter,
    refused: Arc<Mutex<Option<String>>>,
}

impl PluginCallbacks {
    pub(super) fn new(prompter: SharedPrompter) -> Self {
        Self { prompter, refused: Arc::default() }
    }

    fn refuse<T>(&self, request: &str, answer: Option<T>) -> Option<T> {
        if answer.is_none() {
            *self.refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(request.to_string());
        }
        answer
    }

    /// Asks the user for a secret (a passphrase), not echoed; `None` when
    /// nobody can be asked.
    pub(super) fn ask_secret(&self, description: &str) -> Option<age::secrecy::SecretString> {
        let answer = self.prompter.ask_secret(description);
        self.refuse(description, answer).map(|s| age::secrecy::SecretString::from(s.as_str()))
    }

    /// The request that could not be put to the user, if any.
    fn refused(&self) -> Option<String> {
        self.refused.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl age::Callbacks for PluginCallbacks {
    fn display_message(&self, message: &str) {
        self.prompter.message(message);
    }

    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        self.refuse(message, self.prompter.confirm(message, yes, no))
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        self.refuse(description, self.prompter.ask(description))
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        let answer = self.prompter.ask_secret(description);
        self.refuse(description, answer).map(|s| SecretString::from(s.as_str()))
    }
}

/// A provider's recipients: native ones (X25519, SSH) parsed once, plugin
/// ones resolved to their binaries only when encrypting (so that a machine
/// that only decrypts needs no recipient's plugin).
#[derive(Default)]
pub(super) struct Recipients {
    pub(super) native: Vec<Box<dyn Recipient + Send + Sync>>,
    plugins: Vec<age::plugin::Recipient>,
}

impl Recipients {
    /// Parses `list`.
    pub(super) fn parse(list: &[String]) -> Result<Self, ProviderError> {
        let mut out = Self::default();
        for r in list {
            match super::age::parse_recipient(r) {
                Ok(native) => out.native.push(native),
                Err(e) => match age::plugin::Recipient::from_str(r.trim()) {
                    Ok(plugin) => out.plugins.push(plugin),
                    Err(_) => return Err(e),
                },
            }
        }
        Ok(out)
    }

    /// True when there is no recipient at all.
    pub(super) fn is_empty(&self) -> bool {
        self.native.is_empty() && self.plugins.is_empty()
    }

    /// One age recipient per plugin (all of that plugin's recipients), each
    /// plugin's binary found on `PATH`.
    pub(super) fn plugin_recipients(
        &self,
        callbacks: &PluginCallbacks,
    ) -> Result<Vec<Box<dyn Recipient + Send + Sync>>, ProviderError> {
        let mut by_plugin: BTreeMap<&str, Vec<age::plugin::Recipient>> = BTreeMap::new();
        for r in &self.plugins {
            by_plugin.entry(r.plugin()).or_default().push(r.clone());
        }
        by_plugin
            .into_iter()
            .map(|(name, recipients)| {
                age::plugin::RecipientPluginV1::new(name, &recipients, &[], callbacks.clone())
                    .map(|p| Box::new(p) as Box<dyn Recipient + Send + Sync>)
                    .map_err(resolve_error)
            })
            .collect()
    }
}

/// True when `text` (an identity file) has a plugin identity.
pub(super) fn has_plugin_identity(text: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with("AGE-PLUGIN-"))
}

fn resolve_error(e: age::plugin::ResolveError) -> ProviderError {
    match e {
        age::plugin::ResolveError::MissingPlugin { binary_name } => {
            ProviderError::AgePluginMissing { binary: binary_name }
        }
        other => ProviderError::AgePlugin { message: other.to_string() },
    }
}

/// What the plugin said, on one line, without the isolation marks (U+2068,
/// U+2069) that age's translations put around names.
fn one_line(e: &dyn std::error::Error) -> String {
    let text = e.to_string().replace(['\u{2068}', '\u{2069}'], "");
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// The plugin failure in `e`, if it is one: a missing binary, a question
/// nobody could answer, or what the plugin said.
fn plugin_failure(
    plugin: Option<String>,
    resolve: Option<age::plugin::ResolveError>,
    callbacks: &PluginCallbacks,
) -> Option<ProviderError> {
    if let Some(e) = resolve {
        return Some(resolve_error(e));
    }
    let message = plugin?;
    Some(match callbacks.refused() {
        Some(request) => ProviderError::AgePluginNeedsInput { request },
        None => ProviderError::AgePlugin { message },
    })
}

/// A decryption failure that came from a plugin, as a [`ProviderError`];
/// other failures are handed back.
pub(super) fn decrypt_failure(
    e: age::DecryptError,
    callbacks: &PluginCallbacks,
) -> Result<ProviderError, age::DecryptError> {
    let found = match &e {
        age::DecryptError::Plugin(_) => plugin_failure(Some(one_line(&e)), None, callbacks),
        age::DecryptError::PluginResolve(r) => plugin_failure(None, Some(r.clone()), callbacks),
        _ => None,
    };
    found.ok_or(e)
}

/// An encryption failure as a [`ProviderError`].
pub(super) fn encrypt_failure(e: age::EncryptError, callbacks: &PluginCallbacks) -> ProviderError {
    let found = match &e {
        age::EncryptError::Plugin(_) => plugin_failure(Some(one_line(&e)), None, callbacks),
        age::EncryptError::PluginResolve(r) => plugin_failure(None, Some(r.clone()), callbacks),
        _ => None,
    };
    found.unwrap_or(ProviderError::AgeEncrypt(e))
}
