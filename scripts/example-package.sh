#!/usr/bin/env bash
# The public API as another package sees it (issue 16): builds Examples/CertifyReference,
# which depends on Cutover by path and can reach only its public symbols, runs its tests
# (Swift Testing and XCTest), and checks that each test runner prints the known-bad
# router's failure readably: the check, its bound, the measure and the first offending
# requests (Swift Testing shows it as a known issue; XCTest runs its failing test alone).
#
# The example is its own root package, compiled against Cutover's modules as a dependency,
# so its code sees only what is public. It is built in the checkout's scratch folder: the
# commands that compile Cutover and its dependencies for it are the very ones the checkout's
# build already ran, so SwiftPM compiles only the example's own code (16 s instead of a
# second copy of every dependency, two minutes here). Its tests run from their bundle rather
# than through `swift test`, which would hold the scratch folder's lock while they run.
#
# A dependent package needs no manual step for `.reference()`: with no bluegreen-router
# build in the checkout, its first run has SwiftPM build one there. So the checkout's router
# builds are set aside before the tests (the debug one is rebuilt by them; a release one,
# from make demo, is put back afterwards).
set -euo pipefail
cd "$(dirname "$0")/../Examples/CertifyReference"
checkout=$(cd ../.. && pwd)
scratch=(--scratch-path "$checkout/.build")
swift build --build-tests "${scratch[@]}"
bundle="$(swift build --show-bin-path "${scratch[@]}")/CertifyReferencePackageTests.xctest"
out=$(mktemp)
restore() {
  rm -f "$out" "$out.xctest"
  if [ -e "$checkout/.build/release/bluegreen-router.aside" ]; then
    mv "$checkout/.build/release/bluegreen-router.aside" "$checkout/.build/release/bluegreen-router"
  fi
}
trap restore EXIT
rm -f "$checkout/.build/debug/bluegreen-router"
if [ -e "$checkout/.build/release/bluegreen-router" ]; then
  mv "$checkout/.build/release/bluegreen-router" "$checkout/.build/release/bluegreen-router.aside"
fi
# Swift Testing, then XCTest (whose deliberately failing test skips itself unless asked).
"$bundle" --testing-library swift-testing 2>&1 | tee "$out"
if ! "$bundle" >"$out.xctest" 2>&1; then
  cat "$out.xctest" >&2
  exit 1
fi
tail -n 1 "$out.xctest"
if [ ! -x "$checkout/.build/debug/bluegreen-router" ]; then
  echo "example-package: the tests passed, but no bluegreen-router was built in the checkout for them" >&2
  exit 1
fi
echo "example-package: .reference() built the router in the checkout itself"

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
  if CUTOVER_SHOW_FAILURE=1 "$bundle" "CertifyReferenceTests.CertifyReferenceXCTests/${case#*:}" >"$out" 2>&1; then
    echo "example-package: the known-bad router passed under $framework; it must fail" >&2
    cat "$out" >&2
    exit 1
  fi
  expect_readable "$framework" "$out"
done
