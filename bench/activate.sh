#!/usr/bin/env bash
# The cost of a prompt where nothing changed, with shell activation (run by
# hand, never by the tests): a bash with `fnox activate bash` in a project
# of 20 secrets, four directories below the project's root, runs the prompt
# hook (`__fnox_hook`, as PROMPT_COMMAND does) N times; the figure is the
# wall time per prompt. Beside it, the same loop running `true` through a
# command substitution: the cost of starting any program from the prompt.
#
# Usage: bash bench/activate.sh        (builds the release binary first)
#   FNOX_BIN=path   use that binary instead of building
#   N=500           prompts per measure (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# shellcheck source=bench/common.sh
. bench/common.sh
release_fnox
n=${N:-500}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FNOX_CONFIG_DIR=$work/config HOME=$work/home
mkdir -p "$HOME" "$work/project/a/b/c/d"
cd "$work/project"
"$fnox" init -q >/dev/null
for i in $(seq 1 20); do printf 'value-%s' "$i" | "$fnox" set -q "SECRET_$i"; done

log "$n no-change prompts in $work/project/a/b/c/d"
FNOX="$fnox" N="$n" bash --norc --noprofile -c '
    ms() { echo $(( ($2 - $1) / N / 1000 )); }
    cd a/b/c/d
    eval "$("$FNOX" activate bash)" 2>/dev/null
    [ "$SECRET_20" = value-20 ] || { echo "activation did not load" >&2; exit 1; }
    t0=$(date +%s%N)
    for _ in $(seq "$N"); do __fnox_hook; done
    t1=$(date +%s%N)
    for _ in $(seq "$N"); do x=$(/bin/true); done
    t2=$(date +%s%N)
    printf "no-change prompt (fnox hook): %s us\n" "$(ms "$t0" "$t1")"
    printf "starting a program from a prompt (baseline): %s us\n" "$(ms "$t1" "$t2")"
'
