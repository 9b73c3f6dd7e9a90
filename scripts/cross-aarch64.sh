#!/usr/bin/env bash
# Builds the kernel layer (tests/cross/CMakeLists.txt: core, rotation, quantization, codec and
# their tests, no MPI or HDF5) for aarch64 with Debian's cross compiler, and runs its tests under
# qemu user emulation: once on a CPU with SVE and SVE2 (`-cpu max`, so the tests run every kernel
# under NEON, SVE and SVE2, and compare each with the scalar definition) and once on a NEON-only
# CPU (`-cpu cortex-a72`). Installs what is missing (g++-aarch64-linux-gnu, qemu-user and the
# arm64 multiarch packages libhwy-dev, libgtest-dev, libxxhash-dev).
#   CROSS_BUILD_DIR (default build-aarch64), JOBS (default: all cores),
#   GTEST_FILTER (default: all tests; qemu is slow, so a filter helps while developing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=${CROSS_BUILD_DIR:-$root/build-aarch64}
jobs=${JOBS:-$(nproc)}
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi

need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
for p in libhwy-dev:arm64 libgtest-dev:arm64 libxxhash-dev:arm64; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  echo "cross-aarch64: installing ${need[*]}"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo_cmd[@]}" dpkg --add-architecture arm64
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${need[@]}"
fi

cmake -S "$root/tests/cross" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.cmake"
cmake --build "$build" -j "$jobs"
filter=${GTEST_FILTER:-*}
for cpu in max cortex-a72; do
  echo "cross-aarch64: tests under qemu-aarch64 -cpu $cpu"
  qemu-aarch64 -cpu "$cpu" -L /usr/aarch64-linux-gnu "$build/test_kernels" \
    --gtest_filter="$filter" --gtest_brief=1
done
echo "cross-aarch64: all kernel tests passed on aarch64 (NEON, SVE, SVE2 under qemu)"
