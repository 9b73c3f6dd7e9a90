// The vectorised monotone minima (accel_minima.h): one Highway source for every SIMD target
// (core/simd.h), chosen at run time, and a scalar definition of the same search (ScalarSearch),
// run for Highway's scalar target (and SSE4's plain and k-means costs) four lanes at a time on
// the compiler's generic vectors (LaneSearch: SSE2 on x86-64). Every target finds the same minima
// and argmins: the costs are evaluated with the same operations in the same order, each column's
// argmin is the smallest row attaining its minimum among the rows searched, which do not depend
// on the vector width.
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
    if (mid > c_lo)
      monotone_minima<kKind>(search, w, c_lo, mid - 1, r_lo, w.argmin[mid - w.c_lo]);
    r_lo = w.argmin[mid - w.c_lo];
    c_lo = mid + 1;
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

  void brute_force(std::size_t c_lo, std::size_t c_hi, std::size_t r_lo, std::size_t r_hi) const {
    for (std::size_t j = c_lo; j <= c_hi; ++j) scan_column(j, r_lo, std::min(r_hi, j));
  }

  void solve(std::size_t c_lo, std::size_t c_hi, std::size_t r_lo, std::size_t r_hi) const {
    monotone_minima<kKind>(*this, w, c_lo, c_hi, r_lo, r_hi);
  }
};

#if defined(__GNUC__)
// Highway's scalar target, four lanes at a time. The scalar target runs on x86 CPUs without
// SSE4, and every x86-64 CPU has SSE2: the generic two-lane vectors of GCC and Clang below
// compile to SSE2 there (to plain code where a machine has no vectors), at baseline flags. The
// search is ScalarSearch's, step for step: the same rows against the same columns, each value by
// scalar_value's operations (the middle level's ceil by adding and removing 2^52, exact for
// 0 <= slope < 2^52), ties to the smallest row; so the minima and argmins are ScalarSearch's,
// which every Highway target reproduces. Two vectors per step keep two independent minimum
// chains in flight; the minimum by MINPD (one instruction on the loop-carried chain), the row
// by MAXPD of the rows of the improving lanes. Exact / accelerated QUIVER's layers, n = 2^20,
// s = 16, Zen 4: ScalarSearch 12.6 / 20.3 ms, one two-lane vector with selects 12.3 / 16.7, this
// 7.6 / 13.4 (one four-lane generic vector: 4x slower, lowered through memory on SSE2).
typedef double Pair __attribute__((vector_size(16)));
typedef std::int64_t Bits __attribute__((vector_size(16)));  // a comparison's lanes
constexpr std::size_t kLanes = 4;  // two Pairs

HWY_INLINE Pair pair_of(double a) { return Pair{a, a}; }
HWY_INLINE Pair pair_load(const double* p) { return Pair{p[0], p[1]}; }
// m ? a : b lane by lane (m all ones or all zeros), by bit operations.
HWY_INLINE Pair if_then_else(Bits m, Pair a, Pair b) {
  return (Pair)((m & (Bits)a) | (~m & (Bits)b));
}
// m ? a : 0 lane by lane.
HWY_INLINE Pair if_then_zero(Bits m, Pair a) { return (Pair)(m & (Bits)a); }

template <MinimaKind kKind>
struct LaneSearch {
  const Window& w;

  // v < best ? v : best, by MINPD on x86 (exactly that operation): one instruction on the
  // chain from one step's minimum to the next, against a compare and three logic ops for the
  // select, which bounded the brute-force loops.
  HWY_INLINE static Pair select_min(Pair v, Pair best) {
#if defined(__SSE2__)
    return __builtin_ia32_minpd(v, best);
#else
    return if_then_else(v < best, v, best);
#endif
  }

  // v > other ? v : other, by MAXPD on x86.
  HWY_INLINE static Pair select_max(Pair v, Pair other) {
#if defined(__SSE2__)
    return __builtin_ia32_maxpd(v, other);
#else
    return if_then_else(v > other, v, other);
#endif
  }

