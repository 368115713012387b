#!/usr/bin/env bash
# Installs the Debian packages Cutover needs, and only those that are missing.
# As root it runs `apt-get update` once and `apt-get install -y`; otherwise it prints
# the command to run and stops.
set -euo pipefail

packages=(libcurl4-openssl-dev pkg-config nginx haproxy wrk curl)
python3 -m venv --help >/dev/null 2>&1 || packages+=(python3-venv)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: swift is not on PATH (Swift 6 toolchain needed)" >&2
  exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing Debian packages: ${missing[*]}" >&2
  echo "setup: run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
