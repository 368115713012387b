#!/usr/bin/env bash
# Benchmark (issue 29): what the certification set costs and how hard it presses. Runs
# `cutover certify --router reference --repeat R` twice in one session, on the same build:
# the set as it was before issue 29 (its twelve suites, as `before`) and the whole set
# today, and prints each one's wall time, its verdict, and per suite the requests and
# streams exposed to a switch (in flight at a router action's call, or sent within a
# second after it: report.json's `exposure`), summed over the repeats.
# Usage: bench/certify.sh [REPEAT]      (default 3; about an hour at 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
repeat=${1:-3}

swift build -c release --product cutover >/dev/null
swift build -c release --product bluegreen-router >/dev/null
BIN=$(swift build -c release --show-bin-path)

# The suites folder with a `before` set: the twelve suites of the certification set
# before issue 29 (with today's checks in them).
cp -r suites "$bench_work/suites"
cat >"$bench_work/suites/sets/before.yaml" <<'SET'
name: before
description: The certification set before issue 29.
suites: [canary-promote, rollback, green-outage-during-canary, green-5xx-storm, rate-limit-429, latency-spike, streaming-cutover, long-streams-cutover, drain, health-gate, flapping, restart-persistence]
SET

declare -A wall verdict
for set in before certification; do
  out="$bench_work/$set"
  start=$(date +%s)
  set +e
  CUTOVER_SUITES="$bench_work/suites" "$BIN/cutover" certify --router reference --set "$set" --repeat "$repeat" --report-dir "$out" \
    >"$bench_work/$set.txt" 2>&1
  status=$?
  set -e
  wall[$set]=$(( $(date +%s) - start ))
  verdict[$set]="exit $status, $(grep -m1 '^OVERALL' "$bench_work/$set.txt" || echo 'no verdict')"
done

python3 - "$bench_work" "$repeat" <<'PY'
import json, sys
from pathlib import Path
folder, repeat = Path(sys.argv[1]), int(sys.argv[2])
for set_name in ["before", "certification"]:
    print(f"\n{set_name}: per suite, requests / streams exposed to a switch (summed over {repeat} runs), actions")
    for report in sorted((folder / set_name).glob("*/**/report.json")):
        data = json.loads(report.read_text())
        exposure = data.get("exposure") or {}
        print(f"  {data['suite']:32} {exposure.get('requests', 0):8} {exposure.get('streams', 0):8} {exposure.get('actions', 0):4}  {data['verdict']}")
PY
echo
for set in before certification; do
  echo "$set: ${wall[$set]} s wall, ${verdict[$set]}"
done
echo "ratio (certification / before): $(python3 -c "print(round(${wall[certification]} / ${wall[before]}, 2))")"
