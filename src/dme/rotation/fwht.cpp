// Fast Walsh–Hadamard transform, cache-blocked and vectorised with compiler vector extensions
// (64-byte vectors: AVX-512 where the build targets it, split into AVX2/SSE ops otherwise).
//
// View x (n = 2^L) as an R x C row-major matrix with C = min(n, kRowLength). H_n = H_R ⊗ H_C,
// so the transform is: every row by H_C (phase 1, rows in L1), then every column by H_R
// (phase 2, panels of kPanelWidth columns across all rows, in L2). Within a phase the levels are
// merged three at a time (radix-8 butterflies in registers), and the levels shorter than a vector
// are done with in-register shuffles, so each phase reads and writes memory once.
#include "dme/rotation/fwht.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "dme/core/error.h"

namespace dme {
namespace {

#ifndef DME_FWHT_ROW_LOG
#define DME_FWHT_ROW_LOG 16
#endif
#ifndef DME_FWHT_PANEL_BYTES
#define DME_FWHT_PANEL_BYTES 2048
#endif
#ifndef DME_FWHT_L1_BYTES
#define DME_FWHT_L1_BYTES 32768
#endif
// Tuned on a Sapphire Rapids core (48 KiB L1d, 2 MiB L2) with dme-bench rotation; see README.
constexpr std::size_t kL1Length = DME_FWHT_L1_BYTES;  // bytes of a sub-row done in L1
constexpr std::size_t kRowLength = std::size_t(1) << DME_FWHT_ROW_LOG;  // elements of a row (L2)
constexpr std::size_t kPanelBytes = DME_FWHT_PANEL_BYTES;  // bytes per row of a column panel
// The row sweeps stream their input (and out of place their output) through software prefetches
// this many bytes ahead: the hardware prefetcher alone left them waiting on memory (2 RHTs at
// 2^24 forward: 37 -> 33.5 ms, inverse 42 -> 37.5 ms, A/B in one minute).
constexpr std::size_t kStreamAhead = 4096;

template <class T>
struct Simd;
template <>
struct Simd<float> {
  typedef float V __attribute__((vector_size(64)));
  typedef std::uint32_t I __attribute__((vector_size(64)));
  static constexpr std::size_t kLanes = 16;
};
template <>
struct Simd<double> {
  typedef double V __attribute__((vector_size(64)));
  typedef std::uint64_t I __attribute__((vector_size(64)));
  static constexpr std::size_t kLanes = 8;
};

template <class V, class T>
inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <class V, class T>
inline void store(T* p, V v) {
  std::memcpy(p, &v, sizeof(V));
}

// Lane i exchanged with lane i ^ H.
template <int H>
inline Simd<float>::V swap_lanes(Simd<float>::V v) {
#if defined(__clang__)
  if constexpr (H == 1)
    return __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
  if constexpr (H == 2)
    return __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
  if constexpr (H == 4)
    return __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
  if constexpr (H == 8)
    return __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
#else
  constexpr Simd<float>::I idx = {0 ^ H, 1 ^ H, 2 ^ H,  3 ^ H,  4 ^ H,  5 ^ H,  6 ^ H,  7 ^ H,
                                  8 ^ H, 9 ^ H, 10 ^ H, 11 ^ H, 12 ^ H, 13 ^ H, 14 ^ H, 15 ^ H};
  return __builtin_shuffle(v, idx);
#endif
}
template <int H>
inline Simd<double>::V swap_lanes(Simd<double>::V v) {
#if defined(__clang__)
  if constexpr (H == 1) return __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6);
  if constexpr (H == 2) return __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5);
  if constexpr (H == 4) return __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3);
#else
  constexpr Simd<double>::I idx = {0 ^ H, 1 ^ H, 2 ^ H, 3 ^ H, 4 ^ H, 5 ^ H, 6 ^ H, 7 ^ H};
  return __builtin_shuffle(v, idx);
#endif
}

// One in-register level: lane i gets v[i] + v[i^H] when bit H of i is clear, v[i^H] - v[i]
// when it is set: flip the sign bit of those lanes, then one add (rounds exactly like the
// add or subtract, and needs no FMA contraction to be fast).
template <int H, class V>
inline V level_in_register(V v) {
  using T = std::remove_reference_t<decltype(v[0])>;
  using I = typename Simd<T>::I;
  using E = std::remove_reference_t<decltype(I{}[0])>;
  constexpr std::size_t lanes = sizeof(V) / sizeof(T);
  constexpr E kSign = E(1) << (sizeof(T) * 8 - 1);
  I flip;
  for (std::size_t i = 0; i < lanes; ++i) flip[i] = (i & H) ? kSign : E(0);
  I raw;
  std::memcpy(&raw, &v, sizeof(v));
  raw ^= flip;
  V negated;
  std::memcpy(&negated, &raw, sizeof(v));
  return negated + swap_lanes<H>(v);
}

