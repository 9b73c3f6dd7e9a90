// The range scan: one Highway source for every SIMD target (core/simd.h), chosen at run time.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/quantization/detail/input_scan.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/cache_control.h>
#include <hwy/highway.h>

#ifndef DME_INPUT_SCAN_ONCE
#define DME_INPUT_SCAN_ONCE
#include "dme/quantization/detail/input_scan.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/parallel.h"

namespace dme::detail {
namespace {

constexpr float kMaxFloat = std::numeric_limits<float>::max();

// Min and max of p[i, n) folded into lo and hi; false when some value is NaN or Inf. The
// definition the vector loop matches (the min and max of finite values do not depend on the
// order, up to the sign of a zero).
bool scan_tail(const float* p, std::size_t i, std::size_t n, float& lo, float& hi) {
  bool ok = true;
  for (; i < n; ++i) {
    lo = p[i] < lo ? p[i] : lo;
    hi = p[i] > hi ? p[i] : hi;
    ok &= p[i] >= -kMaxFloat && p[i] <= kMaxFloat;
  }
  return ok;
}

}  // namespace
}  // namespace dme::detail
#endif  // DME_INPUT_SCAN_ONCE

HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Writes min and max of p[0, n) (n >= 1); returns false when some value is NaN or Inf.
bool ScanRange(const float* p, std::size_t n, float* lo_out, float* hi_out) {
  float lo = p[0], hi = p[0];
  std::size_t i = 0;
  bool ok = true;
#if HWY_TARGET != HWY_SCALAR
  // Four accumulator pairs (the min/max chains would otherwise serialise the loop) and a
  // software prefetch 4 KiB ahead (the hardware prefetcher alone left the scan waiting on memory:
  // 2^24 values 6.5 -> ~4.5 ms on AVX-512).
  const hn::ScalableTag<float> d;
  const std::size_t N = hn::Lanes(d);
  const auto first = hn::Set(d, p[0]), limit = hn::Set(d, kMaxFloat);
  auto lo0 = first, lo1 = first, lo2 = first, lo3 = first;
  auto hi0 = first, hi1 = first, hi2 = first, hi3 = first;
  // Finite: |v| <= max (false for NaN), kept as a vector of all-ones lanes.
  auto finite = hn::VecFromMask(d, hn::Eq(first, first));
  const auto step = [&](auto& vlo, auto& vhi, const float* at) {
    hwy::Prefetch(reinterpret_cast<const char*>(at) + 4096);
    const auto v = hn::LoadU(d, at);
    vlo = hn::Min(vlo, v);
    vhi = hn::Max(vhi, v);
    finite = hn::And(finite, hn::VecFromMask(d, hn::Le(hn::Abs(v), limit)));
  };
  for (; i + 4 * N <= n; i += 4 * N) {
    step(lo0, hi0, p + i);
    step(lo1, hi1, p + i + N);
    step(lo2, hi2, p + i + 2 * N);
    step(lo3, hi3, p + i + 3 * N);
  }
  for (; i + N <= n; i += N) step(lo0, hi0, p + i);
  lo = hn::GetLane(hn::MinOfLanes(d, hn::Min(hn::Min(lo0, lo1), hn::Min(lo2, lo3))));
  hi = hn::GetLane(hn::MaxOfLanes(d, hn::Max(hn::Max(hi0, hi1), hn::Max(hi2, hi3))));
  ok = hn::AllTrue(d, hn::MaskFromVec(finite));
#elif defined(__GNUC__) && defined(__SSE2__)
  // Highway's scalar target runs on x86-64 CPUs without SSE4, and every one has SSE2: four lanes
  // of GCC's and Clang's generic vectors compile to it at the baseline flags, with MINPS and
  // MAXPS (which keep the running value's lane when the new one is NaN; a NaN fails the
  // finiteness test anyway). Two accumulator pairs; the same extremes as the loop of scan_tail
  // (quiver-accel, 2^20 values, scalar target: the scan 1.1 -> 0.3 ms).
  typedef float Quad __attribute__((vector_size(16)));
  typedef std::int32_t QuadMask __attribute__((vector_size(16)));
  const Quad first = {p[0], p[0], p[0], p[0]};
  const Quad limit = {kMaxFloat, kMaxFloat, kMaxFloat, kMaxFloat};
  Quad lo0 = first, lo1 = first, hi0 = first, hi1 = first;
  QuadMask finite = {-1, -1, -1, -1};
  for (; i + 8 <= n; i += 8) {
    Quad a, b;
    std::memcpy(&a, p + i, sizeof(a));
    std::memcpy(&b, p + i + 4, sizeof(b));
    lo0 = __builtin_ia32_minps(a, lo0);
    lo1 = __builtin_ia32_minps(b, lo1);
    hi0 = __builtin_ia32_maxps(a, hi0);
    hi1 = __builtin_ia32_maxps(b, hi1);
    finite &= (a >= -limit) & (a <= limit) & (b >= -limit) & (b <= limit);
  }
  const Quad lo2 = __builtin_ia32_minps(lo0, lo1), hi2 = __builtin_ia32_maxps(hi0, hi1);
  for (int l = 0; l < 4; ++l) {
    lo = lo2[l] < lo ? lo2[l] : lo;
    hi = hi2[l] > hi ? hi2[l] : hi;
    ok &= finite[l] != 0;
  }
#endif
  ok &= scan_tail(p, i, n, lo, hi);
  ok &= p[0] >= -kMaxFloat && p[0] <= kMaxFloat;
  *lo_out = lo;
  *hi_out = hi;
  return ok;
}

}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dme/core/simd.h"

