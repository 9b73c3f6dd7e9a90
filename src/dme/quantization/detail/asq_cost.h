// Interval costs of the level DPs (docs/algorithms.md §3.2) in the form the inner loops evaluate.
//
// The ASQ cost of rounding the points (k, j] between x_k and x_j,
//   C[k, j] = -x_j x_k (α_j - α_k) + (x_j + x_k)(β_j - β_k) - (γ_j - γ_k),
// rewritten with u_t = α_t x_t - β_t and w_t = x_t β_t, is
//   C[k, j] = (w_j - w_k) - (γ_j - γ_k) + x_j u_k - x_k u_j.
// Along any chain of levels from the first candidate to the last, the w and γ differences
// telescope to one constant, so they never change an argmin: the DPs use
//   c[k, j] = x_j u_k - x_k u_j        (two multiplies and a subtraction, never fused: the
//                                       build keeps FMAs out, so every SIMD target rounds alike)
// and callers that need a true error recompute it from the levels.
//
// For sorted data (α_t = t), u_t = Σ_{i<=t} (x_t - x_i) is convex in x_t with chord slope exactly
// t between consecutive points, so the best single level between x_k and x_j (accelerated
// QUIVER's closed form, docs/algorithms.md §4.4) is where that slope reaches the chord slope
// from k to j:
//   b*(k, j) = ceil((u_j - u_k) / (x_j - x_k)),
//   c[k, b*] + c[b*, j] = u_b (x_j - x_k) - x_b (u_j - u_k).
// Values are centred (minus a shift near the mean of the data) to keep the products small.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace dme::detail {

/// A candidate level in the (x, u) form above: x = value - shift, u = α x - β.
struct ChordPoint {
  double x;
  double u;
};

/// c[k, j] = x_j u_k - x_k u_j, k <= j.
struct AsqCost {
  const ChordPoint* p;
  double operator()(std::size_t k, std::size_t j) const {
    return p[j].x * p[k].u - p[k].x * p[j].u;
  }
};

/// b*(k, j) from the end points: ceil((u_j - u_k) / (x_j - x_k)) clamped to [k, j], or k when
/// x_j = x_k (equal end points, from repeated input values, make every point between them equal
/// too).
inline std::size_t accel_middle(double xk, double uk, double xj, double uj, std::size_t k,
                                std::size_t j) {
  const double dx = xj - xk;
  if (!(dx > 0)) return k;
  // Rounding can push the slope just outside [k, j]; the clamp keeps b* inside the interval.
  const double slope = std::clamp((uj - uk) / dx, static_cast<double>(k), static_cast<double>(j));
  // ceil(slope) exactly (slope >= 0), without the libm call std::ceil is on baseline x86-64.
  const auto b = static_cast<std::size_t>(slope);
  return b + (static_cast<double>(b) < slope ? 1 : 0);
}

/// Accelerated QUIVER over sorted data: c[k, b*] + c[b*, j] with the closed-form middle level.
struct AccelAsqCost {
  const ChordPoint* p;

  std::size_t middle(std::size_t k, std::size_t j) const {
    return accel_middle(p[k].x, p[k].u, p[j].x, p[j].u, k, j);
  }

  double operator()(std::size_t k, std::size_t j) const {
    const std::size_t b = middle(k, j);
    return p[b].u * (p[j].x - p[k].x) - p[b].x * (p[j].u - p[k].u);
  }
};

/// AccelAsqCost over the points as two arrays (x_t, u_t), the layout the vector kernels read.
struct AccelAsqArrays {
  const double* x;
  const double* u;

  std::size_t middle(std::size_t k, std::size_t j) const {
    return accel_middle(x[k], u[k], x[j], u[j], k, j);
  }

  double operator()(std::size_t k, std::size_t j) const {
    const std::size_t b = middle(k, j);
    return u[b] * (x[j] - x[k]) - x[b] * (u[j] - u[k]);
  }

  /// c[k, j] = x_j u_k - x_k u_j (AsqCost): one level pair, no middle.
  double unit(std::size_t k, std::size_t j) const { return x[j] * u[k] - x[k] * u[j]; }
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
