// The vectorised monotone minima (accel_minima.h): one Highway source for every SIMD target
// (core/simd.h), chosen at run time, and a scalar definition of the same search for Highway's
// scalar target. Every target finds the same minima and argmins: the costs are evaluated with the
// same operations in the same order, each column's argmin is the smallest row attaining its
// minimum among the rows searched, and which rows are searched does not depend on the vector width.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/quantization/detail/accel_minima.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#ifndef DME_ACCEL_MINIMA_ONCE
#define DME_ACCEL_MINIMA_ONCE
#include "dme/quantization/detail/accel_minima.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dme/core/error.h"
#include "dme/quantization/detail/asq_cost.h"

namespace dme::detail {
namespace {

enum class MinimaKind : int { kAccel, kPlain, kKmeans };

// Rows up to which a sub-problem is brute-forced, by measurement at n = 2^20 on AVX-512
// (accelerated: 8 rows +5%, 32 +7%; plain: 16 rows +7%).
constexpr std::size_t leaf_rows(MinimaKind kind) {
  return kind == MinimaKind::kPlain ? 32 : 16;
}

// The window: rows [r_lo, r_hi] with values f[k - r_lo] and coefficients xr, ur (the points the
// middle level is gathered from, for the accelerated cost); columns [c_lo, c_hi] with
// coefficients xc, uc; results argmin[j - c_lo], out[j - c_lo].
struct Window {
  const double* f;
  const double *xr, *ur, *xc, *uc;
  std::size_t r_lo, r_hi, c_lo, c_hi;
  std::uint32_t* argmin;
  double* out;
};

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

// The search (see accel_minima.h) one evaluation at a time: the definition the vector kernels
// reproduce, and Highway's scalar target.
template <MinimaKind kKind>
struct ScalarSearch {
  const Window& w;

  // Column j over rows [lo, hi]: the smallest row attaining the minimum.
  void scan_column(std::size_t j, std::size_t lo, std::size_t hi) const {
    double best = std::numeric_limits<double>::infinity();
    std::size_t best_k = lo;
    for (std::size_t k = lo; k <= hi; ++k) {
      const double v = scalar_value<kKind>(w, k, j);
      if (v < best) {
        best = v;
        best_k = k;
      }
    }
    w.argmin[j - w.c_lo] = static_cast<std::uint32_t>(best_k);
    w.out[j - w.c_lo] = best;
  }

  void solve(std::size_t c_lo, std::size_t c_hi, std::size_t r_lo, std::size_t r_hi) const {
    while (c_lo <= c_hi) {
      const std::size_t rows_hi = std::min(r_hi, c_hi);
      if (rows_hi - r_lo + 1 <= leaf_rows(kKind)) {
        for (std::size_t j = c_lo; j <= c_hi; ++j) scan_column(j, r_lo, std::min(rows_hi, j));
        return;
      }
      const std::size_t mid = c_lo + (c_hi - c_lo) / 2;
      scan_column(mid, r_lo, std::min(r_hi, mid));
      if (mid > c_lo) solve(c_lo, mid - 1, r_lo, w.argmin[mid - w.c_lo]);
      r_lo = w.argmin[mid - w.c_lo];
      c_lo = mid + 1;
    }
  }
};

void scalar_minima(MinimaKind kind, const Window& w) {
  switch (kind) {
    case MinimaKind::kAccel:
      return ScalarSearch<MinimaKind::kAccel>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
    case MinimaKind::kPlain:
      return ScalarSearch<MinimaKind::kPlain>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
    case MinimaKind::kKmeans:
      return ScalarSearch<MinimaKind::kKmeans>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
  }
}

}  // namespace
}  // namespace dme::detail
#endif  // DME_ACCEL_MINIMA_ONCE

HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
using D = hn::ScalableTag<double>;
using V = hn::Vec<D>;
using M = hn::Mask<D>;