template <class T>
inline typename Simd<T>::V all_levels_in_register(typename Simd<T>::V v) {
  v = level_in_register<1>(v);
  v = level_in_register<2>(v);
  v = level_in_register<4>(v);
  if constexpr (Simd<T>::kLanes == 16) v = level_in_register<8>(v);
  return v;
}

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

// The same on one vector whose first element has global index g (g a multiple of kLanes):
// the kLanes mask bits become sign-bit flips with one variable shift per lane.
template <class T>
inline typename Simd<T>::V signs_vector(typename Simd<T>::V v, const std::uint64_t* mask,
                                        std::size_t g) {
  using I = typename Simd<T>::I;
  using E = std::remove_reference_t<decltype(I{}[0])>;
  constexpr std::size_t kLanes = Simd<T>::kLanes;
  I lane;
  for (std::size_t i = 0; i < kLanes; ++i) lane[i] = static_cast<E>(i);
  const E bits = static_cast<E>(mask[g >> 6] >> (g & 63));
  I b = (I{} + bits) >> lane;
  b = (b & 1) << (sizeof(T) * 8 - 1);
  I raw;
  std::memcpy(&raw, &v, sizeof(v));
  raw ^= b;
  std::memcpy(&v, &raw, sizeof(v));
  return v;
}

template <class T>
void apply_signs(T* p, std::size_t count, const std::uint64_t* mask, std::size_t first) {
  using V = typename Simd<T>::V;
  constexpr std::size_t kLanes = Simd<T>::kLanes;
  if (count % kLanes || first % kLanes) return apply_signs_scalar(p, count, mask, first);
  for (std::size_t k = 0; k < count; k += kLanes)
    store(p + k, signs_vector<T>(load<V>(p + k), mask, first + k));
}

// Running minimum and maximum of the values a final sweep writes, in vector lanes, four
// accumulators deep so the compare-and-select chains do not serialise the sweep.
template <class T>
struct ExtremaAcc {
  using V = typename Simd<T>::V;
  static constexpr std::size_t kDepth = 4;
  V lo[kDepth], hi[kDepth];
  ExtremaAcc() {
    for (std::size_t j = 0; j < kDepth; ++j) {
      lo[j] = V{} + std::numeric_limits<T>::infinity();
      hi[j] = V{} - std::numeric_limits<T>::infinity();
    }
  }
  void add(V v, std::size_t j) {
    j %= kDepth;
    lo[j] = v < lo[j] ? v : lo[j];
    hi[j] = v > hi[j] ? v : hi[j];
  }
  void add(V l, V h) {
    lo[0] = l < lo[0] ? l : lo[0];
    hi[0] = h > hi[0] ? h : hi[0];
  }
  void add(T v) {
    lo[0][0] = std::min(lo[0][0], v);
    hi[0][0] = std::max(hi[0][0], v);
  }
  detail::Extrema<T> result() const {
    detail::Extrema<T> e{lo[0][0], hi[0][0]};
    for (std::size_t j = 0; j < kDepth; ++j)
      for (std::size_t i = 0; i < Simd<T>::kLanes; ++i) {
        e.min = std::min(e.min, lo[j][i]);
        e.max = std::max(e.max, hi[j][i]);
      }
    return e;
  }
};

// What the last butterfly pass of a sweep does to each vector before storing it, so the sweep
// needs no separate pass for it: v <- signs ⊙ (scale · v) (the same operations, in the same
// order, as scale_and_sign below), noted in acc when given. origin is element 0 of the
// transform, so a vector's offset from it is the global index of its signs.
template <class T>
struct Epilogue {
  const T* origin;
  T scale;
  const std::uint64_t* signs;
  ExtremaAcc<T>* acc;

  typename Simd<T>::V apply(typename Simd<T>::V v, const T* at) const {
    v = v * scale;
    if (signs) v = signs_vector<T>(v, signs, static_cast<std::size_t>(at - origin));
    return v;
  }
};

