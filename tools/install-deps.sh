#!/usr/bin/env bash
# Installs the Debian packages Almanac needs, only those missing; silent when all are present.
#   tools/install-deps.sh run            what `make run` needs (build + run)
#   tools/install-deps.sh test           plus what `make test` needs (GoogleTest, Python, Node.js,
#                                        Chromium for the browser test of /api/docs/, strace
#                                        for the I/O fault test, clang 14 for the fuzz targets,
#                                        PostgreSQL and nginx for the multi-instance tests)
#   tools/install-deps.sh PACKAGE ...    exactly these packages (e.g. `make bench`'s)
set -euo pipefail

run_packages=(g++ cmake ninja-build pkg-config libboost1.81-dev libboost-json1.81-dev libssl-dev
  libsodium-dev libsqlite3-dev libical-dev libpq-dev libjemalloc-dev)
# postgresql-15: the throwaway cluster of the PostgreSQL engine's tests (tools/pg-cluster.sh).
# nginx-light: the load balancer in front of two instances (tests/multi, deploy/nginx.conf).
test_packages=(libgtest-dev python3 curl chromium strace postgresql-15 nginx-light)
# The fuzz targets (fuzz/, the `fuzz` preset): clang 14 and its libFuzzer and sanitizer runtimes.
test_packages+=(clang-14 libclang-rt-14-dev)

case "${1:-run}" in
  run) packages=("${run_packages[@]}") ;;
  test) packages=("${run_packages[@]}" "${test_packages[@]}") ;;
  *) packages=("$@") ;;
esac

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

# @redocly/cli 2.x needs Node.js >= 20.19 (Debian bookworm's own nodejs is 18): keep a newer
# one if the machine has it, otherwise install Debian's and let the lint step report the version.
if [[ "${1:-run}" == "test" ]] && ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} > 0)); then
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
fi
