#!/usr/bin/env bash
# exec --redact throughput (run by hand, never by the tests): CPU time of
# `fnox exec --redact` over output made to be hard for a redaction filter,
# beside the same command without --redact. Linear means: 4× the output
# takes about 4× the time, whatever the values look like.
#
# Usage: bash bench/redact.sh        (builds the release binary first)
#   FNOX_BIN=path   use that binary instead of building
#
# Cases:
#   run of a   a 100 KB value of `a` over 2 MB and over 8 MB of `a` (every
#              position is inside a value, and the longest possible prefix
#              of one is always pending)
#   base64     100 random 32-character values over 68 MB of base64 text,
#              each value written 1,000 times in it (ordinary CI output)
# Figures are the user + system CPU seconds of fnox and the command, the
# best of 3 runs; the command's own cost is the `exec` column.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# shellcheck source=bench/common.sh
. bench/common.sh
need_packages time
release_fnox
rustc_version=$(rustc --version)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FNOX_CONFIG_DIR=$work/config HOME=$work/home
mkdir -p "$HOME"

# best of 3: user+sys CPU seconds of `fnox ARGS...`, output to /dev/null
cpu() {
    local best=""
    for _ in 1 2 3; do
        local t
        /usr/bin/time -o "$work/time" -f '%U %S' "$fnox" "$@" >/dev/null 2>&1
        t=$(awk '{printf "%.2f", $1 + $2}' "$work/time")
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
    done
    printf '%s' "$best"
}

rows=()
row() { # case, output size, exec, exec --redact
    rows+=("| $1 | $2 | $3 s | $4 s |")
}

log "a 100 KB value of a over runs of a"
mkdir -p "$work/run" && cd "$work/run"
"$fnox" -q init
head -c 100000 /dev/zero | tr '\0' a | "$fnox" -q set A
for size in 2000000 8000000; do
    gen="head -c $size /dev/zero | tr '\\0' a"
    row "run of a, one 100 KB value" "$((size / 1000000)) MB" \
        "$(cpu exec -- sh -c "$gen")" "$(cpu exec --redact -- sh -c "$gen")"
done

log "100 random values over 68 MB of base64"
mkdir -p "$work/b64" && cd "$work/b64"
"$fnox" -q init
for i in $(seq 1 100); do
    head -c 24 /dev/urandom | base64 | tr -d '\n' | "$fnox" -q set "V$i"
done
# 68 MB, made once: 1,000 blocks of random base64, each followed by all
# 100 values; the command is `cat` of it.
"$fnox" exec -- sh -c 'for i in $(seq 1000); do head -c 48000 /dev/urandom | base64 -w 76; env | grep "^V[0-9]*=" | cut -d= -f2; done' >out.txt
gen='cat out.txt'
bytes=$(wc -c <out.txt)
row "base64 text, 100 values × 1,000 times" "$((bytes / 1000000)) MB" \
    "$(cpu exec -- sh -c "$gen")" "$(cpu exec --redact -- sh -c "$gen")"

printf '%s\n' "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $rustc_version, $("$fnox" --version); user + system CPU, best of 3."
printf '\n| output | size | `exec` (the command alone) | `exec --redact` |\n|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"
