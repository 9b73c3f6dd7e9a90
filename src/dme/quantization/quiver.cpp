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

using detail::AccelAsqCost;
using detail::AsqCost;
using detail::ChordPoint;
using detail::IndexRange;
using detail::LayeredDp;

std::vector<std::size_t> exact_indices(const ChordPoint* p, std::size_t d, std::size_t s) {
  return detail::asq_smawk_indices(AsqCost{p}, d, s);
}

// Accelerated: layers advance by two with C2; the first layer is F_2 = C(0, .) for even s and
// F_3 = C2(0, .) for odd s. Backtracking recovers each skipped level with the same b* formula.
// Each layer only covers the index range that can hold its level in an optimal solution
// (level_bounds.h), and takes its rows from the previous layer's range: the optimum is the
// unrestricted DP's, at a fraction of the columns.
class WindowedAccelDp {
 public:
  WindowedAccelDp(const ChordPoint* p, std::size_t d, std::size_t s, std::size_t group_size)
      : p_(p), d_(d), ranges_(detail::optimal_level_ranges(p, d, s, group_size)) {}

  std::vector<std::size_t> indices(std::size_t s) {
    const AccelAsqCost accel{p_};
    const std::size_t first_layer = s % 2 == 0 ? 2 : 3;
    const std::size_t passes = (s - 2 - first_layer) / 2;
    // The first layer over its range.
    IndexRange cols = ranges_[first_layer];
    std::vector<double> f(cols.size());
    for (std::size_t j = cols.lo; j <= cols.hi; ++j)
      f[j - cols.lo] = first_layer == 2 ? AsqCost{p_}(0, j) : accel(0, j);
#if DME_HAVE_AVX512
    AlignedVector<double> xs, us;
    if (passes > 0) split_points(xs, us, s);
#endif
    std::vector<IndexRange> layer_cols(passes);
    std::vector<std::vector<std::uint32_t>> table(passes);
    for (std::size_t pass = 0; pass < passes; ++pass) {
      const IndexRange rows = cols;
      const IndexRange want = ranges_[first_layer + 2 * (pass + 1)];
      // A column needs a row at or before it; rows after the last column are never used.
      cols = {std::max(want.lo, rows.lo), want.hi};
      DME_ASSERT(cols.lo <= cols.hi);  // the optimal path lies in both ranges
      const IndexRange used = {rows.lo, std::min(rows.hi, cols.hi)};
      std::vector<double> g(cols.size());
      table[pass].resize(cols.size());
      layer_cols[pass] = cols;
#if DME_HAVE_AVX512
      detail::accel_window_minima(f.data(), xs.data(), us.data(), used.lo, used.hi, cols.lo,
                                  cols.hi, table[pass].data(), g.data());
#else
      smawk_.column_minima(
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
    // The last level pair, to d - 1, over the last layer's range.
    const std::size_t j_last = d_ - 1;
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

 private:
#if DME_HAVE_AVX512
  // The vectorised monotone minima (accel_minima.h) want the points as two arrays: every point
  // a middle level can reach.
  void split_points(AlignedVector<double>& xs, AlignedVector<double>& us, std::size_t) const {
    xs.resize(d_);
    us.resize(d_);
    for (std::size_t t = 0; t < d_; ++t) {
      xs[t] = p_[t].x;
      us[t] = p_[t].u;
    }
  }
#else
  Smawk smawk_;
#endif

  const ChordPoint* p_;
  std::size_t d_;
  std::vector<IndexRange> ranges_;
};

std::vector<std::size_t> accelerated_indices_grouped(const ChordPoint* p, std::size_t d,
                                                     std::size_t s, std::size_t group_size) {
  const AccelAsqCost accel{p};
  if (s == 3) return {0, accel.middle(0, d - 1), d - 1};
  return WindowedAccelDp(p, d, s, group_size).indices(s);
}

std::vector<std::size_t> accelerated_indices(const ChordPoint* p, std::size_t d, std::size_t s) {
  return accelerated_indices_grouped(p, d, s, 0);
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

namespace detail {

std::vector<float> quiver_accelerated_grouped(std::span<const float> sorted, std::size_t s,
                                              std::size_t group_size) {
  return solve(sorted, s, [group_size](const ChordPoint* p, std::size_t d, std::size_t levels) {
    return accelerated_indices_grouped(p, d, levels, group_size);
  });
}

}  // namespace detail

}  // namespace dme
