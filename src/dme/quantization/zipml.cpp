#include "dme/quantization/zipml.h"

#include <algorithm>

#include "dme/core/aligned_buffer.h"
#include "dme/core/error.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/asq_dp.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/level_set.h"

namespace dme {
namespace {

using detail::AsqCost;
using detail::ChordPoint;

std::vector<float> finish(std::vector<float> values, std::span<const float> pool, std::size_t s) {
  std::vector<float> levels = detail::unique_levels(std::move(values));
  detail::top_up_levels(levels, pool, s);
  return levels;
}

void check_candidates(const char* name, std::size_t s, std::size_t m) {
  DME_CHECK(m >= s, name << ": needs at least s candidate intervals (m >= s), got m = " << m
                         << " and s = " << s);
  DME_CHECK(m <= kMaxZipmlCandidates,
            name << ": the O(s·m²) DP accepts m <= " << kMaxZipmlCandidates << ", got m = " << m);
}

// The greedy cut for threshold tau: maximal intervals of true cost <= tau, left to right.
// Returns the level indices, or an empty vector once more than max_intervals are needed.
class ThresholdGreedy {
 public:
  ThresholdGreedy(std::span<const float> sorted, double shift)
      : y_(sorted.size()),
        b_(detail::centred_prefix(sorted, shift)),
        g_(detail::centred_square_prefix(sorted, shift)) {
    for (std::size_t t = 0; t < y_.size(); ++t) y_[t] = static_cast<double>(sorted[t]) - shift;
  }

  // The variance of rounding (k, j] between x_k and x_j (clamped: rounding can dip below 0).
  double cost(std::size_t k, std::size_t j) const {
    const double c = (y_[j] + y_[k]) * (b_[j] - b_[k]) -
                     y_[j] * y_[k] * static_cast<double>(j - k) - (g_[j] - g_[k]);
    return std::max(0.0, c);
  }

  std::vector<std::size_t> cut(double tau, std::size_t max_intervals) const {
    const std::size_t d = y_.size();
    std::vector<std::size_t> idx = {0};
    for (std::size_t k = 0; k < d - 1;) {
      if (idx.size() > max_intervals) return {};
      // The cost only grows with j: double the step, then bisect the last doubling.
      std::size_t good = k + 1, step = 1;
      while (good + step <= d - 1 && cost(k, good + step) <= tau) {
        good += step;
        step *= 2;
      }
      for (std::size_t bad = std::min(good + step, d); bad - good > 1;) {
        const std::size_t mid = good + (bad - good) / 2;
        (cost(k, mid) <= tau ? good : bad) = mid;
      }
      idx.push_back(good);
      k = good;
    }
    return idx.size() - 1 <= max_intervals ? idx : std::vector<std::size_t>{};
  }

 private:
  std::vector<double> y_, b_, g_;
};

}  // namespace

std::vector<float> zipml_exact(std::span<const float> sorted, std::size_t s) {
  DME_CHECK(sorted.size() <= kMaxZipmlD, "zipml: the exact O(s·d²) DP accepts d <= "
                                             << kMaxZipmlD << ", got d = " << sorted.size()
                                             << " (use quiver for large inputs)");
  if (detail::count_distinct_sorted(sorted) <= s) return detail::distinct_sorted(sorted);
  const std::size_t d = sorted.size();
  AlignedVector<ChordPoint> points(d);
  detail::chord_points(sorted, detail::compensated_mean(sorted), points.data());
  std::vector<float> values;
  for (std::size_t t : detail::asq_plain_indices(AsqCost{points.data()}, d, s))
    values.push_back(sorted[t]);
  return finish(std::move(values), sorted, s);
}

std::vector<float> zipml_cp_uniform(std::span<const float> x, std::size_t s, std::size_t m) {
  check_candidates("zipml-cp-unif", s, m);
  const Extrema<float> range = detail::scan_input(x, "zipml-cp-unif");
  if (range.min == range.max) return {range.min};
  const detail::GridStatistics grid = detail::grid_statistics(x, range.min, range.max, m);
  std::vector<float> values;
  for (std::size_t t : detail::asq_plain_indices(AsqCost{grid.points.data()}, m + 1, s))
    values.push_back(grid.level[t]);
  return finish(std::move(values), grid.level, s);
}

std::vector<float> zipml_cp_quantile(std::span<const float> sorted, std::size_t s, std::size_t m) {
  check_candidates("zipml-cp-quant", s, m);
  if (detail::count_distinct_sorted(sorted) <= s) return detail::distinct_sorted(sorted);
  const std::size_t d = sorted.size();
  AlignedVector<ChordPoint> points(d);
  detail::chord_points(sorted, detail::compensated_mean(sorted), points.data());
  std::vector<std::size_t> index;
  for (std::size_t l = 0; l <= m; ++l) {
    // l·(d - 1) < 2^13 · 2^50: no overflow for any d that fits in memory.
    const std::size_t q = l * (d - 1) / m;
    if (index.empty() || index.back() != q) index.push_back(q);
  }
  // A candidate summarises the data up to its order statistic: its chord point as it stands.
  std::vector<ChordPoint> cand;
  for (std::size_t q : index) cand.push_back(points[q]);
  std::vector<float> values;
  for (std::size_t t : detail::asq_plain_indices(AsqCost{cand.data()}, cand.size(), s))
    values.push_back(sorted[index[t]]);
  return finish(std::move(values), sorted, s);
}

// Why the guarantee holds. Let OPT have k intervals I_1..I_k (k + 1 levels) with costs c_t, and
// run the greedy with τ = OPT/k. (i) A greedy interval inside one I_t costs at most what OPT pays
// for its points (a narrower bracket gives each point a smaller variance); at most k - 1 greedy
// intervals straddle an optimal level, each costing <= τ. So the greedy error is <= OPT + (k-1)τ
// < 2·OPT. (ii) Inside I_t, each maximal greedy interval plus its next point costs > τ, and every
// other such extension is disjoint, so at most 2c_t/τ + 1 greedy intervals lie inside I_t: in all
// <= 2·OPT/τ + 2k - 1 = 4k - 1 intervals. With s - 1 >= 4k - 1 the bisection's τ is at most
// OPT/k, so its error is below 2·OPT for k = floor(s/4) intervals.
std::vector<float> zipml_2apx(std::span<const float> sorted, std::size_t s) {
  if (detail::count_distinct_sorted(sorted) <= s) return detail::distinct_sorted(sorted);
  const std::size_t d = sorted.size();
  const ThresholdGreedy greedy(sorted, detail::compensated_mean(sorted));
  // One interval is always feasible; rounding can make some cost(0, j < d-1) exceed
  // cost(0, d-1) by an ulp, so that cut is the fallback rather than the bisection's start.
  std::vector<std::size_t> best = {0, d - 1};
  double lo = 0, hi = greedy.cost(0, d - 1);
  for (int iter = 0; iter < 64 && lo < hi; ++iter) {
    const double mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    std::vector<std::size_t> idx = greedy.cut(mid, s - 1);
    if (idx.empty()) {
      lo = mid;
    } else {
      hi = mid;
      best = std::move(idx);
    }
  }
  std::vector<float> values;
  for (std::size_t t : best) values.push_back(sorted[t]);
  return finish(std::move(values), sorted, s);
}

}  // namespace dme
