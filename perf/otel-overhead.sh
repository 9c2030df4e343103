#!/usr/bin/env bash
# Telemetry overhead of the gatekeeper's Decide: OpenTelemetry off vs on (every call traced with
# OTEL_TRACES_SAMPLER=always_on; spans, metrics and logs exported over OTLP/HTTP to a local null receiver,
# perf/otlp_sink.py, on the load generator's core: at a lower priority it fell behind, the export queue filled and
# spans were dropped), next to the bare Kestrel ceiling.
#
# 1. perf/bench.sh once (SKIP=cerbos, ROUNDS=1): builds the ceiling, publishes the gatekeeper (Release) into
#    BENCH_HOME, writes the request bodies and checks one real answer from each.
# 2. PAIRS times, back to back: ceiling, gatekeeper off, gatekeeper on; same pinning and h2load command as bench.sh
#    (server on core 0, h2load on core 1, -c 4 -m 64). Ratios within a pair cancel most of the machine's noise.
#
# usage: perf/otel-overhead.sh     env: PAIRS (3), SECONDS_PER_RUN (10), SINK_PORT (4318), BENCH_HOME (/tmp/gk-bench-otel)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pairs=${PAIRS:-3}
secs=${SECONDS_PER_RUN:-10}
port=${SINK_PORT:-4318}
home=${BENCH_HOME:-/tmp/gk-bench-otel}
mkdir -p "$home"

echo "building with perf/bench.sh (its own off-mode figures follow)..." >&2
env -u OTEL_EXPORTER_OTLP_ENDPOINT BENCH_HOME="$home" SKIP=cerbos ROUNDS=1 SECONDS_PER_RUN="$secs" "$root/perf/bench.sh" >&2

pids=()
stop_all() {
  for p in "${pids[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [[ -n $p ]] && wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT
wait_port() { for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

measure() { # port path body -> req/s (0 when h2load saw failures)
  local out failed
  out=$(taskset -c 1 h2load -D "$secs" --warm-up-time=2 -c 4 -m 64 -t 1 -H 'content-type: application/grpc' -H 'te: trailers' \
        -d "$3" "http://127.0.0.1:$1$2" 2>&1)
  failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$out" | head -1)
  [[ ${failed:-1} == 0 ]] || { echo "h2load reported failures:" >&2; echo "$out" >&2; echo 0; return; }
  sed -n 's/.*finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out"
}

ceiling() {
  (cd "$home" && exec taskset -c 0 dotnet "$home/ceiling/Ceiling.dll" --urls http://127.0.0.1:5801 >"$home/ceiling.log" 2>&1) & pids+=($!)
  wait_port 5801; sleep 1
  measure 5801 /bench.Ceiling/Call "$home/req-ceiling.bin"
  stop_all; sleep 1
}

gatekeeper() { # off|on pair
  rm -rf "$home/gk-work"; mkdir -p "$home/gk-work"
  if [[ $1 == on ]]; then
    taskset -c 1 python3 "$root/perf/otlp_sink.py" "$port" "$home/sink-$2.json" & local sink=$!
    wait_port "$port"
    (cd "$home/gk-work" && OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$port OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
       OTEL_TRACES_SAMPLER=always_on OTEL_METRIC_EXPORT_INTERVAL=5000 \
       exec taskset -c 0 dotnet "$home/gatekeeper/Gatekeeper.dll" --urls http://127.0.0.1:5802 >"$home/gk-on.log" 2>&1) & pids+=($!)
  else
    (cd "$home/gk-work" && exec env -u OTEL_EXPORTER_OTLP_ENDPOINT taskset -c 0 dotnet "$home/gatekeeper/Gatekeeper.dll" --urls http://127.0.0.1:5802 >"$home/gk-off.log" 2>&1) & pids+=($!)
  fi
  wait_port 5802; sleep 1
  measure 5802 /gatekeeper.v1.Gatekeeper/Decide "$home/req-gatekeeper.bin"
  stop_all   # SIGTERM: the host stops and the SDK flushes what it buffered
  if [[ $1 == on ]]; then kill -TERM "$sink"; wait "$sink" || true; fi
  sleep 1
}

results=$home/otel-overhead.tsv
: >"$results"
for pair in $(seq 1 "$pairs"); do
  c=$(ceiling); off=$(gatekeeper off "$pair"); on=$(gatekeeper on "$pair")
  spans=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("/v1/traces", {}).get("spans", 0))' "$home/sink-$pair.json")
  printf '%s\t%s\t%s\t%s\t%s\n' "$pair" "$c" "$off" "$on" "$spans" | tee -a "$results" >&2
done

python3 - "$results" "$secs" <<'PY'
import sys
secs = int(sys.argv[2])
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
print(f"{'pair':>4} {'ceiling':>9} {'gk off':>9} {'gk on':>9} {'off/ceil':>8} {'on/ceil':>8} {'on/off':>7} {'spans exported per traced call':>31}")
ratios = []
for pair, c, off, on, spans in rows:
    c, off, on, spans = float(c), float(off), float(on), int(spans)
    r = on / off if off else 0
    ratios.append(r)
    # Calls during the run include the 2 s warm-up; each Decide makes 2 spans (server + audit commit).
    per_call = spans / (on * (secs + 2)) if on else 0
    print(f"{pair:>4} {c:9.0f} {off:9.0f} {on:9.0f} {off/c:8.2f} {on/c:8.2f} {r:7.2f} {per_call:31.2f}")
ratios.sort()
print(f"on/off: median {ratios[len(ratios)//2]:.2f} (min {ratios[0]:.2f}, max {ratios[-1]:.2f}) over {len(ratios)} pairs")
PY
