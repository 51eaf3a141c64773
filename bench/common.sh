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

# A project with N secrets of provider P (made with $fnox), plus PLAIN (a
# default).
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