// f[k] + c(k, j) for a vector of (k, j) pairs (scalar_value's operations); lanes outside `valid`
// unspecified (but every memory access stays inside the arrays).
template <MinimaKind kKind>
HWY_INLINE V vector_value(const Window& w, V fk, V xk, V uk, V kd, V xj, V uj, V jd, M valid) {
  const D d;
  if constexpr (kKind == MinimaKind::kAccel) {
    // b* = ceil((u_j - u_k) / (x_j - x_k)) clamped to [k, j], or k when x_j = x_k (accel_middle),
    // then its point gathered; invalid lanes read point 0.
    const V dx = hn::Sub(xj, xk), du = hn::Sub(uj, uk);
    const V slope = hn::Min(hn::Max(hn::Div(du, dx), kd), jd);
    V b = hn::IfThenElse(hn::Gt(dx, hn::Zero(d)), hn::Ceil(slope), kd);
    b = hn::IfThenElseZero(valid, b);
    // b is an integer in [0, 2^32): adding 2^52 puts it in the low mantissa bits exactly.
    const hn::RebindToSigned<D> di;
    const V magic = hn::Set(d, 0x1p52);
    const auto index = hn::Sub(hn::BitCast(di, hn::Add(b, magic)), hn::BitCast(di, magic));
    const V xb = hn::GatherIndex(d, w.xr, index), ub = hn::GatherIndex(d, w.ur, index);
    return hn::Add(fk, hn::Sub(hn::Mul(ub, dx), hn::Mul(xb, du)));
  } else if constexpr (kKind == MinimaKind::kPlain) {
    (void)kd, (void)jd, (void)valid;
    return hn::Add(fk, hn::Sub(hn::Mul(xj, uk), hn::Mul(xk, uj)));
  } else {
    // x holds the prefix sums: cost -(P_j - P_k)² / (j - k), 0 when k = j.
    (void)uk, (void)uj, (void)valid;
    const V sum = hn::Sub(xj, xk), count = hn::Sub(jd, kd);
    const V cost = hn::Div(hn::Neg(hn::Mul(sum, sum)), count);
    return hn::Add(fk, hn::IfThenZeroElse(hn::Eq(count, hn::Zero(d)), cost));
  }
}

// p[0, count) in the first lanes, zeros after (count < Lanes: the arrays may end there).
HWY_INLINE V load_first(const double* p, std::size_t count) {
  const D d;
  HWY_ALIGN double buf[HWY_MAX_BYTES / sizeof(double)] = {};
  std::copy_n(p, count, buf);
  return hn::Load(d, buf);
}

template <MinimaKind kKind>
struct VectorSearch {
  const Window& w;

  // Column j over rows [lo, hi] (hi <= j), a vector of rows per step.
  void scan_column(std::size_t j, std::size_t lo, std::size_t hi) const {
    const D d;
    const std::size_t N = hn::Lanes(d);
    const V lane = hn::Iota(d, 0.0);
    const V xj = hn::Set(d, w.xc[j]), uj = hn::Set(d, w.uc[j]);
    const V jd = hn::Set(d, static_cast<double>(j));
    V best = hn::Set(d, std::numeric_limits<double>::infinity());
    V best_k = hn::Set(d, static_cast<double>(lo));
    std::size_t k = lo;
    for (; k + N <= hi + 1; k += N) {
      const V kd = hn::Add(hn::Set(d, static_cast<double>(k)), lane);
      const M all = hn::FirstN(d, N);
      const V v = vector_value<kKind>(w, hn::LoadU(d, w.f + (k - w.r_lo)), hn::LoadU(d, w.xr + k),
                                      hn::LoadU(d, w.ur + k), kd, xj, uj, jd, all);
      const M better = hn::Lt(v, best);
      best = hn::IfThenElse(better, v, best);
      best_k = hn::IfThenElse(better, kd, best_k);
    }
    if (k <= hi) {
      const std::size_t count = hi + 1 - k;
      const V kd = hn::Add(hn::Set(d, static_cast<double>(k)), lane);
      const M valid = hn::FirstN(d, count);
      const V v =
          vector_value<kKind>(w, load_first(w.f + (k - w.r_lo), count), load_first(w.xr + k, count),
                              load_first(w.ur + k, count), kd, xj, uj, jd, valid);
      const M better = hn::And(valid, hn::Lt(v, best));
      best = hn::IfThenElse(better, v, best);
      best_k = hn::IfThenElse(better, kd, best_k);
    }
    // The smallest row among the lanes holding the minimum (each lane kept its first minimum).
    const V value = hn::MinOfLanes(d, best);
    const V rows = hn::IfThenElse(hn::Eq(best, value), best_k,
                                  hn::Set(d, std::numeric_limits<double>::infinity()));
    w.argmin[j - w.c_lo] = static_cast<std::uint32_t>(hn::GetLane(hn::MinOfLanes(d, rows)));
    w.out[j - w.c_lo] = hn::GetLane(value);
  }

