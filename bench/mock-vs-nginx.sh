#!/usr/bin/env bash
# Benchmark: the mock upstream against nginx serving the identical /v1/models bytes,
# with wrk -t1 -c64 -d10s on each in the same run; then chat completions req/s,
# streamed chunks/s, and 2,000 concurrent slow streams with the mock's peak RSS.
# Goal: mock >= 0.5 x nginx on /v1/models (below 0.35 x is a defect); < 256 MiB RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
DURATION=${DURATION:-10s}

swift build -c release --product mock-upstream >/dev/null
BIN=$(swift build -c release --show-bin-path)
ulimit -n 65536 2>/dev/null || true

start_mock blue --seed 1
curl -s "$MOCK_URL/v1/models" >"$bench_work/models.json"
port=$(free_port)
start_nginx "server {
    listen 127.0.0.1:$port;
    location = /v1/models { default_type application/json; alias $bench_work/models.json; }
  }" "http://127.0.0.1:$port/v1/models"
cmp -s <(curl -s "http://127.0.0.1:$port/v1/models") "$bench_work/models.json" || { echo "nginx does not serve the same bytes" >&2; exit 1; }

echo "== GET /v1/models, wrk -t1 -c64 -d$DURATION ($(wc -c <"$bench_work/models.json") bytes)"
mock_rps=$(wrk_rps "$MOCK_URL/v1/models" -t1 -c64 -d"$DURATION" --latency); mock_p99=$(wrk_p99)
nginx_rps=$(wrk_rps "http://127.0.0.1:$port/v1/models" -t1 -c64 -d"$DURATION" --latency); nginx_p99=$(wrk_p99)
printf '  mock-upstream  %10.0f req/s   p99 %s ms\n' "$mock_rps" "$mock_p99"
printf '  nginx          %10.0f req/s   p99 %s ms\n' "$nginx_rps" "$nginx_p99"
echo "  ratio mock/nginx: $(ratio "$mock_rps" "$nginx_rps")  (goal >= 0.5, defect < 0.35)"

cat >"$bench_work/chat.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"gpt-4.1","messages":[{"role":"user","content":"hello there"}],"max_tokens":16}'
LUA
cat >"$bench_work/stream.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"gpt-4.1","messages":[{"role":"user","content":"hello there"}],"max_tokens":64,"stream":true}'
LUA
echo "== POST /v1/chat/completions (16 tokens), wrk -t1 -c64 -d$DURATION"
chat_rps=$(wrk_rps "$MOCK_URL/v1/chat/completions" -t1 -c64 -d"$DURATION" -s "$bench_work/chat.lua")
printf '  mock-upstream  %10.0f req/s\n' "$chat_rps"
echo "== POST /v1/chat/completions stream (64 tokens = 67 events), wrk -t1 -c64 -d$DURATION"
stream_rps=$(wrk_rps "$MOCK_URL/v1/chat/completions" -t1 -c64 -d"$DURATION" -s "$bench_work/stream.lua")
printf '  mock-upstream  %10.0f streams/s  %10.0f chunks/s\n' "$stream_rps" "$(python3 -c "print($stream_rps*67)")"

echo "== 2,000 concurrent slow streams (stream-pace 20 tokens/s, 64 tokens: ~3.2 s each), wrk -t1 -c2000 -d12s"
# A fresh mock, so RSS measures the streams rather than the earlier phases' ledger.
start_mock green --seed 2
curl -s -X PUT "$MOCK_ADMIN/_mock/faults" -d '{"faults":[{"id":"slow","kind":"stream-pace","ttft_ms":200,"tokens_per_second":20}]}' >/dev/null
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$MOCK_PID/status")
wrk -t1 -c2000 -d12s --timeout 10s -s "$bench_work/stream.lua" "$MOCK_URL/v1/chat/completions" >"$bench_work/wrk.slow" 2>&1 &
wrk_pid=$!
bench_pids+=("$wrk_pid")
peak_open=0
for _ in $(seq 1 22); do
  sleep 0.5
  open=$(curl -s "$MOCK_ADMIN/_mock/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["in_flight"])')
  [ "$open" -gt "$peak_open" ] && peak_open=$open
done
wait "$wrk_pid" || true
rss_peak=$(awk '/VmHWM/ {print $2}' "/proc/$MOCK_PID/status")
completed=$(awk '/requests in/ {print $1}' "$bench_work/wrk.slow")
errors=$(grep -E "Socket errors|Non-2xx" "$bench_work/wrk.slow" || echo "no socket errors")
printf '  peak streams in flight at the mock: %d\n' "$peak_open"
printf '  streams completed: %s  (%s)\n' "$completed" "$errors"
printf '  mock RSS idle: %d MiB, peak: %d MiB  (goal < 256 MiB)\n' $((rss_before / 1024)) $((rss_peak / 1024))
