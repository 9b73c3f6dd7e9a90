// The baseline monotone-minima searches (minima_window.h): the scalar definition the vector
// kernels of accel_minima.cpp reproduce (ScalarSearch), run for Highway's scalar target (and
// SSE4's plain and k-means costs) four lanes at a time on the compiler's generic vectors
// (LaneSearch: SSE2 on x86-64). Compiled at the baseline flags, outside Highway's per-target
// passes.
#include <hwy/base.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "dme/quantization/detail/minima_window.h"

namespace dme::detail {
namespace {

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
constexpr std::size_t kLanes = 4;                            // two Pairs

HWY_INLINE Pair pair_of(double a) {
  return Pair{a, a};
}
HWY_INLINE Pair pair_load(const double* p) {
  return Pair{p[0], p[1]};
}
// m ? a : b lane by lane (m all ones or all zeros), by bit operations.
HWY_INLINE Pair if_then_else(Bits m, Pair a, Pair b) {
  return (Pair)((m & (Bits)a) | (~m & (Bits)b));
}
// m ? a : 0 lane by lane.
HWY_INLINE Pair if_then_zero(Bits m, Pair a) {
  return (Pair)(m & (Bits)a);
}

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
      const Pair r = (slope + magic) - magic;                     // slope rounded to an integer
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
      keep(value(Pair{f[t[0]], f[t[1]]}, Pair{w.xr[t[0]], w.xr[t[1]]}, Pair{w.ur[t[0]], w.ur[t[1]]},
                 kt0, xj, uj, jd),
           kt0, best[0], best_k[0]);
      keep(value(Pair{f[t[2]], f[t[3]]}, Pair{w.xr[t[2]], w.xr[t[3]]}, Pair{w.ur[t[2]], w.ur[t[3]]},
                 kt1, xj, uj, jd),
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

}  // namespace

void baseline_minima(MinimaKind kind, const Window& w) {
  solve_window<BaselineSearch>(kind, w);
}

}  // namespace dme::detail
