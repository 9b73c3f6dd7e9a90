// Fast Walsh–Hadamard transform, cache-blocked, written once against Google Highway and compiled
// for every SIMD target (scalar, SSE4, AVX2, AVX-512, NEON, SVE), chosen at run time
// (dme/core/simd.h).
//
// View x (n = 2^L) as an R x C row-major matrix with C = min(n, kRowLength). H_n = H_R ⊗ H_C,
// so the transform is: every row by H_C (phase 1, rows in L1/L2), then every column by H_R
// (phase 2, panels of kPanelBytes-wide columns across all rows, in L2). Within a phase the levels
// are merged three at a time (radix-8 butterflies over native vectors, in registers); the levels
// shorter than a vector are done with in-register lane swaps, in the same pass as the first
// three levels across vectors (the pass that reads the input), so each phase reads and writes
// memory once.
//
// Every level is complete for the elements it combines before the next level reads them, however
// the levels are grouped into passes, so each output is the same sequence of adds and subtracts
// as in fwht_reference whatever the vector width: results are bit-identical on every target.
// (fwht_chain runs some transforms columns first, a fixed order that does not depend on the
// target either: see fwht.h.)
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/rotation/fwht.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#ifndef DME_FWHT_ONCE
#define DME_FWHT_ONCE
#include "dme/rotation/fwht.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/parallel.h"
#include "dme/rotation/detail/fwht_spans.h"

#include <unistd.h>  // sysconf: the L1d size

namespace dme::detail {
namespace {

// Row and panel sizes were tuned with dme-bench rotation (README); on a Zen 4 core 1 KiB panels
// were slower than 2 KiB at 2^24 (16.3 vs 12.3 ms), 4 KiB the same. kRowLength also fixes the
// order of fwht_chain's column-first transforms (its rounding; not the plain transform's).
// The L1 sub-row: the largest power of two at most 2/3 of the core's L1d (16 KiB where unknown;
// DME_FWHT_L1_BYTES fixes it). Zen 4 (32 KiB L1d): 16 KiB took 23 µs per 2^16 transform on AVX2,
// 32 KiB 40 µs. Emerald Rapids (48 KiB): 32 KiB took 25.8 µs on AVX-512, 16 KiB 33.2 (2^24: 21.8
// against 24.1 ms). It groups the levels into passes without reordering them: the same bits.
std::size_t l1_sub_row_bytes() {
#ifdef DME_FWHT_L1_BYTES
  return DME_FWHT_L1_BYTES;
#else
  static const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE);  // glibc; 0 or -1 where unknown
  static const std::size_t bytes =
      l1 > 0 ? std::clamp<std::size_t>(std::bit_floor(std::size_t(l1) * 2 / 3), 4096, 65536)
             : 16384;
  return bytes;
#endif
}
constexpr std::size_t kRowLength = std::size_t(1) << kFwhtRowLog;  // elements of a row (L2)
constexpr std::size_t kPanelBytes = kFwhtPanelBytes;  // bytes per row of a column panel
// The row sweeps stream their input (and out of place their output) through software prefetches
// this many bytes ahead: the hardware prefetcher alone left them waiting on memory (2 RHTs at
// 2^24 forward: 37 -> 33.5 ms, inverse 42 -> 37.5 ms, A/B in one minute). 16 KiB rather than 4:
// a Zen 5 core (AMD EPYC family 26 model 2) crosses 4 KiB of a first pass faster than memory
// answers; there, alternated three times, AVX2 inverse 18.5-19.0 -> 17.6-18.0 ms, forward
// 16.3-16.7 -> 16.2-16.3, the first sweep of one FWHT 5.6 -> 5.3-5.4 ms.
constexpr std::size_t kStreamAhead = 16384;

// Flips the sign of p[i] where bit (first + i) of the mask is set, for i < count.
template <class T>
void apply_signs_scalar(T* p, std::size_t count, const std::uint64_t* mask, std::size_t first) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr int kSignShift = sizeof(T) * 8 - 1;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t g = first + i;
    Bits b;
    std::memcpy(&b, p + i, sizeof(T));
    b ^= static_cast<Bits>((mask[g >> 6] >> (g & 63)) & 1u) << kSignShift;
    std::memcpy(p + i, &b, sizeof(T));
  }
}