// L (1..3) butterfly levels with strides h, 2h, 4h on the 2^L vectors p + m*h + k, for every
// k in [0, count) in steps of one vector.
// epi: applied to every vector as it is stored (the last pass of a sweep), or null.
template <class T, int L>
inline void butterflies(T* p, std::size_t h, std::size_t count, std::ptrdiff_t prefetch,
                        const Epilogue<T>* epi) {
  using V = typename Simd<T>::V;
  constexpr int kM = 1 << L;
  // Extremes noted for epi->acc, kept in registers here (stores through p could alias acc).
  V lo = V{} + std::numeric_limits<T>::infinity(), hi = V{} - std::numeric_limits<T>::infinity();
  for (std::size_t k = 0; k < count; k += Simd<T>::kLanes) {
    V v[kM];
    for (int m = 0; m < kM; ++m) v[m] = load<V>(p + m * h + k);
    if (prefetch && (k * sizeof(T)) % 64 == 0)
      for (int m = 0; m < kM; ++m) __builtin_prefetch(p + m * h + k + prefetch, 1, 2);
    for (int lh = 1; lh < kM; lh <<= 1)
      for (int m = 0; m < kM; ++m)
        if (!(m & lh)) {
          V a = v[m], b = v[m + lh];
          v[m] = a + b;
          v[m + lh] = a - b;
        }
    if (epi) {
      for (int m = 0; m < kM; ++m) {
        v[m] = epi->apply(v[m], p + m * h + k);
        store(p + m * h + k, v[m]);
      }
      if (epi->acc) {  // the extremes of the 2^L vectors by a tree, then into the running ones
        V a[kM], b[kM];
        for (int m = 0; m < kM; ++m) a[m] = b[m] = v[m];
        for (int half = kM / 2; half >= 1; half /= 2)
          for (int m = 0; m < half; ++m) {
            a[m] = a[m + half] < a[m] ? a[m + half] : a[m];
            b[m] = b[m + half] > b[m] ? b[m + half] : b[m];
          }
        lo = a[0] < lo ? a[0] : lo;
        hi = b[0] > hi ? b[0] : hi;
      }
    } else {
      for (int m = 0; m < kM; ++m) store(p + m * h + k, v[m]);
    }
  }
  if (epi && epi->acc) epi->acc->add(lo, hi);
}

// Levels [first, last) of a transform over `units` units, unit u at p + u * unit_stride, each
// unit `width` contiguous elements (a multiple of the vector length).
// prefetch: when non-zero, the first merged pass also prefetches the elements `prefetch`
// further on (the next panel), so its memory latency overlaps this panel's work.
// epi: applied by the last pass as it stores (null: none).
template <class T>
void strided_levels(T* p, std::size_t units, std::size_t unit_stride, std::size_t width, int first,
                    int last, std::ptrdiff_t prefetch = 0, const Epilogue<T>* epi = nullptr) {
  for (int l = first; l < last;) {
    const int step = std::min(3, last - l);
    const std::size_t h = std::size_t(1) << l;
    const std::size_t group = h << step;
    for (std::size_t base = 0; base < units; base += group)
      for (std::size_t j = 0; j < h; ++j) {
        T* q = p + (base + j) * unit_stride;
        const std::ptrdiff_t pf = l == first ? prefetch : 0;
        const Epilogue<T>* e = l + step == last ? epi : nullptr;
        if (step == 3)
          butterflies<T, 3>(q, h * unit_stride, width, pf, e);
        else if (step == 2)
          butterflies<T, 2>(q, h * unit_stride, width, pf, e);
        else
          butterflies<T, 1>(q, h * unit_stride, width, pf, e);
      }
    l += step;
  }
}

// Full transform of one contiguous block of c ≥ kLanes elements (c a power of two) that fits
// L1: in-register levels, then merged levels over vectors.
// OR-accumulates "some lane is NaN or Inf" (all exponent bits set) into bad.
template <class T>
inline void note_non_finite(typename Simd<T>::V v, typename Simd<T>::I& bad) {
  using I = typename Simd<T>::I;
  constexpr auto kExp = sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull;
  I raw;
  std::memcpy(&raw, &v, sizeof(v));
  bad |= (raw & kExp) == kExp;
}

// Full transform of one contiguous block of c ≥ kLanes elements (c a power of two) that fits
// L1: in-register levels (with the pre-signs, reading from src), then merged levels over vectors.
template <class T>
void l1_transform(T* row, const T* src, std::size_t c, const std::uint64_t* pre_signs,
                  std::size_t first, typename Simd<T>::I& bad) {
  using V = typename Simd<T>::V;
  constexpr std::size_t kLanes = Simd<T>::kLanes;
  for (std::size_t k = 0; k < c; k += kLanes) {
    if (((k * sizeof(T)) & 63) == 0) {  // one line of input (and of output) per 64 bytes
      __builtin_prefetch(src + k + kStreamAhead / sizeof(T), 0, 3);
      if (src != row) __builtin_prefetch(row + k + kStreamAhead / sizeof(T), 1, 3);
    }
    V v = load<V>(src + k);
    note_non_finite<T>(v, bad);
    if (pre_signs) v = signs_vector<T>(v, pre_signs, first + k);
    store(row + k, all_levels_in_register<T>(v));
  }
  const int lanes_log = std::countr_zero(kLanes);
  const int levels = std::countr_zero(c);
  strided_levels(row, c / kLanes, kLanes, kLanes, 0, levels - lanes_log);
}

