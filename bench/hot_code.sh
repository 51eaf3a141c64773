#!/usr/bin/env bash
# Writes build/hot-code.txt: the functions of the `fnox` program that its
# everyday commands run, which build.rs hands to the linker
# (--symbol-ordering-file) so that they sit side by side at the start of
# the program's code. A command then touches a few dozen pages of code
# instead of a few hundred scattered over 15 MB, and each first touch of a
# page is a page fault (docs/performance.md, "hot code first").
#
# Usage: bash bench/hot_code.sh        (run by hand after changes to the
#   code paths below, then commit build/hot-code.txt; about a minute after
#   the build). Needs valgrind (Debian package, installed when missing).
#
# The commands traced (each as in bench/run.sh): fnox --version; get 1 of
# 1,000 local and age secrets; set into the local file (an existing entry
# and a new one); exec -- true with 100 local and 100 age secrets and with
# none; list. Each function any of them runs is listed, those that more
# commands run first. The names are the linker's (mangled): they do not
# depend on where the checkout is, but a function renamed or changed since
# the list was made is missing from it and simply keeps its place (the
# linker is told not to warn).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=bench/common.sh
. bench/common.sh
need_packages valgrind
release_fnox

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FNOX_CONFIG_DIR=$work/config HOME=$work/home
mkdir -p "$HOME" "$work/traces"

# trace NAME DIR COMMAND...: the command's calls up to the execvp of an
# exec (callgrind dumps there; the program exec runs is not traced).
trace() {
    local name=$1 dir=$2
    shift 2
    (cd "$dir" && valgrind --tool=callgrind --demangle=no --dump-before=execvp \
        --callgrind-out-file="$work/traces/$name" "$fnox" "$@" \
        </dev/null >/dev/null 2>"$work/traces/$name.log") ||
        { log "$name failed:"; cat "$work/traces/$name.log" >&2; exit 1; }
}

log "projects"
make_project "$work/get-local" local 1000
make_project "$work/get-age" age 1000
make_project "$work/exec-local" local 100
make_project "$work/exec-age" age 100
mkdir -p "$work/empty" && (cd "$work/empty" && "$fnox" -q init)
printf 'new-value' >"$work/value.txt"

log "tracing the commands under callgrind"
trace version "$work" --version
trace get-local "$work/get-local" get S0500
trace get-age "$work/get-age" get S0500
trace set-existing "$work/get-local" set S0500 --from-file "$work/value.txt"
trace set-new "$work/get-local" set NEW_SECRET --from-file "$work/value.txt"
trace exec-local "$work/exec-local" exec -- true
trace exec-age "$work/exec-age" exec -- true
trace exec-empty "$work/empty" exec -- true
trace list "$work/exec-local" list

python3 - "$work/traces" "$fnox" >build/hot-code.txt <<'PY'
import collections, os, re, sys

traces, program = sys.argv[1], os.path.realpath(sys.argv[2])
name_of = re.compile(r"^(c?ob|c?fn)=\((\d+)\)(?: (.*))?$")
uses = collections.Counter()
first_seen = {}
for trace in sorted(os.listdir(traces)):
    if trace.endswith(".log"):
        continue
    objects, functions, current, ran = {}, {}, None, set()
    for line in open(os.path.join(traces, trace), errors="replace"):
        m = name_of.match(line.rstrip("\n"))
        if not m:
            continue
        kind, ident, name = m.groups()
        table = objects if kind.endswith("ob") else functions
        if name:
            table[ident] = name
        if kind == "ob":
            current = objects[ident]
        elif kind == "fn" and current and os.path.realpath(current) == program:
            ran.add(functions[ident])
    for fn in sorted(ran):
        # Unnamed code (an address) and the C start-up are not placed.
        if fn.startswith("0x") or fn.startswith("("):
            continue
        uses[fn] += 1
        first_seen.setdefault(fn, len(first_seen))
print("# Written by bench/hot_code.sh: the functions that fnox's everyday commands")
print("# run, handed to the linker by build.rs so that they sit together. Do not")
print("# edit by hand; run the script again after changing those code paths.")
for fn in sorted(uses, key=lambda f: (-uses[f], first_seen[f])):
    print(fn)
PY
log "build/hot-code.txt: $(grep -vc '^#' build/hot-code.txt) functions"