  // f[k] + c(k, j) for the pairs (k, j) of the lanes (every lane a valid pair).
  HWY_INLINE Pair value(Pair fk, Pair xk, Pair uk, Pair kd, Pair xj, Pair uj, Pair jd) const {
    if constexpr (kKind == MinimaKind::kAccel) {
      const Pair dx = xj - xk, du = uj - uk;
      const Pair q = du / dx;
      const Pair slope = select_min(select_max(q, kd), jd);  // hn::Max(q, kd), hn::Min(., jd)
      const Pair magic = pair_of(0x1p52);
      const Pair r = (slope + magic) - magic;  // slope rounded to an integer
      const Pair up = r + if_then_zero(r < slope, pair_of(1.0));  // r + (r < slope ? 1 : 0)
      // dx > 0 ? up : kd, as max(kd, up or 0): up >= slope >= kd where dx > 0, and kd >= 0.
      const Pair b = select_max(kd, if_then_zero(dx > pair_of(0.0), up));
      // b is an integer in [0, 2^32): b + 2^52 holds it in its low 32 bits.
      const Bits bits = (Bits)(b + magic);
      const auto b0 = static_cast<std::uint32_t>(bits[0]);
      const auto b1 = static_cast<std::uint32_t>(bits[1]);
      const Pair xb = {w.xr[b0], w.xr[b1]}, ub = {w.ur[b0], w.ur[b1]};
      return fk + (ub * dx - xb * du);
    } else if constexpr (kKind == MinimaKind::kPlain) {
      (void)kd, (void)jd;
      return fk + (xj * uk - xk * uj);
    } else {
      (void)uk, (void)uj;
      const Pair sum = xj - xk, count = jd - kd;
      const Pair cost = -(sum * sum) / count;
      return fk + if_then_else(count == pair_of(0.0), pair_of(0.0), cost);
    }
  }

  HWY_INLINE static void keep(Pair v, Pair kd, Pair& best, Pair& best_k) {
    // better ? kd : best_k, as max(best_k, kd or 0): a lane's rows only grow.
    best_k = select_max(best_k, if_then_zero(v < best, kd));
    best = select_min(v, best);
  }

  // Column j over rows [lo, hi], four rows per step; each lane keeps its first minimum.
  void scan_column(std::size_t j, std::size_t lo, std::size_t hi) const {
    const Pair xj = pair_of(w.xc[j]), uj = pair_of(w.uc[j]);
    const Pair jd = pair_of(static_cast<double>(j));
    const double inf = std::numeric_limits<double>::infinity();
    Pair best[2] = {pair_of(inf), pair_of(inf)};
    Pair best_k[2] = {pair_of(static_cast<double>(lo)), pair_of(static_cast<double>(lo))};
    const double l = static_cast<double>(lo);
    Pair kd0 = {l, l + 1.0}, kd1 = {l + 2.0, l + 3.0};
    const Pair step = pair_of(static_cast<double>(kLanes));
    const double* f = w.f - w.r_lo;
    std::size_t k = lo;
    for (; k + kLanes <= hi + 1; k += kLanes, kd0 += step, kd1 += step) {
      keep(value(pair_load(f + k), pair_load(w.xr + k), pair_load(w.ur + k), kd0, xj, uj, jd), kd0,
           best[0], best_k[0]);
      keep(value(pair_load(f + k + 2), pair_load(w.xr + k + 2), pair_load(w.ur + k + 2), kd1, xj,
                 uj, jd),
           kd1, best[1], best_k[1]);
    }
    if (k <= hi) {
      // The last one to three rows, each lane's row clamped to hi: a lane that sees row hi a
      // second time keeps its first sighting (ties do not replace), and every lane's rows stay
      // in increasing order.
      std::size_t t[kLanes];
      for (std::size_t i = 0; i < kLanes; ++i) t[i] = std::min(k + i, hi);
      const Pair kt0 = {static_cast<double>(t[0]), static_cast<double>(t[1])};
      const Pair kt1 = {static_cast<double>(t[2]), static_cast<double>(t[3])};
      keep(value(Pair{f[t[0]], f[t[1]]}, Pair{w.xr[t[0]], w.xr[t[1]]},
                 Pair{w.ur[t[0]], w.ur[t[1]]}, kt0, xj, uj, jd),
           kt0, best[0], best_k[0]);
      keep(value(Pair{f[t[2]], f[t[3]]}, Pair{w.xr[t[2]], w.xr[t[3]]},
                 Pair{w.ur[t[2]], w.ur[t[3]]}, kt1, xj, uj, jd),
           kt1, best[1], best_k[1]);
    }
    // The smallest lane value, then the smallest row holding it (no NaN: a lane's minimum
    // starts at infinity and only takes values less than it).
    const Pair m2 = select_min(best[0], best[1]);
    const double value_min = m2[0] < m2[1] ? m2[0] : m2[1];
    const Pair vm = pair_of(value_min), none = pair_of(inf);
    const Pair r2 = select_min(if_then_else(best[0] == vm, best_k[0], none),
                               if_then_else(best[1] == vm, best_k[1], none));
    const double row = r2[0] < r2[1] ? r2[0] : r2[1];
    w.argmin[j - w.c_lo] = static_cast<std::uint32_t>(row);
    w.out[j - w.c_lo] = value_min;
  }

