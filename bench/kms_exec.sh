#!/usr/bin/env bash
# Benchmark (run by hand, not by the tests): `fnox exec -- true` with 100
# aws-kms secrets, against moto behind bench/latency_proxy.py, which adds a
# fixed delay to every request (50 ms: a distant KMS endpoint).
# SPEC §5 target: under 4 round trips of wall time, i.e. < 200 ms.
#
# Usage: bash bench/kms_exec.sh            (from anywhere; ~1 min after the build)
#   RUNS=20 WARMUP=1 DELAY_MS=50 OUT=target/bench/kms_exec  (defaults)
#   FNOX_BIN=path/to/fnox  skips the build and measures that binary
#   (FNOX_REV=TEXT then says in the summary which revision it was built from)
#
# What it does:
#  1. cargo build --release --locked;
#  2. starts moto on a free loopback port and several proxies in front of it
#     (each with its own --stats file, so every figure has clean counts);
#  3. creates a KMS key + alias with the venv's aws CLI, directly at moto;
#  4. in a temp project, sets 100 secrets S001..S100 with `fnox set`, the
#     endpoint pointing DIRECTLY at moto: the sets are not what is measured,
#     going direct saves 100 x 50 ms and keeps the proxies' counters clean.
#     The stored values do not depend on the endpoint, so the project is
#     then copied once per scenario with only `endpoint` changed;
#  5. measures with hyperfine (-N: no shell in between) and exports JSON:
#       exec-50      exec -- true, proxy 50 ms -> moto          (the figure)
#       exec-0       exec -- true, proxy 0 ms  -> moto          (the floor)
#       exec-direct  exec -- true, straight to moto (no proxy)
#       get-50/get-0 get S001 (one secret) through the proxies  (one round trip)
#     plus diagnostics with `--replay TrentService.Decrypt` (the proxy answers
#     a Decrypt it has seen before with moto's earlier answer, so moto's own
#     processing, a few ms per request and one request at a time, drops out):
#       exec-50-replay, exec-0-replay, and exec-50-replay-conn100 (also
#       100 ms per NEW connection: a TCP + TLS 1.3 handshake at 50 ms RTT);
#  6. counts the KMS requests and TCP connections of one exec from the
#     proxy's stats (before/after) and prints the timeline of one exec from
#     the proxy's trace;
#  7. prints a Markdown summary (also saved to $OUT/summary.md).
# A trap on EXIT stops moto and the proxies and removes the temp project.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

RUNS=${RUNS:-20}
WARMUP=${WARMUP:-1}
DELAY_MS=${DELAY_MS:-50}
N_SECRETS=100
OUT=${OUT:-$root/target/bench/kms_exec}

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- prerequisites -----------------------------------------------------------
if ! command -v hyperfine >/dev/null 2>&1; then
    log "installing hyperfine (Debian package)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null ||
        { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null; }