// Smallest and largest output seen; the kernels keep running extremes in vector lanes and fold
// them in here once per call.
template <class T>
struct ExtremaAcc {
  T lo = std::numeric_limits<T>::infinity();
  T hi = -std::numeric_limits<T>::infinity();
  void add(T l, T h) {
    lo = std::min(lo, l);
    hi = std::max(hi, h);
  }
};

// A transform shorter than one vector: the textbook loops, with the same steps in the same order
// as the vector kernels (copy and zero padding, pre-signs, H, scale, post-signs).
template <class T>
bool fwht_short(T* x, std::size_t n, const std::uint64_t* pre_signs,
                const std::uint64_t* post_signs, T scale, const T* src, std::size_t src_len,
                ExtremaAcc<T>* acc) {
  if (src != x) std::copy_n(src, src_len, x);
  std::fill(x + src_len, x + n, T(0));
  bool bad = false;
  for (std::size_t i = 0; i < n; ++i) bad |= !std::isfinite(x[i]);
  if (pre_signs) apply_signs_scalar(x, n, pre_signs, 0);
  fwht_reference(x, n);
  if (scale != T(1))
    for (std::size_t i = 0; i < n; ++i) x[i] *= scale;
  if (post_signs) apply_signs_scalar(x, n, post_signs, 0);
  if (acc)
    for (std::size_t i = 0; i < n; ++i) acc->add(x[i], x[i]);
  return bad;
}

}  // namespace
}  // namespace dme::detail
#endif  // DME_FWHT_ONCE

// Lane bits, sign flips, butterflies and the butterfly passes (per target).
#include "dme/rotation/detail/fwht_kernels-inl.h"

HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace {

// Levels [first, last) of a transform over `units` units, unit u at p + u * unit_stride, each
// unit `width` contiguous elements (a multiple of the vector length).
// prefetch: when non-zero, the first merged pass also prefetches the elements `prefetch`
// further on (the next panel), so its memory latency overlaps this panel's work.
// epi: applied by the last pass as it stores (null: none).
template <class D, class T = hn::TFromD<D>>
void strided_levels(D d, T* p, std::size_t units, std::size_t unit_stride, std::size_t width,
                    int first, int last, std::ptrdiff_t prefetch = 0,
                    const Epilogue<T>* epi = nullptr) {
  for (int l = first; l < last;) {
    // As few passes as radix-8 allows, the levels spread evenly over them (4 levels as 2 + 2,
    // not 3 + 1: a radix-2 pass is bound by its stores, a radix-4 one barely).
    const int passes = (last - l + 2) / 3;
    const int step = (last - l + passes - 1) / passes;
    const std::size_t h = std::size_t(1) << l;
    const std::size_t group = h << step;
    const std::ptrdiff_t pf = l == first ? prefetch : 0;
    const Epilogue<T>* e = l + step == last ? epi : nullptr;
    const std::size_t stride = h * unit_stride;
    // Contiguous units (the levels inside a row): the h units at the start of a group are one
    // span of h·width elements, done by one call (a unit can be a single vector).
    const bool contiguous = unit_stride == width;
    const std::size_t span = contiguous ? h * width : width;
    const std::size_t inner = contiguous ? 1 : h;
    for (std::size_t base = 0; base < units; base += group)
      for (std::size_t j = 0; j < inner; ++j) {
        T* q = p + (base + j) * unit_stride;
        if (e) {
          if (step == 3)
            butterflies<3, true>(d, q, stride, span, pf, e);
          else if (step == 2)
            butterflies<2, true>(d, q, stride, span, pf, e);
          else
            butterflies<1, true>(d, q, stride, span, pf, e);
        } else {
          if (step == 3)
            butterflies<3, false>(d, q, stride, span, pf, e);
          else if (step == 2)
            butterflies<2, false>(d, q, stride, span, pf, e);
          else
            butterflies<1, false>(d, q, stride, span, pf, e);
        }
      }
    l += step;
  }
}

// One vector of input at `at` (global index g) as the first pass takes it: the pre-signs
// applied, the levels inside the vector done.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE hn::Vec<D> read_vector(D d, const T* at, const std::uint64_t* pre_signs, std::size_t g,
                                  hn::Vec<hn::RebindToUnsigned<D>> lane_bit) {
  hn::Vec<D> v = hn::LoadU(d, at);
  if (pre_signs) v = flip_signs(d, v, pre_signs, g, lane_bit);
  return all_levels_in_register(d, v);
}

