//! Integration tests: the real `fnox` binary in a hermetic temp directory.
#![expect(
    clippy::unwrap_used,
    reason = "a test helper that cannot go on should panic with the value it got"
)]

mod common;

mod age_interop;
mod cli;
mod concurrency;
mod edits;
mod errors;
mod exec;
mod hierarchy;
mod kms;
mod rotate;
mod roundtrip;
mod transit;
