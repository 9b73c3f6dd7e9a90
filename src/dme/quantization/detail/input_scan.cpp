#include "dme/quantization/detail/input_scan.h"

#include <cmath>
#include <limits>

#include "dme/core/error.h"

namespace dme::detail {
namespace {

constexpr std::size_t kLanes = 16;

[[noreturn]] void throw_first_bad(std::span<const float> x, const char* what) {
  for (std::size_t i = 0; i < x.size(); ++i)
    DME_CHECK(std::isfinite(x[i]), what << ": x[" << i << "] = " << x[i]
                                        << " is not finite (NaN or Inf)");
  DME_ASSERT(false);
  __builtin_unreachable();
}

}  // namespace

InputSummary scan_input(std::span<const float> x, const char* what) {
  DME_CHECK(!x.empty(), what << ": x is empty");
  // Per-lane accumulators in plain loops, which the compiler turns into vector min/max/compare.
  float lo[kLanes], hi[kLanes];
  int bad[kLanes] = {};
  for (std::size_t l = 0; l < kLanes; ++l) lo[l] = hi[l] = x[0];
  const float* p = x.data();
  const std::size_t n = x.size(), full = n / kLanes * kLanes;
  constexpr float kMax = std::numeric_limits<float>::max();
  for (std::size_t i = 0; i < full; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      const float v = p[i + l];
      lo[l] = v < lo[l] ? v : lo[l];
      hi[l] = v > hi[l] ? v : hi[l];
      bad[l] |= !(v >= -kMax && v <= kMax);
    }
  }
  for (std::size_t i = full; i < n; ++i) {
    lo[0] = p[i] < lo[0] ? p[i] : lo[0];
    hi[0] = p[i] > hi[0] ? p[i] : hi[0];
    bad[0] |= !(p[i] >= -kMax && p[i] <= kMax);
  }
  int any_bad = !(x[0] >= -kMax && x[0] <= kMax);
  InputSummary r{lo[0], hi[0]};
  for (std::size_t l = 0; l < kLanes; ++l) {
    any_bad |= bad[l];
    r.min = lo[l] < r.min ? lo[l] : r.min;
    r.max = hi[l] > r.max ? hi[l] : r.max;
  }
  if (any_bad) throw_first_bad(x, what);
  return r;
}

void check_sorted(std::span<const float> x, const char* what) {
  std::size_t unsorted = 0;
  for (std::size_t i = 1; i < x.size(); ++i) unsorted += x[i] < x[i - 1];
  if (unsorted == 0) return;
  for (std::size_t i = 1; i < x.size(); ++i)
    DME_CHECK(!(x[i] < x[i - 1]), what << ": input promised sorted (input_is_sorted) but x["
                                       << i << "] = " << x[i] << " < x[" << i - 1
                                       << "] = " << x[i - 1]);
}

std::size_t count_distinct_sorted(std::span<const float> sorted) {
  if (sorted.empty()) return 0;
  std::size_t n = 1;
  for (std::size_t i = 1; i < sorted.size(); ++i) n += sorted[i] != sorted[i - 1];
  return n;
}

}  // namespace dme::detail
