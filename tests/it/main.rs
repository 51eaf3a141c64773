//! Integration tests: the real `fnox` binary in a hermetic temp directory.
#![expect(
    clippy::unwrap_used,
    reason = "a test helper that cannot go on should panic with the value it got"
)]

mod common;

mod activate;
mod age_interop;
mod age_passphrase;
mod age_plugin;
mod agent;
mod ci_docs;
mod cli;
mod completion;
mod concurrency;
mod data_key_mode;
mod data_keys;
mod doctor;
mod edit;
mod edits;
mod errors;
mod exec;
mod export;
mod git_diff;
mod hierarchy;
mod if_missing;
mod import;
mod init;
mod jdx_check;
mod jdx_commands;
mod jdx_env;
mod jdx_flags;
mod jdx_import_export;
mod jdx_profiles;
mod jdx_providers;
mod jdx_values;
mod key_age;
mod key_files;
mod key_race;
mod keychain;
mod keys;
mod kms;
mod limits;
mod local_passphrase;
mod profiles;
mod proxy;
mod pty;
mod readme;
mod redact;
mod rotate;
mod roundtrip;
mod scan;
mod sensitive;
mod set_one;
mod transit;
mod trust;
mod writes;
