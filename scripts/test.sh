#!/usr/bin/env bash
# Installs what is missing, builds dme, runs the whole test suite through ctest, then the same
# suite in an AddressSanitizer + UndefinedBehaviorSanitizer build, then the decode fuzzer for a
# bounded time. Between them it installs the library and builds examples/ against the installed
# CMake package (scripts/check-install.sh). Exits non-zero on the first failure.
#   BUILD_DIR (default build), ASAN_BUILD_DIR (default build-asan), JOBS (default: all cores),
#   SKIP_SANITIZE=1 to skip the sanitizer pass, FUZZ_SECONDS (default 60; 0 skips fuzzing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs=${JOBS:-$(nproc)}
build=${BUILD_DIR:-build}
asan_build=${ASAN_BUILD_DIR:-build-asan}
start=$(date +%s)
stamp() { echo "[test.sh $(( $(date +%s) - start ))s] $*"; }

stamp "installing missing dependencies"
bash scripts/install-deps.sh

stamp "configuring and building ($build)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"

stamp "running the test suite"
(cd "$build" && ctest --output-on-failure -j "$jobs")

stamp "installing dme and building examples/ against the installed package"
bash scripts/check-install.sh "$build"

if [[ "${SKIP_SANITIZE:-0}" != 1 ]]; then
  stamp "configuring and building the sanitizer build ($asan_build)"
  # CUDA code is compiled (and its host-side tests run) by the main build; the sanitizer build
  # checks the CPU code, where ASan/UBSan apply.
  cmake -S . -B "$asan_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDME_SANITIZE=ON \
    -DDME_ENABLE_CUDA=OFF -DDME_BUILD_BENCH=OFF
  cmake --build "$asan_build" -j "$jobs"
  stamp "running the test suite under ASan + UBSan"
  (cd "$asan_build" && ctest --output-on-failure -j "$jobs" -LE slow)
fi

if [[ "${FUZZ_SECONDS:-60}" != 0 && -x scripts/fuzz.sh ]]; then
  stamp "fuzzing the payload decoder for ${FUZZ_SECONDS:-60}s"
  FUZZ_SECONDS=${FUZZ_SECONDS:-60} bash scripts/fuzz.sh
fi
stamp "all tests passed"
