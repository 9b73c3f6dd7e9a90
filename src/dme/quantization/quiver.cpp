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
#include "dme/quantization/detail/level_bounds.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/detail/smawk.h"

namespace dme {
namespace {

using detail::AccelAsqArrays;
using detail::AsqCost;
using detail::ChordPoint;
using detail::IndexRange;

std::vector<std::size_t> exact_indices(const ChordPoint* p, std::size_t d, std::size_t s) {
  return detail::asq_smawk_indices(AsqCost{p}, d, s);
}

// Accelerated: layers advance by two with C2; the first layer is F_2 = C(0, .) for even s and
// F_3 = C2(0, .) for odd s. Backtracking recovers each skipped level with the same b* formula.
// Each layer only covers the index range that can hold its level in an optimal solution
// (level_bounds.h), and takes its rows from the previous layer's range: the optimum is the
// unrestricted DP's, at a fraction of the columns. Points as two arrays (AccelAsqArrays).
std::vector<std::size_t> accelerated_indices(const double* x, const double* u, std::size_t d,
                                             std::size_t s, std::size_t group_size) {
  const AccelAsqArrays accel{x, u};
  if (s == 3) return {0, accel.middle(0, d - 1), d - 1};
  const std::vector<IndexRange> ranges = detail::optimal_level_ranges(x, d, s, group_size);
  const std::size_t first_layer = s % 2 == 0 ? 2 : 3;
  const std::size_t passes = (s - 2 - first_layer) / 2;
  // The first layer over its range.
  IndexRange cols = ranges[first_layer];
  std::vector<double> f(cols.size());
  for (std::size_t j = cols.lo; j <= cols.hi; ++j)
    f[j - cols.lo] = first_layer == 2 ? accel.unit(0, j) : accel(0, j);
  std::vector<IndexRange> layer_cols(passes);
  std::vector<std::vector<std::uint32_t>> table(passes);
#if !DME_HAVE_AVX512
  detail::Smawk smawk;
#endif
  for (std::size_t pass = 0; pass < passes; ++pass) {
    const IndexRange rows = cols;
    const IndexRange want = ranges[first_layer + 2 * (pass + 1)];
    // A column needs a row at or before it; rows after the last column are never used.
    cols = {std::max(want.lo, rows.lo), want.hi};
    DME_ASSERT(cols.lo <= cols.hi);  // the optimal path lies in both ranges
    const IndexRange used = {rows.lo, std::min(rows.hi, cols.hi)};
    std::vector<double> g(cols.size());
    table[pass].resize(cols.size());
    layer_cols[pass] = cols;
#if DME_HAVE_AVX512
    detail::accel_window_minima(f.data(), x, u, used.lo, used.hi, cols.lo, cols.hi,
                                table[pass].data(), g.data());
#else
    smawk.column_minima(
        used.size(), cols.size(),
        [&](std::size_t r, std::size_t c) {
          const std::size_t k = used.lo + r, j = cols.lo + c;
          return k > j ? std::numeric_limits<double>::infinity() : f[r] + accel(k, j);
        },
        table[pass].data(), g.data());
    for (std::uint32_t& k : table[pass]) k += static_cast<std::uint32_t>(used.lo);
#endif
    f = std::move(g);
  }
  // The last level pair, to d - 1, over the last layer's range (ties to the smallest k).
  const std::size_t j_last = d - 1;
  std::size_t k = cols.lo;
  double best = f[0] + accel(cols.lo, j_last);
  for (std::size_t t = cols.lo + 1; t <= cols.hi; ++t) {
    const double v = f[t - cols.lo] + accel(t, j_last);
    if (v < best) {
      best = v;
      k = t;
    }
  }
  std::size_t j = j_last;
  std::vector<std::size_t> idx = {j, accel.middle(k, j), k};
  for (std::size_t pass = passes; pass-- > 0;) {
    j = k;
    DME_ASSERT(j >= layer_cols[pass].lo && j <= layer_cols[pass].hi);
    k = table[pass][j - layer_cols[pass].lo];
    idx.push_back(accel.middle(k, j));
    idx.push_back(k);
  }
  if (first_layer == 3) idx.push_back(accel.middle(0, k));
  idx.push_back(0);
  return idx;
}

// The level set from candidate indices (repeats allowed), topped up to s levels.
std::vector<float> levels_from(std::span<const float> sorted, std::size_t s,
                               const std::vector<std::size_t>& indices) {
  std::vector<float> values = {sorted.front(), sorted.back()};
  for (std::size_t t : indices) values.push_back(sorted[t]);
  std::vector<float> levels = detail::unique_levels(std::move(values));
  detail::top_up_levels(levels, sorted, s);
  return levels;
}

std::vector<float> solve_exact(std::span<const float> sorted, std::size_t s) {
  DME_ASSERT(!sorted.empty() && s >= 2);
  if (detail::count_distinct_sorted(sorted) <= s) return detail::distinct_sorted(sorted);
  if (s == 2) return levels_from(sorted, s, {});
  const std::size_t d = sorted.size();
  AlignedVector<ChordPoint> points(d);
  detail::chord_points(sorted, detail::compensated_mean(sorted), points.data());
  return levels_from(sorted, s, exact_indices(points.data(), d, s));
}

std::vector<float> solve_accelerated(std::span<const float> sorted, std::size_t s,
                                     std::size_t group_size) {
  DME_ASSERT(!sorted.empty() && s >= 2);
  if (detail::count_distinct_sorted(sorted) <= s) return detail::distinct_sorted(sorted);
  if (s == 2) return levels_from(sorted, s, {});
  const std::size_t d = sorted.size();
  UninitializedBuffer<double> x(d), u(d);
  detail::chord_arrays(sorted, detail::compensated_mean(sorted), x.data(), u.data());
  return levels_from(sorted, s, accelerated_indices(x.data(), u.data(), d, s, group_size));
}

}  // namespace

std::vector<float> quiver_exact(std::span<const float> sorted, std::size_t s) {
  return solve_exact(sorted, s);
}

std::vector<float> quiver_accelerated(std::span<const float> sorted, std::size_t s) {
  return solve_accelerated(sorted, s, 0);
}

namespace detail {

std::vector<float> quiver_accelerated_grouped(std::span<const float> sorted, std::size_t s,
                                              std::size_t group_size) {
  return solve_accelerated(sorted, s, group_size);
}

}  // namespace detail

}  // namespace dme
