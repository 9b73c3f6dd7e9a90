#!/usr/bin/env bash
# Installs what dme needs and is missing: Debian packages (apt-get update once, then install)
# and the Python packages of scripts/requirements.txt. Idempotent: a second run installs nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

packages=(
  build-essential cmake pkg-config
  openmpi-bin libopenmpi-dev
  libhdf5-dev hdf5-tools
  libboost-program-options-dev
  libgtest-dev libgmock-dev
  libbenchmark-dev
  librandom123-dev
  libxxhash-dev
  libhwy-dev
  clang libclang-rt-14-dev
  python3 python3-pip
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# Python packages: only when one of them does not import.
python=${PYTHON:-python3}
if ! "$python" -c "import numpy, h5py, matplotlib" >/dev/null 2>&1; then
  echo "install-deps: installing Python packages from scripts/requirements.txt"
  "$python" -m pip install -q -r "$here/requirements.txt" || \
    "$python" -m pip install -q --break-system-packages -r "$here/requirements.txt"
else
  echo "install-deps: Python packages present"
fi
