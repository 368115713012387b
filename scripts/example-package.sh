#!/usr/bin/env bash
# The public API as another package sees it (issue 16): builds Examples/CertifyReference,
# which depends on Cutover by path and can reach only its public symbols, runs its tests
# (Swift Testing and XCTest), then runs its two deliberately failing tests and checks
# that each test runner prints the failure readably: the check, its bound, the measure
# and the first offending requests.
# Needs the release bluegreen-router (make test builds it first).
set -euo pipefail
cd "$(dirname "$0")/../Examples/CertifyReference"

swift build --build-tests
swift test --skip-build

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

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for case in "Swift Testing:failureAsSwiftTestingShowsIt" "XCTest:testFailureAsXCTestShowsIt"; do
  framework=${case%%:*}
  if CUTOVER_SHOW_FAILURE=1 swift test --skip-build --filter "${case#*:}" >"$out" 2>&1; then
    echo "example-package: the known-bad router passed under $framework; it must fail" >&2
    cat "$out" >&2
    exit 1
  fi
  expect_readable "$framework" "$out"
done
