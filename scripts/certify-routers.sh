#!/usr/bin/env bash
# Certifies every shipped router profile over the certification set, one after the other
# (release builds, the routers of scripts/routers.sh), and prints one table of checks by
# router with each failure's explanation (scripts/router-table.py). Usage:
#   scripts/certify-routers.sh REPORT_DIR [ROUTER…]     (default: all seven)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/certify-routers.sh REPORT_DIR [ROUTER…]}
shift
routers=("$@")
[ ${#routers[@]} -gt 0 ] || routers=(reference nginx haproxy envoy caddy traefik litellm)
mkdir -p "$out"
for router in "${routers[@]}"; do
  echo "== $router: cutover certify --router $router ($(date -u +%H:%M:%S))"
  start=$(date +%s)
  .build/release/cutover certify --router "$router" --report-dir "$out/$router" > "$out/$router.txt" 2>&1
  echo "   exit $? in $(( $(date +%s) - start )) s: $(grep -m1 '^OVERALL' "$out/$router.txt")"
done
python3 scripts/router-table.py "$out" "${routers[@]}" | tee "$out/table.md"