// The pass that reads a sub-row of c elements (c a multiple of 2^kLog vectors) from src into
// row: each vector gets the pre-signs and has its in-register levels done; then kLog levels
// across each group of 2^kLog adjacent vectors. first is the global index of src[0] (for the
// signs). Returns true when the sub-row may hold a NaN or Inf.
//
// The check reads one output vector per group instead of every input: after these levels each
// lane of v0 is a signed sum of all the group's inputs, and such a sum is NaN or ±Inf when any
// term is (NaN stays NaN; Inf gives ±Inf, or NaN beside an Inf of the other sign). It can also
// be Inf when finite inputs near the float maximum overflow, so a true answer means "look": the
// callers scan their unchanged input and name the offender (rotation/rht.cpp); finite inputs
// pass that scan, as they passed the input test before. One test per 2^kLog vectors instead of
// three operations per vector (AMD EPYC Zen 5, AVX2: 2^13 1.75 -> 1.60 µs).
template <int kLog, class D, class T = hn::TFromD<D>>
HWY_NOINLINE bool first_pass(D d, T* row, const T* src, std::size_t c,
                             const std::uint64_t* pre_signs, std::size_t first) {
  using V = hn::Vec<D>;
  const hn::RebindToUnsigned<D> du;
  const std::size_t N = hn::Lanes(d);
  const std::size_t group = N << kLog;
  constexpr std::size_t kLine = 64 / sizeof(T);  // elements per cache line
  const auto exp = hn::Set(du, hwy::ExponentMask<T>());
  const auto lane_bit = lane_bits(du);
  auto bad = hn::FirstN(du, 0);  // all false
  for (std::size_t k = 0; k < c; k += group) {
    // One prefetch per line of input (and of output).
    for (std::size_t e = (k + kLine - 1) / kLine * kLine; e < k + group; e += kLine) {
      __builtin_prefetch(src + e + kStreamAhead / sizeof(T), 0, 3);
      if (src != row) __builtin_prefetch(row + e + kStreamAhead / sizeof(T), 1, 3);
    }
    V v0 = read_vector(d, src + k, pre_signs, first + k, lane_bit);
    V v1 = v0, v2 = v0, v3 = v0, v4 = v0, v5 = v0, v6 = v0, v7 = v0;
    if constexpr (kLog >= 1) v1 = read_vector(d, src + k + N, pre_signs, first + k + N, lane_bit);
    if constexpr (kLog >= 2) {
      v2 = read_vector(d, src + k + 2 * N, pre_signs, first + k + 2 * N, lane_bit);
      v3 = read_vector(d, src + k + 3 * N, pre_signs, first + k + 3 * N, lane_bit);
    }
    if constexpr (kLog >= 3) {
      v4 = read_vector(d, src + k + 4 * N, pre_signs, first + k + 4 * N, lane_bit);
      v5 = read_vector(d, src + k + 5 * N, pre_signs, first + k + 5 * N, lane_bit);
      v6 = read_vector(d, src + k + 6 * N, pre_signs, first + k + 6 * N, lane_bit);
      v7 = read_vector(d, src + k + 7 * N, pre_signs, first + k + 7 * N, lane_bit);
    }
    network<kLog>(v0, v1, v2, v3, v4, v5, v6, v7);
    bad = hn::Or(bad, hn::Eq(hn::And(hn::BitCast(du, v0), exp), exp));
    hn::StoreU(v0, d, row + k);
    if constexpr (kLog >= 1) hn::StoreU(v1, d, row + k + N);
    if constexpr (kLog >= 2) {
      hn::StoreU(v2, d, row + k + 2 * N);
      hn::StoreU(v3, d, row + k + 3 * N);
    }
    if constexpr (kLog >= 3) {
      hn::StoreU(v4, d, row + k + 4 * N);
      hn::StoreU(v5, d, row + k + 5 * N);
      hn::StoreU(v6, d, row + k + 6 * N);
      hn::StoreU(v7, d, row + k + 7 * N);
    }
  }
  return !hn::AllFalse(du, bad);
}

