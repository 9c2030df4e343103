#!/usr/bin/env bash
# Telemetry overhead of the gatekeeper's Decide: OpenTelemetry off vs on (every call traced with
# OTEL_TRACES_SAMPLER=always_on; spans, metrics and logs exported over OTLP/HTTP to a local null receiver,
# perf/otlp_sink.py, on the load generator's core: at a lower priority it fell behind, the export queue filled and
# spans were dropped). Default configuration (audit log on) unless GK_ARGS says otherwise.
#
# PAIRS times, back to back, off then on, each in a fresh process (server on core 0, h2load and the sink on core 1,
# h2load -c 4 -m 64 as perf/bench.sh):
#   cold:   the first WARM calls after start-up (req/s). The SDK's code is jitted and tiered up while they run, later
#           for "on" than for "off"; on a one-core server this phase lasts some 200k calls.
#   steady: then SECONDS_PER_RUN of closed loop (req/s), with the server's CPU time (utime+stime from /proc) per
#           completed call over the same run: on a dedicated core req/s is its inverse, and it is what other
#           tenants of a shared machine disturb least.
# Ratios are taken within a pair (on/off), which cancels most of the machine's noise; medians over the pairs.
# h2load counts HTTP 200 as success; a run with failures is reported as 0.
#
# usage: perf/otel-overhead.sh
# env:   PAIRS (5), SECONDS_PER_RUN (10), WARM (250000), PORT (5802), SINK_PORT (4318), BENCH_HOME (/tmp/gk-bench-otel),
#        SKIP_BUILD=1 (reuse the last publish), GK_ARGS (extra service arguments for both modes, e.g.
#        --Gatekeeper:AuditEnabled=false), BASELINE (none: "off" runs without any SDK; metrics: "off" exports
#        metrics and logs to the sink as "on" does, with OTEL_TRACES_SAMPLER=always_off, so the pair differs in
#        tracing only)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pairs=${PAIRS:-5}
secs=${SECONDS_PER_RUN:-10}
warm=${WARM:-250000}
port=${PORT:-5802}
sink_port=${SINK_PORT:-4318}
baseline=${BASELINE:-none}
home=${BENCH_HOME:-/tmp/gk-bench-otel}
mkdir -p "$home"
command -v h2load >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; }

if [[ ${SKIP_BUILD:-} != 1 ]]; then
  echo "publishing the gatekeeper (Release)..." >&2
  dotnet publish -c Release "$root/src/Gatekeeper" -o "$home/gatekeeper" >"$home/build.log" 2>&1 || { tail -30 "$home/build.log"; exit 1; }
fi

# The request of perf/audit-bench.sh (category, recipient, purpose, context), in a gRPC frame.
python3 - "$home/req.bin" <<'PY'
import sys
def s(field, text):
    b = text.encode()
    return bytes([field << 3 | 2, len(b)]) + b
context = s(3, "child_in_need") + bytes([6 << 3 | 0, 1])
body = s(1, "health_disability") + s(2, "gp_surgery") + s(3, "social_care") + bytes([4 << 3 | 2, len(context)]) + context
open(sys.argv[1], "wb").write(b"\x00" + len(body).to_bytes(4, "big") + body)
PY