// Full transform of one contiguous row of c ≥ kLanes elements (c ≤ kRowLength, fits L2):
// L1-sized sub-rows first, then the levels across sub-rows while the row is still in L2.
// The row's input is src[first .. first + c) with src[i] = 0 for i ≥ src_len (zero padding).
template <class T>
// prefetch_next: when set, the levels across sub-rows also fetch the next row (in place, the
// next c elements after row), so its memory latency overlaps this row's work in L2.
// epi: applied as the last pass stores; only for rows longer than one L1 sub-row (the rows of a
// multi-row transform), whose last pass is the one across sub-rows.
void row_transform(T* row, const T* src, std::size_t src_len, std::size_t c,
                   const std::uint64_t* pre_signs, std::size_t first, typename Simd<T>::I& bad,
                   bool prefetch_next = false, const Epilogue<T>* epi = nullptr) {
  const std::size_t sub = std::min(c, kL1Length / sizeof(T));
  DME_ASSERT(!epi || c > sub);
  for (std::size_t s0 = 0; s0 < c; s0 += sub) {
    const std::size_t g = first + s0;
    if (g + sub <= src_len) {
      l1_transform(row + s0, src + g, sub, pre_signs, g, bad);
    } else if (g >= src_len) {
      std::fill_n(row + s0, sub, T(0));  // the transform of zeros is zeros
    } else {
      if (row + s0 != src + g) std::copy(src + g, src + src_len, row + s0);
      std::fill(row + s0 + (src_len - g), row + s0 + sub, T(0));
      l1_transform(row + s0, row + s0, sub, pre_signs, g, bad);
    }
  }
  if (c > sub)
    strided_levels(row, c / sub, sub, sub, 0, std::countr_zero(c / sub),
                   prefetch_next ? static_cast<std::ptrdiff_t>(c) : 0, epi);
}

// The final step of a sweep: p <- post_signs ⊙ (scale · p), noting the results in acc if given.
template <class T>
void scale_and_sign(T* p, std::size_t count, T scale, const std::uint64_t* post_signs,
                    std::size_t first, ExtremaAcc<T>* acc = nullptr) {
  using V = typename Simd<T>::V;
  constexpr std::size_t kLanes = Simd<T>::kLanes;
  if (count % kLanes || first % kLanes) {
    if (scale != T(1))
      for (std::size_t i = 0; i < count; ++i) p[i] *= scale;
    if (post_signs) apply_signs_scalar(p, count, post_signs, first);
    if (acc)
      for (std::size_t i = 0; i < count; ++i) acc->add(p[i]);
    return;
  }
  for (std::size_t k = 0; k < count; k += kLanes) {
    V v = load<V>(p + k) * scale;
    if (post_signs) v = signs_vector<T>(v, post_signs, first + k);
    if (acc) acc->add(v, k / kLanes);
    store(p + k, v);
  }
}

}  // namespace