// Full transform of one contiguous block of c ≥ one vector of elements (c a power of two) that
// fits L1: the pass reading src (in-register levels and three levels across vectors), then the
// remaining levels over vectors, merged three at a time. Returns true when src held a NaN or Inf.
template <class D, class T = hn::TFromD<D>>
bool l1_transform(D d, T* row, const T* src, std::size_t c, const std::uint64_t* pre_signs,
                  std::size_t first) {
  const std::size_t N = hn::Lanes(d);
  const int vec_levels = std::countr_zero(c / N);
  const int fused = std::min(3, vec_levels);
  bool bad;
  switch (fused) {
    case 3:
      bad = first_pass<3>(d, row, src, c, pre_signs, first);
      break;
    case 2:
      bad = first_pass<2>(d, row, src, c, pre_signs, first);
      break;
    case 1:
      bad = first_pass<1>(d, row, src, c, pre_signs, first);
      break;
    default:
      bad = first_pass<0>(d, row, src, c, pre_signs, first);
      break;
  }
  strided_levels(d, row, c / N, N, N, fused, vec_levels);
  return bad;
}

// The L1 sub-row in elements: l1_sub_row_bytes(), or half of it where only the half leaves
// whole radix-8 passes after the first pass (which does the levels inside a vector and three
// more), so no pass does just one or two levels: 2^12 floats for AVX2's eight lanes (12 = 3 + 3
// + 3 + 3) rather than 2^13 (3 + 3 + 3 + 2 + 2), which also aligns the blocks above it (2^15,
// 2^18, 2^21, 2^24: three levels each). AMD EPYC Zen 5 (48 KiB L1d), AVX2: 2^18 0.069 -> 0.063
// ms, 2^21 0.65 -> 0.61 ms, 2^24 8.3–8.8 -> 8.1–8.2 ms. Where neither aligns, the larger stays.
// A regrouping of the same levels in the same order: the same bits.
template <class D>
std::size_t l1_sub_row(D d) {
  const std::size_t sub = l1_sub_row_bytes() / sizeof(hn::TFromD<D>);
#ifdef DME_FWHT_L1_BYTES
  (void)d;
  return sub;
#else
  const int lane_log = std::countr_zero(hn::Lanes(d));
  const auto aligned = [&](std::size_t c) { return (std::countr_zero(c) - lane_log) % 3 == 0; };
  return !aligned(sub) && sub / 2 >= 8 * hn::Lanes(d) && aligned(sub / 2) ? sub / 2 : sub;
#endif
}