  // Every column of [c_lo, c_hi] against every row of [r_lo, r_hi] (row k only for columns
  // j >= k), a vector of columns per step; rows in increasing order, so ties keep the smallest.
  void brute_force(std::size_t c_lo, std::size_t c_hi, std::size_t r_lo, std::size_t r_hi) const {
    const D d;
    const std::size_t N = hn::Lanes(d);
    const V lane = hn::Iota(d, 0.0);
    HWY_ALIGN double rows[HWY_MAX_BYTES / sizeof(double)];
    HWY_ALIGN double values[HWY_MAX_BYTES / sizeof(double)];
    for (std::size_t j0 = c_lo; j0 <= c_hi; j0 += N) {
      const std::size_t count = std::min(N, c_hi + 1 - j0);
      const M columns = hn::FirstN(d, count);
      const V xj = count == N ? hn::LoadU(d, w.xc + j0) : load_first(w.xc + j0, count);
      const V uj = count == N ? hn::LoadU(d, w.uc + j0) : load_first(w.uc + j0, count);
      const V jd = hn::Add(hn::Set(d, static_cast<double>(j0)), lane);
      V best = hn::Set(d, std::numeric_limits<double>::infinity());
      V best_k = hn::Set(d, static_cast<double>(r_lo));
      const std::size_t k_end = std::min(r_hi, j0 + N - 1);
      for (std::size_t k = r_lo; k <= k_end; ++k) {
        const V kd = hn::Set(d, static_cast<double>(k));
        const M valid = hn::And(columns, hn::Le(kd, jd));
        const V v = vector_value<kKind>(w, hn::Set(d, w.f[k - w.r_lo]), hn::Set(d, w.xr[k]),
                                        hn::Set(d, w.ur[k]), kd, xj, uj, jd, valid);
        const M better = hn::And(valid, hn::Lt(v, best));
        best = hn::IfThenElse(better, v, best);
        best_k = hn::IfThenElse(better, kd, best_k);
      }
      double* out = w.out + (j0 - w.c_lo);
      std::uint32_t* argmin = w.argmin + (j0 - w.c_lo);
      if (count == N) {
        hn::StoreU(best, d, out);
      } else {
        hn::Store(best, d, values);
        std::copy_n(values, count, out);
      }
      hn::Store(best_k, d, rows);
      for (std::size_t c = 0; c < count; ++c) argmin[c] = static_cast<std::uint32_t>(rows[c]);
    }
  }