namespace detail {

template <class T>
void fwht_reference(T* x, std::size_t n) {
  for (std::size_t h = 1; h < n; h <<= 1)
    for (std::size_t i = 0; i < n; i += 2 * h)
      for (std::size_t j = i; j < i + h; ++j) {
        T a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
}

template <class T>
bool fwht_fused(T* x, std::size_t n, const std::uint64_t* pre_signs,
                const std::uint64_t* post_signs, T scale, const T* src, std::size_t src_len,
                Extrema<T>* extrema) {
  DME_ASSERT(n > 0 && std::has_single_bit(n));
  ExtremaAcc<T> acc;
  ExtremaAcc<T>* track = extrema ? &acc : nullptr;
  if (!src) {
    src = x;
    src_len = n;
  }
  DME_ASSERT(src_len <= n);
  constexpr std::size_t kLanes = Simd<T>::kLanes;
  if (n < kLanes) {  // too short for one vector
    if (src != x) std::copy_n(src, src_len, x);
    std::fill(x + src_len, x + n, T(0));
    bool bad = false;
    for (std::size_t i = 0; i < n; ++i) bad |= !std::isfinite(x[i]);
    if (pre_signs) apply_signs(x, n, pre_signs, 0);
    fwht_reference(x, n);
    scale_and_sign(x, n, scale, post_signs, 0, track);
    if (extrema) *extrema = acc.result();
    return bad;
  }
  typename Simd<T>::I bad{};
  const std::size_t c = std::min(n, kRowLength);
  const std::size_t r = n / c;
  for (std::size_t i = 0; i < r; ++i)
    row_transform(x + i * c, src, src_len, c, pre_signs, i * c, bad, src == x && i + 1 < r);
  bool any_bad = false;
  for (std::size_t i = 0; i < kLanes; ++i) any_bad |= bad[i] != 0;
  if (r == 1) {
    scale_and_sign(x, n, scale, post_signs, 0, track);
    if (extrema) *extrema = acc.result();
    return any_bad;
  }
  // Phase 2: columns, a panel of `w` columns at a time across all r rows.
  const std::size_t w = std::min(c, kPanelBytes / sizeof(T));
  const int row_levels = std::countr_zero(r);
  const Epilogue<T> epi{x, scale, post_signs, track};
  const bool finish = scale != T(1) || post_signs || track;
  for (std::size_t c0 = 0; c0 < c; c0 += w) {
    const std::ptrdiff_t next = c0 + w < c ? static_cast<std::ptrdiff_t>(w) : 0;
    strided_levels(x + c0, r, c, w, 0, row_levels, next, finish ? &epi : nullptr);
  }
  if (extrema) *extrema = acc.result();
  return any_bad;
}

template <class T>
bool fwht_chain(T* x, std::size_t n, int k, const std::uint64_t* lead,
                const std::uint64_t* const* mid, const std::uint64_t* trail, T scale, const T* src,
                std::size_t src_len, Extrema<T>* extrema) {
  DME_ASSERT(n > 0 && std::has_single_bit(n) && k >= 1);
  if (!src) {
    src = x;
    src_len = n;
  }
  const std::size_t c = std::min(n, kRowLength);
  const std::size_t r = n / c;
  if (k == 1 || r == 1 || n < Simd<T>::kLanes) {
    // One transform, or every transform in one cache-resident row: one sweep each.
    bool bad = fwht_fused(x, n, lead, k == 1 ? trail : nullptr, scale, src, src_len,
                          k == 1 ? extrema : nullptr);
    for (int t = 1; t < k; ++t)
      fwht_fused(x, n, mid[t - 1], t == k - 1 ? trail : nullptr, scale,
                 static_cast<const T*>(nullptr), 0, t == k - 1 ? extrema : nullptr);
    return bad;
  }
  // H_t is done rows-then-columns for odd t and columns-then-rows for even t (H = R·C = C·R),
  // so the second half of H_t and the first half of H_{t+1} are of one kind and share a sweep.
  typename Simd<T>::I bad{};
  for (std::size_t i = 0; i < r; ++i)  // first half of H_1: rows, with the leading signs
    row_transform(x + i * c, src, src_len, c, lead, i * c, bad);
  typename Simd<T>::I ignored{};
  ExtremaAcc<T> acc;
  ExtremaAcc<T>* track = extrema ? &acc : nullptr;
  const std::size_t w = std::min(c, kPanelBytes / sizeof(T));
  const int row_levels = std::countr_zero(r);
  for (int t = 1;; ++t) {
    const bool last = t == k;
    // The scale and the signs between H_t and H_{t+1} (or the trailing ones) are applied as
    // the last pass of H_t's second half stores.
    const Epilogue<T> epi{x, scale, last ? trail : mid[t - 1], last ? track : nullptr};
    if (t % 2 == 1) {  // columns: second half of H_t, then the first of H_{t+1}
      for (std::size_t c0 = 0; c0 < c; c0 += w) {
        const std::ptrdiff_t next = c0 + w < c ? static_cast<std::ptrdiff_t>(w) : 0;
        strided_levels(x + c0, r, c, w, 0, row_levels, next, &epi);
        if (!last) strided_levels(x + c0, r, c, w, 0, row_levels);
      }
    } else {  // rows: second half of H_t, then the first of H_{t+1}
      for (std::size_t i = 0; i < r; ++i) {
        row_transform(x + i * c, x, n, c, nullptr, i * c, ignored, i + 1 < r, &epi);
        if (!last) row_transform(x + i * c, x, n, c, nullptr, i * c, ignored);
      }
    }
    if (last) break;
  }
  bool any_bad = false;
  for (std::size_t i = 0; i < Simd<T>::kLanes; ++i) any_bad |= bad[i] != 0;
  if (extrema) *extrema = acc.result();
  return any_bad;
}

template void fwht_reference<float>(float*, std::size_t);
template void fwht_reference<double>(double*, std::size_t);
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
