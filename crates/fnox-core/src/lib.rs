//! fnox as a library: load a project's `fnox.toml`, decrypt its secrets,
//! encrypt values with the same providers and keys, rotate.
//!
//! Secrets live encrypted in `fnox.toml`, next to the code; the keys that
//! open them live elsewhere (a local keyring, age identities, AWS KMS,
//! Vault/OpenBao transit). The `fnox` command line is a thin layer over
//! this crate.
//!
//! Start with [`Fnox`]: build it from an [`Environment`] (the library never
//! reads the process environment itself), [`Fnox::load`] a [`Project`],
//! then read secrets ([`Project::get`], [`Project::resolve`]) or seal and
//! open your own values ([`Project::sealer`]). Every call has a blocking
//! form for plain code and an `_async` form for async code; neither needs a
//! runtime from the caller, and neither nests one.
//!
//! ```no_run
//! use fnox_core::{Environment, Fnox, LoadOptions};
//!
//! let env = Environment::from_vars(
//!     std::env::current_dir()?,
//!     std::env::vars_os(),
//!     &[],
//! )
//! .with_home(std::env::home_dir());
//! let fnox = Fnox::new(env)?;
//! let project = fnox.load(&LoadOptions::default().with_profile("production")?)?;
//! let token = project.get("API_TOKEN")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Cargo features: `aws-kms` and `vault-transit` (both on by default) build
//! those providers; `local` and `age` are always there.

#![warn(missing_docs)]

pub mod agent;
pub mod codec;
pub mod config;
pub mod doctor;
mod env;
pub mod envelope;
pub mod error;
mod error_chain;
pub mod exec_control;
pub mod failure;
pub mod file_key;
pub mod git;
mod hint;
pub mod inject;
pub mod interpolate;
pub mod key_age;
pub mod keys;
mod notice;
pub mod plan;
mod project;
pub mod prompt;
pub mod providers;
pub mod redact;
pub mod resolve;
pub mod rotate;
mod runtime;
pub mod scan;
mod secret;
pub mod shape;
pub mod suggest;
pub mod value;
pub mod versions;
pub mod words;

pub use config::LoadOptions;
pub use env::{Environment, KEY_VARIABLES, VARIABLES};
pub use error::{Error, Result};
pub use hint::{Damage, Hint};
pub use notice::{JdxItem, Notice, Notify};
pub use project::{Fnox, Outcomes, Project, Resolved, Sealer};
pub use resolve::{Outcome, Plaintext, Source};
pub use runtime::RuntimeFlavor;
pub use secret::SecretBytes;
