//! `key_store = "keychain"`: a `local` provider's keyring kept in the OS's
//! secret store through the `keyring` crate (Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows) instead of a file.
//! The item's service is `fnox`; its account is the path the keyring file
//! would have (`$FNOX_CONFIG_DIR/local.key` or the provider's `key_file`),
//! so providers that would share a file share an item. Its secret is the
//! keyring file's text, byte for byte (`fnox keys export` prints it).

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::error::ProviderError;

/// The service name of fnox's keychain items.
pub const SERVICE: &str = "fnox";

/// One keychain item holding a keyring.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Keychain {
    /// The item's account: the keyring file path it stands for.
    pub account: PathBuf,
}

impl std::fmt::Display for Keychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "keychain item {SERVICE}/{}", self.account.display())
    }
}

impl Keychain {
    /// The item for the keyring that would live at `path`.
    pub fn for_path(path: &Path) -> Self {
        Self { account: path.to_path_buf() }
    }

    fn error(&self, e: impl std::fmt::Display) -> ProviderError {
        ProviderError::Keychain { item: self.to_string(), reason: e.to_string() }
    }

    #[cfg(feature = "keychain")]
    fn entry(&self) -> Result<keyring::Entry, ProviderError> {
        keyring::Entry::new(SERVICE, &self.account.to_string_lossy()).map_err(|e| self.error(e))
    }

    /// The keyring text in the item; `None` when there is no item.
    #[cfg(feature = "keychain")]
    pub fn read(&self) -> Result<Option<Zeroizing<String>>, ProviderError> {
        match self.entry()?.get_password() {
            Ok(text) => Ok(Some(Zeroizing::new(text))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Puts `text` in the item (made or replaced in one call).
    #[cfg(feature = "keychain")]
    pub fn write(&self, text: &str) -> Result<(), ProviderError> {
        self.entry()?.set_password(text).map_err(|e| self.error(e))
    }

    /// Without the `keychain` feature: an error that names it.
    #[cfg(not(feature = "keychain"))]
    pub fn read(&self) -> Result<Option<Zeroizing<String>>, ProviderError> {
        Err(self.error("this build of fnox has no `keychain` feature"))
    }

    /// Without the `keychain` feature: an error that names it.
    #[cfg(not(feature = "keychain"))]
    pub fn write(&self, _text: &str) -> Result<(), ProviderError> {
        Err(self.error("this build of fnox has no `keychain` feature"))
    }
}
