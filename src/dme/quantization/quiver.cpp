#include "dme/quantization/quiver.h"

#include "dme/core/aligned_buffer.h"
#include "dme/core/detail/simd.h"
#include "dme/core/error.h"
#include "dme/quantization/detail/accel_minima.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/asq_dp.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/layered_dp.h"
#include "dme/quantization/detail/level_set.h"

namespace dme {
namespace {

using detail::AccelAsqCost;
using detail::AsqCost;
using detail::ChordPoint;
using detail::LayeredDp;

std::vector<std::size_t> exact_indices(const ChordPoint* p, std::size_t d, std::size_t s) {
  return detail::asq_smawk_indices(AsqCost{p}, d, s);
}

// Accelerated: layers advance by two with C2; the first layer is F_2 = C(0, .) for even s and
// F_3 = C2(0, .) for odd s. Backtracking recovers each skipped level with the same b* formula.
std::vector<std::size_t> accelerated_indices(const ChordPoint* p, std::size_t d, std::size_t s) {
  const AsqCost unit{p};
  const AccelAsqCost accel{p};
  if (s == 3) return {0, accel.middle(0, d - 1), d - 1};
  const std::size_t first_layer = s % 2 == 0 ? 2 : 3;
  const std::size_t passes = (s - 2 - first_layer) / 2;
  LayeredDp dp(d, passes);
  if (first_layer == 2)
    dp.init(unit);
  else
    dp.init(accel);
#if DME_HAVE_AVX512
  // The vectorised monotone minima (accel_minima.h) want the points as two arrays.
  if (passes > 0) {
    AlignedVector<double> xs(d), us(d);
    for (std::size_t t = 0; t < d; ++t) {
      xs[t] = p[t].x;
      us[t] = p[t].u;
    }
    for (std::size_t pass = 0; pass < passes; ++pass)
      dp.step_with([&](const double* f, std::uint32_t* argmin, double* out) {
        detail::accel_column_minima(f, xs.data(), us.data(), d, argmin, out);
      });
  }
#else
  for (std::size_t pass = 0; pass < passes; ++pass) dp.step(accel);
#endif
  std::size_t j = d - 1;
  std::size_t k = dp.last(accel);
  std::vector<std::size_t> idx = {j, accel.middle(k, j), k};
  for (std::size_t pass = passes; pass-- > 0;) {
    j = k;
    k = dp.argmin(pass, j);
    idx.push_back(accel.middle(k, j));
    idx.push_back(k);
  }
  if (first_layer == 3) idx.push_back(accel.middle(0, k));
  idx.push_back(0);
  return idx;
}

template <class Indices>
std::vector<float> solve(std::span<const float> sorted, std::size_t s, Indices&& indices) {
  DME_ASSERT(!sorted.empty() && s >= 2);
  if (detail::count_distinct_sorted(sorted) <= s) return detail::distinct_sorted(sorted);
  std::vector<float> values = {sorted.front(), sorted.back()};
  if (s > 2) {
    const std::size_t d = sorted.size();
    AlignedVector<ChordPoint> points(d);
    detail::chord_points(sorted, detail::compensated_mean(sorted), points.data());
    for (std::size_t t : indices(points.data(), d, s)) values.push_back(sorted[t]);
  }
  std::vector<float> levels = detail::unique_levels(std::move(values));
  detail::top_up_levels(levels, sorted, s);
  return levels;
}

}  // namespace

std::vector<float> quiver_exact(std::span<const float> sorted, std::size_t s) {
  return solve(sorted, s, exact_indices);
}

std::vector<float> quiver_accelerated(std::span<const float> sorted, std::size_t s) {
  return solve(sorted, s, accelerated_indices);
}

}  // namespace dme
