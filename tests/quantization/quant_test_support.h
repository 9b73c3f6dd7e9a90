// Shared helpers of the quantization tests: reproducible inputs and brute-force references.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dme/core/rng.h"

namespace dme::test {

enum class Dist { kLogNormal, kNormal, kIntegers, kConstant, kTwoValues, kUniform };

inline const char* dist_name(Dist d) {
  switch (d) {
    case Dist::kLogNormal:
      return "lognormal";
    case Dist::kNormal:
      return "normal";
    case Dist::kIntegers:
      return "integers";
    case Dist::kConstant:
      return "constant";
    case Dist::kTwoValues:
      return "two-values";
    case Dist::kUniform:
      return "uniform";
  }
  return "?";
}

/// d values of a distribution from the Philox input stream `seed` (Box-Muller normals).
inline std::vector<float> make_input(Dist dist, std::size_t d, std::uint64_t seed) {
  const PhiloxStream in(seed, 0, 0, Purpose::kInput);
  std::vector<float> x(d);
  for (std::size_t i = 0; i < d; ++i) {
    const double u1 = 1.0 - in.uniform_double(2 * i), u2 = in.uniform_double(2 * i + 1);
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * 3.141592653589793 * u2);
    switch (dist) {
      case Dist::kLogNormal:
        x[i] = static_cast<float>(std::exp(z));
        break;
      case Dist::kNormal:
        x[i] = static_cast<float>(z);
        break;
      case Dist::kIntegers:
        x[i] = std::floor(static_cast<float>(u2 * 6.0)) - 2.0f;
        break;
      case Dist::kConstant:
        x[i] = 3.25f;
        break;
      case Dist::kTwoValues:
        x[i] = u2 < 0.3 ? -1.5f : 2.0f;
        break;
      case Dist::kUniform:
        x[i] = static_cast<float>(u2);
        break;
    }
  }
  return x;
}

inline std::vector<float> sorted_copy(std::vector<float> x) {
  std::sort(x.begin(), x.end());
  return x;
}

/// Σ_i (b - x_i)(x_i - a) of stochastic rounding to levels, in long double, by linear search.
inline long double asq_error(const std::vector<float>& x, const std::vector<float>& levels) {
  long double sum = 0;
  for (float v : x) {
    std::size_t c = 0;
    while (c + 1 < levels.size() && levels[c + 1] <= v) ++c;
    if (c + 1 == levels.size()) continue;  // at the top level
    sum +=
        (static_cast<long double>(levels[c + 1]) - v) * (static_cast<long double>(v) - levels[c]);
  }
  return sum;
}

/// Σ_i min_c (x_i - c)² (nearest rounding), in long double.
inline long double nearest_error(const std::vector<float>& x, const std::vector<float>& levels) {
  long double sum = 0;
  for (float v : x) {
    long double best = std::numeric_limits<long double>::infinity();
    for (float c : levels) {
      const long double e = static_cast<long double>(v) - c;
      best = std::min(best, e * e);
    }
    sum += best;
  }
  return sum;
}

/// Optimal ASQ error with s levels at data points of sorted x: the plain O(s·d²) DP of
/// docs/algorithms.md §3.3 in long double, interval costs accumulated directly (no prefix sums).
inline long double brute_force_asq(const std::vector<float>& sorted, std::size_t s) {
  const std::size_t d = sorted.size();
  if (d <= 1) return 0;
  std::vector<long double> cost(d * d, 0);  // cost[k*d + j], k < j
  for (std::size_t k = 0; k < d; ++k) {
    long double s1 = 0, s2 = 0;
    const long double xk = sorted[k];
    for (std::size_t j = k + 1; j < d; ++j) {
      const long double xj = sorted[j];
      s1 += xj;
      s2 += xj * xj;
      const long double n = static_cast<long double>(j - k);
      cost[k * d + j] = xj * s1 - xj * xk * n - s2 + xk * s1;  // Σ (xj - xi)(xi - xk)
    }
  }
  std::vector<long double> f(d), g(d);
  for (std::size_t j = 0; j < d; ++j) f[j] = cost[j];
  for (std::size_t layer = 3; layer <= s; ++layer) {
    for (std::size_t j = 0; j < d; ++j) {
      long double best = f[j];  // k = j: a repeated level
      for (std::size_t k = 0; k < j; ++k) best = std::min(best, f[k] + cost[k * d + j]);
      g[j] = best;
    }
    f.swap(g);
  }
  return std::max<long double>(0, f[d - 1]);
}

/// Optimal 1-D k-means error with s clusters of sorted x, plain DP in long double.
inline long double brute_force_kmeans(const std::vector<float>& sorted, std::size_t s) {
  const std::size_t d = sorted.size();
  std::vector<long double> sse((d + 1) * (d + 1), 0);  // cluster [k, j)
  for (std::size_t k = 0; k < d; ++k) {
    long double s1 = 0, s2 = 0;
    for (std::size_t j = k + 1; j <= d; ++j) {
      const long double v = sorted[j - 1];
      s1 += v;
      s2 += v * v;
      sse[k * (d + 1) + j] = std::max<long double>(0, s2 - s1 * s1 / (j - k));
    }
  }
  std::vector<long double> f(d + 1), g(d + 1);
  for (std::size_t j = 0; j <= d; ++j) f[j] = sse[j];
  for (std::size_t c = 2; c <= s; ++c) {
    for (std::size_t j = 0; j <= d; ++j) {
      long double best = f[j];
      for (std::size_t k = 0; k < j; ++k) best = std::min(best, f[k] + sse[k * (d + 1) + j]);
      g[j] = best;
    }
    f.swap(g);
  }
  return f[d];
}

/// Σ (x - mean)², the scale against which float/double rounding of the costs is judged.
inline long double spread(const std::vector<float>& x) {
  long double m = 0, ss = 0;
  for (float v : x) m += v;
  m /= static_cast<long double>(x.size());
  for (float v : x) ss += (v - m) * (v - m);
  return ss;
}

}  // namespace dme::test
