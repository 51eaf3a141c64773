//! Integration tests: the real `fnox` binary in a hermetic temp directory.

mod common;

mod age_interop;
mod concurrency;
mod edits;
mod errors;
mod exec;
mod hierarchy;
mod roundtrip;