fi
venv=$root/.venv
if [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/aws" ]; then
    log "installing moto and the aws CLI into .venv (as scripts/test.sh does)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-test.txt
fi

if [ -n "${FNOX_BIN:-}" ]; then
    fnox=$(realpath "$FNOX_BIN") # a binary built elsewhere (e.g. another commit)
    log "using FNOX_BIN=$fnox (no build)"
else
    log "cargo build --release --locked"
    cargo build --release --locked >&2
    fnox=$root/target/release/fnox
fi

rustc_version=$(rustc --version)

# --- hermetic environment ----------------------------------------------------
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS AWS_MAX_ATTEMPTS \
    FNOX_PROFILE FNOX_NO_DEFAULTS FNOX_IF_MISSING FNOX_LOCAL_KEY FNOX_AGE_KEY FNOX_AGE_KEY_FILE
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
    AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null LC_ALL=C.UTF-8
# No agent in the scenarios above the agent's own (a user's running agent would serve them).
export FNOX_AGENT=off

work=$(mktemp -d "${TMPDIR:-/tmp}/fnox-kms-bench.XXXXXX")
export HOME=$work/home FNOX_CONFIG_DIR=$work/config
mkdir -p "$HOME" "$FNOX_CONFIG_DIR" "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.jsonl "$OUT"/summary.md "$OUT"/summary-dk.md

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if declare -F agent_cleanup >/dev/null; then agent_cleanup; fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- moto --------------------------------------------------------------------
moto_url=
for _attempt in 1 2 3; do
    port=$(free_port)
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            moto_url=http://127.0.0.1:$port
            break
        fi
        sleep 0.1
    done
    if [ -n "$moto_url" ]; then
        pids+=("$pid")
        break
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
[ -n "$moto_url" ] || { cat "$work/moto.log" >&2; log "moto did not start"; exit 1; }
log "moto on $moto_url"

# --- proxies -----------------------------------------------------------------
# start_proxy NAME ARGS...: a latency proxy in front of moto; sets url_NAME.
start_proxy() {
    local name=$1
    shift
    python3 bench/latency_proxy.py --upstream "$moto_url" --port 0 \
        --stats "$work/stats-$name.json" --trace "$work/trace-$name.jsonl" \
        --max-seconds 1800 "$@" >"$work/port-$name" 2>"$work/proxy-$name.log" &
    local pid=$! port=
    pids+=("$pid")
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        port=$(head -n1 "$work/port-$name" 2>/dev/null || true)
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { cat "$work/proxy-$name.log" >&2; log "proxy $name did not start"; exit 1; }
    printf -v "url_$name" 'http://127.0.0.1:%s' "$port"
}
replay=(--replay TrentService.Decrypt)
start_proxy p50 --delay-ms "$DELAY_MS"
start_proxy p0 --delay-ms 0
start_proxy p50r --delay-ms "$DELAY_MS" "${replay[@]}"
start_proxy p0r --delay-ms 0 "${replay[@]}"
start_proxy p50c --delay-ms "$DELAY_MS" --connect-delay-ms $((2 * DELAY_MS)) "${replay[@]}"
# shellcheck disable=SC2154  # set by start_proxy through printf -v
log "proxies: ${DELAY_MS} ms $url_p50, 0 ms $url_p0 (and replay variants)"

# --- key, project, secrets ---------------------------------------------------
aws() { "$venv/bin/aws" --endpoint-url "$moto_url" "$@"; }
key_id=$(aws kms create-key --description "fnox bench" --query KeyMetadata.KeyId --output text)
alias_name=alias/fnox-bench-$$-$RANDOM
aws kms create-alias --alias-name "$alias_name" --target-key-id "$key_id"

project() { # project DIR ENDPOINT
    mkdir -p "$1"
    printf '[providers.kms]\ntype = "aws-kms"\nkey_id = "%s"\nendpoint = "%s"\n\n[secrets]\n' \
        "$alias_name" "$2" >"$1/fnox.toml"
}
project "$work/direct" "$moto_url"
log "setting $N_SECRETS secrets (directly at moto)"
(
    cd "$work/direct"
    for i in $(seq -w 1 "$N_SECRETS"); do
        printf 'value-%s' "$i" | "$fnox" -q set "S$i" >/dev/null
    done
)
for name in p50 p0 p50r p0r p50c; do
    url_var=url_$name
    mkdir -p "$work/$name"
    sed "s|^endpoint = \".*\"$|endpoint = \"${!url_var}\"|" "$work/direct/fnox.toml" >"$work/$name/fnox.toml"
    grep -qF "endpoint = \"${!url_var}\"" "$work/$name/fnox.toml"
done
# Every value decrypts through the slow path, and exec sees them all.
(cd "$work/p50" && "$fnox" exec -- sh -c 'test "$S001" = value-001 && test "$S100" = value-100 && test "$(env | grep -c "^S[0-9][0-9][0-9]=value-")" -eq 100') ||
    { log "exec through the proxy did not see the 100 secrets"; exit 1; }

# === agent scenario (issue 14 part 3) ==========================================
# exec-50-agent: `exec -- true` of the 100 secrets through the 50 ms proxy with a
# warm `fnox agent` (its own directory in $work; stopped by the EXIT trap);
# exec-local: `exec -- true` of 100 `local` secrets, the figure it is held to
# (SPEC §5: within 2x). one-agent.json: the KMS requests of one warm exec (0).
agent_dir=$work/agent
agent_pid=
agent_cleanup() {
    [ -n "$agent_pid" ] || return 0
    FNOX_AGENT_DIR=$agent_dir "$fnox" agent stop >/dev/null 2>&1 || kill "$agent_pid" 2>/dev/null || true
}
agent_scenario() {
    log "agent scenario: a local project with $N_SECRETS secrets"
    mkdir -p "$work/local"
    (
        cd "$work/local"
        "$fnox" -q init >/dev/null
        for i in $(seq -w 1 "$N_SECRETS"); do printf 'S%s=value-%s\n' "$i" "$i"; done >in.env
        "$fnox" -q import in.env >/dev/null
    )
    bench exec-local local "$fnox" exec -- true
    log "agent scenario: start the agent, warm it with one exec through the 50 ms proxy"
    local out
    out=$(unset FNOX_AGENT; FNOX_AGENT_DIR=$agent_dir "$fnox" agent start)
    agent_pid=$(sed -n 's/^agent started, pid \([0-9]*\),.*/\1/p' <<<"$out")
    [ -n "$agent_pid" ] || { log "the agent did not start: $out"; exit 1; }
    # one_exec writes one-p50.json and trace-p50.jsonl: keep the figures without the agent.
    cp "$OUT/one-p50.json" "$work/one-p50.keep"
    cp "$OUT/trace-p50.jsonl" "$work/trace-p50.keep"
    (
        unset FNOX_AGENT
        export FNOX_AGENT_DIR=$agent_dir
        (cd "$work/p50" && "$fnox" exec -- true)
        "$fnox" agent status | grep -q "^values: $N_SECRETS " || { log "the agent does not hold $N_SECRETS values"; exit 1; }
        bench exec-50-agent p50 "$fnox" exec -- true
        one_exec p50
    )
    mv "$OUT/one-p50.json" "$OUT/one-agent.json"
    mv "$OUT/trace-p50.jsonl" "$OUT/trace-agent.jsonl"
    mv "$work/one-p50.keep" "$OUT/one-p50.json"
    mv "$work/trace-p50.keep" "$OUT/trace-p50.jsonl"
}
agent_summary() {
    python3 - "$OUT" "$DELAY_MS" "$N_SECRETS" <<'PYEOF'
import json, sys
out, delay, n = sys.argv[1], float(sys.argv[2]), sys.argv[3]
res = lambda i: json.load(open(f"{out}/{i}.json"))["results"][0]
a, l = res("exec-50-agent"), res("exec-local")
one = json.load(open(f"{out}/one-agent.json"))
ratio = a["mean"] / l["mean"]
print(f"\n### KMS exec with a warm agent\n")
print("| scenario | mean ± σ (ms) | min (ms) | max (ms) |")
print("|---|---|---|---|")
for i, label in (("exec-50-agent", f"`exec -- true`, {n} aws-kms secrets, proxy {delay:g} ms, warm agent"),
                 ("exec-local", f"`exec -- true`, {n} `local` secrets (the reference)")):
    r = res(i)
    print(f"| {i}: {label} | {r['mean']*1000:.1f} ± {(r['stddev'] or 0)*1000:.1f} | {r['min']*1000:.1f} | {r['max']*1000:.1f} |")
verdict = "MET" if ratio <= 2 else "NOT MET"
print(f"\nSPEC §5 target, warm agent within 2x of the `local` exec: **{verdict}** ({ratio:.2f}x). "
      f"KMS requests of one warm exec: {one['requests']} (TCP connections: {one['client_connections']}).")
PYEOF
}
# === end of the agent scenario ==================================================

# --- measurements ------------------------------------------------------------
bench() { # bench ID DIR COMMAND...
    local id=$1 dir=$2
    shift 2
    log "hyperfine: $id"
    (cd "$work/$dir" && hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
        --export-json "$OUT/$id.json" --command-name "$id" "$(printf '%q ' "$@")" >&2)
}
# One run of `fnox exec -- true` in DIR; prints the proxy's counters it caused
# and its timeline (ms from just before the start, from the proxy's trace).
one_exec() { # one_exec NAME
    local name=$1
    cp "$work/stats-$name.json" "$work/before.json"
    : >"$work/trace-$name.jsonl"
    local t0 t1
    t0=$(date +%s%N)
    (cd "$work/$name" && "$fnox" exec -- true)
    t1=$(date +%s%N)
    sleep 0.2 # the stats file is rewritten right after each change
    python3 - "$work/before.json" "$work/stats-$name.json" "$work/trace-$name.jsonl" "$t0" "$t1" >"$OUT/one-$name.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
rs = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
t0, t1 = int(sys.argv[4]) / 1e9, int(sys.argv[5]) / 1e9
ms = lambda t: round((t - t0) * 1000, 1)
targets = {k: v - a["by_target"].get(k, 0) for k, v in b["by_target"].items() if v - a["by_target"].get(k, 0)}
out = {
    "wall_ms": ms(t1),
    "requests": b["requests"] - a["requests"],
    "by_target": targets,
    "client_connections": b["client_connections"] - a["client_connections"],
    "replayed": b["replayed"] - a["replayed"],
    "errors": b["errors"] - a["errors"],
}
if rs:
    rs.sort(key=lambda r: r["received"])
    out["first_connection_ms"] = ms(min(r["accepted"] for r in rs))
    out["first_request_ms"] = ms(rs[0]["received"])
    # Requests that arrived before any answer went back: the first wave.
    first_done = min(r["done"] for r in rs)
    out["first_wave"] = sum(1 for r in rs if r["received"] < first_done)
    out["first_wave_spread_ms"] = round((max(r["received"] for r in rs if r["received"] < first_done) - rs[0]["received"]) * 1000, 1)
    out["last_request_ms"] = ms(rs[-1]["received"])
    out["last_answer_ms"] = ms(max(r["done"] for r in rs))
    out["exit_after_last_answer_ms"] = round(out["wall_ms"] - out["last_answer_ms"], 1)
    out["requests_on_reused_connections"] = sum(1 for r in rs if r["nth_on_conn"] > 1)
json.dump(out, sys.stdout, indent=1)
EOF
    cp "$work/trace-$name.jsonl" "$OUT/trace-$name.jsonl"
}

# --- data-key scenario (issue 14 part 2) ---------------------------------------
# The same 100 secrets with `data_key = true`: one data key for the file,
# wrapped once, so an exec makes ONE Decrypt whatever the number of secrets.
# Target: exec-dk-50 − exec-dk-0 (what the 50 ms delay adds) ≤ 1.5 round
# trips (≤ 75 ms), and exactly 1 KMS request per exec. Its own proxies
# (pdk50, pdk0) keep the counts clean. Kept in this function so that other
# scenarios can be added beside it.
data_key_scenario() {
    start_proxy pdk50 --delay-ms "$DELAY_MS"
    start_proxy pdk0 --delay-ms 0
    mkdir -p "$work/dkdirect"
    printf '[providers.kms]\ntype = "aws-kms"\nkey_id = "%s"\nendpoint = "%s"\ndata_key = true\n\n[secrets]\n' \
        "$alias_name" "$moto_url" >"$work/dkdirect/fnox.toml"
    log "setting $N_SECRETS data-key secrets (directly at moto)"
    (
        cd "$work/dkdirect"
        for i in $(seq -w 1 "$N_SECRETS"); do
            printf 'value-%s' "$i" | "$fnox" -q set "S$i" >/dev/null
        done
    )
    local name url_var
    for name in pdk50 pdk0; do
        url_var=url_$name
        mkdir -p "$work/$name"
        sed "s|^endpoint = \".*\"$|endpoint = \"${!url_var}\"|" "$work/dkdirect/fnox.toml" >"$work/$name/fnox.toml"
    done
    (cd "$work/pdk50" && "$fnox" exec -- sh -c 'test "$S001" = value-001 && test "$S100" = value-100 && test "$(env | grep -c "^S[0-9][0-9][0-9]=value-")" -eq 100') ||
        { log "data-key exec through the proxy did not see the 100 secrets"; exit 1; }
    bench exec-dk-50 pdk50 "$fnox" exec -- true
    bench exec-dk-0 pdk0 "$fnox" exec -- true
    one_exec pdk50
    python3 - "$OUT" "$DELAY_MS" "$N_SECRETS" >"$OUT/summary-dk.md" <<'EOF'
import json, sys
out, delay, n = sys.argv[1], float(sys.argv[2]), sys.argv[3]
res = lambda i: json.load(open(f"{out}/{i}.json"))["results"][0]
one = json.load(open(f"{out}/one-pdk50.json"))
ms = lambda s: s * 1000
a, f = res("exec-dk-50"), res("exec-dk-0")
added = ms(a["mean"] - f["mean"])
p = print
p(f"\n### KMS data-key mode (`data_key = true`): exec with {n} secrets\n")
p(f"| scenario | mean ± σ (ms) | min (ms) | max (ms) | mean in {delay:g} ms round trips | fnox CPU user + sys (ms) |")
p("|---|---|---|---|---|---|")
for i, label in (("exec-dk-50", f"`exec -- true`, {n} data-key secrets, proxy {delay:g} ms → moto"),
                 ("exec-dk-0", f"`exec -- true`, {n} data-key secrets, proxy 0 ms → moto (floor)")):
    r = res(i)
    p(f"| {i}: {label} | {ms(r['mean']):.1f} ± {ms(r['stddev'] or 0):.1f} | {ms(r['min']):.1f} | {ms(r['max']):.1f} | {ms(r['mean'])/delay:.2f} | {ms(r['user']):.1f} + {ms(r['system']):.1f} |")
verdict = "MET" if added <= 1.5 * delay else "NOT MET"
p(f"\nTarget, data-key exec ≤ 1.5 round trips above its floor (exec-dk-50 − exec-dk-0 ≤ {1.5*delay:g} ms): "
  f"**{verdict}** ({added:.1f} ms = {added/delay:.2f} round trips; exec-dk-50 alone {ms(a['mean'])/delay:.2f}).")
p(f"One exec through the {delay:g} ms proxy: {one['requests']} KMS request(s) ({', '.join(f'{k} {v}' for k, v in one['by_target'].items())}), "
  f"{one['client_connections']} TCP connection(s), wall {one['wall_ms']} ms.")
EOF
}
# --- end of the data-key scenario --------------------------------------------

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench exec-50 p50 "$fnox" exec -- true
bench exec-0 p0 "$fnox" exec -- true
bench exec-direct direct "$fnox" exec -- true
bench get-50 p50 "$fnox" get S001
bench get-0 p0 "$fnox" get S001
bench exec-50-replay p50r "$fnox" exec -- true
bench exec-0-replay p0r "$fnox" exec -- true
bench exec-50-replay-conn100 p50c "$fnox" exec -- true
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
for name in p50 p50r p50c; do
    one_exec "$name"
done
data_key_scenario
agent_scenario

# --- summary -----------------------------------------------------------------
python3 - "$OUT" "$DELAY_MS" "$N_SECRETS" "$RUNS" "$WARMUP" \
    "$rustc_version" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    "$(hyperfine --version)" "$("$venv/bin/python" -c 'import moto; print(moto.__version__)')" \
    "$load_before" "$load_after" "${FNOX_REV:-$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo ' + uncommitted changes')}" \
    >"$OUT/summary.md" <<'EOF'
import json, sys
out, delay, n, runs, warmup, rustc, cores, cpu, hf, moto, load0, load1, rev = sys.argv[1:]
delay = float(delay)
def res(i):
    return json.load(open(f"{out}/{i}.json"))["results"][0]
def one(name):
    return json.load(open(f"{out}/one-{name}.json"))
rows = [
    ("exec-50", f"`exec -- true`, {n} secrets, proxy {delay:g} ms → moto", True),
    ("exec-0", f"`exec -- true`, {n} secrets, proxy 0 ms → moto (floor)", False),
    ("exec-direct", f"`exec -- true`, {n} secrets, straight to moto (no proxy)", False),
    ("get-50", f"`get S001` (1 secret), proxy {delay:g} ms → moto (one round trip)", False),
    ("get-0", "`get S001` (1 secret), proxy 0 ms → moto", False),
    ("exec-50-replay", f"`exec -- true`, {n} secrets, proxy {delay:g} ms, Decrypt replayed (no moto time)", False),
    ("exec-0-replay", f"`exec -- true`, {n} secrets, proxy 0 ms, Decrypt replayed (fnox + proxy floor)", False),
    ("exec-50-replay-conn100", f"as exec-50-replay, plus {2*delay:g} ms per new connection (TCP+TLS handshake model)", False),
]
ms = lambda s: s * 1000
p = print
p(f"## KMS: exec with {n} secrets behind a {delay:g} ms endpoint\n")
p(f"Machine: {cores} cores ({cpu}), {rustc}, fnox {rev}, {hf}, moto {moto}; "
  f"{runs} runs after {warmup} warm-up each; load average before/after: {load0} / {load1}.\n")
p(f"| scenario | mean ± σ (ms) | min (ms) | max (ms) | mean in {delay:g} ms round trips | fnox CPU user + sys (ms) |")
p("|---|---|---|---|---|---|")
for i, label, _ in rows:
    r = res(i)
    p(f"| {i}: {label} | {ms(r['mean']):.1f} ± {ms(r['stddev'] or 0):.1f} | {ms(r['min']):.1f} | {ms(r['max']):.1f} | {ms(r['mean'])/delay:.2f} | {ms(r['user']):.1f} + {ms(r['system']):.1f} |")
r = res("exec-50")
rt = ms(r["mean"]) / delay
verdict = "MET" if ms(r["mean"]) < 4 * delay else "NOT MET"
p(f"\nSPEC §5 target, exec-50 under 4 round trips (< {4*delay:g} ms): **{verdict}** "
  f"(mean {ms(r['mean']):.1f} ms = {rt:.2f} round trips; min {ms(r['min']):.1f} ms = {ms(r['min'])/delay:.2f}).")
rr = res("exec-50-replay")
p(f"Without moto's own processing time (exec-50-replay): mean {ms(rr['mean']):.1f} ms = {ms(rr['mean'])/delay:.2f} round trips "
  f"({'under' if ms(rr['mean']) < 4*delay else 'over'} 4).")
p(f"Added by the {delay:g} ms delay: exec-50 − exec-0 = {ms(r['mean'] - res('exec-0')['mean']):.1f} ms "
  f"= {ms(r['mean'] - res('exec-0')['mean'])/delay:.2f} round trips; "
  f"exec-50-replay − exec-0-replay = {ms(rr['mean'] - res('exec-0-replay')['mean']):.1f} ms "
  f"= {ms(rr['mean'] - res('exec-0-replay')['mean'])/delay:.2f}.\n")
p("Requests and connections of one `exec -- true` (from the proxy's stats and trace; "
  "times in ms from just before the process started):\n")
p("| proxy | wall | KMS requests | Decrypt | TCP connections | requests on reused connections | first request at | first wave (spread) | last request at | last answer at | exit after last answer |")
p("|---|---|---|---|---|---|---|---|---|---|---|")
for name, label in (("p50", f"{delay:g} ms → moto"), ("p50r", f"{delay:g} ms, replay"), ("p50c", f"{delay:g} ms + {2*delay:g} ms/conn, replay")):
    o = one(name)
    p(f"| {label} | {o['wall_ms']} | {o['requests']} | {o['by_target'].get('TrentService.Decrypt', 0)} | {o['client_connections']} | "
      f"{o.get('requests_on_reused_connections', '')} | {o.get('first_request_ms', '')} | {o.get('first_wave', '')} ({o.get('first_wave_spread_ms', '')} ms) | "
      f"{o.get('last_request_ms', '')} | {o.get('last_answer_ms', '')} | {o.get('exit_after_last_answer_ms', '')} |")
p(f"\nRaw data: {out}/*.json (hyperfine), one-*.json and trace-*.jsonl (one exec each)")
EOF
cat "$OUT/summary-dk.md" >>"$OUT/summary.md"
agent_summary >>"$OUT/summary.md"
cat "$OUT/summary.md"
