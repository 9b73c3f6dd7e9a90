// The vectorised monotone minima (accel_minima.h): one Highway source for every SIMD target
// (core/simd.h), chosen at run time, beside the baseline searches of baseline_minima.cpp (the
// scalar definition, run for Highway's scalar target and SSE4's plain and k-means costs). Every
// target finds the same minima and argmins: the costs are evaluated with the same operations in
// the same order, each column's argmin is the smallest row attaining its minimum among the rows
// searched, which do not depend on the vector width.
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
#include "dme/quantization/detail/minima_window.h"
#endif  // DME_ACCEL_MINIMA_ONCE

HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR
using D = hn::ScalableTag<double>;
using V = hn::Vec<D>;
using M = hn::Mask<D>;

// xb = w.xr[index], ub = w.ur[index] lane by lane. On AVX2 and SSE4 as scalar loads put
// together: VGATHERQPD was the accelerated search's hottest instruction on a Zen 3 (AMD EPYC
// family 25 model 1), and SSE4 has no gather (Highway's stores the indices and reloads the
// values through memory). Accelerated QUIVER at 2^20, s = 16, on that Zen 3 (alternated with
// the gathers, std::sort ~100 ms): AVX2 26.0-27.8 -> 19.2-20.6 ms; SSE4 within its noise (20-30
// ms either way). Intel cores divide slower (VDIVPD ymm), which bounds that loop there anyway.
template <class VI>
HWY_INLINE void gather_point(const Window& w, VI index, V& xb, V& ub) {
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4
  HWY_ALIGN std::int64_t at[HWY_MAX_BYTES / sizeof(std::int64_t)];
  hn::Store(index, hn::RebindToSigned<D>(), at);
#if HWY_TARGET == HWY_AVX2
  xb = V{_mm256_setr_pd(w.xr[at[0]], w.xr[at[1]], w.xr[at[2]], w.xr[at[3]])};
  ub = V{_mm256_setr_pd(w.ur[at[0]], w.ur[at[1]], w.ur[at[2]], w.ur[at[3]])};
#else
  xb = V{_mm_setr_pd(w.xr[at[0]], w.xr[at[1]])};
  ub = V{_mm_setr_pd(w.ur[at[0]], w.ur[at[1]])};
#endif
#else
  xb = hn::GatherIndex(D(), w.xr, index);
  ub = hn::GatherIndex(D(), w.ur, index);
#endif
}

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
    V xb, ub;
    gather_point(w, index, xb, ub);
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

// v < best ? v : best lane by lane. On x86 that is MINPD/VMINPD (it returns its second operand
// on ties and NaNs): one instruction on the loop-carried chain, where a compare and VBLENDVPD
// (3 uops on Intel cores) were. Only where every lane counts; masked steps select. Exact /
// accelerated QUIVER, 2^20, s = 16, AVX2 on an Intel Xeon family 6 model 207: 12.3-13.7 ->
// 9.6-11.1 ms / 12.8-13.2 -> 11.7-11.9 ms; SSE4 and AVX-512 within noise.
HWY_INLINE V smaller(V v, V best) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_SSSE3  // x86's vector targets, not the emulated 128-bit one
  return hn::Min(v, best);
#else
  return hn::IfThenElse(hn::Lt(v, best), v, best);
#endif
}

