#include "dme/quantization/quiver.h"

#include "dme/core/aligned_buffer.h"
#include "dme/core/detail/simd.h"
#include "dme/core/error.h"
#include "dme/quantization/detail/accel_minima.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/level_bounds.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/detail/smawk.h"

namespace dme {
namespace {

using detail::AccelAsqArrays;
using detail::IndexRange;

// The layers of a level DP confined to index ranges (level_bounds.h): each layer covers the range
// that can hold its level in an optimal solution and takes its rows from the previous layer's
// range. The optimum is the unrestricted DP's (the optimal path survives, and every surviving
// path is a feasible level set), at a fraction of the columns.
class RangedLayers {
 public:
  /// The first layer: f[j - cols.lo] for j in cols.
  RangedLayers(IndexRange cols, std::vector<double> f) : cols_(cols), f_(std::move(f)) {}

  /// One layer over the columns of `want`:
  ///   F'[j] = min_{k in the current range, k <= j} F[k] + cost(k, j),
  /// by minima(f, rows, cols, argmin, out) with f, argmin and out relative to the ranges' starts.
  template <class Minima>
  void step(IndexRange want, Minima&& minima) {
    const IndexRange rows = cols_;
    // A column needs a row at or before it; rows after the last column are never used.
    const IndexRange cols = {std::max(want.lo, rows.lo), want.hi};
    DME_ASSERT(cols.lo <= cols.hi);  // the optimal path lies in both ranges
    const IndexRange used = {rows.lo, std::min(rows.hi, cols.hi)};
    std::vector<double> g(cols.size());
    table_.emplace_back(cols.size());
    layer_cols_.push_back(cols);
    minima(f_.data(), used, cols, table_.back().data(), g.data());
    f_ = std::move(g);
    cols_ = cols;
  }

  /// The best k of the last layer for column j under cost (ties to the smallest k).
  template <class Cost>
  std::size_t last(Cost&& cost, std::size_t j) const {
    std::size_t k = cols_.lo;
    double best = f_[0] + cost(cols_.lo, j);
    for (std::size_t t = cols_.lo + 1; t <= cols_.hi; ++t) {
      const double v = f_[t - cols_.lo] + cost(t, j);
      if (v < best) {
        best = v;
        k = t;
      }
    }
    return k;
  }

  /// The predecessor of column j recorded by step `pass` (0-based).
  std::size_t argmin(std::size_t pass, std::size_t j) const {
    DME_ASSERT(pass < table_.size() && j >= layer_cols_[pass].lo && j <= layer_cols_[pass].hi);
    return table_[pass][j - layer_cols_[pass].lo];
  }

