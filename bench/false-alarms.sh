#!/usr/bin/env bash
# False alarms and power of the timing checks, in one run (issue 13): canary-promote N
# times (default 20) against the reference router, half alone and half beside a
# CPU-burning neighbour (one busy process at normal priority, started and always stopped
# by this script), then N times against the known-bad router that holds every request
# 30 ms during the 1 s after each switch. Prints one row per check: pass / fail /
# inconclusive for each router and condition.
# Goals: reference router 0 fail in all N runs, <= 2 inconclusive; slow-switch router:
# LatencyBudget fails in >= 19 of 20.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs=${1:-20}
suite=${SUITE:-canary-promote}
swift build -c release --product bluegreen-router >/dev/null
swift build -c release --product false-alarms-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
export CUTOVER_SUITES="$PWD/suites"
results="$bench_work/results.jsonl"
half=$((runs / 2))

echo "reference router, alone: $half runs of $suite" >&2
"$bin/false-alarms-bench" reference "$half" "$suite" 0 | sed 's/^{/{"condition":"alone",/' >>"$results"

echo "reference router, beside a busy neighbour: $((runs - half)) runs" >&2
timeout 3600 sh -c 'while :; do :; done' &
burner=$!
bench_pids+=("$burner")
"$bin/false-alarms-bench" reference "$((runs - half))" "$suite" "$half" | sed 's/^{/{"condition":"busy",/' >>"$results"
kill -TERM "$burner" 2>/dev/null || true
wait "$burner" 2>/dev/null || true

echo "slow-switch router (30 ms for 1 s after each switch), alone: $runs runs" >&2
"$bin/false-alarms-bench" slow-switch "$runs" "$suite" 0 | sed 's/^{/{"condition":"alone",/' >>"$results"

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
columns = [("reference", "alone"), ("reference", "busy"), ("slow-switch", "alone")]
checks = []
for row in rows:
    for name in row["checks"]:
        if name not in checks:
            checks.append(name)
def cell(router, condition, name):
    runs = [r for r in rows if r["router"] == router and r["condition"] == condition]
    statuses = [r["checks"].get(name, "-") for r in runs]
    return "%d/%d/%d" % (statuses.count("pass"), statuses.count("fail"), statuses.count("inconclusive"))
header = "%-22s" % "check (pass/fail/inconclusive)" + "".join("%-22s" % ("%s %s (%d)" % (r, c, len([x for x in rows if x["router"] == r and x["condition"] == c]))) for r, c in columns)
print(header)
for name in checks:
    print("%-22s" % name + "".join("%-22s" % cell(r, c, name) for r, c in columns))
for r, c in columns:
    runs = [x for x in rows if x["router"] == r and x["condition"] == c]
    print("verdicts %s %s: " % (r, c) + ", ".join("%s %d" % (v, [x["verdict"] for x in runs].count(v)) for v in ["pass", "fail", "invalid"]))
PY
