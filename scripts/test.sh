#!/usr/bin/env bash
# The whole test suite, with its prerequisites: installs what the tests
# need (the `age` CLI), checks formatting and lints, and runs every test.
# Usage: bash scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The age CLI, for interop tests (Debian package `age`).
if ! command -v age >/dev/null 2>&1; then
    log "installing the age CLI"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age >/dev/null
fi

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy"
cargo clippy --locked --all-targets -- -D warnings

log "cargo test"
cargo test --locked "$@"
