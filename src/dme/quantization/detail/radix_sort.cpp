#include "dme/quantization/detail/radix_sort.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <memory>

#include <hwy/contrib/sort/vqsort.h>

#include "dme/core/error.h"
#include "dme/core/simd.h"

namespace dme::detail {
namespace {

constexpr int kDigitBits = 11;
constexpr std::size_t kMinRadix = 1024;  // below this std::sort wins

// Order-preserving map float -> uint32: flip all bits of negatives, the sign bit of positives.
inline std::uint32_t key_of(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  return u ^ (static_cast<std::uint32_t>(-static_cast<std::int32_t>(u >> 31)) | 0x80000000u);
}
inline float float_of(std::uint32_t k) {
  const std::uint32_t mask = (k >> 31) ? 0x80000000u : 0xFFFFFFFFu;
  return std::bit_cast<float>(k ^ mask);
}

// An AMD core before Zen 5 (family 26), for the one place where it changes the choice of sort
// (sort_method, called on every solve). Read once: CPUID traps to the hypervisor in a VM.
bool cpu_is_amd_before_zen5() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool before = [] {
    __builtin_cpu_init();
    return __builtin_cpu_is("amd") && cpu_family_model().family < 26;
  }();
  return before;
#else
  return false;
#endif
}

}  // namespace

namespace {

inline std::uint32_t load_key(const void* p) {
  std::uint32_t k;
  std::memcpy(&k, p, sizeof k);
  return k;
}
inline void store_key(void* p, std::uint32_t k) {
  std::memcpy(p, &k, sizeof k);
}

// LSD radix sort of the keys in kBits-bit digits. The keys live in x's own storage (uint32 and
// float have the same size; every access goes through memcpy) and in one scratch array, so a
// call touches d fresh words, not 2·d.
template <int kBits>
void radix_sort_digits(std::span<float> x) {
  constexpr int kPasses = (32 + kBits - 1) / kBits;
  constexpr std::size_t kRadix = std::size_t(1) << kBits;
  constexpr std::uint32_t kMask = kRadix - 1;
  const std::size_t n = x.size();
  std::byte* const keys = reinterpret_cast<std::byte*>(x.data());
  std::array<std::array<std::size_t, kRadix>, kPasses> count{};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t k = key_of(x[i]);
    store_key(keys + 4 * i, k);
    for (int d = 0; d < kPasses; ++d) ++count[d][(k >> (d * kBits)) & kMask];
  }
  const auto scratch = std::make_unique_for_overwrite<std::uint32_t[]>(n);
  std::byte* src = keys;
  std::byte* dst = reinterpret_cast<std::byte*>(scratch.get());
  for (int d = 0; d < kPasses; ++d) {
    const int shift = d * kBits;
    // A digit shared by every key leaves the order unchanged: skip its pass.
    if (count[d][(load_key(src) >> shift) & kMask] == n) continue;
    std::size_t offset[kRadix];
    std::size_t sum = 0;
    for (std::size_t v = 0; v < kRadix; ++v) {
      offset[v] = sum;
      sum += count[d][v];
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t k = load_key(src + 4 * i);
      store_key(dst + 4 * offset[(k >> shift) & kMask]++, k);
    }
    std::swap(src, dst);
  }
  for (std::size_t i = 0; i < n; ++i) x[i] = float_of(load_key(src + 4 * i));
}

}  // namespace

void radix_sort(std::span<float> x) {
  if (x.size() < kMinRadix) {
    // Comparing the keys gives the radix order (-0.0 before +0.0) for small inputs too.
    std::sort(x.begin(), x.end(), [](float a, float b) { return key_of(a) < key_of(b); });
    return;
  }
  // Three 11-bit digits: at 2^20 on an Intel Xeon (family 6 model 207) 11.6–12.4 ms, 8-bit
  // digits (four passes) 11.7–12.0 and 16-bit ones 14.8–15.3; at 2^24 11 bits were the fastest
  // too (216–237 ms against 270–282 and 227–237).
  radix_sort_digits<kDigitBits>(x);
}

void vqsort_floats(std::span<float> x) {
  const std::size_t n = x.size();
  if (n < 2) return;
  // The keys are sorted in place, in x's own storage: uint32 and float have the same size and
  // alignment, and memcpy of each word keeps this free of aliasing questions.
  static_assert(sizeof(float) == sizeof(std::uint32_t));
  auto* keys = reinterpret_cast<std::uint32_t*>(x.data());
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t k = key_of(x[i]);
    std::memcpy(keys + i, &k, sizeof k);
  }
  thread_local const hwy::Sorter sorter;  // owns vqsort's scratch buffer
  sorter(keys, n, hwy::SortAscending());
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t k;
    std::memcpy(&k, keys + i, sizeof k);
    const float f = float_of(k);
    std::memcpy(x.data() + i, &f, sizeof f);
  }
}

const char* sort_method() {
  // DME_SORT=radix|vqsort overrides the rule (for machines it was not measured on; `dme-bench
  // solvers` times both). Read once.
  static const std::string forced = [] {
    const char* env = std::getenv("DME_SORT");
    const std::string v = env ? env : "";
    DME_CHECK(v.empty() || v == "radix" || v == "vqsort" || v == "auto",
              "DME_SORT must be radix, vqsort or auto, got '" << v << "'");
    return v == "auto" ? std::string() : v;
  }();
  if (forced == "radix") return "radix";
  if (forced == "vqsort") return "vqsort";
  // Measured with `dme-bench solvers --log2d 20 --s 16` (radix_sort_ms, vqsort_ms; README,
  // Performance) on an AMD EPYC Zen 4: vqsort 7 ms against the radix sort's 16 ms on AVX2, but
  // 21 against 17 on SSE4, 110 against 14 on the scalar target, and 46 against 16 on AVX-512,
  // where Zen 4 microcodes the memory-destination compress of vqsort's partition step. On an
  // AMD EPYC Zen 5 (family 26 model 2): vqsort 2.8-2.9 ms against 6.5-7.3 on AVX-512, 3.7-3.9
  // against 4.7-6.0 on AVX2, 12 against 5.2-5.9 on SSE4. vqsort is taken where it was measured
  // faster: AVX2, and AVX-512 on Intel and on AMD from Zen 5 on. aarch64 keeps the radix sort
  // until vqsort is measured on hardware.
  const std::string target = simd_target();
  if (target == "avx2") return "vqsort";
  if (target == "avx512" && !cpu_is_amd_before_zen5()) return "vqsort";
  return "radix";
}

void sort_floats(std::span<float> x) {
  if (x.size() < kMinRadix) {
    radix_sort(x);  // std::sort on the keys
    return;
  }
  if (std::strcmp(sort_method(), "vqsort") == 0)
    vqsort_floats(x);
  else
    radix_sort(x);
}

}  // namespace dme::detail