 private:
  IndexRange cols_;
  std::vector<double> f_;
  std::vector<IndexRange> layer_cols_;
  std::vector<std::vector<std::uint32_t>> table_;
};

// minima() for RangedLayers::step with a scalar cost: SMAWK on the window (portable builds).
template <class Cost>
void smawk_window(detail::Smawk& smawk, const Cost& cost, const double* f, IndexRange rows,
                  IndexRange cols, std::uint32_t* argmin, double* out) {
  smawk.column_minima(
      rows.size(), cols.size(),
      [&](std::size_t r, std::size_t c) {
        const std::size_t k = rows.lo + r, j = cols.lo + c;
        return k > j ? std::numeric_limits<double>::infinity() : f[r] + cost(k, j);
      },
      argmin, out);
  for (std::size_t c = 0; c < cols.size(); ++c) argmin[c] += static_cast<std::uint32_t>(rows.lo);
}

// Exact: F_2 = C(0, .), layers 3 .. s-1, the last level at d - 1.
std::vector<std::size_t> exact_indices(const double* x, const double* u, std::size_t d,
                                       std::size_t s) {
  const AccelAsqArrays cost{x, u};
  const std::vector<IndexRange> ranges = detail::optimal_level_ranges(x, d, s);
  std::vector<double> f(ranges[2].size());
  for (std::size_t j = ranges[2].lo; j <= ranges[2].hi; ++j) f[j - ranges[2].lo] = cost.unit(0, j);
  RangedLayers dp(ranges[2], std::move(f));
  [[maybe_unused]] detail::Smawk smawk;
  for (std::size_t layer = 3; layer < s; ++layer)
    dp.step(ranges[layer], [&](const double* fr, IndexRange rows, IndexRange cols,
                               std::uint32_t* argmin, double* out) {
#if DME_HAVE_AVX512
      detail::asq_window_minima(fr, x, u, rows.lo, rows.hi, cols.lo, cols.hi, argmin, out);
#else
      smawk_window(smawk, [&](std::size_t k, std::size_t j) { return cost.unit(k, j); }, fr, rows,
                   cols, argmin, out);
#endif
    });
  std::size_t k = dp.last([&](std::size_t t, std::size_t j) { return cost.unit(t, j); }, d - 1);
  std::vector<std::size_t> idx = {d - 1, k};
  for (std::size_t pass = s - 3; pass-- > 0;) {
    k = dp.argmin(pass, k);
    idx.push_back(k);
  }
  idx.push_back(0);
  return idx;
}

// Accelerated: layers advance by two with C2; the first layer is F_2 = C(0, .) for even s and
// F_3 = C2(0, .) for odd s. Backtracking recovers each skipped level with the same b* formula.
std::vector<std::size_t> accelerated_indices(const double* x, const double* u, std::size_t d,
                                             std::size_t s, std::size_t group_size,
                                             std::size_t coarse_size) {
  const AccelAsqArrays accel{x, u};
  if (s == 3) return {0, accel.middle(0, d - 1), d - 1};
  const std::vector<IndexRange> ranges =
      detail::optimal_level_ranges(x, d, s, group_size, coarse_size);
  const std::size_t first_layer = s % 2 == 0 ? 2 : 3;
  const std::size_t passes = (s - 2 - first_layer) / 2;
  const IndexRange first = ranges[first_layer];
  std::vector<double> f(first.size());
  for (std::size_t j = first.lo; j <= first.hi; ++j)
    f[j - first.lo] = first_layer == 2 ? accel.unit(0, j) : accel(0, j);
  RangedLayers dp(first, std::move(f));
  [[maybe_unused]] detail::Smawk smawk;
  for (std::size_t pass = 0; pass < passes; ++pass)
    dp.step(ranges[first_layer + 2 * (pass + 1)], [&](const double* fr, IndexRange rows,
                                                      IndexRange cols, std::uint32_t* argmin,
                                                      double* out) {
#if DME_HAVE_AVX512
      detail::accel_window_minima(fr, x, u, rows.lo, rows.hi, cols.lo, cols.hi, argmin, out);
#else
              smawk_window(smawk, accel, fr, rows, cols, argmin, out);
#endif
    });
  std::size_t j = d - 1;
  std::size_t k = dp.last(accel, j);
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

// The level set from candidate indices (repeats allowed), topped up to s levels.
std::vector<float> levels_from(std::span<const float> sorted, std::size_t s,
                               const std::vector<std::size_t>& indices) {
  std::vector<float> values = {sorted.front(), sorted.back()};
  for (std::size_t t : indices) values.push_back(sorted[t]);
  std::vector<float> levels = detail::unique_levels(std::move(values));
  detail::top_up_levels(levels, sorted, s);
  return levels;
}

// Sorted input to levels: the trivial cases, then indices(x, u, d, s) over the points as two
// arrays (asq_cost.h).
template <class Indices>
std::vector<float> solve(std::span<const float> sorted, std::size_t s, Indices&& indices) {
  DME_ASSERT(!sorted.empty() && s >= 2);
  if (detail::count_distinct_sorted(sorted) <= s) return detail::distinct_sorted(sorted);
  if (s == 2) return levels_from(sorted, s, {});
  const std::size_t d = sorted.size();
  UninitializedBuffer<double> x(d), u(d);
  detail::chord_arrays(sorted, detail::compensated_mean(sorted), x.data(), u.data());
  return levels_from(sorted, s, indices(x.data(), u.data(), d, s));
}

}  // namespace

std::vector<float> quiver_exact(std::span<const float> sorted, std::size_t s) {
  return solve(sorted, s, exact_indices);
}

std::vector<float> quiver_accelerated(std::span<const float> sorted, std::size_t s) {
  return detail::quiver_accelerated_grouped(sorted, s, 0, 0);
}

namespace detail {

std::vector<float> quiver_accelerated_grouped(std::span<const float> sorted, std::size_t s,
                                              std::size_t group_size, std::size_t coarse_size) {
  return solve(sorted, s, [=](const double* x, const double* u, std::size_t d, std::size_t levels) {
    return accelerated_indices(x, u, d, levels, group_size, coarse_size);
  });
}

}  // namespace detail

}  // namespace dme