namespace dme::detail {
namespace {

[[noreturn]] void throw_first_bad(std::span<const float> x, const char* what) {
  for (std::size_t i = 0; i < x.size(); ++i)
    DME_CHECK(std::isfinite(x[i]),
              what << ": x[" << i << "] = " << x[i] << " is not finite (NaN or Inf)");
  DME_ASSERT(false);
  __builtin_unreachable();
}

}  // namespace

HWY_EXPORT(ScanRange);

Extrema<float> scan_input(std::span<const float> x, const char* what) {
  DME_CHECK(!x.empty(), what << ": x is empty");
  simd_init();
  Extrema<float> range;
  // Segments on the threads (dme/core/parallel.h); min and max are exact in any order.
  constexpr std::size_t kSegment = std::size_t(1) << 18;
  const std::size_t segments = (x.size() + kSegment - 1) / kSegment;
  if (segments <= 1 || current_threads() <= 1) {
    if (!HWY_DYNAMIC_DISPATCH(ScanRange)(x.data(), x.size(), &range.min, &range.max))
      throw_first_bad(x, what);
  } else {
    std::vector<Extrema<float>> parts(segments);
    std::atomic<bool> bad{false};
    parallel_for(segments, [&](std::size_t k, unsigned) {
      const std::size_t begin = k * kSegment, n = std::min(kSegment, x.size() - begin);
      if (!HWY_DYNAMIC_DISPATCH(ScanRange)(x.data() + begin, n, &parts[k].min, &parts[k].max))
        bad.store(true, std::memory_order_relaxed);
    });
    if (bad.load()) throw_first_bad(x, what);
    range = parts[0];
    for (const Extrema<float>& p : parts) {
      range.min = std::min(range.min, p.min);
      range.max = std::max(range.max, p.max);
    }
  }
  // Which zero a vector min/max keeps depends on the lanes it was seen in, so on the SIMD
  // target; the extremes in the order -0 < +0 do not (a second pass, only for a zero extreme).
  if (range.min == 0.0f || range.max == 0.0f) {
    bool negative_zero = false, positive_zero = false;
    for (const float v : x)
      if (v == 0.0f) (std::signbit(v) ? negative_zero : positive_zero) = true;
    if (range.min == 0.0f) range.min = negative_zero ? -0.0f : 0.0f;
    if (range.max == 0.0f) range.max = positive_zero ? 0.0f : -0.0f;
  }
  return range;
}

void check_sorted(std::span<const float> x, const char* what) {
  std::size_t unsorted = 0;
  for (std::size_t i = 1; i < x.size(); ++i) unsorted += x[i] < x[i - 1];
  if (unsorted == 0) return;
  for (std::size_t i = 1; i < x.size(); ++i)
    DME_CHECK(!(x[i] < x[i - 1]), what << ": input promised sorted (input_is_sorted) but x[" << i
                                       << "] = " << x[i] << " < x[" << i - 1 << "] = " << x[i - 1]);
}

std::size_t count_distinct_sorted(std::span<const float> sorted) {
  if (sorted.empty()) return 0;
  std::size_t n = 1;
  for (std::size_t i = 1; i < sorted.size(); ++i) n += sorted[i] != sorted[i - 1];
  return n;
}

}  // namespace dme::detail
#endif  // HWY_ONCE
