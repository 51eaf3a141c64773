#!/usr/bin/env bash
# The benchmark harness (run by hand, never by the tests): measures each
# figure of SPEC §5 beside its floor in the same run, and writes the table
# into docs/performance.md between the `bench/run.sh` markers.
#
# Usage: bash bench/run.sh                 (about 2 minutes after the build)
#   RUNS=30 (hyperfine runs per command), ROUNDS=5 (a command and its floor
#   are measured in that many alternating blocks), FNOX_BIN=path (skip the build),
#   SKIP_KMS=1 (leave out bench/kms_exec.sh and bench/kms_rotate.sh).
#
# Figures and floors (SPEC §5), each beside its floor in this one run:
#   get 1 of 1,000 secrets (local, age)  vs  `fnox --version` (the process
#                                            floor): ≤ 2×
#   set into that file (local): a new value for an existing entry, and a
#   new entry (the file restored before each run)  vs `fnox --version`: ≤ 3×
#   exec -- true, 100 secrets (local)    vs  `env V1=.. V100=.. true`: ≤ 1.5×
#   (context, no target: `fnox --version` and the exec of a project with no
#   secrets against the same env floor: where exec's ratio comes from)
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

# A command (hyperfine options and command as the arguments) and its floor
# (one command line), measured in ROUNDS alternating blocks of RUNS/ROUNDS
# runs each: this machine's speed drifts over minutes, and a drift then
# falls on the command and its floor alike. Prints "median sd floor_median
# floor_sd" in ms, over all runs of each: the median, because a stall of the
# shared disk under an fsync (set) or of the machine lands on one run and
# moves a mean far more than it moves the command's usual time.
ROUNDS=${ROUNDS:-5}
measure_vs() { # name, floor command, hyperfine options and command...
    local name=$1 floor=$2 per=$(((RUNS + ROUNDS - 1) / ROUNDS)) r
    shift 2
    for r in $(seq 1 "$ROUNDS"); do
        hyperfine -N --warmup 2 --runs "$per" --export-json "$out_dir/$name.$r.json" "$@" >/dev/null 2>&1
        hyperfine -N --warmup 2 --runs "$per" --export-json "$out_dir/$name.floor.$r.json" \
            "$floor" >/dev/null 2>&1
    done
    python3 - "$out_dir" "$name" "$ROUNDS" <<'PY'
import json, statistics, sys
d, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def ms(kind):
    t = []
    for r in range(1, rounds + 1):
        t += json.load(open(f"{d}/{name}{kind}.{r}.json"))["results"][0]["times"]
    return statistics.median(t) * 1000, statistics.stdev(t) * 1000
print("%.2f %.2f %.2f %.2f" % (*ms(""), *ms(".floor")))
PY
}
env_label="(env V1..V100 true)"

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

# How busy the host was: the share of this machine's CPU time that it
# waited while the host ran others ("steal" in /proc/stat, a VM's view of
# contention), from here to the table; fnox's start is page faults, which
# cost more then, so its ratios move more than its floors'.
cpu_times() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $9, t }' /proc/stat 2>/dev/null; }
read -r steal_before total_before < <(cpu_times || echo "0 0")

# The process floor, `fnox --version`, is measured beside each row that
# uses it (measure_vs).
cd "$work"
version_cmd="$fnox --version"
floor_text() { printf '%s ± %s ms (`fnox --version`)' "$1" "$2"; }

