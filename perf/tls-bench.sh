#!/usr/bin/env bash
# Decide throughput over plain text, TLS and mutual TLS, in one run, on one core: the gatekeeper (Release,
# default settings, audit on) pinned to core 0, the load generator to core 1. A throw-away PKI is made with the
# openssl CLI. Two generators, both C (nghttp2):
#   h2load  -c 4 -m 64 (as perf/bench.sh)       plain and TLS; h2load cannot present a client certificate
#   nghttp  4 processes x -m N on one connection  plain, TLS and mTLS, so that mTLS is measured like the others
# Each mode runs ROUNDS times, best kept; ratios are to plain text in the same run. One call per mode is also
# checked for grpc-status 0 (h2load and nghttp count HTTP 200, not gRPC status).
#
# usage: perf/tls-bench.sh        env: SECONDS_PER_RUN (10), ROUNDS (2), CALLS (40000 per nghttp process),
#                                       BENCH_HOME (/tmp/gk-tls-bench), GK_ARGS (extra gatekeeper arguments)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
home=${BENCH_HOME:-/tmp/gk-tls-bench}
secs=${SECONDS_PER_RUN:-10}
rounds=${ROUNDS:-2}
calls=${CALLS:-40000}
command -v h2load >/dev/null && command -v nghttp >/dev/null || { apt-get update -qq && apt-get install -y -qq nghttp2-client >/dev/null; }
rm -rf "$home/pki" "$home/work"; mkdir -p "$home/pki" "$home/work"

echo "publishing the gatekeeper (Release)..." >&2
dotnet publish -c Release "$root/src/Gatekeeper" -o "$home/gatekeeper" >"$home/build.log" 2>&1 || { tail -30 "$home/build.log"; exit 1; }

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

pid=
stop() { [[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; pid=; }
trap stop EXIT
wait_port() { for _ in $(seq 1 150); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }
start() { # mode
  local args=(--urls http://127.0.0.1:5821)
  case $1 in
    tls) args=(--urls https://127.0.0.1:5821 --Gatekeeper:Tls:CertificatePath="$pki/server.pem" --Gatekeeper:Tls:KeyPath="$pki/server.key") ;;
    mtls) args=(--urls https://127.0.0.1:5821 --Gatekeeper:Tls:CertificatePath="$pki/server.pem" --Gatekeeper:Tls:KeyPath="$pki/server.key" --Gatekeeper:Tls:ClientCaPath="$pki/ca.pem") ;;
  esac
  rm -rf "$home/work/data"
  (cd "$home/work" && exec taskset -c 0 dotnet "$home/gatekeeper/Gatekeeper.dll" "${args[@]}" --Gatekeeper:PolicyPath="$home/work/policy" \
     --Gatekeeper:DataDirectory="$home/work/data" ${GK_ARGS:-} >"$home/gatekeeper-$1.log" 2>&1) & pid=$!
  wait_port 5821
}
url() { [[ $1 == plain ]] && echo http://127.0.0.1:5821/gatekeeper.v1.Gatekeeper/Decide || echo https://127.0.0.1:5821/gatekeeper.v1.Gatekeeper/Decide; }
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
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
nghttp_rate() { # mode -> "req/s server-us-per-call": 4 connections, $calls requests each, after a warm-up of 2,000
  taskset -c 1 nghttp -n -m 2000 $(certs "$1") -H 'content-type: application/grpc' -H 'te: trailers' -d "$home/req.bin" "$(url "$1")" >/dev/null 2>&1 || true
  local t0 t1 c0 c1; t0=$(date +%s.%N); c0=$(cpu_ticks)
  local load=()
  for _ in 1 2 3 4; do
    taskset -c 1 nghttp -n -m "$calls" $(certs "$1") -H 'content-type: application/grpc' -H 'te: trailers' -d "$home/req.bin" "$(url "$1")" >/dev/null 2>&1 &
    load+=($!)
  done
  wait "${load[@]}" || true
  t1=$(date +%s.%N); c1=$(cpu_ticks)
  # Server CPU per call (user + system, clock ticks of 10 ms) is the one-core cost, whatever the generator's pace.
  echo "$(python3 -c "print(round(4 * $calls / ($t1 - $t0)))") $(python3 -c "print(round(($c1 - $c0) * 10000 / (4 * $calls), 1))")"
}

declare -A h2 ng us
for m in plain tls mtls; do h2[$m]=0; ng[$m]=0; us[$m]=1000000; done
for r in $(seq 1 "$rounds"); do
  for m in plain tls mtls; do
    start "$m"; sleep 1; [[ $r == 1 ]] && check "$m"
    if [[ $m != mtls ]]; then v=$(h2load_rate "$m"); h2[$m]=$(python3 -c "print(max(${h2[$m]}, ${v:-0}))"); echo "round $r  $m  h2load  $v req/s" >&2; fi
    read -r v u < <(nghttp_rate "$m")
    ng[$m]=$(python3 -c "print(max(${ng[$m]}, ${v:-0}))"); us[$m]=$(python3 -c "print(min(${us[$m]}, ${u:-1000000}))")
    echo "round $r  $m  nghttp  $v req/s, server $u us CPU per call" >&2
    stop; sleep 1
  done
done
printf '%-6s %14s %14s %22s\n' mode "h2load req/s" "nghttp req/s" "server us CPU/call"
for m in plain tls mtls; do printf '%-6s %14.0f %14.0f %22s\n' "$m" "${h2[$m]}" "${ng[$m]}" "${us[$m]}"; done
python3 - "${h2[plain]}" "${h2[tls]}" "${ng[plain]}" "${ng[tls]}" "${ng[mtls]}" "${us[plain]}" "${us[tls]}" "${us[mtls]}" <<'PY'
import sys
hp, ht, np_, nt, nm, up, ut, um = map(float, sys.argv[1:])
r = lambda a, b: f"{a / b:.2f}" if b else "n/a"
print(f"h2load: tls/plain = {r(ht, hp)}   nghttp: tls/plain = {r(nt, np_)}, mtls/plain = {r(nm, np_)}, mtls/tls = {r(nm, nt)}")
print(f"one-core capacity from server CPU per call: tls/plain = {r(up, ut)}, mtls/plain = {r(up, um)}")
PY
