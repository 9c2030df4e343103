#!/usr/bin/env bash
# Decide throughput over plain text, TLS and mutual TLS, in one run, on one core: three gatekeepers (Release,
# default settings, audit on), one per mode, all pinned to core 0 and started once; the load generator on core 1.
# A throw-away PKI is made with the openssl CLI. Two generators, both C (nghttp2):
#   h2load  -c 4 -m 64 (as perf/bench.sh)       plain and TLS; h2load cannot present a client certificate
#   nghttp  4 processes x -m N on one connection  plain, TLS and mTLS, so that mTLS is measured like the others
# Each server is warmed up (WARMUP calls, then 2 s for the JIT's background tier-up) before anything is measured,
# and the modes alternate within each round, so that the ratios compare warm servers under the same neighbours.
# Reported per mode: median req/s over the rounds, the server's CPU per call (utime+stime of its process over
# the run, 10 ms ticks: the one-core cost, whatever the generator's pace) and the generator's CPU per call (is it
# the limit?). Ratios are to plain text: of the medians, and the median and range of the per-round ratios. One
# call per mode is also checked for grpc-status 0 (h2load and nghttp count HTTP 200, not gRPC status).
#
# usage: perf/tls-bench.sh   env: ROUNDS (5), CALLS (40000 per nghttp process), WARMUP (20000), SECONDS_PER_RUN
#                            (10, h2load), PORT (5821; uses PORT..PORT+2), BENCH_HOME (/tmp/gk-tls-bench),
#                            GK_ARGS (extra gatekeeper arguments, e.g. --Gatekeeper:AuditEnabled=false), SKIP_H2LOAD=1,
#                            GATEKEEPER_DIR (a published build to run instead of publishing this tree)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
home=${BENCH_HOME:-/tmp/gk-tls-bench}
secs=${SECONDS_PER_RUN:-10}
rounds=${ROUNDS:-5}
calls=${CALLS:-40000}
warmup=${WARMUP:-20000}
port0=${PORT:-5821}
command -v h2load >/dev/null && command -v nghttp >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; }
rm -rf "$home/pki" "$home/work"; mkdir -p "$home/pki" "$home/work"

app=${GATEKEEPER_DIR:-$home/gatekeeper}
if [[ -z ${GATEKEEPER_DIR:-} ]]; then
  echo "publishing the gatekeeper (Release)..." >&2
  dotnet publish -c Release "$root/src/Gatekeeper" -o "$app" >"$home/build.log" 2>&1 || { tail -30 "$home/build.log"; exit 1; }
fi

pki=$home/pki
ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
ec -x509 -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 -subj "/CN=tls-bench CA" \
   -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
issue() { # name subject extensions
  ec -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "$2"
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
    -out "$pki/$1.pem" -extfile <(printf '%s\n' "$3") 2>/dev/null
}
issue server "/CN=gatekeeper" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
issue client "/CN=bench" "subjectAltName=URI:spiffe://bench/load
extendedKeyUsage=clientAuth"
cat >"$home/work/callers.yaml" <<'YAML'
callers:
  anonymous-loopback: { categories: '*', purposes: '*', rate_limit: unlimited }
  anonymous: { categories: '*', purposes: '*', rate_limit: unlimited }
  spiffe://bench/load: { categories: '*', purposes: '*', rate_limit: unlimited }