// Full transform of one contiguous row of c ≥ one vector of elements (c ≤ kRowLength, fits L2):
// L1-sized sub-rows first, then the levels across sub-rows while the row is still in L2.
// The row's input is src[first .. first + c) with src[i] = 0 for i ≥ src_len (zero padding).
// prefetch_next: when set, the levels across sub-rows also fetch the next row (in place, the
// next c elements after row), so its memory latency overlaps this row's work in L2.
// epi: applied as the last pass stores; only for rows longer than one L1 sub-row (the rows of a
// multi-row transform), whose last pass is the one across sub-rows.
// Returns true when the input held a NaN or Inf.
template <class D, class T = hn::TFromD<D>>
bool row_transform(D d, T* row, const T* src, std::size_t src_len, std::size_t c,
                   const std::uint64_t* pre_signs, std::size_t first, bool prefetch_next = false,
                   const Epilogue<T>* epi = nullptr) {
  const std::size_t sub = std::min(c, l1_sub_row(d));
  DME_ASSERT(!epi || c > sub);
  bool bad = false;
  for (std::size_t s0 = 0; s0 < c; s0 += sub) {
    const std::size_t g = first + s0;
    if (g + sub <= src_len) {
      bad |= l1_transform(d, row + s0, src + g, sub, pre_signs, g);
    } else if (g >= src_len) {
      std::fill_n(row + s0, sub, T(0));  // the transform of zeros is zeros
    } else {
      if (row + s0 != src + g) std::copy(src + g, src + src_len, row + s0);
      std::fill(row + s0 + (src_len - g), row + s0 + sub, T(0));
      bad |= l1_transform(d, row + s0, row + s0, sub, pre_signs, g);
    }
  }
  if (c > sub)
    strided_levels(d, row, c / sub, sub, sub, 0, std::countr_zero(c / sub),
                   prefetch_next ? static_cast<std::ptrdiff_t>(c) : 0, epi);
  return bad;
}

// Full transform of a contiguous block of c elements (a power of two, at least one L1 sub-row),
// depth first: a block of up to eight L1 sub-rows by row_transform, a longer one as eight blocks
// of c / 8, each done whole while it is in cache, then three levels across them (one pass over
// eight contiguous streams). The levels run in increasing order, as in fwht_reference.
template <class D, class T = hn::TFromD<D>>
bool block_transform(D d, T* row, const T* src, std::size_t src_len, std::size_t c,
                     const std::uint64_t* pre_signs, std::size_t first) {
  const std::size_t sub = l1_sub_row(d);
  if (c <= 8 * sub) return row_transform(d, row, src, src_len, c, pre_signs, first);
  const std::size_t b = c / 8;
  bool bad = false;
  for (std::size_t k = 0; k < 8; ++k)
    bad |= block_transform(d, row + k * b, src, src_len, b, pre_signs, first + k * b);
  strided_levels(d, row, 8, b, b, 0, 3);
  return bad;
}

// The final step of a one-row transform: p <- post_signs ⊙ (scale · p), noting the results in
// acc if given. count is a multiple of the vector length, first of the lane count.
template <class D, class T = hn::TFromD<D>>
void scale_and_sign(D d, T* p, std::size_t count, T scale, const std::uint64_t* post_signs,
                    std::size_t first, ExtremaAcc<T>* acc) {
  using V = hn::Vec<D>;
  const hn::RebindToUnsigned<D> du;
  const std::size_t N = hn::Lanes(d);
  const V s = hn::Set(d, scale);
  const auto lane_bit = lane_bits(du);
  // Two pairs of running extremes, so the compare chains do not serialise the loop.
  V lo0 = hn::Set(d, std::numeric_limits<T>::infinity()), lo1 = lo0;
  V hi0 = hn::Set(d, -std::numeric_limits<T>::infinity()), hi1 = hi0;
  for (std::size_t k = 0; k < count; k += N) {
    V v = hn::Mul(hn::LoadU(d, p + k), s);
    if (post_signs) v = flip_signs(d, v, post_signs, first + k, lane_bit);
    if (acc) {
      if ((k / N) % 2) {
        lo1 = hn::Min(v, lo1);
        hi1 = hn::Max(v, hi1);
      } else {
        lo0 = hn::Min(v, lo0);
        hi0 = hn::Max(v, hi0);
      }
    }
    hn::StoreU(v, d, p + k);
  }
  if (acc)
    acc->add(hn::GetLane(hn::MinOfLanes(d, hn::Min(lo0, lo1))),
             hn::GetLane(hn::MaxOfLanes(d, hn::Max(hi0, hi1))));
}

