#!/usr/bin/env bash
# Benchmark: one mock upstream behind (a) bluegreen-router and (b) nginx as a reverse
# proxy with upstream keepalive; wrk -t1 -c64 -d10s through each in the same run.
# Goal: router req/s >= 1.0 x nginx and p99 <= nginx's (below 0.5 x is a defect).
# Then the switch latency: from POST /admin/rollback returning until only blue serves.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${DURATION:-10s}

swift build -c release --product mock-upstream >/dev/null
swift build -c release --product bluegreen-router >/dev/null
BIN=$(swift build -c release --show-bin-path)
ulimit -n 65536 2>/dev/null || true

start_mock green --seed 2
GREEN_URL=$MOCK_URL
start_mock blue --seed 1
BLUE_URL=$MOCK_URL

"$BIN/bluegreen-router" --blue "$BLUE_URL" --green "$GREEN_URL" --health-interval 0s --log-level error >"$bench_work/router.out" &
bench_pids+=($!)
for _ in $(seq 1 200); do [ -s "$bench_work/router.out" ] && break; sleep 0.05; done
ROUTER_URL=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["url"])' "$bench_work/router.out")
ROUTER_ADMIN=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["admin"])' "$bench_work/router.out")

port=$(free_port)
start_nginx "upstream relay {
    server ${BLUE_URL#http://};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://relay;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_buffering off;
    }
  }" "http://127.0.0.1:$port/v1/models"

echo "== GET /v1/models through each proxy to the same mock, wrk -t1 -c64 -d$DURATION"
direct_rps=$(wrk_rps "$BLUE_URL/v1/models" -t1 -c64 -d"$DURATION" --latency); direct_p99=$(wrk_p99)
router_rps=$(wrk_rps "$ROUTER_URL/v1/models" -t1 -c64 -d"$DURATION" --latency); router_p99=$(wrk_p99)
nginx_rps=$(wrk_rps "http://127.0.0.1:$port/v1/models" -t1 -c64 -d"$DURATION" --latency); nginx_p99=$(wrk_p99)
printf '  mock direct       %10.0f req/s   p99 %s ms\n' "$direct_rps" "$direct_p99"
printf '  bluegreen-router  %10.0f req/s   p99 %s ms\n' "$router_rps" "$router_p99"
printf '  nginx             %10.0f req/s   p99 %s ms\n' "$nginx_rps" "$nginx_p99"
echo "  throughput ratio router/nginx: $(ratio "$router_rps" "$nginx_rps")  (goal >= 1.0, defect < 0.5)"
echo "  p99 ratio router/nginx: $(ratio "$router_p99" "$nginx_p99")  (goal <= 1.0)"

echo "== Switch latency (8 keep-alive clients, promote then rollback)"
python3 bench/switch_latency.py "$ROUTER_URL" "$ROUTER_ADMIN"
