#!/usr/bin/env bash
# Fuzzes the payload decoders (tests/codec/fuzz_decode.cpp) with libFuzzer, ASan and UBSan for
# FUZZ_SECONDS (default 60). Builds straight from the few sources it needs, without CMake, seeds
# the corpus with valid payloads, and exits non-zero on a finding (the input that triggered it
# is left in the build directory as crash-*, leak-*, timeout-* or oom-*).
#
# Environment: FUZZ_SECONDS, FUZZ_DIR (build and corpus directory, default build-fuzz),
# FUZZ_CXX (default clang++), FUZZ_ARCH (default none: portable, as the library's default build;
# the codec kernels pick their SIMD target at run time, and DME_SIMD=avx2 etc. fuzzes another),
# FUZZ_JOBS (parallel fuzzing processes, default 1).
# Needs clang and libFuzzer (Debian: clang and libclang-rt-14-dev), libxxhash-dev, librandom123-dev,
# libhwy-dev.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=${FUZZ_SECONDS:-60}
dir=${FUZZ_DIR:-$root/build-fuzz}
cxx=${FUZZ_CXX:-clang++}
arch=${FUZZ_ARCH:-}
jobs=${FUZZ_JOBS:-1}

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz.sh: $cxx not found; install clang (Debian packages clang and libclang-rt-14-dev)" >&2
  exit 2
fi
mkdir -p "$dir/corpus"
probe="$dir/probe.cpp"
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' > "$probe"
if ! "$cxx" -fsanitize=fuzzer "$probe" -o "$dir/probe" 2>/dev/null; then
  echo "fuzz.sh: $cxx cannot link libFuzzer (-fsanitize=fuzzer); install libclang-rt-14-dev" \
       "(or the compiler-rt package matching $("$cxx" --version | head -n1))" >&2
  exit 2
fi

sources=("$root"/src/dme/codec/*.cpp "$root"/src/dme/codec/detail/*.cpp "$root"/src/dme/core/error.cpp
         "$root"/src/dme/core/simd.cpp "$root"/src/dme/core/parallel.cpp
         "$root"/src/dme/core/detail/philox_*.cpp "$root"/src/dme/quantization/quic_fl*.cpp
         "$root"/src/dme/quantization/lloyd_max_tables.cpp "$root"/src/dme/quantization/norm_grid.cpp)
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer $arch -DHWY_DISABLED_TARGETS=HWY_SSSE3
       -I"$root/src" -I"$root/tests/codec")
echo "fuzz.sh: building in $dir"
"$cxx" "${flags[@]}" -DDME_FUZZ_WRITE_SEEDS "$root/tests/codec/fuzz_decode.cpp" "${sources[@]}" \
  -lxxhash -lhwy -o "$dir/write_seeds"
"$cxx" "${flags[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  "$root/tests/codec/fuzz_decode.cpp" "${sources[@]}" -lxxhash -lhwy -o "$dir/fuzz_decode"
"$dir/write_seeds" "$dir/corpus"

echo "fuzz.sh: fuzzing for $seconds s"
cd "$dir"  # libFuzzer writes its fuzz-N.log files (with FUZZ_JOBS > 1) to the working directory
# -malloc_limit_mb makes any allocation above 256 MiB a finding: decode must never size an
# allocation from an unchecked length, and inputs are at most 64 KiB.
parallel=()
if ((jobs > 1)); then parallel=(-jobs="$jobs" -workers="$jobs"); fi
"$dir/fuzz_decode" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=256 -print_final_stats=1 "${parallel[@]}" -artifact_prefix="$dir/" "$dir/corpus"
echo "fuzz.sh: no findings in $seconds s"