template <class T>
bool fused_impl(T* x, std::size_t n, const std::uint64_t* pre_signs,
                const std::uint64_t* post_signs, T scale, const T* src, std::size_t src_len,
                Extrema<T>* extrema) {
  const hn::ScalableTag<T> d;
  DME_ASSERT(n > 0 && std::has_single_bit(n));
  ExtremaAcc<T> acc;
  ExtremaAcc<T>* track = extrema ? &acc : nullptr;
  if (!src) {
    src = x;
    src_len = n;
  }
  DME_ASSERT(src_len <= n);
  if (n < hn::Lanes(d)) {  // too short for one vector
    const bool bad = fwht_short(x, n, pre_signs, post_signs, scale, src, src_len, track);
    if (extrema) *extrema = {acc.lo, acc.hi};
    return bad;
  }
  const std::size_t c = std::min(n, kRowLength);
  const std::size_t r = n / c;
  // Multiplying by 1 changes nothing, so an unscaled, unsigned, untracked transform skips it.
  const bool finish = scale != T(1) || post_signs || track;
  const Epilogue<T> epi{x, scale, post_signs, track};
  if (r == 1) {
    // One row: its last pass (across L1 sub-rows) applies the scale and signs as it stores;
    // a row of one sub-row takes a pass of its own for them.
    const bool fused = finish && c > l1_sub_row(d);
    const bool bad =
        row_transform(d, x, src, src_len, c, pre_signs, 0, false, fused ? &epi : nullptr);
    if (finish && !fused) scale_and_sign(d, x, n, scale, post_signs, 0, track);
    if (extrema) *extrema = {acc.lo, acc.hi};
    return bad;
  }
  // Depth first (block_transform): the 8 blocks of n / 8, each as deep as its size needs, then
  // the top three levels across them in panels of w columns, with the epilogue. FWHT of 2^24
  // floats on a Zen 3 (AMD EPYC family 25 model 1), fastest of 15, alternated: 16.2-17.0 ms
  // with a row sweep and a column sweep, 12.8-13.4 depth first (FFHT 13.8-14.2); 2^20:
  // 0.62-0.63 -> 0.55-0.56 ms (FFHT 0.58-0.59).
  const std::size_t b = n / 8, w = std::min(b, kPanelBytes / sizeof(T));
  const bool bad = for_rows(8, [&](std::size_t k, bool) {
    return block_transform(d, x + k * b, src, src_len, b, pre_signs, k * b);
  });
  for_panels(b, w, epi, [&](std::size_t c0, bool next, const Epilogue<T>& e) {
    strided_levels(d, x + c0, 8, b, w, 0, 3, next ? static_cast<std::ptrdiff_t>(w) : 0,
                   finish ? &e : nullptr);
  });
  if (extrema) *extrema = {acc.lo, acc.hi};
  return bad;
}

