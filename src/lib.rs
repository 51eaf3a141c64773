//! fnox: a git-friendly secrets tool.
//!
//! Secrets live encrypted in `fnox.toml`, next to the code; keys live
//! outside the repository. This crate is the whole tool as a library: the
//! binary in `main.rs` only parses arguments, calls [`cli::run`] and maps
//! errors to exit codes.

pub mod cli;
pub mod config;
pub mod envelope;
pub mod error;
pub mod exit_codes;
pub mod hygiene;
pub mod providers;
pub mod redact;
pub mod resolve;
pub mod rotate;
pub mod secret;
pub mod settings;
pub mod value;

pub use error::{Error, Result};
pub use secret::SecretBytes;
