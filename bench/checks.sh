#!/usr/bin/env bash
# Every check over a synthetic 1,000,000-request ledger (both upstream ledgers, phases,
# actions, a restart, a gated canary). Goal: all checks in <= 2 s, peak RSS <= 512 MiB.
# There is no third-party anchor for this one: the goal is absolute.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
swift build -c release --product checks-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
/usr/bin/time -v "$bin/checks-bench" "$records" 2>"$out"
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")
echo "peak RSS $((rss_kb / 1024)) MiB for the whole process (history included); goal <= 512 MiB"
