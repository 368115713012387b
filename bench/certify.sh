#!/usr/bin/env bash
# Benchmark (issue 29): what the certification set costs and how hard it presses. Runs
# `cutover certify --router reference --repeat R` once over the whole set, and prints its wall
# time and verdict, the wall time of the twelve suites the set had before issue 29 (`before`:
# they come first in the set, so their runs are the first stretch of the same run, timed
# from the set's start to the first run of a suite issue 29 added), their ratio, and per
# suite the requests and streams exposed to a switch (in flight at a router action's call,
# or sent within a second after it: report.json's `exposure`), summed over the repeats.
# Usage: bench/certify.sh [REPEAT]      (default 3; about 45 minutes at 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
repeat=${1:-3}

swift build -c release --product cutover >/dev/null
swift build -c release --product bluegreen-router >/dev/null
BIN=$(swift build -c release --show-bin-path)

out="$bench_work/certification"
start=$(date +%s)
set +e
"$BIN/cutover" certify --router reference --set certification --repeat "$repeat" --report-dir "$out" >"$bench_work/certification.txt" 2>&1
status=$?
set -e
end=$(date +%s)
verdict="exit $status, $(grep -m1 '^OVERALL' "$bench_work/certification.txt" || echo 'no verdict')"

python3 - "$out" "$repeat" "$start" "$end" "$verdict" <<'PY'
import json, sys
from datetime import datetime
from pathlib import Path
folder, repeat, start, end, verdict = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
before = ["canary-promote", "rollback", "green-outage-during-canary", "green-5xx-storm", "rate-limit-429", "latency-spike",
          "streaming-cutover", "long-streams-cutover", "drain", "health-gate", "flapping", "restart-persistence"]
runs = []
for report in folder.glob("*/run-*/report.json"):
    data = json.loads(report.read_text())
    started = datetime.fromisoformat(data["started_at"].replace("Z", "+00:00")).timestamp()
    runs.append((started, data))
runs.sort(key=lambda run: run[0])
per_suite = {}
for _, data in runs:
    row = per_suite.setdefault(data["suite"], {"requests": 0, "streams": 0, "actions": 0, "verdicts": []})
    exposure = data.get("exposure") or {}
    for key in ("requests", "streams", "actions"):
        row[key] += exposure.get(key, 0)
    row["verdicts"].append(data["verdict"])
print(f"per suite, requests / streams exposed to a switch (summed over {repeat} runs), actions, verdicts")
for name, row in per_suite.items():
    mark = "before" if name in before else "new"
    print(f"  {name:32} {mark:6} {row['requests']:8} {row['streams']:8} {row['actions']:4}  {', '.join(row['verdicts'])}")
new_starts = [started for started, data in runs if data["suite"] not in before]
whole = end - start
before_wall = (min(new_starts) if new_starts else end) - start
print()
print(f"whole set: {whole} s wall for {len(runs)} runs, {verdict}")
print(f"before (its first {sum(1 for _, d in runs if d['suite'] in before)} runs): {before_wall:.0f} s wall")
print(f"ratio (whole set / before): {whole / before_wall:.2f}")
PY
