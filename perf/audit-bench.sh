#!/usr/bin/env bash
# Cost of the audit log on Decide, measured in one run: the published Release service with the log on and with
# Gatekeeper:AuditEnabled=false, pinned to core 0, h2load pinned to core 1, alternating on/off every round so
# that both see the same machine noise.
#   closed loop: h2load -c 4 -m 64 (as ../shared/bench/run.sh) -> req/s
#   cpu:         h2load -n COUNT, and the server's own CPU time (utime+stime from /proc) / COUNT -> CPU us per call,
#                which other tenants of a shared machine disturb far less than req/s; on one dedicated core the
#                throughput ratio is the inverse of the CPU ratio
#   open loop:   a fixed arrival rate (h2load --rps), the same for on and off -> p50/p99/p99.9 from h2load's
#                per-request log (queueing is not hidden by a closed loop)
#   fsync:       p50/p99 of 200 x (write 4 KiB + fsync) in the data directory's file system during the round: the
#                floor under the log's added latency (synchronous=FULL waits for one fsync per batch)
#   steal:       the share of the machine's CPU time the hypervisor gave to other guests during the round
# h2load counts HTTP 200 as success and does not read grpc-status, so after every log-on run the records in the
# log are counted: fewer records than answers would mean some calls ended UNAVAILABLE (e.g. audit queue full).
#
# usage: perf/audit-bench.sh
# env:   ROUNDS (3), SECONDS_PER_RUN (10), COUNT (100000), RATE (open-loop req/s; default half the slower closed-loop figure of
#        the round), BENCH_HOME (/tmp/gk-audit-bench), SKIP_BUILD=1 (reuse the last publish),
#        GK_ARGS (extra service arguments for both modes)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
home=${BENCH_HOME:-/tmp/gk-audit-bench}
rounds=${ROUNDS:-3}
secs=${SECONDS_PER_RUN:-10}
port=5803
mkdir -p "$home"
command -v h2load >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }

if [[ ${SKIP_BUILD:-} != 1 ]]; then
  echo "publishing the gatekeeper (Release)..." >&2
  dotnet publish -c Release "$root/src/Gatekeeper" -o "$home/gatekeeper" >"$home/build.log" 2>&1 || { tail -30 "$home/build.log"; exit 1; }
fi

# The request of ../shared/bench/make_requests.py, encoded by hand (no protoc needed): category, recipient,
# purpose, context { subject_statuses: [child_in_need], subject_is_minor: true }, in a gRPC frame.
python3 - "$home/req.bin" <<'EOF'
import sys
def s(field, text):
    b = text.encode()
    return bytes([field << 3 | 2, len(b)]) + b
context = s(3, "child_in_need") + bytes([6 << 3 | 0, 1])
body = s(1, "health_disability") + s(2, "gp_surgery") + s(3, "social_care") + bytes([4 << 3 | 2, len(context)]) + context
open(sys.argv[1], "wb").write(b"\x00" + len(body).to_bytes(4, "big") + body)
EOF