pid=; sink=
stop_all() {
  [[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  [[ -n $sink ]] && { kill -TERM "$sink" 2>/dev/null || true; wait "$sink" 2>/dev/null || true; }
  pid=; sink=
}
trap stop_all EXIT
wait_port() { for _ in $(seq 1 200); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
h2() { taskset -c 1 h2load -t 1 -c 4 -m 64 -H 'content-type: application/grpc' -H 'te: trailers' -d "$home/req.bin" "$@" \
       "http://127.0.0.1:$port/gatekeeper.v1.Gatekeeper/Decide" 2>&1; }
rps() { # h2load output -> req/s, or 0 with failures
  local failed; failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$1" | head -1)
  [[ ${failed:-1} == 0 ]] || { echo "h2load reported failures:" >&2; echo "$1" >&2; echo 0; return; }
  sed -n 's/.*finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$1"
}

run() { # off|on pair -> "cold_rps steady_rps cpu_us_per_call spans_per_call"
  local work=$home/work-$1 envs=(env -u OTEL_EXPORTER_OTLP_ENDPOINT)
  rm -rf "$work"; mkdir -p "$work"
  local sampler=always_on
  [[ $1 == off && $baseline == metrics ]] && sampler=always_off
  if [[ $1 == on || $baseline == metrics ]]; then
    taskset -c 1 python3 "$root/perf/otlp_sink.py" "$sink_port" "$home/sink-$1-$2.json" & sink=$!
    wait_port "$sink_port"
    envs=(env OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
          OTEL_TRACES_SAMPLER=$sampler OTEL_METRIC_EXPORT_INTERVAL=5000)
  fi
  # shellcheck disable=SC2086 # word splitting of GK_ARGS is intended
  (cd "$work" && exec "${envs[@]}" taskset -c 0 dotnet "$home/gatekeeper/Gatekeeper.dll" --urls "http://127.0.0.1:$port" \
     --Gatekeeper:DataDirectory="$work/data" ${GK_ARGS:-} >"$work/server.log" 2>&1) & pid=$!
  wait_port "$port"; sleep 1
  local cold steady out before after done_calls hz
  cold=$(rps "$(h2 -n "$warm")")
  hz=$(getconf CLK_TCK)
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$(h2 -D "$secs")
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  steady=$(rps "$out")
  done_calls=$(sed -n 's/^requests: .* \([0-9]*\) done.*/\1/p' <<<"$out")
  local was_on=$1
  stop_all   # SIGTERM: the host stops and the SDK flushes what it buffered; the sink then writes its counts
  local spans=0
  if [[ $was_on == on ]]; then
    spans=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("/v1/traces", {}).get("spans", 0))' "$home/sink-on-$2.json")
  fi
  python3 -c "print($cold, $steady, round(($after - $before) / $hz / $done_calls * 1e6, 1), round($spans / ($warm + $done_calls), 2))"
  sleep 1
}

results=$home/otel-overhead.tsv
: >"$results"
for pair in $(seq 1 "$pairs"); do
  read -r off_cold off_rps off_cpu _ < <(run off "$pair")
  read -r on_cold on_rps on_cpu spans < <(run on "$pair")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$pair" "$off_cold" "$on_cold" "$off_rps" "$on_rps" "$off_cpu" "$on_cpu" "$spans" | tee -a "$results" >&2
done

python3 - "$results" <<'PY'
import statistics, sys
rows = [[float(x) for x in l.split("\t")] for l in open(sys.argv[1]).read().split("\n") if l]
print(f"{'pair':>4} {'cold off':>9} {'cold on':>9} {'off req/s':>10} {'on req/s':>9} {'off us':>7} {'on us':>6} | {'cold on/off':>11} {'on/off':>6} {'off/on cpu':>10} {'spans/call':>10}")
cold, thr, cpu = [], [], []
for pair, c_off, c_on, off, on, u_off, u_on, spans in rows:
    cold.append(c_on / c_off if c_off else 0); thr.append(on / off if off else 0); cpu.append(u_off / u_on if u_on else 0)
    print(f"{int(pair):>4} {c_off:9.0f} {c_on:9.0f} {off:10.0f} {on:9.0f} {u_off:7.1f} {u_on:6.1f} | {cold[-1]:11.2f} {thr[-1]:6.2f} {cpu[-1]:10.2f} {spans:10.2f}")
for name, values in (("steady throughput on/off", thr), ("server CPU per call off/on", cpu), ("cold (first calls) on/off", cold)):
    print(f"{name}: median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f}) over {len(values)} pairs")
PY
