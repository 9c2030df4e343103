#!/usr/bin/env bash
# Runs the load scenarios against the gatekeeper in its production-like configuration (audit log on,
# Redis L2 on) on this machine: the service alone on core 0; the load generator and redis-server on core 1
# (Redis stands for another machine; with a warm cache it sees no traffic). Then the same generator against the bare Kestrel ceiling (../shared/bench/ceiling),
# so that ratios compare like with like.
#
#   1. warm-cache     closed loop, 100% L1 hits: the maximum rate
#   2. open-loop      Poisson arrivals at half of that rate: p99 <= 2 ms, no errors
#   3. realistic-mix  closed loop, 20% cache misses, 10% DecideBatch: compared with the ceiling
#   4. ceiling        warm-cache's traffic against the bare handler (same generator, same pinning)
#   5. soak           only with SOAK=1 (10 minutes; SOAK_DURATION=3m for a shorter one): the RSS curve
#
# usage: load-tests/run.sh            env: LT_HOME (default /tmp/gk-load), DURATION (default: each scenario's),
#        SKIP_CEILING=1, SOAK=1, SOAK_DURATION=10m, REDIS_PORT (6399), GK_PORT (5821), CEILING_PORT (5822)
# Reports (JSON + SVG per scenario, summary.md) go to load-tests/results/<UTC time>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
home=${LT_HOME:-/tmp/gk-load}
shared=${SHARED_BENCH:-$root/../shared/bench}
redis_port=${REDIS_PORT:-6399}
gk_port=${GK_PORT:-5821}
ceiling_port=${CEILING_PORT:-5822}
out=$root/load-tests/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$home" "$out"

command -v redis-server >/dev/null || { echo "run.sh: redis-server is missing: apt-get install redis-server" >&2; exit 1; }

echo "building the gatekeeper, the load generator and the ceiling (Release)..." >&2
dotnet publish -c Release "$root/src/Gatekeeper" -o "$home/gatekeeper" >"$home/build-gk.log" 2>&1 || { tail -30 "$home/build-gk.log"; exit 1; }
dotnet publish -c Release "$root/load-tests/Gatekeeper.LoadTests" -o "$home/loadtests" >"$home/build-lt.log" 2>&1 || { tail -30 "$home/build-lt.log"; exit 1; }
if [[ -z ${SKIP_CEILING:-} ]]; then
  rm -rf "$home/ceiling-src"; cp -r "$shared/ceiling" "$home/ceiling-src"; chmod -R u+w "$home/ceiling-src"
  dotnet build -c Release "$home/ceiling-src/Ceiling.csproj" -o "$home/ceiling" >"$home/build-ceiling.log" 2>&1 || { tail -30 "$home/build-ceiling.log"; exit 1; }
fi

