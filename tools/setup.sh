#!/usr/bin/env bash
# Installs the Debian packages Vesta builds and tests with. Idempotent: does
# nothing when every package is already installed; otherwise runs
# `apt-get update` once, then installs what is missing. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config curl
  libfaiss-dev libeigen3-dev libopenblas-dev
  libcpp-httplib-dev libssl-dev nlohmann-json3-dev libsimdjson-dev
  libsqlite3-dev libhts-dev libroaring-dev libzip-dev zlib1g-dev libcli11-dev
  libgtest-dev libbenchmark-dev python3-jsonschema
  wrk  # bench/http_load.sh (HTTP load benchmark)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
