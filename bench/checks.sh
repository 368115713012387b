#!/usr/bin/env bash
# Every check over a synthetic 1,000,000-request ledger (both upstream ledgers, phases,
# actions, a restart, a gated canary). Goal: all checks in <= 2 s, peak RSS <= 512 MiB.
# There is no third-party anchor for this one: the goal is absolute. BASELINE=<git revision>
# also runs that revision's checks-bench (built once into .build-baseline), alternating
# with this one, to show what a change cost (issue 26: the digests of every exchange).
set -euo pipefail
cd "$(dirname "$0")/.."
# The bench executables are part of the package only when asked for (Package.swift).
export CUTOVER_BENCH=1
records=${1:-1000000}
rounds=${ROUNDS:-1}
swift build -c release --product checks-bench >/dev/null
bin=$(swift build -c release --show-bin-path)
out=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$out" "$work"' EXIT
contenders=("$bin/checks-bench")
if [ -n "${BASELINE:-}" ]; then
  git worktree add --detach "$work/baseline" "$BASELINE" >/dev/null 2>&1
  swift build -c release --product checks-bench --package-path "$work/baseline" --scratch-path "$PWD/.build-baseline" >/dev/null
  git worktree remove --force "$work/baseline"
  contenders+=("$PWD/.build-baseline/release/checks-bench")
fi
for round in $(seq 1 "$rounds"); do
  for binary in "${contenders[@]}"; do
    [ "$binary" = "$bin/checks-bench" ] && echo "== this tree (round $round)" || echo "== BASELINE $BASELINE (round $round)"
    /usr/bin/time -v "$binary" "$records" 2>"$out"
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")
    echo "peak RSS $((rss_kb / 1024)) MiB for the whole process (history included); goal <= 512 MiB"
  done
done
