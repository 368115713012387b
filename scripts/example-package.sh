#!/usr/bin/env bash
# The public API as another package sees it (issue 16): builds Examples/CertifyReference,
# which depends on Cutover by path and can reach only its public symbols, runs its tests
# (Swift Testing and XCTest), and checks that each test runner prints the known-bad
# router's failure readably: the check, its bound, the measure and the first offending
# requests (Swift Testing shows it as a known issue; XCTest runs its failing test alone).
# Needs a bluegreen-router build in the checkout (make test builds it first).
set -euo pipefail
cd "$(dirname "$0")/../Examples/CertifyReference"

swift build --build-tests
out=$(mktemp)
trap 'rm -f "$out"' EXIT
swift test --skip-build 2>&1 | tee "$out"

expect_readable() { # framework, output file
  local missing=()
  for needle in "short-canary (seed 11) against wrong-session-key" "✘ Stickiness: " "returning sessions served by both environments within a phase; bound 0" \
    "canary-30: s" "(blue short-canary-11-" ", green short-canary-11-"; do
    grep -qF -- "$needle" "$2" || missing+=("$needle")
  done
  if ((${#missing[@]})); then
    echo "example-package: the $1 failure does not read as it should; missing: ${missing[*]}" >&2
    cat "$2" >&2
    exit 1
  fi
  echo "example-package: the $1 failure names the check, its bound, the measure and the offending requests"
}

# Swift Testing prints the known-bad router's failure, recorded as a known issue, in the run above.
expect_readable "Swift Testing" "$out"
for case in "XCTest:testFailureAsXCTestShowsIt"; do
  framework=${case%%:*}
  if CUTOVER_SHOW_FAILURE=1 swift test --skip-build --filter "${case#*:}" >"$out" 2>&1; then
    echo "example-package: the known-bad router passed under $framework; it must fail" >&2
    cat "$out" >&2
    exit 1
  fi
  expect_readable "$framework" "$out"
done
