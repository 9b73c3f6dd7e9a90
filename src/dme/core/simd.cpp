#include "dme/core/simd.h"

#include <hwy/highway.h>
#include <hwy/targets.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

#include <sys/utsname.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "dme/core/error.h"

namespace dme {
namespace {

// Highway's target bits behind each of dme's names. Targets this build does not compile
// (HWY_TARGETS) never count as available.
std::int64_t target_bits(std::string_view name) {
  if (name == "avx512") return HWY_AVX3 | HWY_AVX3_DL;
  if (name == "avx2") return HWY_AVX2;
  if (name == "sse4") return HWY_SSE4 | HWY_SSSE3;
  if (name == "sve2") return HWY_SVE2 | HWY_SVE2_128;
  if (name == "sve") return HWY_SVE | HWY_SVE_256;
  if (name == "neon") return HWY_NEON;
  if (name == "scalar") return HWY_EMU128 | HWY_SCALAR;
  return 0;
}

std::string name_of(std::int64_t bit) {
  for (std::string_view n : kSimdTargetNames)
    if (target_bits(n) & bit) return std::string(n);
  return hwy::TargetName(bit);
}

// Note: hwy::SupportedTargets() re-detects the CPU and resets Highway's chosen target to the
// best one before applying DisableTargets' mask, so every call to it here is followed by
// ChosenTarget::Update with the masked set, and the current choice is kept in `chosen`.
std::int64_t chosen = 0;  // HWY target bits the kernels dispatch among now

std::int64_t refresh() {
  const std::int64_t t = hwy::SupportedTargets();
  hwy::GetChosenTarget().Update(t);
  chosen = t & HWY_TARGETS;
  return chosen;
}

// What the CPU and this build allow, before any forcing (lower bit = better target).
std::int64_t machine_targets() {
  static const std::int64_t targets = [] {
    hwy::DisableTargets(0);
    return refresh();
  }();
  return targets;
}

std::mutex& mutex() {
  static std::mutex m;
  return m;
}

void apply_target(std::string_view name, const char* source) {
  const std::int64_t machine = machine_targets();
  if (name.empty() || name == "auto") {
    hwy::DisableTargets(0);
    refresh();
    return;
  }
  const std::int64_t bits = target_bits(name) & machine;
  if (bits == 0) {
    std::ostringstream os;
    for (const std::string& t : simd_targets_available()) os << " " << t;
    const char* sep = std::string_view(source).ends_with('=') ? "" : " ";  // DME_SIMD=avx512
    if (target_bits(name) == 0)
      DME_THROW(source << sep << name
                       << ": unknown SIMD target (one of auto, avx512, avx2, "
                          "sse4, neon, sve, sve2, scalar); this machine has:"
                       << os.str());
    DME_THROW(source << sep << name
                     << ": this machine (or this build) cannot run it; it has:" << os.str());
  }
  // Disable every target better than the chosen one (lower bits).
  const std::int64_t best = bits & -bits;
  hwy::DisableTargets(best - 1);
  refresh();
}

std::once_flag env_once;

}  // namespace

std::string simd_target_from_environment() {
  const char* v = std::getenv("DME_SIMD");
  return v ? std::string(v) : std::string();
}

namespace detail {
void simd_init() {
  std::call_once(env_once, [] {
    machine_targets();
    const std::string env = simd_target_from_environment();
    if (!env.empty()) {
      std::lock_guard<std::mutex> lock(mutex());
      apply_target(env, "DME_SIMD=");
    }
  });
}
}  // namespace detail

std::string simd_target() {
  detail::simd_init();
  std::lock_guard<std::mutex> lock(mutex());
  return chosen ? name_of(chosen & -chosen) : std::string("scalar");
}

std::vector<std::string> simd_targets_available() {
  const std::int64_t machine = machine_targets();
  std::vector<std::string> out;
  for (std::string_view n : kSimdTargetNames)
    if (target_bits(n) & machine) out.emplace_back(n);
  return out;
}

CpuFamilyModel cpu_family_model() {
  CpuFamilyModel fm;
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return fm;
  const int base_family = static_cast<int>((eax >> 8) & 0xF);
  const int base_model = static_cast<int>((eax >> 4) & 0xF);
  const int ext_family = static_cast<int>((eax >> 20) & 0xFF);
  const int ext_model = static_cast<int>((eax >> 16) & 0xF);
  // The extended family counts only where the base family is 15; the extended model extends
  // the model number for families 6 (Intel) and 15 and above (AMD).
  fm.family = base_family == 0xF ? base_family + ext_family : base_family;
  fm.model =
      (base_family == 0x6 || base_family == 0xF) ? (ext_model << 4) | base_model : base_model;
#endif
  return fm;
}

std::string cpu_model() {
  static const std::string model = [] {
    const CpuFamilyModel fm = cpu_family_model();
    const std::string numbers = fm.family > 0 ? " (family " + std::to_string(fm.family) +
                                                    " model " + std::to_string(fm.model) + ")"
                                              : std::string();
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) {
        const std::size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::size_t b = line.find_first_not_of(" \t", colon + 1);
        if (b != std::string::npos) return line.substr(b) + numbers;
      }
    }
    utsname u{};
    return (uname(&u) == 0 ? std::string(u.machine) : std::string("unknown")) + numbers;
  }();
  return model;
}

std::string simd_summary() {
  std::string line = simd_target() + " (available:";
  for (const std::string& t : simd_targets_available()) line += " " + t;
  return line + "; cpu: " + cpu_model() + ")";
}

void set_simd_target(std::string_view name) {
  detail::simd_init();
  std::lock_guard<std::mutex> lock(mutex());
  apply_target(name, "SIMD target");
}

}  // namespace dme