  // Columns [c_lo, c_hi] against rows [r_lo, r_hi] (row k for columns j >= k), four columns
  // per step; rows in increasing order, so ties keep the smallest.
  void brute_force(std::size_t c_lo, std::size_t c_hi, std::size_t r_lo, std::size_t r_hi) const {
    const double* f = w.f - w.r_lo;
    const double inf = std::numeric_limits<double>::infinity();
    std::size_t j0 = c_lo;
    for (; j0 + kLanes <= c_hi + 1; j0 += kLanes) {
      const Pair xj0 = pair_load(w.xc + j0), uj0 = pair_load(w.uc + j0);
      const Pair xj1 = pair_load(w.xc + j0 + 2), uj1 = pair_load(w.uc + j0 + 2);
      const double j = static_cast<double>(j0);
      const Pair jd0 = {j, j + 1.0}, jd1 = {j + 2.0, j + 3.0};
      Pair best0 = pair_of(inf), best1 = pair_of(inf);
      Pair best_k0 = pair_of(static_cast<double>(r_lo)), best_k1 = best_k0;
      Pair kd = best_k0;
      const std::size_t k_all = std::min(r_hi, j0);  // rows of every column of the step
      for (std::size_t k = r_lo; k <= k_all; ++k, kd += pair_of(1.0)) {
        const Pair fk = pair_of(f[k]), xk = pair_of(w.xr[k]), uk = pair_of(w.ur[k]);
        keep(value(fk, xk, uk, kd, xj0, uj0, jd0), kd, best0, best_k0);
        keep(value(fk, xk, uk, kd, xj1, uj1, jd1), kd, best1, best_k1);
      }
      // Rows j0 + 1 .. j0 + 3: only the columns at or after them count. The other lanes stay
      // inside the arrays (their middle level is k or j) and are masked out.
      const std::size_t k_end = std::min(r_hi, j0 + kLanes - 1);
      for (std::size_t k = k_all + 1; k <= k_end; ++k, kd += pair_of(1.0)) {
        const Pair fk = pair_of(f[k]), xk = pair_of(w.xr[k]), uk = pair_of(w.ur[k]);
        const Pair v0 = value(fk, xk, uk, kd, xj0, uj0, jd0);
        const Pair v1 = value(fk, xk, uk, kd, xj1, uj1, jd1);
        const Bits better0 = (v0 < best0) & (kd <= jd0), better1 = (v1 < best1) & (kd <= jd1);
        best0 = if_then_else(better0, v0, best0);
        best_k0 = if_then_else(better0, kd, best_k0);
        best1 = if_then_else(better1, v1, best1);
        best_k1 = if_then_else(better1, kd, best_k1);
      }
      const double bv[kLanes] = {best0[0], best0[1], best1[0], best1[1]};
      const double bk[kLanes] = {best_k0[0], best_k0[1], best_k1[0], best_k1[1]};
      for (std::size_t c = 0; c < kLanes; ++c) {
        w.argmin[j0 + c - w.c_lo] = static_cast<std::uint32_t>(bk[c]);
        w.out[j0 + c - w.c_lo] = bv[c];
      }
    }
    for (; j0 <= c_hi; ++j0) scan_column(j0, r_lo, std::min(r_hi, j0));
  }

  void solve(std::size_t c_lo, std::size_t c_hi, std::size_t r_lo, std::size_t r_hi) const {
    monotone_minima<kKind>(*this, w, c_lo, c_hi, r_lo, r_hi);
  }
};

template <MinimaKind kKind>
using BaselineSearch = LaneSearch<kKind>;
#else
template <MinimaKind kKind>
using BaselineSearch = ScalarSearch<kKind>;
#endif

void scalar_minima(MinimaKind kind, const Window& w) {
  switch (kind) {
    case MinimaKind::kAccel:
      return BaselineSearch<MinimaKind::kAccel>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
    case MinimaKind::kPlain:
      return BaselineSearch<MinimaKind::kPlain>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
    case MinimaKind::kKmeans:
      return BaselineSearch<MinimaKind::kKmeans>{w}.solve(w.c_lo, w.c_hi, w.r_lo, w.r_hi);
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
  scalar_minima(kind, w);
#else
  // SSE4, plain and k-means costs: the baseline's four rows a step beat a 2-double vector (2^20,
  // s = 16, Intel Xeon family 6 model 207: quiver 21.7 -> 17.5 ms, k-means 50.5 -> 45.7 ms).
  if (HWY_TARGET == HWY_SSE4 && kind != MinimaKind::kAccel) return scalar_minima(kind, w);
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
