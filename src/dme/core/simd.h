// Which SIMD instruction set dme's kernels run on.
//
// Every hot kernel (FWHT sweeps, Philox draws, rounding, packing, decoding, the solvers' scans) is
// written once against Google Highway and compiled for several targets; the library picks the
// best one the CPU has when a kernel is first called. The default build is portable (no
// -march=native), so one binary runs at full speed on AVX-512, AVX2 and SSE4 x86 CPUs, and on
// NEON/SVE aarch64 CPUs where it is built for them.
//
// A target no better than the machine's best can be forced, for example to measure the AVX2
// figures on an AVX-512 machine: set_simd_target("avx2"), `--simd avx2` on dme-bench and
// dme-experiment, or the environment variable DME_SIMD=avx2 (read when the first kernel runs).
// Every format-defined result (Philox draws, codes, payload bytes, levels of the exact solvers)
// is bit-identical across targets: forcing one changes speed only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dme {

/// Names accepted by set_simd_target and DME_SIMD, best first. "auto" means the best the
/// machine has.
inline constexpr std::string_view kSimdTargetNames[] = {"avx512", "avx2", "sse4", "sve2",
                                                          "sve",    "neon", "scalar"};

/// The target the kernels run on now ("avx512", "avx2", "sse4", "neon", "sve", "sve2", or
/// "scalar": Highway's portable emulation of 128-bit vectors in plain C++).
std::string simd_target();

/// The targets this build can run on this machine, best first, the baseline last: "scalar" on
/// x86, "neon" on aarch64 (every aarch64 CPU has NEON, so the emulation is not compiled there).
std::vector<std::string> simd_targets_available();

/// Forces the kernels onto `name` ("auto" restores the best). Throws dme::Error naming the
/// targets this machine supports when `name` is unknown or better than the machine's best.
/// Not thread-safe with kernels running concurrently: call it before the work starts.
void set_simd_target(std::string_view name);

/// The processor's model name ("AMD EPYC 9654 ...", from /proc/cpuinfo; the machine type from
/// uname where the model is not listed) and, on x86, its family and model numbers
/// ("AMD EPYC (family 26 model 2)"): virtual machines often report only "AMD EPYC", and the
/// numbers tell the core generation. For reports next to every figure.
std::string cpu_model();

/// The x86 family and model numbers from CPUID leaf 1, extended fields included (AMD: 23 Zen
/// 1-2, 25 Zen 3-4, 26 Zen 5; Intel: 6 for Core and Xeon); {0, 0} on other architectures.
struct CpuFamilyModel {
  int family = 0;
  int model = 0;
};
CpuFamilyModel cpu_family_model();

/// One line for reports: "avx2 (available: avx512 avx2 sse4 scalar; cpu: ...)".
std::string simd_summary();

/// The value of DME_SIMD applied by the first kernel call ("" when unset).
std::string simd_target_from_environment();

namespace detail {
/// Applies DME_SIMD once (every dispatching kernel calls it before its first dispatch). Throws
/// dme::Error for a DME_SIMD the machine cannot honour.
void simd_init();
}  // namespace detail

}  // namespace dme