pids=()
stop_all() {  # stop what this script started, and wait until it has gone (ports free again)
  for p in "${pids[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [[ -n $p ]] && wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT
wait_port() { for _ in $(seq 1 150); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

(exec taskset -c 1 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$home/redis.log" 2>&1) & pids+=($!)
wait_port "$redis_port"

start_gatekeeper() {
  rm -rf "$home/gk-data"; mkdir -p "$home/gk-data"
  (cd "$home/gk-data" && exec taskset -c 0 dotnet "$home/gatekeeper/Gatekeeper.dll" --urls "http://127.0.0.1:$gk_port" \
     --Gatekeeper:DataDirectory="$home/gk-data" --Gatekeeper:Redis:Configuration="127.0.0.1:$redis_port" >"$home/gatekeeper.log" 2>&1) & pids+=($!)
  gk_pid=$!
  wait_port "$gk_port"
}

load() { # scenario name [options...]
  local scenario=$1; shift
  taskset -c 1 dotnet "$home/loadtests/Gatekeeper.LoadTests.dll" "$root/load-tests/scenarios/$scenario.json" --out "$out" \
    ${DURATION:+--duration "$DURATION"} "$@" | tee -a "$out/console.txt"
}
rate_of() { python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["summary"]["rate"]))' "$out/$1.json"; }

status=0
start_gatekeeper
load warm-cache --target "http://127.0.0.1:$gk_port" --server-pid "$gk_pid" --assert 'errors=0,rss<200MB' || status=1
max_rate=$(rate_of warm-cache)
half=$(( max_rate / 2 ))
load open-loop --target "http://127.0.0.1:$gk_port" --server-pid "$gk_pid" --rate "$half" --assert 'p99<=2ms,errors=0,rss<200MB' || status=1
load realistic-mix --target "http://127.0.0.1:$gk_port" --server-pid "$gk_pid" --assert 'errors=0,rss<200MB' || status=1
# The soak runs at half of what the realistic mix achieved: a soak above capacity only measures a growing queue.
soak_rate=$(( $(rate_of realistic-mix) / 2 ))
if [[ -n ${SOAK:-} ]]; then
  stop_all
  (exec taskset -c 1 redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$home/redis.log" 2>&1) & pids+=($!)
  wait_port "$redis_port"
  start_gatekeeper
  load soak --target "http://127.0.0.1:$gk_port" --server-pid "$gk_pid" --rate "$soak_rate" --duration "${SOAK_DURATION:-10m}" --assert 'errors=0,rss<200MB' || status=1
fi
stop_all

if [[ -z ${SKIP_CEILING:-} ]]; then
  (cd "$home" && exec taskset -c 0 dotnet "$home/ceiling/Ceiling.dll" --urls "http://127.0.0.1:$ceiling_port" >"$home/ceiling.log" 2>&1) & pids+=($!)
  wait_port "$ceiling_port"
  load warm-cache --target "http://127.0.0.1:$ceiling_port" --name ceiling || status=1
  stop_all
fi

python3 - "$out" <<'PY' | tee "$out/summary.md"
import json, os, sys, platform
out = sys.argv[1]
def get(name):
    p = os.path.join(out, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None
names = ("warm-cache", "open-loop", "realistic-mix", "soak", "ceiling")
rows = [(n, get(n)) for n in names]
ceiling = get("ceiling")
print(f"machine: {os.cpu_count()} cores, {platform.platform()}; server pinned to core 0, generator and redis-server to core 1")
print()
print("| scenario | mode | calls/s | decisions/s | p50 | p90 | p99 | p99.9 | max | errors | server RSS max | generator CPU | vs ceiling | targets |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for name, r in rows:
    if not r:
        continue
    s, l, st = r["summary"], r["summary"]["latencyMs"], r["settings"]
    mode = f"open {st['rate']:.0f}/s" if st["mode"] == "open" else f"closed x{st['concurrency']}"
    # A rate only compares with the ceiling's when both are closed-loop maxima.
    vs = f"{s['rate'] / ceiling['summary']['rate']:.2f}" if ceiling and name != "ceiling" and st["mode"] == "closed" else ""
    rss = f"{s['maxServerRssMb']:.0f} MB" if "maxServerRssMb" in s else ""
    gen = f"{s['generatorCpuPercent']:.0f}%" if "generatorCpuPercent" in s else ""
    targets = ", ".join(("PASS " if a["passed"] else "FAIL ") + a["target"] for a in r["assertions"])
    label = "ceiling (bare Kestrel, warm-cache traffic)" if name == "ceiling" else name
    print(f"| {label} | {mode} | {s['rate']:.0f} | {s['decisionRate']:.0f} | {l['p50']:.2f} | {l['p90']:.2f} | {l['p99']:.2f} | {l['p99.9']:.2f} | {l['max']:.1f} | {s['errors']} | {rss} | {gen} | {vs} | {targets} |")
print()
print("latencies in ms, from the intended send time (open loop) or the send (closed loop); generator CPU near 100% means the")
print("generator, not the server, set the rate (a lower bound of the server's capacity)")
PY
echo "reports: $out" >&2
exit $status