pid=
stop() { [[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; pid=; }
trap stop EXIT
start() { # mode: on|off
  local work=$home/work-$1 extra=()
  rm -rf "$work"; mkdir -p "$work"
  [[ $1 == off ]] && extra=(--Gatekeeper:AuditEnabled=false)
  # shellcheck disable=SC2206 # word splitting of GK_ARGS is intended
  extra+=(${GK_ARGS:-})
  (cd "$work" && exec taskset -c 0 dotnet "$home/gatekeeper/Gatekeeper.dll" --urls "http://127.0.0.1:$port" \
     --Gatekeeper:DataDirectory="$work/data" "${extra[@]}" >"$work/server.log" 2>&1) & pid=$!
  for _ in $(seq 1 200); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0; sleep 0.1; done
  echo "the gatekeeper did not open port $port:" >&2; cat "$work/server.log" >&2; exit 1
}
h2() { taskset -c 1 h2load -t 1 -c 4 -m 64 -H 'content-type: application/grpc' -H 'te: trailers' -d "$home/req.bin" "$@" \
       "http://127.0.0.1:$port/gatekeeper.v1.Gatekeeper/Decide" 2>&1; }
closed() { # mode -> "req/s done"
  local out; out=$(h2 -D "$secs" --warm-up-time=3)
  local failed; failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$out" | head -1)
  [[ ${failed:-1} == 0 ]] || { echo "h2load failures ($1):" >&2; echo "$out" >&2; exit 1; }
  echo "$(sed -n 's/.*finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out") $(sed -n 's/^requests: .* \([0-9]*\) done.*/\1/p' <<<"$out")"
}
open_loop() { # mode rate -> "p50 p99 p999 (ms)"
  local log=$home/latency-$1.tsv
  rm -f "$log" # never read a previous run's file if this one fails to write
  h2 -D "$secs" --warm-up-time=3 --rps=$(( $2 / 4 )) --log-file="$log" >/dev/null
  python3 - "$log" <<'EOF'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
t0 = min(int(r[0]) for r in rows)
lat = sorted(int(r[2]) for r in rows if int(r[0]) >= t0 + 3_000_000)  # skip anything logged in the warm-up
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1000
print(f"{q(0.50):.2f} {q(0.99):.2f} {q(0.999):.2f}")
EOF
}
cpu_per_call() { # -> server CPU microseconds per call over exactly COUNT calls
  local count=${COUNT:-100000} hz before after
  hz=$(getconf CLK_TCK)
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  h2 -n "$count" >/dev/null
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  python3 -c "print(f'{($after - $before) / $hz / $count * 1e6:.1f}')"
}
fsync_probe() { # dir -> "p50 p99" ms
  python3 - "$1" <<'EOF'
import os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT)
lat = []
for _ in range(200):
    os.write(fd, b"x" * 4096)
    t = time.perf_counter(); os.fsync(fd); lat.append((time.perf_counter() - t) * 1000)
os.close(fd); os.unlink(path)
lat.sort()
print(f"{lat[100]:.2f} {lat[198]:.2f}")
EOF
}
records() { sqlite3 "$home/work-on/data/audit.db" 'SELECT count(*) FROM audit_records;'; }
# Total and steal jiffies of the whole machine: on a VM, time the hypervisor gave to others. Rounds with high steal
# say why their figures moved, not how the builds differ.
cpu_jiffies() { awk '/^cpu /{t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $9}' /proc/stat; }

printf 'round mode  closed_req/s  cpu_us/call  open_rate  p50_ms  p99_ms  p99.9_ms  log_records/answers\n'
for r in $(seq 1 "$rounds"); do
  declare -A rps=() answers=() cpu=()
  read -r total0 steal0 < <(cpu_jiffies)
  for mode in on off; do
    start "$mode"; sleep 2
    read -r rps[$mode] answers[$mode] < <(closed "$mode")
    [[ $mode == on ]] && check=$(python3 -c "print(f'{$(records)}/{${answers[on]}}')")
    cpu[$mode]=$(cpu_per_call)
    stop
  done
  rate=${RATE:-$(python3 -c "print(int(min(${rps[on]}, ${rps[off]}) / 2))")}
  for mode in on off; do
    start "$mode"; sleep 2
    read -r p50 p99 p999 < <(open_loop "$mode" "$rate")
    stop
    printf '%5s %-4s %13.0f %12s %10s %7s %7s %9s  %s\n' "$r" "$mode" "${rps[$mode]}" "${cpu[$mode]}" "$rate" "$p50" "$p99" "$p999" "$([[ $mode == on ]] && echo "$check" || echo -)"
  done
  read -r f50 f99 < <(fsync_probe "$home")
  read -r total1 steal1 < <(cpu_jiffies)
  python3 -c "print(f'round $r: on/off throughput = {${rps[on]}/${rps[off]}:.2f}; off/on CPU per call = {${cpu[off]}/${cpu[on]}:.2f}; fsync p50 $f50 ms, p99 $f99 ms; CPU steal {100 * ($steal1 - $steal0) / max(1, $total1 - $total0):.0f}%')"
done
