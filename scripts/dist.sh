#!/usr/bin/env bash
# `make dist`: a release archive people can run without a Swift toolchain (issue 27).
# cutover, bluegreen-router and mock-upstream built in release with the Swift standard
# library and Foundation linked in statically (only the system's libcurl, libz and libc
# stay dynamic), with the suites, the router profiles, the docs and the Kubernetes files:
#   .build/dist/cutover-<version>-linux-<arch>.tar.gz
# The static build has its own scratch folder, so it never evicts the debug and release
# builds of `make test` and `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/BlueGreenRouter/BlueGreenRouter.swift)
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
name="cutover-$version-linux-$(uname -m)"
scratch=.build/dist-build
out=.build/dist

for product in cutover bluegreen-router mock-upstream; do
  swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product"
done
bin=$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)

stage="$out/$name"
rm -rf "$stage" "$out/$name.tar.gz"
mkdir -p "$stage/bin"
for product in cutover bluegreen-router mock-upstream; do
  install -m 755 "$bin/$product" "$stage/bin/$product"
  strip "$stage/bin/$product"
done
cp -R suites docs "$stage/"
mkdir -p "$stage/deploy" && cp -R deploy/kubernetes "$stage/deploy/"
cp README.md "$stage/"
printf '%s\n' "$version ($revision)" >"$stage/VERSION"

# Nothing but the system's own libraries may be needed: no Swift runtime from a toolchain.
for product in cutover bluegreen-router mock-upstream; do
  if ldd "$stage/bin/$product" | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|not found'; then
    echo "dist: $product still needs the libraries above" >&2
    exit 1
  fi
done

tar -C "$out" -czf "$out/$name.tar.gz" "$name"
needed=$(readelf -d "$stage/bin/cutover" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "dist: $out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1)); cutover needs only the system's $needed"
