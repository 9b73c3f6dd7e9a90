// Interval costs of the level DPs (ALGORITHMS.md), as small callables for detail::LayeredDp and
// detail::Smawk. All of them drop the γ (sum of squares) term of the formulas: along any chain of
// levels from the first to the last candidate it telescopes to the same constant, so it never
// changes an argmin, and leaving it out saves a load per evaluation. Values are therefore "cost
// minus Σx² of the interval" and may be negative; callers that need a true error recompute it.
//
// Candidate values are stored centred (minus a shift near the mean of the data): the costs are
// translation invariant up to the dropped term, and centring keeps the products small.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace dme::detail {

/// One sorted input value and the prefix sum up to and including it (both centred).
struct SortedPoint {
  double x;  ///< x_t - shift
  double b;  ///< Σ_{i<=t} (x_i - shift)
};

/// A candidate level with the data it summarises: alpha and beta count and sum (centred) the data
/// at or below v, so the data strictly between candidates k and j are alpha_j - alpha_k values.
struct WeightedPoint {
  double v;
  double alpha;
  double beta;
};

/// ASQ cost of rounding the sorted points (k, j] between x_k and x_j, k <= j.
struct UnitAsqCost {
  const SortedPoint* p;
  double operator()(std::size_t k, std::size_t j) const {
    const double xk = p[k].x, xj = p[j].x;
    return (xj + xk) * (p[j].b - p[k].b) - xj * xk * static_cast<double>(j - k);
  }
};

/// ASQ cost over weighted candidates (the grid of Apx. QUIVER, ZipML-CP candidate points).
struct WeightedAsqCost {
  const WeightedPoint* p;
  double operator()(std::size_t k, std::size_t j) const {
    const double vk = p[k].v, vj = p[j].v;
    return (vj + vk) * (p[j].beta - p[k].beta) - vj * vk * (p[j].alpha - p[k].alpha);
  }
};

/// Accelerated QUIVER: the cost of (k, j] with the best single level placed between them,
///   b*(k, j) = k + ceil(Σ_{k<i<=j} (x_j - x_i) / (x_j - x_k)),
/// where the derivative of the two-interval cost in the middle level changes sign. Equal end
/// points (repeated input values) make every point between them equal too: b* = k, cost 0.
struct AccelAsqCost {
  const SortedPoint* p;

  std::size_t middle(std::size_t k, std::size_t j) const {
    const double width = p[j].x - p[k].x;
    if (!(width > 0)) return k;
    const double n = static_cast<double>(j - k);
    const double t = std::ceil((n * p[j].x - (p[j].b - p[k].b)) / width);
    // Rounding can push t just outside [0, n]; the clamp keeps b* inside the interval.
    return k + static_cast<std::size_t>(std::clamp(t, 0.0, n));
  }

  double operator()(std::size_t k, std::size_t j) const {
    const UnitAsqCost unit{p};
    const std::size_t b = middle(k, j);
    return unit(k, b) + unit(b, j);
  }
};

/// 1-D k-means cost of the cluster of sorted points [k, j) (prefix positions, k <= j):
/// -(Σ y)² / n, the within-cluster sum of squares minus its Σy² term.
struct KmeansCost {
  const double* prefix;  ///< exclusive prefix sums: prefix[t] = Σ_{i<t} y_i
  double operator()(std::size_t k, std::size_t j) const {
    if (k == j) return 0.0;
    const double sum = prefix[j] - prefix[k];
    return -(sum * sum) / static_cast<double>(j - k);
  }
};

}  // namespace dme::detail
