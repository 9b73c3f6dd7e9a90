#include "dme/quantization/kmeans1d.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "dme/core/error.h"
#include "dme/quantization/detail/accel_minima.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/compensated_sum.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/layered_dp.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/detail/ranged_layers.h"
#include "dme/quantization/detail/smawk.h"

namespace dme {
namespace detail {
namespace {

// Mean and squared deviation of sorted[begin, end), in long double straight from the data.
void cluster_moments(std::span<const float> sorted, std::size_t begin, std::size_t end,
                     long double& mean, long double& ss) {
  long double sum = 0;
  for (std::size_t i = begin; i < end; ++i) sum += sorted[i];
  mean = sum / static_cast<long double>(end - begin);
  ss = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const long double e = sorted[i] - mean;
    ss += e * e;
  }
}

constexpr double kInf = std::numeric_limits<double>::infinity();

// Groups of consecutive points for the boundary bounds: at most g points and, where the data are
// sparse (the tails), at most 1/(d/g) of the range wide, as the QUIVER groups of level_bounds.cpp
// (a group holding a boundary loses its own spread from the bound, so no group may hold much).
// start[q] is the first point of group q (start[G] = d); s1, s2 the compensated sums of y and y²
// before each group.
struct Groups {
  std::vector<std::size_t> start;
  std::vector<double> s1, s2;
  std::size_t count() const { return start.size() - 1; }

  Groups(const std::vector<double>& y, std::size_t g) {
    const std::size_t d = y.size();
    const double width = (y[d - 1] - y[0]) / static_cast<double>((d + g - 1) / g);
    start.push_back(0);
    for (std::size_t b = 0; b < d;) {
      std::size_t e = std::min(d, b + g);
      if (y[e - 1] - y[b] > width)
        e = static_cast<std::size_t>(
            std::upper_bound(y.begin() + static_cast<std::ptrdiff_t>(b) + 1,
                             y.begin() + static_cast<std::ptrdiff_t>(e) - 1, y[b] + width) -
            y.begin());
      start.push_back(e);
      b = e;
    }
    CompensatedSum c1, c2;
    s1.push_back(0);
    s2.push_back(0);
    for (std::size_t q = 0; q < count(); ++q) {
      for (std::size_t t = start[q]; t < start[q + 1]; ++t) {
        c1.add(y[t]);
        c2.add(y[t] * y[t]);
      }
      s1.push_back(c1.value());
      s2.push_back(c2.value());
    }
  }

