#!/usr/bin/env bash
# Runs ../shared/bench/run.sh (gatekeeper vs the bare Kestrel ceiling vs Cerbos, one run, pinned cores)
# on a copy whose request generator uses Debian's protoc (3.21) instead of the one bundled with
# python3-grpc-tools (3.5.1), which cannot parse proto3 `optional` (our DecisionContext.subject_is_minor).
# Everything else is the shared script, unchanged. Arguments and environment pass through.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$root/../shared/bench}
home=${BENCH_HOME:-/tmp/gk-bench}
command -v protoc >/dev/null || { apt-get update -qq && apt-get install -y -qq protobuf-compiler python3-protobuf >/dev/null; }
mkdir -p "$home"
rm -rf "$home/bench-src"
cp -r "$shared" "$home/bench-src"
chmod -R u+w "$home/bench-src"
sed -i 's/\[sys.executable, "-m", "grpc_tools.protoc",/["protoc",/' "$home/bench-src/make_requests.py"
grep -q '\["protoc",' "$home/bench-src/make_requests.py" || { echo "bench.sh: could not patch make_requests.py" >&2; exit 1; }
BENCH_HOME=$home exec "$home/bench-src/run.sh" "$root"