// In the loops below a lane's row index only grows, so the row of its latest improvement is
//   best_k = Max(best_k, IfThenElseZero(better, kd))
// (the same as IfThenElse(better, kd, best_k), rows being >= 0): an AND and a MAX instead of a
// second blend, off the xmm0 that SSE4's BLENDVPD needs for its mask (exact QUIVER's layers at
// 2^20, s = 16 on a Zen 4: SSE4 ~11 -> ~9 ms, AVX2 ~7 -> ~6 ms, AVX-512 unchanged).
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
    const V step = hn::Set(d, static_cast<double>(N));
    const M all = hn::FirstN(d, N);
    V kd = hn::Add(best_k, lane);  // the rows of the step, as doubles (exact)
    std::size_t k = lo;
    for (; k + N <= hi + 1; k += N, kd = hn::Add(kd, step)) {
      const V v = vector_value<kKind>(w, hn::LoadU(d, w.f + (k - w.r_lo)), hn::LoadU(d, w.xr + k),
                                      hn::LoadU(d, w.ur + k), kd, xj, uj, jd, all);
      best_k = hn::Max(best_k, hn::IfThenElseZero(hn::Lt(v, best), kd));
      best = smaller(v, best);
    }
    if (k <= hi) {
      const std::size_t count = hi + 1 - k;
      const M valid = hn::FirstN(d, count);
      const V v =
          vector_value<kKind>(w, load_first(w.f + (k - w.r_lo), count), load_first(w.xr + k, count),
                              load_first(w.ur + k, count), kd, xj, uj, jd, valid);
      const M better = hn::And(valid, hn::Lt(v, best));
      best = hn::IfThenElse(better, v, best);
      best_k = hn::Max(best_k, hn::IfThenElseZero(better, kd));
    }
    // The smallest row among the lanes holding the minimum (each lane kept its first minimum).
    const V value = hn::MinOfLanes(d, best);
    const V rows = hn::IfThenElse(hn::Eq(best, value), best_k,
                                  hn::Set(d, std::numeric_limits<double>::infinity()));
    w.argmin[j - w.c_lo] = static_cast<std::uint32_t>(hn::GetLane(hn::MinOfLanes(d, rows)));
    w.out[j - w.c_lo] = hn::GetLane(value);
  }

  // Every column of [c_lo, c_hi] against every row of [r_lo, r_hi] (row k only for columns
  // j >= k), two vectors of columns per step (the tail: one), rows in increasing order so ties
  // keep the smallest. Two vectors keep two compare-and-blend chains in flight (§3.5 of
  // docs/algorithms.md). Rows up to the step's first column hold for every lane: no per-row
  // mask. The row index is carried as a double (exact below 2^32), not converted each step.
  void brute_force(std::size_t c_lo, std::size_t c_hi, std::size_t r_lo, std::size_t r_hi) const {
    const std::size_t N = hn::Lanes(D());
    std::size_t j0 = c_lo;
    for (; j0 + 2 * N <= c_hi + 1; j0 += 2 * N) brute_force_step<true>(j0, 2 * N, r_lo, r_hi);
    for (; j0 <= c_hi; j0 += N) brute_force_step<false>(j0, std::min(N, c_hi + 1 - j0), r_lo, r_hi);
  }

  // Columns [j0, j0 + count) against rows [r_lo, r_hi]: two whole vectors (kTwo, count = 2N) or
  // one vector's first count lanes.
  template <bool kTwo>
  HWY_INLINE void brute_force_step(std::size_t j0, std::size_t count, std::size_t r_lo,
                                   std::size_t r_hi) const {
    const D d;
    const std::size_t N = hn::Lanes(d);
    const V one = hn::Set(d, 1.0);
    const double* HWY_RESTRICT f = w.f - w.r_lo;
    const double* HWY_RESTRICT xr = w.xr;
    const double* HWY_RESTRICT ur = w.ur;
    const bool whole = kTwo || count == N;
    const M columns = hn::FirstN(d, kTwo ? N : count);
    const V xj0 = whole ? hn::LoadU(d, w.xc + j0) : load_first(w.xc + j0, count);
    const V uj0 = whole ? hn::LoadU(d, w.uc + j0) : load_first(w.uc + j0, count);
    const V xj1 = kTwo ? hn::LoadU(d, w.xc + j0 + N) : xj0;
    const V uj1 = kTwo ? hn::LoadU(d, w.uc + j0 + N) : uj0;
    const V jd0 = hn::Add(hn::Set(d, static_cast<double>(j0)), hn::Iota(d, 0.0));
    const V jd1 = hn::Add(jd0, hn::Set(d, static_cast<double>(N)));
    V best0 = hn::Set(d, std::numeric_limits<double>::infinity()), best1 = best0;
    V best_k0 = hn::Set(d, static_cast<double>(r_lo)), best_k1 = best_k0;
    V kd = best_k0;
    const std::size_t k_end = std::min(r_hi, j0 + count - 1);
    const std::size_t k_all = std::min(r_hi, j0);  // rows valid in every column of the step
    // A lane whose value improves takes it and the row (rows only grow: a max keeps the latest).
    const auto keep = [&](V v, M better, V& best, V& best_k) {
      best = hn::IfThenElse(better, v, best);
      best_k = hn::Max(best_k, hn::IfThenElseZero(better, kd));
    };
    // The same where every lane counts.
    const auto keep_all = [&](V v, V& best, V& best_k) {
      best_k = hn::Max(best_k, hn::IfThenElseZero(hn::Lt(v, best), kd));
      best = smaller(v, best);
    };
    std::size_t k = r_lo;
    for (; k <= k_all; ++k, kd = hn::Add(kd, one)) {
      const V fk = hn::Set(d, f[k]), xk = hn::Set(d, xr[k]), uk = hn::Set(d, ur[k]);
      const V v0 = vector_value<kKind>(w, fk, xk, uk, kd, xj0, uj0, jd0, columns);
      keep_all(v0, best0, best_k0);
      if constexpr (kTwo) {
        const V v1 = vector_value<kKind>(w, fk, xk, uk, kd, xj1, uj1, jd1, columns);
        keep_all(v1, best1, best_k1);
      }
    }
    for (; k <= k_end; ++k, kd = hn::Add(kd, one)) {
      const V fk = hn::Set(d, f[k]), xk = hn::Set(d, xr[k]), uk = hn::Set(d, ur[k]);
      const M valid0 = hn::And(columns, hn::Le(kd, jd0));
      const V v0 = vector_value<kKind>(w, fk, xk, uk, kd, xj0, uj0, jd0, valid0);
      keep(v0, hn::And(valid0, hn::Lt(v0, best0)), best0, best_k0);
      if constexpr (kTwo) {
        const M valid1 = hn::Le(kd, jd1);
        const V v1 = vector_value<kKind>(w, fk, xk, uk, kd, xj1, uj1, jd1, valid1);
        keep(v1, hn::And(valid1, hn::Lt(v1, best1)), best1, best_k1);
      }
    }
    store_minima(j0, kTwo ? N : count, best0, best_k0);
    if constexpr (kTwo) store_minima(j0 + N, N, best1, best_k1);
  }

  // The minima and argmins of columns [j0, j0 + count) (count <= N) from a step's lanes, the
  // rows as 32-bit integers (b + 2^52 holds b in its low mantissa bits) straight from a register:
  // a stack copy of best_k made GCC keep it in memory through the loops (SSE4 layers of exact
  // QUIVER at 2^20 on a Zen 4: 15.7 ms, now ~9).
  HWY_INLINE void store_minima(std::size_t j0, std::size_t count, V best, V best_k) const {
    const D d;
    const std::size_t N = hn::Lanes(d);
    double* out = w.out + (j0 - w.c_lo);
    std::uint32_t* argmin = w.argmin + (j0 - w.c_lo);
    const hn::RebindToUnsigned<D> du;
    const hn::Rebind<std::uint32_t, D> d32;
    const V magic = hn::Set(d, 0x1p52);
    const auto rows = hn::TruncateTo(
        d32, hn::Sub(hn::BitCast(du, hn::Add(best_k, magic)), hn::BitCast(du, magic)));
    if (count == N) {
      hn::StoreU(best, d, out);
      hn::StoreU(rows, d32, argmin);
    } else {
      HWY_ALIGN double values[HWY_MAX_BYTES / sizeof(double)];
      HWY_ALIGN std::uint32_t buf[HWY_MAX_BYTES / sizeof(double)];
      hn::Store(best, d, values);
      std::copy_n(values, count, out);
      hn::Store(rows, d32, buf);
      std::copy_n(buf, count, argmin);
    }
  }

  // Columns [c_lo, c_hi] whose minima lie in rows [r_lo, r_hi].
  void solve(std::size_t c_lo, std::size_t c_hi, std::size_t r_lo, std::size_t r_hi) const {
    monotone_minima<kKind>(*this, w, c_lo, c_hi, r_lo, r_hi);
  }
};
#endif  // HWY_TARGET != HWY_SCALAR

void WindowMinima(MinimaKind kind, const Window& w) {
#if HWY_TARGET == HWY_SCALAR
  baseline_minima(kind, w);
#else
  // SSE4, plain and k-means costs: the baseline's four rows a step beat a 2-double vector (2^20,
  // s = 16, Intel Xeon family 6 model 207: quiver 21.7 -> 17.5 ms, k-means 50.5 -> 45.7 ms).
  if (HWY_TARGET == HWY_SSE4 && kind != MinimaKind::kAccel) return baseline_minima(kind, w);
  solve_window<VectorSearch>(kind, w);
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
                       std::uint32_t* argmin, double* out, const std::uint32_t* lower) {
  if (n == 0) return;
  run(MinimaKind::kPlain, {f, x, u, x, u, 0, n - 1, 0, n - 1, argmin, out, lower});
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
