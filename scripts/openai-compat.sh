#!/usr/bin/env bash
# Runs the official OpenAI Python client, unchanged, against the mock upstream and through
# the reference router in front of it.
# The client lives in a venv under .build/ (ignored by git), installed from PyPI when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build/openai-venv
if ! "$venv/bin/python" -c "import openai" >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'openai>=1.40,<4'
fi
bin=$(swift build --show-bin-path)
exec "$venv/bin/python" Tests/openai-compat/check_openai_client.py "$bin/mock-upstream" "$bin/bluegreen-router"
