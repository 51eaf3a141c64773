//! [`Registry`]: builds each provider of a config once, on first use, and
//! shares it.

use std::{collections::HashMap, path::PathBuf, sync::Arc};

use tokio::sync::OnceCell;

#[cfg(feature = "aws-kms")]
use super::aws_kms;
#[cfg(feature = "vault-transit")]
use super::vault_transit;
use super::{
    age,
    error::ProviderError,
    local,
    provider::{Context, Provider},
};
use crate::config::{Location, ProviderConfig, ProviderDef};

/// Builds each provider once per process, on first use, and shares it.
#[derive(Debug)]
pub struct Registry {
    ctx: Context,
    defs: HashMap<String, ProviderDef>,
    built: HashMap<String, OnceCell<Arc<dyn Provider>>>,
}

impl Registry {
    /// A registry over the providers of one merged config.
    pub fn new(ctx: Context, defs: impl IntoIterator<Item = ProviderDef>) -> Self {
        let defs: HashMap<_, _> = defs.into_iter().map(|d| (d.name.clone(), d)).collect();
        let built = defs.keys().map(|k| (k.clone(), OnceCell::new())).collect();
        Self { ctx, defs, built }
    }

    /// Uses `provider` for `name` instead of building it from its settings
    /// (e.g. a `local` provider with a new primary key during `rotate`).
    pub fn preset(&self, name: &str, provider: Arc<dyn Provider>) -> Result<(), RegistryError> {
        let cell = self.built.get(name).ok_or_else(|| self.unknown(name))?;
        cell.set(provider).map_err(|_| RegistryError::InUse(name.to_string()))
    }

    /// The settings of provider `name`.
    pub fn def(&self, name: &str) -> Option<&ProviderDef> {
        self.defs.get(name)
    }

    /// The provider context.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The provider called `name`, built on first use.
    pub async fn get(&self, name: &str) -> Result<Arc<dyn Provider>, RegistryError> {
        let (Some(def), Some(cell)) = (self.defs.get(name), self.built.get(name)) else {
            return Err(self.unknown(name));
        };
        cell.get_or_try_init(|| build(&self.ctx, def)).await.cloned()
    }

    fn unknown(&self, name: &str) -> RegistryError {
        let mut defined: Vec<String> = self.defs.keys().cloned().collect();
        defined.sort();
        RegistryError::Unknown { name: name.to_string(), defined }
    }
}

/// Why the registry cannot hand out a provider.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No provider has that name.
    #[error("provider `{name}` is not defined")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The providers that exist.
        defined: Vec<String>,
    },
    /// The provider could not be set up (key material, recipients, client).
    #[error("cannot use provider `{provider}` ({at})")]
    Build {
        /// The provider.
        provider: String,
        /// Where it is defined.
        at: Location,
        /// Why.
        #[source]
        source: ProviderError,
    },
    /// A provider was preset after it had been built.
    #[error("provider `{0}` is already in use")]
    InUse(String),
}

async fn build(ctx: &Context, def: &ProviderDef) -> Result<Arc<dyn Provider>, RegistryError> {
    let base_dir = def.at.file.parent().map(PathBuf::from).unwrap_or_default();
    let built: Result<Arc<dyn Provider>, ProviderError> = match &def.config {
        ProviderConfig::Local(c) => Ok(Arc::new(local::LocalProvider::new(ctx, c, &base_dir))),
        ProviderConfig::Age(c) => {
            age::AgeProvider::new(ctx, c, &base_dir).map(|p| Arc::new(p) as _)
        }
        #[cfg(feature = "aws-kms")]
        ProviderConfig::AwsKms(c) => {
            aws_kms::AwsKmsProvider::new(ctx, c).await.map(|p| Arc::new(p) as _)
        }
        #[cfg(feature = "vault-transit")]
        ProviderConfig::VaultTransit(c) => {
            vault_transit::VaultTransitProvider::new(ctx, c, &base_dir).map(|p| Arc::new(p) as _)
        }
    };
    built.map_err(|source| RegistryError::Build {
        provider: def.name.clone(),
        at: def.at.clone(),
        source,
    })
}