  /// The sum of squared deviations of the points of groups [a, b) (0 when empty).
  double spread(std::size_t a, std::size_t b) const {
    if (b <= a) return 0.0;
    const double n = static_cast<double>(start[b] - start[a]);
    const double sum = s1[b] - s1[a];
    return (s2[b] - s2[a]) - sum * sum / n;
  }
};

// Where the boundaries of an optimal partition can lie. Boundary c (1 <= c < s) is a prefix
// position e_c in [0, d]: cluster c is [e_{c-1}, e_c) with e_0 = 0 and e_s = d. Positions are
// grouped by the point groups (position p < d in the group of point p, position d in a group G
// of its own). A cluster from a position in group a to one in group b > a + 1 holds every point
// of groups a + 1 .. b - 1, and a set's sum of squared deviations is at least any subset's, so
//   SSE(cluster) >= L(a, b) = spread(a + 1, b),
// an interval cost on groups and so Monge like the fine one. Forward and backward group DPs
// (SMAWK) bound the error before and after each boundary; U is the true error of the group
// optimum's partition (each boundary at its group's first point). An optimal partition has its
// c-th boundary in a group q with FL_c[q] + BL_{s-c}[q] <= OPT <= U (plus a tolerance above every
// rounding error), so the fine DP only runs each layer over those positions: the result is still
// an exact optimum (the optimal path survives, and every surviving path is a partition).
// Returns ranges[c] for c = 1 .. s - 1 ([0] unused).
std::vector<IndexRange> boundary_ranges(const std::vector<double>& y, std::size_t s) {
  const std::size_t d = y.size();
  std::vector<IndexRange> ranges(s, IndexRange{0, d});
  // About 4·sqrt(d·s) groups, as for QUIVER (level_bounds.cpp), of at least 8 points: the group
  // DP's values and argmins (12 bytes per group and level) stay below the fine DP's full table.
  const double target = 4.0 * std::sqrt(static_cast<double>(d) * static_cast<double>(s));
  const std::size_t g =
      std::max<std::size_t>(8, static_cast<std::size_t>(static_cast<double>(d) / target));
  const Groups groups(y, g);
  const std::size_t G = groups.count();  // position groups 0 .. G
  const auto bound = [&](std::size_t a, std::size_t b) {
    return b < a + 2 ? 0.0 : groups.spread(a + 1, b);
  };
  Smawk smawk;
  // The group DP's tables: a value and an argmin per group and level (dp_budget.h).
  DpBudget(s, d).add(std::uint64_t(s) * (G + 1) * (sizeof(double) + sizeof(std::uint32_t)));
  // Forward: fw[c][q], c clusters with the c-th boundary in group q; from[c][q] its predecessor.
  std::vector<std::vector<double>> fw(s);
  std::vector<std::vector<std::uint32_t>> from(s);
  fw[1].resize(G + 1);
  for (std::size_t q = 0; q <= G; ++q) fw[1][q] = bound(0, q);
  for (std::size_t c = 2; c < s; ++c) {
    const std::vector<double>& f = fw[c - 1];
    fw[c].resize(G + 1);
    from[c].resize(G + 1);
    smawk.column_minima(
        G + 1, G + 1,
        [&](std::size_t a, std::size_t b) { return a > b ? kInf : f[a] + bound(a, b); },
        from[c].data(), fw[c].data());
  }
  // U: the group optimum's partition, each boundary at the first point of its group.
  std::vector<double> bw(G + 1), next(G + 1);  // bw[q]: r clusters after a boundary in group q
  for (std::size_t q = 0; q <= G; ++q) bw[q] = bound(q, G);
  std::size_t q = 0;
  double best = kInf;
  for (std::size_t t = 0; t <= G; ++t)
    if (fw[s - 1][t] + bw[t] < best) {
      best = fw[s - 1][t] + bw[t];
      q = t;
    }
  std::vector<std::size_t> path(s + 1);
  path[0] = 0;
  path[s] = G;
  for (std::size_t c = s - 1; c >= 1; --c) {
    path[c] = q;
    if (c >= 2) q = from[c][q];
  }
  double upper = 0;
  for (std::size_t c = 1; c <= s; ++c) upper += groups.spread(path[c - 1], path[c]);
  // Every bound and U is a sum of at most s terms, each with rounding errors of a few ulps of
  // d·M² (M the largest |y|), as are the fine DP's values: ~4000 ulps of d·M² per level.
  const double m = std::max(std::abs(y.front()), std::abs(y.back()));
  const double limit = upper + 1e-12 * static_cast<double>(s + 2) * static_cast<double>(d) * m * m;
  if (!std::isfinite(limit)) return ranges;
  // Backward, r = 1 .. s - 1 clusters after boundary c = s - r, on reversed group indices; each
  // boundary's range as soon as its backward bound is known.
  std::vector<std::uint32_t> scratch(G + 1);
  for (std::size_t r = 1;; ++r) {
    const std::size_t c = s - r;
    std::size_t first = G + 1, last = 0;
    for (std::size_t t = 0; t <= G; ++t)
      if (fw[c][t] + bw[t] <= limit) {
        first = std::min(first, t);
        last = t;
      }
    if (first <= G) ranges[c] = {groups.start[first], last == G ? d : groups.start[last + 1] - 1};
    if (c == 1) break;
    smawk.column_minima(
        G + 1, G + 1,
        [&](std::size_t i, std::size_t j) {
          return i > j ? kInf : bw[G - i] + bound(G - j, G - i);
        },
        scratch.data(), next.data());
    for (std::size_t t = 0; t <= G; ++t) bw[t] = next[G - t];
  }
  return ranges;
}

}  // namespace

KmeansPartition kmeans_partition(std::span<const float> sorted, std::size_t s, bool bounded) {
  const std::size_t d = sorted.size();
  DME_ASSERT(d >= 1 && s >= 1);
  KmeansPartition part;
  if (s == 1) {
    part.ends = {d};
  } else {
    // Columns are prefix positions 0..d; F_1[j] = cost of one cluster [0, j).
    const double shift = compensated_mean(sorted);
    const std::vector<double> prefix = centred_exclusive_prefix(sorted, shift);
    const KmeansCost cost{prefix.data()};
    if (bounded && s >= 3 && d >= 2) {
      std::vector<double> y(d);
      for (std::size_t t = 0; t < d; ++t) y[t] = static_cast<double>(sorted[t]) - shift;
      const std::vector<IndexRange> ranges = boundary_ranges(y, s);
      std::vector<double> f(ranges[1].size());
      for (std::size_t j = ranges[1].lo; j <= ranges[1].hi; ++j) f[j - ranges[1].lo] = cost(0, j);
      RangedLayers dp(ranges[1], std::move(f), s - 2, DpBudget(s, d));
      for (std::size_t c = 2; c < s; ++c)
        dp.step(ranges[c], [&](const double* fr, IndexRange rows, IndexRange cols,
                               std::uint32_t* argmin, double* out) {
          kmeans_window_minima(fr, prefix.data(), rows.lo, rows.hi, cols.lo, cols.hi, argmin, out);
        });
      std::size_t k = dp.last(cost, d);
      part.ends = {d, k};
      for (std::size_t pass = s - 2; pass-- > 0;) {
        k = dp.argmin(pass, k);
        part.ends.push_back(k);
      }
    } else {
      LayeredDp dp(d + 1, s - 2, s);
      dp.init(cost);
      // The vectorised monotone minima (accel_minima.h), the same on every SIMD target.
      for (std::size_t c = 2; c < s; ++c)
        dp.step_with([&](const double* f, std::uint32_t* argmin, double* out) {
          kmeans_column_minima(f, prefix.data(), d + 1, argmin, out);
        });
      std::size_t k = dp.last(cost);
      part.ends = {d, k};
      for (std::size_t pass = s - 2; pass-- > 0;) {
        k = dp.argmin(pass, k);
        part.ends.push_back(k);
      }
    }
    std::reverse(part.ends.begin(), part.ends.end());
    // Empty clusters (a DP tie) carry no data: drop them.
    part.ends.erase(std::unique(part.ends.begin(), part.ends.end()), part.ends.end());
    if (part.ends.front() == 0) part.ends.erase(part.ends.begin());
  }
  long double total = 0;
  std::size_t begin = 0;
  for (std::size_t end : part.ends) {
    long double mean, ss;
    cluster_moments(sorted, begin, end, mean, ss);
    total += ss;
    begin = end;
  }
  part.cost = static_cast<double>(total);
  return part;
}

}  // namespace detail

std::vector<float> kmeans_levels(std::span<const float> sorted, std::size_t s) {
  DME_ASSERT(!sorted.empty() && s >= 1);
  if (detail::count_distinct_sorted(sorted) <= s) return detail::distinct_sorted(sorted);
  const detail::KmeansPartition part = detail::kmeans_partition(sorted, s);
  std::vector<float> centroids;
  std::size_t begin = 0;
  for (std::size_t end : part.ends) {
    long double sum = 0;
    for (std::size_t i = begin; i < end; ++i) sum += sorted[i];
    centroids.push_back(static_cast<float>(sum / static_cast<long double>(end - begin)));
    begin = end;
  }
  std::vector<float> levels = detail::unique_levels(std::move(centroids));
  detail::top_up_levels(levels, sorted, s);
  return levels;
}

}  // namespace dme
