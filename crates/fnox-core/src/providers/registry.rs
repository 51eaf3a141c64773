//! [`Registry`]: builds each provider of a config once, on first use, and
//! shares it.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Weak},
};

use tokio::sync::OnceCell;

#[cfg(feature = "aws-kms")]
use super::aws_kms;
#[cfg(feature = "vault-transit")]
use super::vault_transit;
use super::{
    age,
    cached::AgentCached,
    error::ProviderError,
    local, plain,
    provider::{Context, Provider},
};
use crate::{
    config::{AgeConfig, Location, ProviderConfig, ProviderDef},
    hint::Hint,
};

/// Builds each provider once per process, on first use, and shares it.
#[derive(Debug)]
pub struct Registry {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ctx: Context,
    defs: HashMap<String, ProviderDef>,
    built: HashMap<String, OnceCell<Arc<dyn Provider>>>,
    /// A provider may need the runtime's IO and timer drivers: a key
    /// service's client, or a provider given by the caller.
    drivers: std::sync::atomic::AtomicBool,
}

/// A handle on a registry that does not keep it alive: what an `age`
/// provider uses to reach the provider that holds its identity.
#[derive(Debug, Clone)]
pub(crate) struct RegistryRef(Weak<Inner>);

impl RegistryRef {
    /// The provider called `name`, built on first use.
    pub(crate) async fn get(&self, name: &str) -> Result<Arc<dyn Provider>, RegistryError> {
        match self.0.upgrade() {
            Some(inner) => inner.get(name).await,
            None => Err(RegistryError::Unknown { name: name.to_string(), defined: Vec::new() }),
        }
    }
}

impl Registry {
    /// A registry over the providers of one merged config.
    pub fn new(ctx: Context, defs: impl IntoIterator<Item = ProviderDef>) -> Self {
        let defs: HashMap<_, _> = defs.into_iter().map(|d| (d.name.clone(), d)).collect();
        let built = defs.keys().map(|k| (k.clone(), OnceCell::new())).collect();
        let drivers = defs.values().any(|d| {
            !matches!(
                d.config,
                ProviderConfig::Local(_)
                    | ProviderConfig::Age(_)
                    | ProviderConfig::Plain(_)
                    | ProviderConfig::Unsupported(_)
            )
        });
        let drivers = drivers.into();
        Self { inner: Arc::new(Inner { ctx, defs, built, drivers }) }
    }

    /// True when a provider of this registry may need the runtime's IO and
    /// timer drivers: one of a key service (`aws-kms`, `vault-transit`), or
    /// one given with [`Registry::preset`]. `local`, `age` and `plain` need
    /// neither (the agent's client and age plugins block on threads of
    /// their own).
    pub fn needs_drivers(&self) -> bool {
        self.inner.drivers.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Uses `provider` for `name` instead of building it from its settings
    /// (e.g. a `local` provider with a new primary key during `rotate`).
    pub fn preset(&self, name: &str, provider: Arc<dyn Provider>) -> Result<(), RegistryError> {
        let cell = self.inner.built.get(name).ok_or_else(|| self.inner.unknown(name))?;
        self.inner.drivers.store(true, std::sync::atomic::Ordering::Relaxed);
        cell.set(provider).map_err(|_| RegistryError::InUse(name.to_string()))
    }

    /// The settings of provider `name`.
    pub fn def(&self, name: &str) -> Option<&ProviderDef> {
        self.inner.defs.get(name)
    }

    /// The provider context.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// The provider called `name`, built on first use.
    pub async fn get(&self, name: &str) -> Result<Arc<dyn Provider>, RegistryError> {
        self.inner.get(name).await
    }

    /// Provider `name` could not be used: `source` came from the first use
    /// of a client it sets up lazily ([`ProviderError::is_setup`]).
    pub(crate) fn setup_failed(&self, name: &str, source: ProviderError) -> RegistryError {
        match self.inner.defs.get(name) {
            Some(def) => {
                RegistryError::Build { provider: name.to_string(), at: def.at.clone(), source }
            }
            None => self.inner.unknown(name),
        }
    }
}

impl Inner {
    async fn get(self: &Arc<Self>, name: &str) -> Result<Arc<dyn Provider>, RegistryError> {
        let (Some(def), Some(cell)) = (self.defs.get(name), self.built.get(name)) else {
            return Err(self.unknown(name));
        };
        cell.get_or_try_init(|| self.build(def)).await.cloned()
    }