template <class T>
bool chain_impl(T* x, std::size_t n, int k, const std::uint64_t* lead,
                const std::uint64_t* const* mid, const std::uint64_t* trail, T scale, const T* src,
                std::size_t src_len, Extrema<T>* extrema) {
  const hn::ScalableTag<T> d;
  DME_ASSERT(n > 0 && std::has_single_bit(n) && k >= 1);
  if (!src) {
    src = x;
    src_len = n;
  }
  const std::size_t c = std::min(n, kRowLength);
  const std::size_t r = n / c;
  if (k == 1 || r == 1 || n < hn::Lanes(d)) {
    // One transform, or every transform in one cache-resident row: one sweep each. The signs
    // between H_t and H_{t+1} are applied as H_t's last pass stores (a sign flip is exact, so
    // flipping after the scale or before the next transform gives the same bits).
    bool bad = fused_impl(x, n, lead, k == 1 ? trail : mid[0], scale, src, src_len,
                          k == 1 ? extrema : nullptr);
    for (int t = 1; t < k; ++t)
      fused_impl(x, n, static_cast<const std::uint64_t*>(nullptr), t == k - 1 ? trail : mid[t],
                 scale, static_cast<const T*>(nullptr), 0, t == k - 1 ? extrema : nullptr);
    return bad;
  }
  // H_t is done rows-then-columns for odd t and columns-then-rows for even t (H = R·C = C·R),
  // so the second half of H_t and the first half of H_{t+1} are of one kind and share a sweep.
  // First half of H_1: rows, with the leading signs; grouped (fwht_spans.h), with H_1's column
  // levels within each group too, the top ones left to the column sweep.
  const std::size_t w = std::min(c, kPanelBytes / sizeof(T));
  const std::size_t g = fwht_row_group(r, w * sizeof(T));
  const std::size_t rows = g ? g : 1;  // per task: a group (contiguous, depth first) or a row
  const bool bad = for_rows(r / rows, [&](std::size_t i, bool) {
    return g ? block_transform(d, x + i * g * c, src, src_len, g * c, lead, i * g * c)
             : row_transform(d, x + i * c, src, src_len, c, lead, i * c);
  });
  ExtremaAcc<T> acc;
  ExtremaAcc<T>* track = extrema ? &acc : nullptr;
  const int row_levels = std::countr_zero(r);
  for (int t = 1;; ++t) {
    const bool last = t == k;
    // The scale and the signs between H_t and H_{t+1} (or the trailing ones) are applied as
    // the last pass of H_t's second half stores.
    const Epilogue<T> epi{x, scale, last ? trail : mid[t - 1], last ? track : nullptr};
    if (t % 2 == 1) {  // columns: second half of H_t, then the first of H_{t+1}
      for_panels(c, w, epi, [&](std::size_t c0, bool next, const Epilogue<T>& e) {
        const std::ptrdiff_t pf = next ? static_cast<std::ptrdiff_t>(w) : 0;
        if (t == 1 && g) {  // the top levels, across the groups, for each row of a group
          for (std::size_t i = 0; i < g; ++i)
            strided_levels(d, x + i * c + c0, r / g, g * c, w, 0, std::countr_zero(r / g), pf, &e);
        } else {
          strided_levels(d, x + c0, r, c, w, 0, row_levels, pf, &e);
        }
        if (!last) strided_levels(d, x + c0, r, c, w, 0, row_levels);
      });
    } else {  // rows: second half of H_t, then the first of H_{t+1}
      for_spans_tracked(r, epi, [&](std::size_t i, bool next, const Epilogue<T>& e) {
        row_transform(d, x + i * c, x, n, c, nullptr, i * c, next, &e);
        if (!last) row_transform(d, x + i * c, x, n, c, nullptr, i * c);
      });
    }
    if (last) break;
  }
  if (extrema) *extrema = {acc.lo, acc.hi};
  return bad;
}

}  // namespace

bool FwhtFusedF32(float* x, std::size_t n, const std::uint64_t* pre_signs,
                  const std::uint64_t* post_signs, float scale, const float* src,
                  std::size_t src_len, Extrema<float>* extrema) {
  return fused_impl(x, n, pre_signs, post_signs, scale, src, src_len, extrema);
}
bool FwhtFusedF64(double* x, std::size_t n, const std::uint64_t* pre_signs,
                  const std::uint64_t* post_signs, double scale, const double* src,
                  std::size_t src_len, Extrema<double>* extrema) {
  return fused_impl(x, n, pre_signs, post_signs, scale, src, src_len, extrema);
}
bool FwhtChainF32(float* x, std::size_t n, int k, const std::uint64_t* lead,
                  const std::uint64_t* const* mid, const std::uint64_t* trail, float scale,
                  const float* src, std::size_t src_len, Extrema<float>* extrema) {
  return chain_impl(x, n, k, lead, mid, trail, scale, src, src_len, extrema);
}
bool FwhtChainF64(double* x, std::size_t n, int k, const std::uint64_t* lead,
                  const std::uint64_t* const* mid, const std::uint64_t* trail, double scale,
                  const double* src, std::size_t src_len, Extrema<double>* extrema) {
  return chain_impl(x, n, k, lead, mid, trail, scale, src, src_len, extrema);
}

}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dme/core/simd.h"

