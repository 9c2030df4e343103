#!/usr/bin/env bash
# The one test command (README, CI): makes sure what the tests need is installed, then runs every test
# project of the solution. Idempotent: when everything is already there it only runs the tests.
#
# Needs: the .NET SDK; Debian packages (installed here when missing, as root or with password-less sudo):
#   python3-grpcio python3-h2 python3-protobuf protobuf-compiler protobuf-compiler-grpc  interop peers
#   redis-server                                                                          Redis client tests
#   sqlite3                                                                               audit store checks
#   nghttp2-client                                                                        h2load (benchmarks)
#   nodejs npm (only if node is missing)                                                  grpc-js peer
# and @grpc/grpc-js + @grpc/proto-loader from tests/interop/node/package-lock.json (npm ci).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
APT_PACKAGES=(python3-grpcio python3-h2 python3-protobuf protobuf-compiler protobuf-compiler-grpc redis-server sqlite3 nghttp2-client)
NODE_DIR=tests/interop/node

say() { printf 'test.sh: %s\n' "$*"; }
die() { printf 'test.sh: FAILED: %s\n' "$*" >&2; printf 'Summary: 0 passed, 1 failed\n'; exit 1; }

missing_apt_packages() {
    local package
    for package in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
            printf '%s ' "$package"
        fi
    done
}

apt_install() {
    local runner=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            runner=(sudo -n)
        else
            die "missing Debian packages: $*. Install them with: sudo apt-get update && sudo apt-get install -y $*"
        fi
    fi
    command -v apt-get >/dev/null || die "missing packages ($*) and no apt-get to install them with"
    say "installing $* (apt-get)"
    "${runner[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        || die "apt-get update failed; install by hand: apt-get install -y $*"
    "${runner[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
        || die "apt-get install failed; install by hand: apt-get install -y $*"
}

# 1. The .NET SDK cannot be installed from here: say so plainly.
command -v dotnet >/dev/null || die "dotnet (the .NET SDK, see global.json) is not on PATH"

# 2. Debian packages.
wanted=("${APT_PACKAGES[@]}")
command -v node >/dev/null && command -v npm >/dev/null || wanted+=(nodejs npm)
read -r -a missing <<<"$(missing_apt_packages "${wanted[@]}")"
if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
    read -r -a missing <<<"$(missing_apt_packages "${wanted[@]}")"
    [ "${#missing[@]}" -eq 0 ] || die "still missing after apt-get install: ${missing[*]}"
fi
# Debian's python, not a pyenv one on PATH: only it sees python3-grpcio.
/usr/bin/python3 -c 'import grpc, h2, google.protobuf' 2>/dev/null \
    || die "/usr/bin/python3 cannot import grpc, h2 and google.protobuf; reinstall: apt-get install -y python3-grpcio python3-h2 python3-protobuf"

# 3. The Node peer's packages, exactly as locked; reinstalled only when the lock file changes.
lock_hash=$(sha256sum "$NODE_DIR/package-lock.json" | cut -d' ' -f1)
stamp="$NODE_DIR/node_modules/.installed-lock-sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ] || [ ! -f "$NODE_DIR/node_modules/@grpc/grpc-js/package.json" ]; then
    say "installing the Node interop peer's packages (npm ci in $NODE_DIR)"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $NODE_DIR failed"
    printf '%s\n' "$lock_hash" >"$stamp"
fi

# 4. Every test project of the solution.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
say "running dotnet test Gatekeeper.sln -c Release"
set +e
dotnet test Gatekeeper.sln -c Release --nologo --blame-hang-timeout 5m --blame-hang-dump-type none 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# "Passed!  - Failed:     0, Passed:    40, Skipped:     0, Total:    40, Duration: 2 s - X.dll (net10.0)"
read -r passed failed skipped projects < <(
    sed -nE 's/^(Passed|Failed)! +- +Failed: +([0-9]+), +Passed: +([0-9]+), +Skipped: +([0-9]+),.*/\3 \2 \4/p' "$log" |
        awk '{ p += $1; f += $2; s += $3; n++ } END { printf "%d %d %d %d\n", p, f, s, n }'
)
if [ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then
    say "OK: $projects test projects"
else
    if [ "$failed" -eq 0 ]; then
        failed=1 # a build error or a crashed test host counts as a failure even without a failed test
    fi
    say "FAILED (dotnet test exit code $status, $projects test projects reported): see the errors above"
    status=1
fi
printf 'Summary: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
exit "$status"
