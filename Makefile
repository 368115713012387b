# Cutover: two commands. `make demo` sets up, builds and shows the product; `make test`
# sets up, builds and runs every test. Both install missing Debian packages themselves.
.PHONY: setup build test demo bench clean

setup:
	@scripts/setup.sh

build: setup
	swift build

test: setup
	swift build --build-tests
	scripts/openai-compat.sh
	# Serial: several suites measure time, and debug-build servers share 2 cores.
	swift test --no-parallel

demo: setup
	swift build --product mock-upstream
	scripts/demo-mock.sh

bench: setup
	bench/mock-vs-nginx.sh
	bench/router-vs-nginx.sh
	bench/loadgen-vs-wrk.sh

clean:
	rm -rf .build