for provider in local age; do
    log "get: 1 of 1,000 $provider secrets"
    dir=$work/get-$provider
    make_project "$dir" "$provider" 1000
    cd "$dir"
    read -r get_mean get_sd gv gv_sd < <(measure_vs "get-$provider" "$version_cmd" "$fnox get S0500")
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
        "$(floor_text "$gv" "$gv_sd")" "$(ratio "$get_mean" "$gv")×" "≤ 2×"

    if [ "$provider" = local ]; then
        log "set into a 1,000-secret file"
        printf 'new-value-%s' "$(head -c 24 /dev/urandom | base64)" >"$work/value.txt"
        cp fnox.toml "$work/fnox.toml.orig"
        read -r set_mean set_sd sv sv_sd < <(measure_vs set-existing "$version_cmd" \
            --prepare "cp $work/fnox.toml.orig $dir/fnox.toml" \
            "$fnox set S0500 --from-file $work/value.txt")
        row "set into that file (existing entry)" "$set_mean ± $set_sd ms" \
            "$(floor_text "$sv" "$sv_sd")" "$(ratio "$set_mean" "$sv")×" "≤ 3×"
        read -r new_mean new_sd nv nv_sd < <(measure_vs set-new "$version_cmd" \
            --prepare "cp $work/fnox.toml.orig $dir/fnox.toml" \
            "$fnox set NEW_SECRET --from-file $work/value.txt")
        row "set into that file (new entry)" "$new_mean ± $new_sd ms" \
            "$(floor_text "$nv" "$nv_sd")" "$(ratio "$new_mean" "$nv")×" "≤ 3×"
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
    read -r exec_mean exec_sd env_mean env_sd < <(measure_vs "exec-$provider" "$work/env100.sh" \
        "$fnox exec -- true")
    target="≤ 1.5×"
    [ "$provider" = age ] && target="⅓ of jdx/fnox (below, when built)"
    if [ "$provider" = age ] && [ -x "$peer" ]; then
        FNOX_AGE_KEY_FILE=$FNOX_CONFIG_DIR/age.txt peer_row "exec -- true, 100 secrets (age)" exec-age \
            "$fnox exec -- true" "$peer exec -- true"
    fi
    row "exec -- true, 100 secrets ($provider)" "$exec_mean ± $exec_sd ms" \
        "$env_mean ± $env_sd ms $env_label" "$(ratio "$exec_mean" "$env_mean")×" "$target"
    if [ "$provider" = local ]; then
        # Where that ratio comes from (no targets): fnox's own start and exit
        # against the same env floor, and the exec of a project with no secrets.
        log "exec -- true with no secrets, and the process floor against env"
        mkdir -p "$work/exec-none"
        (cd "$work/exec-none" && "$fnox" -q init --provider local)
        read -r ver_mean ver_sd ve_mean ve_sd < <(measure_vs version-vs-env "$work/env100.sh" "$version_cmd")
        row "(context) \`fnox --version\`" "$ver_mean ± $ver_sd ms" \
            "$ve_mean ± $ve_sd ms $env_label" "$(ratio "$ver_mean" "$ve_mean")×" "—"
        read -r none_mean none_sd ne_mean ne_sd < <(cd "$work/exec-none" &&
            measure_vs exec-none "$work/env100.sh" "$fnox exec -- true")
        row "(context) exec -- true, no secrets (local)" "$none_mean ± $none_sd ms" \
            "$ne_mean ± $ne_sd ms $env_label" "$(ratio "$none_mean" "$ne_mean")×" "—"
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

read -r steal_after total_after < <(cpu_times || echo "0 0")
steal_text=$(python3 -c "d = $total_after - $total_before; print(f'{100 * ($steal_after - $steal_before) / d:.1f}%' if d > 0 else 'unknown')")

cd "$root"
# How much of the hot-code list (build.rs, bench/hot_code.sh) this binary
# has: functions changed since the list was made keep their place.
hot_listed=$(grep -vc '^#' build/hot-code.txt)
hot_found=$(comm -12 <(nm --defined-only "$fnox" | awk '{print $NF}' | sort -u) \
    <(grep -v '^#' build/hot-code.txt | sort -u) | wc -l)
table=$(
    printf '%s\n' "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $rustc_version, $fnox_version, hyperfine $RUNS runs per command and its floor, in $ROUNDS alternating rounds (the rows with a floor: median of the runs ± σ; the others: mean ± σ). Hot code first: $hot_found of the $hot_listed functions of build/hot-code.txt are in this binary. CPU time the host took for others during the run (steal): $steal_text."
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
