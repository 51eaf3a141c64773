#!/usr/bin/env bash
# The whole test suite, with its prerequisites. It installs what the tests
# need (the `age` CLI, zsh and fish from Debian; moto, the aws CLI and
# OpenBao's `bao` into .venv), starts a KMS-compatible server (moto) and an
# OpenBao dev server on free loopback ports, checks formatting and lints,
# runs every test, and stops the servers.
# Usage: bash scripts/test.sh [extra cargo test args]
# FNOX_TEST_SKIP_SERVERS=1 (never with CI=true): install and start nothing;
# the tests that need moto, OpenBao, the age CLI, zsh or fish are skipped and
# counted.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

skip_servers=0
if [ "${FNOX_TEST_SKIP_SERVERS:-}" = 1 ]; then
    if [ "${CI:-}" = true ]; then
        log "FNOX_TEST_SKIP_SERVERS=1 is not allowed when CI=true"
        exit 2
    fi
    skip_servers=1
    log "FNOX_TEST_SKIP_SERVERS=1: no servers; tests that need them are skipped and counted"
fi

# --- prerequisites -----------------------------------------------------------
# The age CLI, and zsh and fish for the completion tests (Debian packages
# of the same names).
missing=()
for tool in age zsh fish; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "$skip_servers" = 0 ] && [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} (Debian packages)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv=$root/.venv
stamp=$venv/.requirements.sha256
want=$(sha256sum scripts/requirements-test.txt | cut -d' ' -f1)
if [ "$skip_servers" = 0 ] && { [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; }; then
    log "installing moto, the aws CLI and bao into .venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-test.txt
    echo "$want" >"$stamp"
fi
export PATH="$venv/bin:$PATH"

# --- servers -----------------------------------------------------------------
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts moto on a free port; retries when the port was taken meanwhile.
start_moto() {
    mkdir -p target
    for _attempt in 1 2 3; do
        local port pid
        port=$(free_port)
        "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >target/moto.log 2>&1 &
        pid=$!
        for _ in $(seq 1 100); do
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                pids+=("$pid")
                export FNOX_TEST_KMS_ENDPOINT="http://127.0.0.1:$port"
                log "moto (KMS) listening on $FNOX_TEST_KMS_ENDPOINT"
                return 0
            fi
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
    done
    log "moto did not start; see target/moto.log"
    cat target/moto.log >&2 || true
    return 1
}
[ "$skip_servers" = 1 ] || start_moto

# Starts `bao server -dev` (OpenBao) on a free port with transit enabled and
# a file audit device (tests count requests in it; OpenBao only takes audit
# devices from its config file).
start_bao() {
    mkdir -p target
    export FNOX_TEST_BAO_TOKEN="fnox-test-root-$$"
    export FNOX_TEST_BAO_AUDIT_LOG="$root/target/bao-audit.log"
    rm -f "$FNOX_TEST_BAO_AUDIT_LOG"
    cat >target/bao-test.hcl <<EOF
audit "file" "fnox-test" {
  options {
    file_path = "$FNOX_TEST_BAO_AUDIT_LOG"
  }
}
EOF
    for _attempt in 1 2 3; do
        local port pid
        port=$(free_port)
        "$venv/bin/bao" server -dev -dev-root-token-id="$FNOX_TEST_BAO_TOKEN" \
            -dev-listen-address="127.0.0.1:$port" -dev-no-store-token \
            -config="$root/target/bao-test.hcl" >target/bao.log 2>&1 &
        pid=$!
        for _ in $(seq 1 150); do
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            if BAO_ADDR="http://127.0.0.1:$port" BAO_TOKEN="$FNOX_TEST_BAO_TOKEN" \
                "$venv/bin/bao" status >/dev/null 2>&1; then
                pids+=("$pid")
                export FNOX_TEST_BAO_ADDR="http://127.0.0.1:$port"
                BAO_ADDR="$FNOX_TEST_BAO_ADDR" BAO_TOKEN="$FNOX_TEST_BAO_TOKEN" \
                    "$venv/bin/bao" secrets enable transit >/dev/null
                log "OpenBao (transit) listening on $FNOX_TEST_BAO_ADDR"
                return 0
            fi
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    log "bao server -dev did not start; see target/bao.log"
    cat target/bao.log >&2 || true
    return 1
}
[ "$skip_servers" = 1 ] || start_bao

# A Secret Service for the keychain tests (`key_store = "keychain"`): a
# private D-Bus session bus and gnome-keyring unlocked with a test password,
# its keyrings under target/ (Debian packages gnome-keyring and dbus-x11).
start_secret_service() {
    local need=()
    command -v gnome-keyring-daemon >/dev/null 2>&1 || need+=(gnome-keyring)
    command -v dbus-daemon >/dev/null 2>&1 || need+=(dbus-x11)
    if [ "${#need[@]}" -gt 0 ]; then
        log "installing ${need[*]} (Debian packages)"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
    local dir=$root/target/secret-service
    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/run"
    chmod 700 "$dir/run"
    local address pid
    address=$(dbus-daemon --session --fork --print-address=1 --print-pid=3 3>"$dir/dbus.pid")
    pids+=("$(cat "$dir/dbus.pid")")
    printf 'fnox-test' | DBUS_SESSION_BUS_ADDRESS=$address XDG_DATA_HOME=$dir/data \
        XDG_RUNTIME_DIR=$dir/run gnome-keyring-daemon --unlock --components=secrets \
        --foreground >"$dir/keyring.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 1 100); do
        if [ -f "$dir/data/keyrings/login.keyring" ]; then
            export FNOX_TEST_DBUS_ADDRESS=$address
            log "Secret Service (gnome-keyring) on $address"
            return 0
        fi
        sleep 0.1
    done
    log "gnome-keyring did not start; see $dir/keyring.log"
    return 1
}
[ "$skip_servers" = 1 ] || start_secret_service

# --- checks ------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy (workspace; and fnox-core without its optional providers)"
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo clippy --locked -p fnox-core --no-default-features --all-targets -- -D warnings

skip_log=target/tmp/skipped-tests.log
mkdir -p target/tmp
rm -f "$skip_log"

results=target/tmp/test-results.log
rm -f "$results"
# cargo's output goes to the terminal as usual, and to a log for the summary
# at the end (its `test result:` lines).
run_tests() {
    "$@" 2>&1 | tee -a "$results"
}

# The age plugin the age-plugin tests use (tests/it/age_plugin.rs finds it
# next to the fnox binary; `cargo test` does not build other packages' binaries).
log "cargo build -p age-plugin-fnoxtest (the test age plugin)"
cargo build --locked -p age-plugin-fnoxtest

log "cargo test (workspace: the CLI's tests, fnox-core's tests and examples)"
run_tests cargo test --locked --workspace "$@"

log "cargo test -p fnox-core --no-default-features"
run_tests cargo test --locked -p fnox-core --no-default-features

skipped=0
[ -f "$skip_log" ] && skipped=$(wc -l <"$skip_log")
if [ "$skipped" -gt 0 ]; then
    log "skipped (FNOX_TEST_SKIP_SERVERS=1):"
    sort "$skip_log" >&2
fi

# One line that says what ran: tests passed, skipped, and the servers used.
passed=$(grep '^test result:' "$results" | awk '{for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^passed/) n += $i} END {print n + 0}')
if [ "$skip_servers" = 1 ]; then
    servers="no servers (FNOX_TEST_SKIP_SERVERS=1)"
else
    servers="moto (KMS) at $FNOX_TEST_KMS_ENDPOINT, OpenBao at $FNOX_TEST_BAO_ADDR, age $(age --version), gnome-keyring (Secret Service)"
fi
noun=tests
[ "$skipped" = 1 ] && noun=test
printf 'fnox tests: %s passed, %s %s skipped; fmt and clippy clean; %s\n' \
    "$passed" "$skipped" "$noun" "$servers"
