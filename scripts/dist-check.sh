#!/usr/bin/env bash
# `make dist-check`: the release archive runs on its own (issue 27). Unpacks the archive
# `make dist` wrote into an empty folder and runs `cutover run smoke` from there, with
# nothing of the Swift toolchain on PATH or LD_LIBRARY_PATH; as root, the toolchain's folder
# is also hidden behind an empty one in a mount namespace of its own, so that nothing can
# load from it even by an absolute path.
set -euo pipefail
cd "$(dirname "$0")/.."
archive=$(ls -t .build/dist/cutover-*-linux-*.tar.gz 2>/dev/null | head -1)
if [ -z "$archive" ]; then
  echo "dist-check: no archive in .build/dist; run make dist first" >&2
  exit 1
fi
work=$(mktemp -d /tmp/cutover-dist.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$archive"
root=$(echo "$work"/cutover-*)
toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")
run=(env -i HOME="$work" LANG=C.UTF-8 PATH=/usr/bin:/bin "$root/bin/cutover" run smoke --report-dir "$work/report")
echo "dist-check: $(basename "$archive") unpacked in $work; running smoke without $toolchain"
cd "$work"
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
  mkdir -p "$work/empty"
  unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$work/empty" "$toolchain" "${run[@]}"
else
  "${run[@]}"
fi
test -s "$work/report/report.json"
echo "dist-check: smoke passed from the archive alone"