YAML
mkdir -p "$home/work/policy"
cp "$root"/policies/*.yaml "$home/work/policy/"; rm -f "$home"/work/policy/*.tests.yaml
cp "$home/work/callers.yaml" "$home/work/policy/callers.yaml"

# One Decide request, length-prefixed: category cpis_flag, recipient nhs_cpis, purpose cpis_alert, request_id bench.
python3 - "$home/req.bin" <<'PY'
import struct, sys
def f(n, s): b = s.encode(); return bytes([(n << 3) | 2, len(b)]) + b
m = f(1, "cpis_flag") + f(2, "nhs_cpis") + f(3, "cpis_alert") + f(5, "bench")
open(sys.argv[1], "wb").write(b"\0" + struct.pack(">I", len(m)) + m)
PY

declare -A pid port
modes=(plain tls mtls)
port[plain]=$port0; port[tls]=$((port0 + 1)); port[mtls]=$((port0 + 2))
stop() { for m in "${modes[@]}"; do [[ -n ${pid[$m]:-} ]] && { kill "${pid[$m]}" 2>/dev/null || true; wait "${pid[$m]}" 2>/dev/null || true; }; pid[$m]=; done; }
trap stop EXIT
wait_port() { for _ in $(seq 1 150); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
start() { # mode
  local p=${port[$1]} args=(--urls "http://127.0.0.1:${port[$1]}")
  case $1 in
    tls) args=(--urls "https://127.0.0.1:$p" --Gatekeeper:Tls:CertificatePath="$pki/server.pem" --Gatekeeper:Tls:KeyPath="$pki/server.key") ;;
    mtls) args=(--urls "https://127.0.0.1:$p" --Gatekeeper:Tls:CertificatePath="$pki/server.pem" --Gatekeeper:Tls:KeyPath="$pki/server.key" --Gatekeeper:Tls:ClientCaPath="$pki/ca.pem") ;;
  esac
  rm -rf "$home/work/data-$1"
  (cd "$home/work" && exec taskset -c 0 dotnet "$app/Gatekeeper.dll" "${args[@]}" --Gatekeeper:PolicyPath="$home/work/policy" \
     --Gatekeeper:DataDirectory="$home/work/data-$1" ${GK_ARGS:-} >"$home/gatekeeper-$1.log" 2>&1) & pid[$1]=$!
  wait_port "$p"
}
url() { [[ $1 == plain ]] && echo "http://127.0.0.1:${port[$1]}/gatekeeper.v1.Gatekeeper/Decide" || echo "https://127.0.0.1:${port[$1]}/gatekeeper.v1.Gatekeeper/Decide"; }
certs() { [[ $1 == mtls ]] && echo "--cert=$pki/client.pem --key=$pki/client.key" || true; }
check() { # mode: one call must end with grpc-status 0
  local out; out=$(nghttp -v $(certs "$1") -H 'content-type: application/grpc' -H 'te: trailers' -d "$home/req.bin" "$(url "$1")" 2>&1 | tr -d '\0' || true)
  grep -q 'grpc-status: 0' <<<"$out" || { echo "$1: the check call did not end with grpc-status 0:" >&2; tail -20 <<<"$out" >&2; exit 1; }
}
h2load_rate() { # mode
  local out; out=$(taskset -c 1 h2load -D "$secs" --warm-up-time=2 -c 4 -m 64 -t 1 -H 'content-type: application/grpc' -H 'te: trailers' -d "$home/req.bin" "$(url "$1")" 2>&1)
  local failed; failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$out" | head -1)
  [[ ${failed:-1} == 0 ]] || { echo "h2load failures in $1:" >&2; tail -8 <<<"$out" >&2; echo 0; return; }
  sed -n 's/.*finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
child_ticks() { local f; read -r -a f </proc/$BASHPID/stat; echo $((f[15] + f[16])); } # this shell's reaped children (call without $(...))
nghttp_load() { # mode calls-per-process: 4 nghttp processes, one connection each, all calls sent at once (the server caps streams)
  local load=()
  for _ in 1 2 3 4; do
    taskset -c 1 nghttp -n -m "$2" $(certs "$1") -H 'content-type: application/grpc' -H 'te: trailers' -d "$home/req.bin" "$(url "$1")" >/dev/null 2>&1 &
    load+=($!)
  done
  wait "${load[@]}" || true
}
nghttp_rate() { # mode -> "req/s server-us-per-call generator-us-per-call"
  local t0 t1 c0 c1 g0 g1 n=$((4 * calls))
  t0=$(date +%s.%N); c0=$(cpu_ticks "${pid[$1]}"); child_ticks >"$home/g0"
  nghttp_load "$1" "$calls"
  t1=$(date +%s.%N); c1=$(cpu_ticks "${pid[$1]}"); child_ticks >"$home/g1"; g0=$(<"$home/g0"); g1=$(<"$home/g1")
  python3 -c "print(round($n / ($t1 - $t0)), round(($c1 - $c0) * 10000 / $n, 1), round(($g1 - $g0) * 10000 / $n, 1))"
}

for m in "${modes[@]}"; do start "$m"; done
for m in "${modes[@]}"; do check "$m"; nghttp_load "$m" $((warmup / 4)); done
sleep 2
results=$home/results.txt; : >"$results"
for r in $(seq 1 "$rounds"); do
  for m in "${modes[@]}"; do
    if [[ $m != mtls && -z ${SKIP_H2LOAD:-} ]]; then v=$(h2load_rate "$m"); echo "$r $m h2load ${v:-0}" >>"$results"; echo "round $r  $m  h2load  $v req/s" >&2; fi
    read -r v u g < <(nghttp_rate "$m")
    echo "$r $m nghttp $v $u $g" >>"$results"
    echo "round $r  $m  nghttp  $v req/s, server $u us CPU per call, generator $g us CPU per call" >&2
  done
done
stop
python3 - "$results" <<'PY'
import sys, statistics as st
h2, ng = {}, {}
for r in (l.split() for l in open(sys.argv[1])):
    (h2 if r[2] == "h2load" else ng).setdefault(r[1], {})[int(r[0])] = [float(x) for x in r[3:]]
med = lambda xs: st.median(xs) if xs else float("nan")
print(f"{'mode':6} {'h2load req/s':>13} {'nghttp req/s':>13} {'server us/call':>15} {'generator us/call':>18}")
for m in ("plain", "tls", "mtls"):
    n = ng.get(m, {})
    print(f"{m:6} {med([v[0] for v in h2.get(m, {}).values()]):13.0f} {med([v[0] for v in n.values()]):13.0f} "
          f"{med([v[1] for v in n.values()]):15.1f} {med([v[2] for v in n.values()]):18.1f}")
def ratio(d, m, i, inverse=False):
    rounds = [r for r in d.get(m, {}) if r in d.get("plain", {}) and d[m][r][i] > 0 and d["plain"][r][i] > 0]
    if not rounds:
        return "n/a"
    f = (lambda p, x: p / x) if inverse else (lambda p, x: x / p)
    per = [f(d["plain"][r][i], d[m][r][i]) for r in rounds]
    both = f(med([d["plain"][r][i] for r in rounds]), med([d[m][r][i] for r in rounds]))
    return f"{both:.2f}  (per round: median {med(per):.2f}, range {min(per):.2f}-{max(per):.2f})"
print(f"h2load req/s             tls/plain  {ratio(h2, 'tls', 0)}")
print(f"nghttp req/s             tls/plain  {ratio(ng, 'tls', 0)}")
print(f"nghttp req/s             mtls/plain {ratio(ng, 'mtls', 0)}")
print(f"capacity (plain us/call) tls/plain  {ratio(ng, 'tls', 1, True)}")
print(f"capacity (plain us/call) mtls/plain {ratio(ng, 'mtls', 1, True)}")
PY
