#!/usr/bin/env bash
# The benchmark harness (run by hand, never by the tests): measures each
# figure of SPEC §5 beside its floor in the same run, and writes the table
# into docs/performance.md between the `bench/run.sh` markers.
#
# Usage: bash bench/run.sh                 (about 2 minutes after the build)
#   RUNS=30 (hyperfine runs per command), FNOX_BIN=path (skip the build),
#   SKIP_KMS=1 (leave out bench/kms_exec.sh and bench/kms_rotate.sh).
#
# Figures and floors (SPEC §5), each beside its floor in this one run:
#   get 1 of 1,000 secrets (local, age)  vs  `fnox --version` (the process
#                                            floor): ≤ 2×
#   set into that file (local): a new value for an existing entry, and a
#   new entry (the file restored before each run)  vs `fnox --version`: ≤ 3×
#   exec -- true, 100 secrets (local)    vs  `env V1=.. V100=.. true`: ≤ 1.5×
#   exec -- true, 100 secrets (age)      vs  the same `env` (SPEC: a third of
#                                            jdx/fnox, which is not built here)
#   envelope set / get of 10 MiB (local) peak RSS (/usr/bin/time -v) / 10 MiB
#   aws-kms exec and rotate through a 50 ms proxy: bench/kms_exec.sh and
#   bench/kms_rotate.sh (their summaries are appended)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
RUNS=${RUNS:-30}
out_dir=$root/target/bench/run
mkdir -p "$out_dir"

# shellcheck source=bench/common.sh
. bench/common.sh
need_packages hyperfine age time
release_fnox

rustc_version=$(rustc --version)
user_home=$HOME
fnox_version=$("$fnox" --version)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FNOX_CONFIG_DIR=$work/config HOME=$work/home
mkdir -p "$HOME"

# mean and stddev in ms of one command, from hyperfine's JSON
measure() { # name, command...
    local name=$1
    shift
    hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$out_dir/$name.json" "$@" >/dev/null 2>&1
    python3 - "$out_dir/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"{r['mean'] * 1000:.2f} {r['stddev'] * 1000:.2f}")
PY
}

# A project with N secrets of provider P, plus PLAIN (a default).
make_project() { # dir, provider, count
    local dir=$1 provider=$2 count=$3
    mkdir -p "$dir"
    (
        cd "$dir"
        "$fnox" -q init --provider "$provider"
        {
            for i in $(seq -f '%04g' 1 "$count"); do
                printf 'S%s=value-%s-%s\n' "$i" "$i" "$(head -c 24 /dev/urandom | base64)"
            done
        } >secrets.env
        "$fnox" -q import --provider "$provider" secrets.env
        rm secrets.env
        printf 'PLAIN = { default = "plain-value" }\n' >>fnox.toml
    )
}

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); }
# jdx/fnox beside fnox on the same age files, when it was built into
# target/peer (`cargo install fnox --version 1.39.0 --root target/peer`);
# both read the identity from FNOX_AGE_KEY_FILE, and `set` reads stdin in
# both (through sh, for both).
peer=${PEER_BIN:-$root/target/peer/bin/fnox}
peer_rows=()
peer_row() { # label, name, our command, their command
    local ours theirs
    read -r ours ours_sd < <(measure "$2-ours" "$3")
    read -r theirs theirs_sd < <(measure "$2-jdx" "$4")
    peer_rows+=("| $1 | $ours ± $ours_sd ms | $theirs ± $theirs_sd ms | $(ratio "$ours" "$theirs")× |")
}
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# The process floor, measured once (beside every row that uses it).
cd "$work"
read -r version_mean version_sd < <(measure version "$fnox --version")
version_floor="$version_mean ± $version_sd ms (\`fnox --version\`)"

