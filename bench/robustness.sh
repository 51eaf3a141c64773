#!/usr/bin/env bash
# The review's robustness figures, re-measured by hand (not a test):
# concurrent `set`s lose no entry, and a `set` killed at any moment leaves
# the old file or the new one, never a torn or empty one.
# Usage: bash bench/robustness.sh [FNOX_BINARY] (default target/release/fnox)
set -euo pipefail
fnox=$(realpath "${1:-target/release/fnox}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home FNOX_CONFIG_DIR=$work/config
mkdir -p "$HOME" "$work/p"
cd "$work/p"
"$fnox" init >/dev/null 2>&1

# 1. 40 rounds of 8 concurrent sets of new names: every entry must be there.
lost=0
for round in $(seq 1 40); do
    for w in $(seq 1 8); do
        printf %s "value-$round-$w" | "$fnox" set "R${round}_W$w" 2>/dev/null &
    done
    wait
done
for round in $(seq 1 40); do
    for w in $(seq 1 8); do
        grep -q "^R${round}_W$w = " fnox.toml || lost=$((lost + 1))
    done
done
echo "concurrent sets: 320, lost entries: $lost"

# 2. 520 sets killed with SIGKILL after 0-20 ms: the file must always parse
#    and hold every earlier entry; no temporary file may stay for long.
torn=0
for i in $(seq 1 520); do
    head -c 3000 /dev/urandom | base64 -w0 | "$fnox" set "K$((i % 7))" 2>/dev/null &
    pid=$!
    sleep "0.0$((RANDOM % 20))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if ! "$fnox" list >/dev/null 2>&1 || ! grep -q '^R40_W8 = ' fnox.toml; then
        torn=$((torn + 1))
    fi
done
echo "sets killed: 520, torn or unreadable files: $torn"
[ "$lost" = 0 ] && [ "$torn" = 0 ]
