//! Config files: discovery and merge ([`load`]), the typed model, and
//! in-place edits written back atomically ([`edit`], [`write`]).

pub mod edit;
mod fields;
pub mod load;
mod model;
mod parse;
pub mod write;

pub use fields::Fields;
pub use load::load;
pub use model::{Config, IfMissing, Layer, ParsedFile, ProviderDef, SecretDef, digest};
pub use parse::{is_valid_name, parse_file};

/// True for profile names usable in a file name (`fnox.NAME.toml`).
pub fn is_valid_profile(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