namespace dme {
namespace detail {

HWY_EXPORT(FwhtFusedF32);
HWY_EXPORT(FwhtFusedF64);
HWY_EXPORT(FwhtChainF32);
HWY_EXPORT(FwhtChainF64);

template <class T>
bool fwht_fused(T* x, std::size_t n, const std::uint64_t* pre_signs,
                const std::uint64_t* post_signs, T scale, const T* src, std::size_t src_len,
                Extrema<T>* extrema) {
  simd_init();
  if constexpr (std::is_same_v<T, float>)
    return HWY_DYNAMIC_DISPATCH(FwhtFusedF32)(x, n, pre_signs, post_signs, scale, src, src_len,
                                              extrema);
  else
    return HWY_DYNAMIC_DISPATCH(FwhtFusedF64)(x, n, pre_signs, post_signs, scale, src, src_len,
                                              extrema);
}

template <class T>
bool fwht_chain(T* x, std::size_t n, int k, const std::uint64_t* lead,
                const std::uint64_t* const* mid, const std::uint64_t* trail, T scale, const T* src,
                std::size_t src_len, Extrema<T>* extrema) {
  simd_init();
  if constexpr (std::is_same_v<T, float>)
    return HWY_DYNAMIC_DISPATCH(FwhtChainF32)(x, n, k, lead, mid, trail, scale, src, src_len,
                                              extrema);
  else
    return HWY_DYNAMIC_DISPATCH(FwhtChainF64)(x, n, k, lead, mid, trail, scale, src, src_len,
                                              extrema);
}

template bool fwht_fused<float>(float*, std::size_t, const std::uint64_t*, const std::uint64_t*,
                                float, const float*, std::size_t, Extrema<float>*);
template bool fwht_fused<double>(double*, std::size_t, const std::uint64_t*, const std::uint64_t*,
                                 double, const double*, std::size_t, Extrema<double>*);
template bool fwht_chain<float>(float*, std::size_t, int, const std::uint64_t*,
                                const std::uint64_t* const*, const std::uint64_t*, float,
                                const float*, std::size_t, Extrema<float>*);
template bool fwht_chain<double>(double*, std::size_t, int, const std::uint64_t*,
                                 const std::uint64_t* const*, const std::uint64_t*, double,
                                 const double*, std::size_t, Extrema<double>*);

}  // namespace detail

namespace {
template <class T>
void fwht_checked(std::span<T> x, Normalize norm) {
  const std::size_t n = x.size();
  DME_CHECK(n > 0, "fwht: empty input");
  DME_CHECK(std::has_single_bit(n), "fwht: length must be a power of two, got " << n);
  DME_CHECK(n <= kMaxFwhtLength,
            "fwht: length " << n << " exceeds the supported maximum " << kMaxFwhtLength);
  const T scale = norm == Normalize::kOrthonormal ? T(1.0 / std::sqrt(double(n))) : T(1);
  detail::fwht_fused(x.data(), n, nullptr, nullptr, scale);
}
}  // namespace

void fwht(std::span<float> x, Normalize norm) {
  fwht_checked(x, norm);
}
void fwht(std::span<double> x, Normalize norm) {
  fwht_checked(x, norm);
}

}  // namespace dme
#endif  // HWY_ONCE
