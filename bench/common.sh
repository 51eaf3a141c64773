# Shared by the benchmark scripts (sourced, not run): logging, a root
# helper, the prerequisites from Debian, and the fnox binary to measure.

log() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Installs each Debian package in "$@" whose command is missing
# (`time` is checked as /usr/bin/time, the shell has a builtin of that name).
need_packages() {
    local pkg cmd
    for pkg in "$@"; do
        cmd=$pkg
        [ "$pkg" = time ] && cmd=/usr/bin/time
        if ! command -v "$cmd" >/dev/null 2>&1; then
            log "installing $pkg (Debian package)"
            as_root apt-get update -qq
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
        fi
    done
}

# Sets $fnox: $FNOX_BIN, else the release binary, built first.
release_fnox() {
    if [ -z "${FNOX_BIN:-}" ]; then
        log "cargo build --release --locked"
        cargo build --release --locked >&2
        FNOX_BIN=$root/target/release/fnox
    fi
    fnox=$(realpath "$FNOX_BIN")
}
