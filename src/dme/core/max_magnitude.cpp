// max_magnitude_bits: one Highway source for every SIMD target (core/simd.h), chosen at run time.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/core/max_magnitude.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/cache_control.h>
#include <hwy/highway.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dme/core/max_magnitude.h"

HWY_BEFORE_NAMESPACE();
namespace dme::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Max over p[0, n) of the bits with the sign cleared.
std::uint32_t MaxMagnitudeBits(const float* p, std::size_t n) {
  std::uint32_t top = 0;
  std::size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  // Four accumulators (one max chain would serialise the loop) and a software prefetch 4 KiB
  // ahead, as the solvers' range scan (quantization/detail/input_scan.cpp).
  const hn::ScalableTag<std::uint32_t> d;
  const std::size_t N = hn::Lanes(d);
  const auto magnitude = hn::Set(d, 0x7fffffffu);
  auto m0 = hn::Zero(d), m1 = m0, m2 = m0, m3 = m0;
  const auto* bits = reinterpret_cast<const std::uint32_t*>(p);
  const auto step = [&](auto& m, std::size_t at) {
    hwy::Prefetch(reinterpret_cast<const char*>(bits + at) + 4096);
    m = hn::Max(m, hn::And(hn::LoadU(d, bits + at), magnitude));
  };
  for (; i + 4 * N <= n; i += 4 * N) {
    step(m0, i);
    step(m1, i + N);
    step(m2, i + 2 * N);
    step(m3, i + 3 * N);
  }
  for (; i + N <= n; i += N) step(m0, i);
  top = hn::GetLane(hn::MaxOfLanes(d, hn::Max(hn::Max(m0, m1), hn::Max(m2, m3))));
#endif
  for (; i < n; ++i) {
    std::uint32_t b;
    std::memcpy(&b, p + i, 4);
    top = std::max(top, b & 0x7fffffffu);
  }
  return top;
}

}  // namespace dme::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dme/core/simd.h"

namespace dme {

HWY_EXPORT(MaxMagnitudeBits);

std::uint32_t max_magnitude_bits(std::span<const float> x) {
  detail::simd_init();
  return HWY_DYNAMIC_DISPATCH(MaxMagnitudeBits)(x.data(), x.size());
}

}  // namespace dme
#endif  // HWY_ONCE
