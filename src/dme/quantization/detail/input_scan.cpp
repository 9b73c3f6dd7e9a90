#include "dme/quantization/detail/input_scan.h"

#include <cmath>
#include <limits>

#include "dme/core/detail/simd.h"
#include "dme/core/error.h"

namespace dme::detail {
namespace {

constexpr std::size_t kLanes = 16;

[[noreturn]] void throw_first_bad(std::span<const float> x, const char* what) {
  for (std::size_t i = 0; i < x.size(); ++i)
    DME_CHECK(std::isfinite(x[i]),
              what << ": x[" << i << "] = " << x[i] << " is not finite (NaN or Inf)");
  DME_ASSERT(false);
  __builtin_unreachable();
}

}  // namespace

InputSummary scan_input(std::span<const float> x, const char* what) {
  DME_CHECK(!x.empty(), what << ": x is empty");
  const float* p = x.data();
  const std::size_t n = x.size();
  float lo = p[0], hi = p[0];
  bool bad = false;
  std::size_t i = 0;
#if DME_HAVE_AVX512
  // Four accumulator pairs (the min/max chains would otherwise serialise the loop) and a
  // software prefetch 4 KiB ahead (the hardware prefetcher alone left the scan waiting on memory:
  // 2^24 values 6.5 -> ~4.5 ms).
  __m512 vlo[4], vhi[4];
  for (int a = 0; a < 4; ++a) vlo[a] = vhi[a] = _mm512_set1_ps(p[0]);
  __mmask16 nonfinite = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    for (int a = 0; a < 4; ++a) {
      _mm_prefetch(reinterpret_cast<const char*>(p + i + a * kLanes) + 4096, _MM_HINT_T0);
      const __m512 v = _mm512_loadu_ps(p + i + a * kLanes);
      vlo[a] = _mm512_min_ps(vlo[a], v);
      vhi[a] = _mm512_max_ps(vhi[a], v);
      nonfinite |= _mm512_fpclass_ps_mask(v, 0x99);  // QNaN, +Inf, -Inf, SNaN
    }
  }
  for (; i + kLanes <= n; i += kLanes) {
    const __m512 v = _mm512_loadu_ps(p + i);
    vlo[0] = _mm512_min_ps(vlo[0], v);
    vhi[0] = _mm512_max_ps(vhi[0], v);
    nonfinite |= _mm512_fpclass_ps_mask(v, 0x99);
  }
  lo = _mm512_reduce_min_ps(
      _mm512_min_ps(_mm512_min_ps(vlo[0], vlo[1]), _mm512_min_ps(vlo[2], vlo[3])));
  hi = _mm512_reduce_max_ps(
      _mm512_max_ps(_mm512_max_ps(vhi[0], vhi[1]), _mm512_max_ps(vhi[2], vhi[3])));
  bad = nonfinite != 0;
#endif
  constexpr float kMax = std::numeric_limits<float>::max();
  for (; i < n; ++i) {
    lo = p[i] < lo ? p[i] : lo;
    hi = p[i] > hi ? p[i] : hi;
    bad |= !(p[i] >= -kMax && p[i] <= kMax);
  }
  bad |= !(p[0] >= -kMax && p[0] <= kMax);
  if (bad) throw_first_bad(x, what);
  return {lo, hi};
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
