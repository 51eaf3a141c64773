#!/usr/bin/env bash
# Benchmark (run by hand, not by the tests): `fnox rotate` of 1,000 envelope
# secrets to a new KMS key, against moto behind bench/latency_proxy.py
# (50 ms added to every request), beside the same rotation with 0 ms added.
# SPEC §5: one ReEncrypt per secret, concurrent; no AES re-encryption of
# payloads (checked: every payload is byte-identical afterwards).
#
# Usage: bash bench/kms_rotate.sh   (FNOX_BIN=path skips the build; N=1000, DELAY_MS=50)
# Prints a Markdown section on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
N=${N:-1000}
DELAY_MS=${DELAY_MS:-50}
venv=$root/.venv
log() { printf '==> %s\n' "$*" >&2; }

if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-test.txt
fi
if [ -n "${FNOX_BIN:-}" ]; then
    fnox=$(realpath "$FNOX_BIN")
else
    cargo build --release --locked >&2
    fnox=$root/target/release/fnox
fi

unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS AWS_MAX_ATTEMPTS FNOX_PROFILE
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
    AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null LC_ALL=C.UTF-8
work=$(mktemp -d "${TMPDIR:-/tmp}/fnox-rotate-bench.XXXXXX")
export HOME=$work/home FNOX_CONFIG_DIR=$work/config
mkdir -p "$HOME"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

port=$(free_port)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
pids+=("$!")
moto_url=http://127.0.0.1:$port
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

# start_proxy NAME DELAY: sets url_NAME, stats in $work/stats-NAME.json
start_proxy() {
    python3 bench/latency_proxy.py --upstream "$moto_url" --port 0 --delay-ms "$2" \
        --stats "$work/stats-$1.json" --max-seconds 1800 >"$work/port-$1" 2>"$work/proxy-$1.log" &
    pids+=("$!")
    local p=
    for _ in $(seq 1 100); do
        p=$(head -n1 "$work/port-$1" 2>/dev/null || true)
        [ -n "$p" ] && break
        sleep 0.05
    done
    printf -v "url_$1" 'http://127.0.0.1:%s' "$p"
}
start_proxy slow "$DELAY_MS"
start_proxy fast 0

aws() { "$venv/bin/aws" --endpoint-url "$moto_url" "$@"; }
old_key=$(aws kms create-key --query KeyMetadata.KeyId --output text)
new_key=$(aws kms create-key --query KeyMetadata.KeyId --output text)

# One project with N envelope secrets under the old key, made directly at moto.
proj=$work/base
mkdir -p "$proj"
printf '[providers.kms]\ntype = "aws-kms"\nkey_id = "%s"\nendpoint = "%s"\nenvelope = true\n\n[secrets]\n' \
    "$old_key" "$moto_url" >"$proj/fnox.toml"
for i in $(seq -f '%04g' 1 "$N"); do printf 'S%s=value-%s\n' "$i" "$i"; done >"$work/values.env"
log "setting $N envelope secrets (directly at moto)"
(cd "$proj" && "$fnox" -q import --provider kms "$work/values.env")

payloads() { # the bytes after each envelope's wrapped key, hashed
    python3 - "$1" <<'PY'
import base64, hashlib, re, sys
for value in re.findall(r'value = "([^"]+)"', open(sys.argv[1]).read()):
    raw = base64.b64decode(value)
    n = int.from_bytes(raw[5:9], "big")
    print(hashlib.sha256(raw[9 + n:]).hexdigest())
PY
}
payloads "$proj/fnox.toml" >"$work/payloads.before"

# rotate DIR NAME: rotate to the new key through proxy NAME; prints seconds.
rotate() {
    local dir=$work/$1
    cp -r "$proj" "$dir"
    local url_var="url_$1"
    sed -i "s|key_id = \"$old_key\"|key_id = \"$new_key\"|; s|endpoint = \"$moto_url\"|endpoint = \"${!url_var}\"|" "$dir/fnox.toml"
    local start end
    start=$(date +%s.%N)
    (cd "$dir" && "$fnox" -q rotate --provider kms --yes)
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.2f}')"
}
log "rotate through the ${DELAY_MS} ms proxy"
slow_s=$(rotate slow)
log "rotate through the 0 ms proxy"
fast_s=$(rotate fast)

payloads "$work/slow/fnox.toml" >"$work/payloads.after"
identical=$(cmp -s "$work/payloads.before" "$work/payloads.after" && echo yes || echo NO)
# Check a value afterwards, directly at moto (not counted by the proxies).
sed -i "s|endpoint = \"$url_slow\"|endpoint = \"$moto_url\"|" "$work/slow/fnox.toml"
(cd "$work/slow" && "$fnox" get S0001) | grep -qx 'value-0001' || { log "get after rotate failed"; exit 1; }

counts() { python3 -c "
import json,sys
d=json.load(open('$work/stats-$1.json'))
t=d.get('by_target', d.get('targets', {}))
print(', '.join(f'{v} {k.split(\".\")[-1]}' for k,v in sorted(t.items())) + f' (total {d.get(\"total\", d.get(\"requests\"))})')"; }

cat <<EOF2
### KMS: rotate $N envelope secrets to a new key (bench/kms_rotate.sh)

| run | wall time | KMS requests |
|---|---|---|
| through a ${DELAY_MS} ms proxy | ${slow_s} s ($(python3 -c "print(round($slow_s * 1000 / $DELAY_MS))") round trips of ${DELAY_MS} ms) | $(counts slow) |
| through a 0 ms proxy (floor: moto's own time) | ${fast_s} s | $(counts fast) |

Every envelope payload byte-identical after rotation (only the wrapped data key changed): **${identical}**.
EOF2
