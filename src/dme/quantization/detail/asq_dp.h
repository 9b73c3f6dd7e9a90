// Level indices of the ASQ dynamic programme over n candidates (docs/algorithms.md §3.3, §3.5):
// levels at candidates 0 and n-1 and s - 2 between them, minimising the sum of interval costs.
//   asq_smawk_indices: F_2 = C(0, .), layers 3 .. s-1 by SMAWK (for AsqCost by the vectorised
//     monotone minima of accel_minima.h, O(s·n log n) and faster, the same on every SIMD target),
//     layer s at n - 1.
//   asq_plain_indices: the same recurrence by brute force over k, O(s·n²) (ZipML's algorithm).
// Both return s indices from n - 1 down to 0, possibly repeated (a tie between an empty interval
// and a real one); callers dedupe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "dme/core/error.h"
#include "dme/quantization/detail/accel_minima.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/layered_dp.h"

namespace dme::detail {

template <class Cost>
std::vector<std::size_t> asq_smawk_indices(const Cost& cost, std::size_t n, std::size_t s) {
  DME_ASSERT(s >= 2 && n >= 1);
  if (s == 2) return {n - 1, 0};
  LayeredDp dp(n, s - 3, s);
  dp.init(cost);
  if constexpr (std::is_same_v<Cost, AsqCost>) {
    // The vectorised monotone minima (accel_minima.h), on the points as two arrays.
    if (s > 3) {
      std::vector<double> xs(n), us(n);
      for (std::size_t t = 0; t < n; ++t) {
        xs[t] = cost.p[t].x;
        us[t] = cost.p[t].u;
      }
      // Each layer's smallest argmins bound the next layer's from below (§3.5); the first
      // layer's predecessor, F_2 = C(0, .), has argmin 0 everywhere.
      const std::uint32_t* lower = nullptr;
      for (std::size_t layer = 3; layer < s; ++layer)
        dp.step_with([&](const double* f, std::uint32_t* argmin, double* out) {
          asq_column_minima(f, xs.data(), us.data(), n, argmin, out, lower);
          lower = argmin;
        });
    }
  } else {
    for (std::size_t layer = 3; layer < s; ++layer) dp.step(cost);
  }
  std::size_t k = dp.last(cost);
  std::vector<std::size_t> idx = {n - 1, k};
  for (std::size_t pass = s - 3; pass-- > 0;) {
    k = dp.argmin(pass, k);
    idx.push_back(k);
  }
  idx.push_back(0);
  return idx;
}

template <class Cost>
std::vector<std::size_t> asq_plain_indices(const Cost& cost, std::size_t n, std::size_t s) {
  DME_ASSERT(s >= 2 && n >= 1);
  if (s == 2) return {n - 1, 0};
  std::vector<double> f(n), g(n);
  for (std::size_t j = 0; j < n; ++j) f[j] = cost(0, j);
  auto table = std::make_unique_for_overwrite<std::uint32_t[]>((s - 2) * n);
  for (std::size_t layer = 3; layer <= s; ++layer) {
    std::uint32_t* arg = table.get() + (layer - 3) * n;
    // The last layer is only needed at column n - 1.
    const std::size_t j_begin = layer == s ? n - 1 : 0;
    for (std::size_t j = j_begin; j < n; ++j) {
      double best = std::numeric_limits<double>::infinity();
      std::uint32_t best_k = 0;
      for (std::size_t k = 0; k <= j; ++k) {
        const double v = f[k] + cost(k, j);
        if (v < best) {
          best = v;
          best_k = static_cast<std::uint32_t>(k);
        }
      }
      g[j] = best;
      arg[j] = best_k;
    }
    f.swap(g);
  }
  std::vector<std::size_t> idx = {n - 1};
  std::size_t k = n - 1;
  for (std::size_t layer = s; layer >= 3; --layer) {
    k = table[(layer - 3) * n + k];
    idx.push_back(k);
  }
  idx.push_back(0);
  return idx;
}

}  // namespace dme::detail
