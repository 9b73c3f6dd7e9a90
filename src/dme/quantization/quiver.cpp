#include "dme/quantization/quiver.h"

#include <algorithm>
#include <optional>

#include "dme/core/aligned_buffer.h"
#include "dme/core/error.h"
#include "dme/quantization/detail/accel_minima.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/level_bounds.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/detail/ranged_layers.h"

namespace dme {
namespace {

using detail::AccelAsqArrays;
using detail::IndexRange;
using detail::RangedLayers;

// Exact: F_2 = C(0, .), layers 3 .. s-1, the last level at d - 1.
std::vector<std::size_t> exact_indices(const double* x, const double* u, std::size_t d,
                                       std::size_t s) {
  const AccelAsqArrays cost{x, u};
  const std::vector<IndexRange> ranges = detail::optimal_level_ranges(x, d, s);
  std::vector<double> f(ranges[2].size());
  for (std::size_t j = ranges[2].lo; j <= ranges[2].hi; ++j) f[j - ranges[2].lo] = cost.unit(0, j);
  RangedLayers dp(ranges[2], std::move(f), s - 3, detail::DpBudget(s, d));
  // The layers by the vectorised monotone minima (accel_minima.h), the same on every SIMD target.
  for (std::size_t layer = 3; layer < s; ++layer)
    dp.step(ranges[layer], [&](const double* fr, IndexRange rows, IndexRange cols,
                               std::uint32_t* argmin, double* out) {
      detail::asq_window_minima(fr, x, u, rows.lo, rows.hi, cols.lo, cols.hi, argmin, out);
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
  RangedLayers dp(first, std::move(f), passes, detail::DpBudget(s, d));
  for (std::size_t pass = 0; pass < passes; ++pass)
    dp.step(ranges[first_layer + 2 * (pass + 1)], [&](const double* fr, IndexRange rows,
                                                      IndexRange cols, std::uint32_t* argmin,
                                                      double* out) {
      detail::accel_window_minima(fr, x, u, rows.lo, rows.hi, cols.lo, cols.hi, argmin, out);
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

// The chord arrays' storage (2·d doubles), kept by each thread for its next solve up to
// kKeptPoints points (32 MiB): fresh buffers are faulted in and zeroed by the kernel on every
// solve (16 MiB at d = 2^20: 1-2 ms, against ~17 for the whole accelerated solve on the scalar
// target, Intel Xeon family 6 model 207). Longer inputs get buffers of their own, freed after.
constexpr std::size_t kKeptPoints = std::size_t(1) << 21;

class ChordStorage {
 public:
  explicit ChordStorage(std::size_t d) : d_(d) {
    if (d > kKeptPoints) {
      own_.emplace(2 * d);
      data_ = own_->data();
      return;
    }
    thread_local AlignedVector<double> kept;
    if (kept.size() < 2 * d) {
      kept.clear();  // grown without copying what it held
      kept.resize(2 * std::max(d, std::size_t(1) << 16));
    }
    data_ = kept.data();
  }
  double* x() { return data_; }
  double* u() { return data_ + d_; }

 private:
  std::size_t d_;
  std::optional<UninitializedBuffer<double>> own_;
  double* data_ = nullptr;
};

// Sorted input to levels: the trivial cases, then indices(x, u, d, s) over the points as two
// arrays (asq_cost.h).
template <class Indices>
std::vector<float> solve(std::span<const float> sorted, std::size_t s, Indices&& indices) {
  DME_ASSERT(!sorted.empty() && s >= 2);
  if (detail::count_distinct_sorted(sorted) <= s) return detail::distinct_sorted(sorted);
  if (s == 2) return levels_from(sorted, s, {});
  const std::size_t d = sorted.size();
  ChordStorage storage(d);
  double* x = storage.x();
  double* u = storage.u();
  detail::chord_arrays(sorted, detail::compensated_mean(sorted), x, u);
  return levels_from(sorted, s, indices(x, u, d, s));
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
