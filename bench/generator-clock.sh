#!/usr/bin/env bash
# Does what a suite run puts in the generator's process disturb the generator's clock
# (issue 13, point 3)? The canary-promote mix, open model, at the suites' rate (300/s)
# and 10x (3000/s), in alternating rounds of four set-ups on the same machine:
#   separate   the mock in its own process (mock-upstream): the reference;
#   in-process the mock on this process's NIO threads, as a suite runs it;
#   suite      in-process, plus the control probe's thread and a progress line a second;
#   busy-task  suite, plus CPU work on Swift's cooperative pool all through the load
#              (the worst case for report work, which a suite does only after the load).
# Prints the median over the rounds of the lag p99 and of the worst 100 ms p99, and each
# set-up's ratio to `separate`. Usage: bench/generator-clock.sh [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=${1:-3}
seconds=${2:-8}
swift build -c release --product mock-upstream >/dev/null
swift build -c release --product generator-clock-bench >/dev/null
BIN=$(swift build -c release --show-bin-path)
results="$bench_work/clock.jsonl"
start_mock separate-blue
for round in $(seq 1 "$rounds"); do
  for rate in 300 3000; do
    for mode in separate in-process suite busy-task; do
      echo "round $round: $mode at $rate/s for ${seconds}s" >&2
      if [ "$mode" = separate ]; then
        "$BIN/generator-clock-bench" separate "$MOCK_URL" "$rate" "$seconds" 2>/dev/null >>"$results"
      else
        "$BIN/generator-clock-bench" "$mode" "$rate" "$seconds" 2>/dev/null >>"$results"
      fi
    done
  done
done
python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
modes = ["separate", "in-process", "suite", "busy-task"]
print("%-11s %6s %10s %12s %14s %18s %8s %9s" % ("set-up", "rate", "achieved", "lag p50 ms", "lag p99 ms", "worst 100ms p99", "x sep.", "not sent"))
for rate in sorted({r["rate"] for r in rows}):
    base = None
    for mode in modes:
        runs = [r for r in rows if r["rate"] == rate and r["mode"] == mode]
        if not runs:
            continue
        med = lambda key: statistics.median(r[key] for r in runs)
        p99 = med("lag_p99_ms")
        if mode == "separate":
            base = p99
        ratio = "%.2f" % (p99 / base) if base else "-"
        print("%-11s %6.0f %10.1f %12.3f %14.3f %18.3f %8s %9d" % (
            mode, rate, med("achieved_rps"), med("lag_p50_ms"), p99, med("worst_100ms_p99_ms"), ratio, sum(r["not_sent"] for r in runs)))
print("(medians over %d rounds; one row per set-up and rate)" % max(1, len(rows) // 8))
PY