for provider in local age; do
    log "get: 1 of 1,000 $provider secrets"
    dir=$work/get-$provider
    make_project "$dir" "$provider" 1000
    cd "$dir"
    read -r get_mean get_sd < <(measure "get-$provider" "$fnox get S0500")
    if [ "$provider" = age ] && [ -x "$peer" ]; then
        log "jdx/fnox beside fnox: get and set of 1 of 1,000 age secrets"
        export FNOX_AGE_KEY_FILE=$FNOX_CONFIG_DIR/age.txt
        peer_row "get 1 of 1,000 secrets (age)" get-age "$fnox get S0500" "$peer get S0500"
        printf 'new-value-%s' "$(head -c 24 /dev/urandom | base64)" >"$work/value.txt"
        cp fnox.toml "$work/fnox.toml.age"
        for who in ours jdx; do
            bin=$fnox
            [ "$who" = jdx ] && bin=$peer
            read -r m sd < <(measure "set-age-$who" --prepare "cp $work/fnox.toml.age $dir/fnox.toml" \
                "sh -c '$bin set S0500 < $work/value.txt'")
            eval "set_$who=\"$m $sd\""
        done
        read -r om osd <<<"$set_ours"
        read -r jm jsd <<<"$set_jdx"
        peer_rows+=("| set into that file (existing entry; through sh) | $om ± $osd ms | $jm ± $jsd ms | $(ratio "$om" "$jm")× |")
        cp "$work/fnox.toml.age" fnox.toml
        unset FNOX_AGE_KEY_FILE
    fi
    row "get 1 of 1,000 secrets ($provider)" "$get_mean ± $get_sd ms" \
        "$version_floor" "$(ratio "$get_mean" "$version_mean")×" "≤ 2×"

    if [ "$provider" = local ]; then
        log "set into a 1,000-secret file"
        printf 'new-value-%s' "$(head -c 24 /dev/urandom | base64)" >"$work/value.txt"
        cp fnox.toml "$work/fnox.toml.orig"
        read -r set_mean set_sd < <(measure set-existing \
            --prepare "cp $work/fnox.toml.orig $dir/fnox.toml" \
            "$fnox set S0500 --from-file $work/value.txt")
        row "set into that file (existing entry)" "$set_mean ± $set_sd ms" \
            "$version_floor" "$(ratio "$set_mean" "$version_mean")×" "≤ 3×"
        read -r new_mean new_sd < <(measure set-new \
            --prepare "cp $work/fnox.toml.orig $dir/fnox.toml" \
            "$fnox set NEW_SECRET --from-file $work/value.txt")
        row "set into that file (new entry)" "$new_mean ± $new_sd ms" \
            "$version_floor" "$(ratio "$new_mean" "$version_mean")×" "≤ 3×"
        cp "$work/fnox.toml.orig" fnox.toml
    fi

    log "exec -- true with 100 $provider secrets"
    dir=$work/exec-$provider
    make_project "$dir" "$provider" 100
    cd "$dir"
    sed -i '/^PLAIN = /d' fnox.toml
    env_args=$("$fnox" export --format shell | sed 's/^export //' | tr '\n' ' ')
    printf '#!/bin/sh\nexec env %s true\n' "$env_args" >"$work/env100.sh"
    chmod +x "$work/env100.sh"
    # The floor: env with the same 100 variables, then true (one process
    # start for env, as fnox's own; the wrapper's exec replaces itself).
    read -r exec_mean exec_sd < <(measure "exec-$provider" "$fnox exec -- true")
    read -r env_mean env_sd < <(measure "exec-floor-$provider" "$work/env100.sh")
    target="≤ 1.5×"
    [ "$provider" = age ] && target="⅓ of jdx/fnox (below, when built)"
    if [ "$provider" = age ] && [ -x "$peer" ]; then
        FNOX_AGE_KEY_FILE=$FNOX_CONFIG_DIR/age.txt peer_row "exec -- true, 100 secrets (age)" exec-age \
            "$fnox exec -- true" "$peer exec -- true"
    fi
    row "exec -- true, 100 secrets ($provider)" "$exec_mean ± $exec_sd ms" \
        "$env_mean ± $env_sd ms (env V1..V100 true)" "$(ratio "$exec_mean" "$env_mean")×" "$target"
    if [ "$provider" = local ]; then
        # Where that ratio comes from (no targets): fnox's own start and exit
        # against the same env floor, and the exec of a project with no secrets.
        log "exec -- true with no secrets, and the process floor against env"
        mkdir -p "$work/exec-none"
        (cd "$work/exec-none" && "$fnox" -q init --provider local)
        read -r none_mean none_sd < <(cd "$work/exec-none" && measure exec-none "$fnox exec -- true")
        row "(context) \`fnox --version\`" "$version_mean ± $version_sd ms" \
            "$env_mean ± $env_sd ms (env V1..V100 true)" "$(ratio "$version_mean" "$env_mean")×" "—"
        row "(context) exec -- true, no secrets (local)" "$none_mean ± $none_sd ms" \
            "$env_mean ± $env_sd ms (env V1..V100 true)" "$(ratio "$none_mean" "$env_mean")×" "—"
    fi
