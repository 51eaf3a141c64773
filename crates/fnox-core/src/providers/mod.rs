//! Providers: the [`Provider`] trait, the backends (`local`, `age` and
//! `plain` always; `aws-kms` and `vault-transit` behind cargo features),
//! and the [`Registry`] that builds each one once (and refuses the
//! jdx/fnox types fnox does not implement).
//!
//! A provider turns plaintext into ciphertext bytes and back, bound to the
//! secret's name where the cipher allows it. How those bytes are stored in
//! `fnox.toml` (base64 by default) is the provider's [`Provider::encode`].

pub mod age;
mod age_plugin;
mod age_x25519;
#[cfg(feature = "aws-kms")]
pub mod aws_kms;
mod cached;
mod error;
#[cfg(feature = "vault-transit")]
mod http;
pub mod keychain;
mod keyring;
pub mod keyring_file;
pub mod local;
pub mod passphrase;
pub mod plain;
mod provider;
mod registry;
#[cfg(feature = "vault-transit")]
pub mod vault_transit;

pub use self::{
    error::ProviderError,
    provider::{Context, KeyDate, MAX_IN_FLIGHT, Provider, Rewrapped},
    registry::{Registry, RegistryError},
};
