#include "dme/quantization/detail/radix_sort.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <memory>

namespace dme::detail {
namespace {

constexpr int kDigitBits = 11;
constexpr std::size_t kBuckets = std::size_t(1) << kDigitBits;
constexpr std::uint32_t kDigitMask = kBuckets - 1;
constexpr int kDigits = 3;               // 33 bits cover the 32-bit keys
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

}  // namespace

void radix_sort(std::span<float> x) {
  const std::size_t n = x.size();
  if (n < kMinRadix) {
    std::sort(x.begin(), x.end());
    return;
  }
  auto a = std::make_unique_for_overwrite<std::uint32_t[]>(n);
  auto b = std::make_unique_for_overwrite<std::uint32_t[]>(n);
  std::array<std::array<std::size_t, kBuckets>, kDigits> count{};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t k = key_of(x[i]);
    a[i] = k;
    ++count[0][k & kDigitMask];
    ++count[1][(k >> kDigitBits) & kDigitMask];
    ++count[2][k >> (2 * kDigitBits)];
  }
  std::uint32_t* src = a.get();
  std::uint32_t* dst = b.get();
  for (int d = 0; d < kDigits; ++d) {
    const int shift = d * kDigitBits;
    // A digit shared by every key leaves the order unchanged: skip its pass.
    if (count[d][(src[0] >> shift) & kDigitMask] == n) continue;
    std::size_t offset[kBuckets];
    std::size_t sum = 0;
    for (std::size_t v = 0; v < kBuckets; ++v) {
      offset[v] = sum;
      sum += count[d][v];
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t k = src[i];
      dst[offset[(k >> shift) & kDigitMask]++] = k;
    }
    std::swap(src, dst);
  }
  for (std::size_t i = 0; i < n; ++i) x[i] = float_of(src[i]);
}

}  // namespace dme::detail
