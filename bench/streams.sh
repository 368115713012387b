#!/usr/bin/env bash
# Benchmark (issue 15): N concurrent LLM streams from ONE generator thread against the mock
# on ONE event loop thread, for N in 1,000, 5,000 and 10,000 (or the counts given).
# Each stream: first token after 200 ms, then 600 tokens at 20 tokens/s in events of 10
# tokens (30 s); N/10 streams start each second for 10 s, so all N are open from 10 s to
# 30 s. For each N it prints the generator's scheduling lag p50/p99/max, its CPU per
# stream, its memory per open stream (peak RSS over a 10-stream run's, divided by N), and
# the mock's pacing error (how late frames left against their due times, from its stats).
# Goals at 10,000 streams: lag p99 <= 1 ms, <= 16 KiB of generator memory per open stream.
# Usage: bench/streams.sh [N ...]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 5000 10000)

swift build -c release --product cutover >/dev/null
swift build -c release --product mock-upstream >/dev/null
BIN=$(swift build -c release --show-bin-path)
ulimit -n 65536 2>/dev/null || true

json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("v=d"+sys.argv[2]); print(v)' "$1" "$2"; }

# run_streams N: one generator run of N streams against a fresh one-thread mock; prints
# "ok transport lag_p50 lag_p99 lag_max cpu_ms rss_kb mock_p50 mock_p99 mock_max mock_cpu_ms".
run_streams() {
  local n=$1
  local rate=$(( n / 10 > 0 ? n / 10 : 1 ))
  start_mock "streams-$n" --event-loops 1
  curl -s -XPUT "$MOCK_ADMIN/_mock/faults" \
    -d '{"faults":[{"id":"llm","kind":"stream-pace","ttft_ms":200,"tokens_per_second":20,"tokens_per_chunk":10}]}' >/dev/null
  local mock_before
  mock_before=$(awk '{print $14+$15}' "/proc/$MOCK_PID/stat")
  /usr/bin/time -f '%U %S %M' -o "$bench_work/time.$n" \
    "$BIN/cutover" load --url "$MOCK_URL" --rate "$rate" --duration 10s --stream --max-tokens 600 --threads 1 \
    --max-in-flight $(( n + 1000 )) --timeout 120s --connect-timeout 10s --json >"$bench_work/load.$n.json"
  local mock_after
  mock_after=$(awk '{print $14+$15}' "/proc/$MOCK_PID/stat")
  curl -s "$MOCK_ADMIN/_mock/stats" >"$bench_work/stats.$n.json"
  kill -TERM "$MOCK_PID"; wait "$MOCK_PID" 2>/dev/null || true
  read -r user sys rss <"$bench_work/time.$n"
  local f="$bench_work/load.$n.json" s="$bench_work/stats.$n.json"
  echo "$(json "$f" '["outcomes"]["ok"]') $(json "$f" '["outcomes"]["transport"]')" \
    "$(json "$f" '["scheduling_lag_ms"]["p50"]') $(json "$f" '["scheduling_lag_ms"]["p99"]') $(json "$f" '["scheduling_lag_ms"]["max"]')" \
    "$(python3 -c "print(round(($user + $sys) * 1000))") $rss" \
    "$(json "$s" '["pacing"]["late_p50_ms"]') $(json "$s" '["pacing"]["late_p99_ms"]') $(json "$s" '["pacing"]["late_max_ms"]')" \
    "$(( (mock_after - mock_before) * 1000 / $(getconf CLK_TCK) ))"
}

echo "== baseline: 10 streams (the generator's memory without streams open)"
read -r _ _ _ _ _ _ base_rss _ _ _ _ <<<"$(run_streams 10)"
echo "   peak RSS ${base_rss} KiB"
printf '\n%8s %8s %9s %9s %9s %9s %11s %13s %11s %11s %11s %11s\n' \
  streams ok transport "lag p50" "lag p99" "lag max" "cpu/stream" "KiB/stream" "mock p50" "mock p99" "mock max" "mock cpu"
for n in "${counts[@]}"; do
  read -r ok transport p50 p99 max cpu rss m50 m99 mmax mcpu <<<"$(run_streams "$n")"
  per_stream_kib=$(python3 -c "print(round(max(0, $rss - $base_rss) / $n, 1))")
  cpu_us=$(python3 -c "print(round($cpu * 1000 / $n))")
  printf '%8s %8s %9s %8sms %8sms %8sms %9sus %13s %9sms %9sms %9sms %9sms\n' \
    "$n" "$ok" "$transport" "$p50" "$p99" "$max" "$cpu_us" "$per_stream_kib" "$m50" "$m99" "$mmax" "$mcpu"
done
echo "goals at 10,000 streams: lag p99 <= 1 ms, <= 16 KiB of generator memory per open stream"