    fn unknown(&self, name: &str) -> RegistryError {
        RegistryError::Unknown { name: name.to_string(), defined: self.names() }
    }

    fn names(&self) -> Vec<String> {
        let mut defined: Vec<String> = self.defs.keys().cloned().collect();
        defined.sort();
        defined
    }

    async fn build(
        self: &Arc<Self>,
        def: &ProviderDef,
    ) -> Result<Arc<dyn Provider>, RegistryError> {
        let ctx = &self.ctx;
        let base_dir = def.at.file.parent().map(PathBuf::from).unwrap_or_default();
        let built: Result<Arc<dyn Provider>, ProviderError> = match &def.config {
            ProviderConfig::Local(c) => Ok(Arc::new(local::LocalProvider::new(ctx, c, &base_dir))),
            ProviderConfig::Age(c) => self.check_identity(&def.name, c).and_then(|()| {
                let registry = RegistryRef(Arc::downgrade(self));
                age::AgeProvider::new(ctx, c, &base_dir, registry).map(|p| Arc::new(p) as _)
            }),
            #[cfg(feature = "aws-kms")]
            ProviderConfig::AwsKms(c) => Ok(Arc::new(aws_kms::AwsKmsProvider::new(ctx, c))),
            #[cfg(feature = "vault-transit")]
            ProviderConfig::VaultTransit(c) => {
                vault_transit::VaultTransitProvider::new(ctx, c, &base_dir)
                    .map(|p| Arc::new(p) as _)
            }
            ProviderConfig::Plain(c) => plain::PlainProvider::new(c).map(|p| Arc::new(p) as _),
            ProviderConfig::Unsupported(c) => {
                return Err(RegistryError::Unsupported {
                    provider: def.name.clone(),
                    kind: c.kind,
                    at: def.at.clone(),
                });
            }
        };
        let built = built.map(|p| self.with_agent(p, def));
        built.map_err(|source| RegistryError::Build {
            provider: def.name.clone(),
            at: def.at.clone(),
            source,
        })
    }

    /// `provider` with the agent in front of its decryption, for the types
    /// whose decryption costs a key-service request or age's X25519 work
    /// (not `local` and `plain`), unless the agent is off.
    fn with_agent(&self, provider: Arc<dyn Provider>, def: &ProviderDef) -> Arc<dyn Provider> {
        let costly = match &def.config {
            ProviderConfig::Age(_) => true,
            #[cfg(feature = "aws-kms")]
            ProviderConfig::AwsKms(_) => true,
            #[cfg(feature = "vault-transit")]
            ProviderConfig::VaultTransit(_) => true,
            _ => false,
        };
        if !costly || !self.ctx.agent.enabled() {
            return provider;
        }
        Arc::new(AgentCached::new(provider, def, self.ctx.agent.clone()))
    }

    /// The chain of age providers whose identities hold each other's, from
    /// age provider `name`: an error when it names an undefined provider or
    /// leads back to a provider already in it.
    fn check_identity(&self, name: &str, config: &AgeConfig) -> Result<(), ProviderError> {
        let mut chain = vec![name.to_string()];
        let mut next = config.identity.as_ref();
        while let Some(id) = next {
            let Some(def) = self.defs.get(&id.provider) else {
                let (provider, defined) = (id.provider.clone(), self.names());
                return Err(ProviderError::IdentityUndefined { provider, defined });
            };
            let cycle = chain.contains(&id.provider);
            chain.push(id.provider.clone());
            if cycle {
                return Err(ProviderError::IdentityCycle { chain });
            }
            next = match &def.config {
                ProviderConfig::Age(c) => c.identity.as_ref(),
                _ => None,
            };
        }
        Ok(())
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
    /// A provider of a jdx/fnox type that fnox does not implement.
    #[error("provider `{provider}` has type `{kind}`, which fnox does not support ({at})")]
    Unsupported {
        /// The provider.
        provider: String,
        /// Its type.
        kind: &'static str,
        /// Where it is defined.
        at: Location,
    },
}

impl RegistryError {
    /// What to do about it, where known.
    pub fn hints(&self) -> Vec<Hint> {
        match self {
            Self::Unknown { defined, .. } => vec![Hint::DefinedProviders(defined.clone())],
            Self::Build { source, .. } => source.hints(None),
            Self::Unsupported { kind, .. } => vec![Hint::UnsupportedType { kind }],
            Self::InUse(_) => Vec::new(),
        }
    }
}
