// Interval costs of the level DPs (ALGORITHMS.md) in the form the inner loops evaluate.
//
// The ASQ cost of rounding the points (k, j] between x_k and x_j,
//   C[k, j] = -x_j x_k (α_j - α_k) + (x_j + x_k)(β_j - β_k) - (γ_j - γ_k),
// rewritten with u_t = α_t x_t - β_t and w_t = x_t β_t, is
//   C[k, j] = (w_j - w_k) - (γ_j - γ_k) + x_j u_k - x_k u_j.
// Along any chain of levels from the first candidate to the last, the w and γ differences
// telescope to one constant, so they never change an argmin: the DPs use
//   c[k, j] = x_j u_k - x_k u_j        (one multiply and one fused multiply-add)
// and callers that need a true error recompute it from the levels.
//
// For sorted data (α_t = t), u_t = Σ_{i<=t} (x_t - x_i) is convex in x_t with chord slope exactly
// t between consecutive points, so the best single level between x_k and x_j (accelerated
// QUIVER's closed form, ALGORITHMS.md) is where that slope reaches the chord slope from k to j:
//   b*(k, j) = ceil((u_j - u_k) / (x_j - x_k)),
//   c[k, b*] + c[b*, j] = u_b (x_j - x_k) - x_b (u_j - u_k).
// Values are centred (minus a shift near the mean of the data) to keep the products small.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace dme::detail {

/// ceil(v) as an index, v >= 0 (one rounding conversion where AVX-512 has it).
inline std::size_t ceil_index(double v) {
#if defined(__AVX512F__)
  return _mm_cvt_roundsd_u64(_mm_set_sd(v), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
#else
  return static_cast<std::size_t>(std::ceil(v));
#endif
}

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

/// Accelerated QUIVER over sorted data: c[k, b*] + c[b*, j] with the closed-form middle level.
/// Equal end points (repeated input values) make every point between them equal too: b* = k.
struct AccelAsqCost {
  const ChordPoint* p;

  std::size_t middle(std::size_t k, std::size_t j) const {
    const double dx = p[j].x - p[k].x;
    if (!(dx > 0)) return k;
    // Rounding can push the slope just outside [k, j]; the clamp keeps b* inside the interval.
    const double slope =
        std::clamp((p[j].u - p[k].u) / dx, static_cast<double>(k), static_cast<double>(j));
    return static_cast<std::size_t>(std::ceil(slope));
  }

  double operator()(std::size_t k, std::size_t j) const {
    const std::size_t b = middle(k, j);
    return p[b].u * (p[j].x - p[k].x) - p[b].x * (p[j].u - p[k].u);
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
