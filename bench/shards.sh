#!/usr/bin/env bash
# Benchmark (issue 17): the same open-model load as ONE generator and as TWO local shards
# (cutover load --shard K/2 --start-at T0, then cutover merge), against one mock, in one
# run, alternating over ROUNDS. For each it prints the achieved rate and the scheduling
# lag p99. Then the cost of `cutover merge` per million records: two parts of 500,000
# records each (written by a script in the part format), merged and summarised by the
# release cutover, its wall time and peak memory from /usr/bin/time.
# Goal: the merge costs <= 1 s and <= 256 MiB per million records.
# Usage: bench/shards.sh [ROUNDS] [RATE] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=${1:-3}
rate=${2:-20000}
duration=${3:-10s}

swift build -c release --product cutover >/dev/null
swift build -c release --product mock-upstream >/dev/null
BIN=$(swift build -c release --show-bin-path)
ulimit -n 65536 2>/dev/null || true
start_mock shards

field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d"+sys.argv[2]))' "$1" "$2"; }

one() { # round
  "$BIN/cutover" load --url "$MOCK_URL" --rate "$rate" --duration "$duration" --seed 1 --threads 2 --json >"$bench_work/one.$1.json" || true
  echo "$(field "$bench_work/one.$1.json" "['throughput_rps']") $(field "$bench_work/one.$1.json" "['scheduling_lag_ms']['p99']")"
}

two() { # round
  local t0
  t0=$(python3 -c 'import time; print(f"{time.time() + 1.5:.3f}")')
  for k in 0 1; do
    "$BIN/cutover" load --url "$MOCK_URL" --rate "$rate" --duration "$duration" --seed 1 --threads 1 --shard "$k/2" --start-at "$t0" \
      --part "$bench_work/part.$1.$k" >/dev/null &
    bench_pids+=($!)
  done
  wait "${bench_pids[@]:1}" 2>/dev/null || true
  bench_pids=("${bench_pids[0]}")
  "$BIN/cutover" merge "$bench_work/part.$1.0" "$bench_work/part.$1.1" --json >"$bench_work/two.$1.json" || true
  echo "$(field "$bench_work/two.$1.json" "['throughput_rps']") $(field "$bench_work/two.$1.json" "['scheduling_lag_ms']['p99']")"
}

echo "open model, $rate req/s for $duration against one mock; one generator (2 threads) vs 2 shards (1 thread each)"
printf '%-6s %-22s %-22s\n' round "one: req/s lag p99 ms" "two shards: req/s lag p99"
for round in $(seq 1 "$rounds"); do
  printf '%-6s %-22s %-22s\n' "$round" "$(one "$round")" "$(two "$round")"
done

# The merge's cost per million records.
python3 - "$bench_work" <<'PY'
import json, struct, sys
folder = sys.argv[1]
total, shards = 1_000_000, 2
for k in range(shards):
    seqs = range(k, total, shards)
    header = {"format": "cutover-ledger-part-1", "run_id": "bench", "source": "load", "seed": 1, "schedule": "bench", "shard": k, "shards": shards,
              "scheduled": total, "wall_start_ms": 0, "woke_at_ms": 0, "elapsed_seconds": 100, "records": len(seqs),
              "fault_stamps": ["none"], "error_headers": {}}
    record = struct.Struct("<7I3H6B3I3H")
    with open(f"{folder}/million.{k}", "wb") as out:
        out.write(json.dumps(header).encode() + b"\n")
        for seq in seqs:
            t = seq * 100
            out.write(record.pack(seq, seq % 10_000, t, t + 50, t + 900, t + 1_500, 512, 200, 0, 0, 1 + seq % 2, 1, 1, 0, 3, 1, 0, 0, 0, 0, 0, 0))
PY
/usr/bin/time -f '%e %M' -o "$bench_work/merge.time" "$BIN/cutover" merge "$bench_work/million.0" "$bench_work/million.1" --json >"$bench_work/merge.json"
read -r seconds kib <"$bench_work/merge.time"
echo "merge of 1,000,000 records in 2 parts: $seconds s, peak $((kib / 1024)) MiB (goal: <= 1 s, <= 256 MiB per million)"
