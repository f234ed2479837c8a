#!/usr/bin/env bash
# Installs the Debian packages `make bench` needs, only those missing; silent when all are present.
#   bench/install-deps.sh [package ...]    default: libbenchmark-dev (bench/run.py installs
#                                          nginx-light and wrk itself)
set -euo pipefail

packages=("$@")
if ((${#packages[@]} == 0)); then packages=(libbenchmark-dev); fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
((${#missing[@]} == 0)) && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
