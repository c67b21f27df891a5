#!/usr/bin/env bash
# Installs every Debian 12 package podagent needs to build, test and run.
# Idempotent: when everything is installed already it touches nothing (and
# needs neither root nor the network), so the other scripts call it each time.
set -euo pipefail

# To build and test.
packages=(
  build-essential cmake ninja-build ccache pkg-config
  clang libclang-rt-14-dev          # the libFuzzer target
  libboost1.81-all-dev              # Asio, Beast, Process v2 (1.81, not Debian's default 1.74)
  libboost-json1.81-dev             # left out of libboost1.81-all-dev
  libyaml-cpp-dev libfmt-dev
  libssl-dev                        # TLS on the API's TCP listener
  libarchive-dev                    # image archives (runtime/oci/)
  libgtest-dev libgmock-dev libbenchmark-dev
)

# To run real containers, added as the parts that use them land (see
# DESIGN.md, "Real parts"): keep this list in step with the code.
runtime_packages=(
  runc crun conmon                  # the oci backend (conmon: the monitor's alternative, tested)
  busybox-static                    # the busybox image scripts/build-busybox-image.sh makes
  debootstrap systemd-container     # tests/systemd/: the package booted under systemd-nspawn
  containernetworking-plugins       # pod networking: bridge, host-local, loopback, portmap
)

wanted=("${packages[@]}" "${runtime_packages[@]}")

missing=()
for package in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if ((EUID != 0)); then
  echo "setup.sh: missing packages: ${missing[*]}; run as root (sudo bash scripts/setup.sh)" >&2
  exit 1
fi

echo "setup.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Update the package lists first, unless that was done in the last day.
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]]; then
  apt-get update -q
fi
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  # Lists a day old can already name files the mirror no longer has.
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