done

log "envelope set/get of 10 MiB (peak RSS)"
dir=$work/mem
mkdir -p "$dir"
cd "$dir"
"$fnox" -q init
head -c 10485760 /dev/urandom >big.bin
peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}'; }
set_new_kb=$(peak "$fnox" -q set --envelope BIG --from-file big.bin)
set_again_kb=$(peak "$fnox" -q set --envelope BIG --from-file big.bin)
get_kb=$(peak "$fnox" get -n BIG)
"$fnox" get -n BIG | cmp -s - big.bin || { log "10 MiB round trip differs"; exit 1; }
mkdir -p "$work/tiny"
(cd "$work/tiny" && "$fnox" -q init && printf 'x' | "$fnox" -q set A)
tiny_kb=$(cd "$work/tiny" && peak "$fnox" get A)
for pair in "set (new entry):$set_new_kb" "set (replacing it):$set_again_kb" "get:$get_kb"; do
    label=${pair%%:*}
    kb=${pair##*:}
    row "envelope $label of 10 MiB, peak RSS" "$((kb / 1024)) MiB" \
        "$((tiny_kb / 1024)) MiB (\`get\` of a 1-byte secret)" "$(ratio "$kb" 10240)× of the value" "< 6×"
done

kms_sections=""
if [ -z "${SKIP_KMS:-}" ]; then
    for script in kms_exec kms_rotate; do
        if [ -f "$root/bench/$script.sh" ]; then
            log "bench/$script.sh"
            summary=$(HOME=$user_home FNOX_BIN=$fnox bash "$root/bench/$script.sh" 2>"$out_dir/$script.log") ||
                { log "bench/$script.sh failed; see $out_dir/$script.log"; exit 1; }
            kms_sections+=$'\n'"$summary"$'\n'
        fi
    done
fi

cd "$root"
table=$(
    printf '%s\n' "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $rustc_version, $fnox_version, hyperfine $RUNS runs per command (mean ± σ)."
    printf '\n| figure | measured | floor, same run | ratio | SPEC §5 target |\n|---|---|---|---|---|\n'
    printf '%s\n' "${rows[@]}"
    if [ "${#peer_rows[@]}" -gt 0 ]; then
        printf '\n### Beside jdx/fnox %s (same files, same run)\n\n' "$("$peer" --version | awk '{print $NF}')"
        printf '| figure | fnox | jdx/fnox | fnox / jdx |\n|---|---|---|---|\n'
        printf '%s\n' "${peer_rows[@]}"
    fi
    printf '%s' "$kms_sections"
)
doc=docs/performance.md
[ -f "$doc" ] || printf '# Performance\n\n<!-- bench/run.sh:start -->\n<!-- bench/run.sh:end -->\n' >"$doc"
SKIP_KMS=${SKIP_KMS:-} python3 - "$doc" "$table" <<'PY'
import os, sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
start, end = "<!-- bench/run.sh:start -->", "<!-- bench/run.sh:end -->"
if start not in text:
    text = text.rstrip("\n") + f"\n\n## SPEC §5 figures (bench/run.sh)\n\n{start}\n{end}\n"
head, rest = text.split(start, 1)
old, tail = rest.split(end, 1)
# SKIP_KMS=1 leaves the KMS sections of an earlier run as they were.
if os.environ.get("SKIP_KMS") and "\n## " in old:
    kept = old[old.index("\n## ") + 1:].rstrip("\n")
    table += "\n\n" + kept
open(path, "w").write(f"{head}{start}\n{table}\n{end}{tail}")
PY
printf '%s\n' "$table"
log "wrote $doc"
