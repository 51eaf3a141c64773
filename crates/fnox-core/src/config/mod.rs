//! Config files: the model (typed, located), discovery and merge
//! ([`load`]), and in-place edits written back atomically ([`edit`],
//! [`write`]). This layer knows nothing of providers beyond their settings.

pub mod edit;
mod error;
mod fields;
mod jdx;
mod left_out;
#[cfg(test)]
mod left_out_tests;
mod listing;
mod lite;
mod load;
mod model;
mod options;
mod parse;
#[cfg(test)]
mod parse_equivalence;
mod providers;
mod simple;
mod tree;
mod trust;
pub mod write;

pub(crate) use error::did_you_mean;
pub use error::{ConfigError, Location, UnknownSecret};
pub(crate) use fields::Fields;
pub use jdx::{
    IgnoredKey, PROFILE_NO_EFFECT, PROVIDER_NO_EFFECT, SECRET_NO_EFFECT, TOP_NO_EFFECT,
    UNSUPPORTED_TYPES, UnsupportedConfig, notice as jdx_notice,
};
pub use left_out::LeftOut;
pub use load::load;
pub(crate) use model::digest;
pub use model::{Config, EnvMode, IfMissing, MaxKeyAge, ProviderDef, SecretDef, Target};
pub use options::{DEFAULT_PROFILE, LoadOptions, OnlyOne, is_valid_profile, split_profiles};
pub use parse::is_valid_name;
pub use providers::{
    AgeConfig, AwsKmsConfig, IdentityRef, KMS_DATA_KEY_CONTEXT_KEY, KMS_FILE_KEY_CONTEXT_KEYS,
    KMS_NAME_CONTEXT_KEY, KNOWN_TYPES, LocalConfig, PlainConfig, ProviderConfig, TYPES,
    VaultTransitConfig,
};
pub use trust::{Distrust, MAX_CONFIG_SIZE, Owner, TRUSTED_DIRS_KEY, TRUSTED_DIRS_VAR};
pub(crate) use {model::Layer, parse::parse_file};
