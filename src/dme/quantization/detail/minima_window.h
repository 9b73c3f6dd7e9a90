// The window of a monotone-minima search and the divide and conquer every search shares: the
// parts of accel_minima.cpp (the Highway searches) and baseline_minima.cpp (the scalar definition
// and its four-lane generic-vector form) that both use. Internal to those two files.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "dme/quantization/detail/asq_cost.h"

namespace dme::detail {

enum class MinimaKind : int { kAccel, kPlain, kKmeans };

// Rows up to which a sub-problem is brute-forced, by measurement at n = 2^20 on AVX-512
// (accelerated: 8 rows +5%, 32 +7%; plain: 16 rows +7%).
constexpr std::size_t leaf_rows(MinimaKind kind) {
  return kind == MinimaKind::kPlain ? 32 : 16;
}

// The window: rows [r_lo, r_hi] with values f[k - r_lo] and coefficients xr, ur (the points the
// middle level is gathered from, for the accelerated cost); columns [c_lo, c_hi] with
// coefficients xc, uc; results argmin[j - c_lo], out[j - c_lo]. lower, where not null, holds
// per column a row at or below its smallest argmin (lower[j - c_lo], non-decreasing in j): the
// previous layer's argmins (accel_minima.h).
struct Window {
  const double* f;
  const double *xr, *ur, *xc, *uc;
  std::size_t r_lo, r_hi, c_lo, c_hi;
  std::uint32_t* argmin;
  double* out;
  const std::uint32_t* lower = nullptr;
};

// The first row to search for column j, given the window's rows from r_lo: lower[j] where that
// is higher, never above r_hi (which holds however the floating-point costs round).
inline std::size_t first_row(const Window& w, std::size_t j, std::size_t r_lo, std::size_t r_hi) {
  if (w.lower == nullptr) return r_lo;
  return std::min<std::size_t>(std::max<std::size_t>(r_lo, w.lower[j - w.c_lo]), r_hi);
}

// The costs of asq_cost.h (AccelAsqArrays, AsqCost, KmeansCost), row k against column j, in the
// operation order the vector kernels use.
template <MinimaKind kKind>
double scalar_value(const Window& w, std::size_t k, std::size_t j) {
  const double fk = w.f[k - w.r_lo];
  if constexpr (kKind == MinimaKind::kAccel) {
    const double dx = w.xc[j] - w.xr[k], du = w.uc[j] - w.ur[k];
    const std::size_t b = accel_middle(w.xr[k], w.ur[k], w.xc[j], w.uc[j], k, j);
    return fk + (w.ur[b] * dx - w.xr[b] * du);
  } else if constexpr (kKind == MinimaKind::kPlain) {
    return fk + (w.xc[j] * w.ur[k] - w.xr[k] * w.uc[j]);
  } else {
    if (k == j) return fk + 0.0;
    const double sum = w.xc[j] - w.xr[k];
    return fk + -(sum * sum) / static_cast<double>(j - k);
  }
}

// The divide and conquer every search shares (accel_minima.h): columns [c_lo, c_hi] whose minima
// lie in rows [r_lo, r_hi]. The middle column is scanned, the left half recurses and the right
// half loops (recursion depth log2 n); windows of at most leaf_rows rows go to the search's
// brute force. Search provides scan_column(j, lo, hi) and brute_force(c_lo, c_hi, r_lo, r_hi).
template <MinimaKind kKind, class Search>
void monotone_minima(const Search& search, const Window& w, std::size_t c_lo, std::size_t c_hi,
                     std::size_t r_lo, std::size_t r_hi) {
  while (c_lo <= c_hi) {
    const std::size_t rows_hi = std::min(r_hi, c_hi);
    r_lo = first_row(w, c_lo, r_lo, rows_hi);  // a bound for every column from c_lo on
    if (rows_hi - r_lo + 1 <= leaf_rows(kKind))
      return search.brute_force(c_lo, c_hi, r_lo, rows_hi);
    const std::size_t mid = c_lo + (c_hi - c_lo) / 2;
    const std::size_t mid_hi = std::min(r_hi, mid);
    search.scan_column(mid, first_row(w, mid, r_lo, mid_hi), mid_hi);
    if (mid > c_lo) monotone_minima<kKind>(search, w, c_lo, mid - 1, r_lo, w.argmin[mid - w.c_lo]);
    r_lo = w.argmin[mid - w.c_lo];
    c_lo = mid + 1;
  }
}

/// Search<kind>{w}.solve over the whole window, for a kind known at run time.
template <template <MinimaKind> class Search>
void solve_window(MinimaKind kind, const Window& w) {
  switch (kind) {
    case MinimaKind::kAccel:
      return Search<MinimaKind::kAccel>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
    case MinimaKind::kPlain:
      return Search<MinimaKind::kPlain>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
    case MinimaKind::kKmeans:
      return Search<MinimaKind::kKmeans>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
  }
}

/// The baseline searches (baseline_minima.cpp): Highway's scalar target, and SSE4's plain and
/// k-means costs.
void baseline_minima(MinimaKind kind, const Window& w);

}  // namespace dme::detail