  // Columns [c_lo, c_hi] whose minima lie in rows [r_lo, r_hi].
  void solve(std::size_t c_lo, std::size_t c_hi, std::size_t r_lo, std::size_t r_hi) const {
    while (c_lo <= c_hi) {
      const std::size_t rows_hi = std::min(r_hi, c_hi);
      if (rows_hi - r_lo + 1 <= leaf_rows(kKind)) return brute_force(c_lo, c_hi, r_lo, rows_hi);
      const std::size_t mid = c_lo + (c_hi - c_lo) / 2;
      scan_column(mid, r_lo, std::min(r_hi, mid));
      if (mid > c_lo) solve(c_lo, mid - 1, r_lo, w.argmin[mid - w.c_lo]);
      // The right half as a loop: recursion depth stays log2(n).
      r_lo = w.argmin[mid - w.c_lo];
      c_lo = mid + 1;
    }
  }
};
#endif  // HWY_TARGET != HWY_SCALAR

void WindowMinima(MinimaKind kind, const Window& w) {
#if HWY_TARGET == HWY_SCALAR
  scalar_minima(kind, w);
#else
  switch (kind) {
    case MinimaKind::kAccel:
      return VectorSearch<MinimaKind::kAccel>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
    case MinimaKind::kPlain:
      return VectorSearch<MinimaKind::kPlain>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
    case MinimaKind::kKmeans:
      return VectorSearch<MinimaKind::kKmeans>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
  }
#endif
}

}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dme/core/simd.h"

namespace dme::detail {

HWY_EXPORT(WindowMinima);

namespace {

void run(MinimaKind kind, const Window& w) {
  DME_ASSERT(w.r_lo <= w.r_hi && w.r_lo <= w.c_lo && w.c_lo <= w.c_hi && w.r_hi <= w.c_hi);
  simd_init();
  HWY_DYNAMIC_DISPATCH(WindowMinima)(kind, w);
}

}  // namespace

void accel_column_minima(const double* f, const double* x, const double* u, std::size_t n,
                         std::uint32_t* argmin, double* out) {
  if (n == 0) return;
  run(MinimaKind::kAccel, {f, x, u, x, u, 0, n - 1, 0, n - 1, argmin, out});
}

void accel_window_minima(const double* f, const double* x, const double* u, std::size_t r_lo,
                         std::size_t r_hi, std::size_t c_lo, std::size_t c_hi,
                         std::uint32_t* argmin, double* out) {
  run(MinimaKind::kAccel, {f, x, u, x, u, r_lo, r_hi, c_lo, c_hi, argmin, out});
}

void asq_column_minima(const double* f, const double* x, const double* u, std::size_t n,
                       std::uint32_t* argmin, double* out) {
  if (n == 0) return;
  run(MinimaKind::kPlain, {f, x, u, x, u, 0, n - 1, 0, n - 1, argmin, out});
}

void asq_window_minima(const double* f, const double* x, const double* u, std::size_t r_lo,
                       std::size_t r_hi, std::size_t c_lo, std::size_t c_hi, std::uint32_t* argmin,
                       double* out) {
  run(MinimaKind::kPlain, {f, x, u, x, u, r_lo, r_hi, c_lo, c_hi, argmin, out});
}

void bilinear_window_minima(const double* f, const double* xr, const double* ur, const double* xc,
                            const double* uc, std::size_t r_lo, std::size_t r_hi, std::size_t c_lo,
                            std::size_t c_hi, std::uint32_t* argmin, double* out) {
  run(MinimaKind::kPlain, {f, xr, ur, xc, uc, r_lo, r_hi, c_lo, c_hi, argmin, out});
}

void kmeans_column_minima(const double* f, const double* prefix, std::size_t n,
                          std::uint32_t* argmin, double* out) {
  if (n == 0) return;
  run(MinimaKind::kKmeans, {f, prefix, prefix, prefix, prefix, 0, n - 1, 0, n - 1, argmin, out});
}

void kmeans_window_minima(const double* f, const double* prefix, std::size_t r_lo, std::size_t r_hi,
                          std::size_t c_lo, std::size_t c_hi, std::uint32_t* argmin, double* out) {
  run(MinimaKind::kKmeans,
      {f, prefix, prefix, prefix, prefix, r_lo, r_hi, c_lo, c_hi, argmin, out});
}

}  // namespace dme::detail
#endif  // HWY_ONCE
