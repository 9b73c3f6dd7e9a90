// Rounding kernels: the scalar loops (the definition) and one Highway source for every SIMD
// target (scalar emulation, SSE4, AVX2, AVX-512, NEON, SVE), chosen at run time (core/simd.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/quantization/detail/rounding_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/cache_control.h>
#include <hwy/highway.h>

#include "dme/core/detail/lane_table-inl.h"
#include "dme/core/detail/philox_hwy-inl.h"

#ifndef DME_ROUNDING_KERNELS_ONCE
#define DME_ROUNDING_KERNELS_ONCE
#include "dme/quantization/detail/rounding_kernels.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <type_traits>
#include <vector>

#include "dme/core/aligned_buffer.h"
#include "dme/core/detail/philox_words.h"

namespace dme::detail {

std::size_t level_interval(float x, const float* levels, std::size_t s) {
  if (s <= 2) return 0;
  return static_cast<std::size_t>(std::upper_bound(levels + 1, levels + s - 1, x) - (levels + 1));
}

namespace {

inline std::uint16_t stochastic_code(float x, float u, const float* lv, std::size_t s) {
  if (s == 1) return 0;
  const std::size_t c = level_interval(x, lv, s);
  const float a = lv[c], b = lv[c + 1];
  return static_cast<std::uint16_t>(c + (u < (x - a) / (b - a) ? 1 : 0));
}

inline std::uint16_t nearest_code(float x, const float* lv, std::size_t s) {
  if (s == 1) return 0;
  const std::size_t c = level_interval(x, lv, s);
  const float a = lv[c], b = lv[c + 1];
  return static_cast<std::uint16_t>(c + ((x - a) > (b - x) ? 1 : 0));
}

}  // namespace

std::size_t stochastic_round_scalar(const float* x, std::size_t n, std::span<const float> levels,
                                    const PhiloxStream& stream, std::uint64_t first_index,
                                    std::uint16_t* codes) {
  const float lo = levels.front(), hi = levels.back();
  for (std::size_t i = 0; i < n; ++i) {
    if (!(x[i] >= lo && x[i] <= hi)) return i;
    codes[i] =
        stochastic_code(x[i], stream.uniform_float(first_index + i), levels.data(), levels.size());
  }
  return n;
}

std::size_t nearest_round_scalar(const float* x, std::size_t n, std::span<const float> levels,
                                 std::uint16_t* codes) {
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] != x[i]) return i;
    codes[i] = nearest_code(x[i], levels.data(), levels.size());
  }
  return n;
}


namespace {

// Search and level tables. The search table holds levels[1 .. s-2] at their own indices and +inf
// elsewhere, over a power-of-two size, so the binary search needs no bounds checks; the level
// table repeats the last level past s (one entry more than the search table: index pow2 is read
// by the searches by pairs and quads). Up to 64 levels the tables live inside the object (no
// allocation per call: compress_chunk rounds 8192 values per call).
struct Tables {
  static constexpr std::size_t kInline = 64;
  std::size_t pow2 = 1;
  alignas(64) float search_inline[kInline + 1];
  alignas(64) float level_inline[kInline + 1];
  AlignedVector<float> search_heap, level_heap;
  float* search;
  float* level;

  explicit Tables(std::span<const float> levels) {
    const std::size_t s = levels.size();
    while (pow2 < s) pow2 *= 2;
    const std::size_t size = std::max<std::size_t>(pow2, kInline) + 1;
    if (size == kInline + 1) {
      search = search_inline;
      level = level_inline;
    } else {
      search_heap.resize(size);
      level_heap.resize(size);
      search = search_heap.data();
      level = level_heap.data();
    }
    std::fill_n(search, size, std::numeric_limits<float>::infinity());
    for (std::size_t t = 1; t + 1 < s; ++t) search[t] = levels[t];
    std::fill_n(level, size, levels.back());
    std::copy(levels.begin(), levels.end(), level);
  }
  Tables(const Tables&) = delete;
  Tables& operator=(const Tables&) = delete;
};

}  // namespace
}  // namespace dme::detail
#endif  // DME_ROUNDING_KERNELS_ONCE

HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR  // one-lane fallback target: the reference loops
std::size_t StochasticRound(const float* x, std::size_t n, std::span<const float> levels,
                            const PhiloxStream& stream, std::uint64_t first_index,
                            std::uint16_t* codes) {
  return stochastic_round_scalar(x, n, levels, stream, first_index, codes);
}
std::size_t NearestRound(const float* x, std::size_t n, std::span<const float> levels,
                         std::uint16_t* codes) {
  return nearest_round_scalar(x, n, levels, codes);
}
#else
namespace {

using DF = hn::ScalableTag<float>;
using DI = hn::RebindToSigned<DF>;
using VF = hn::Vec<DF>;
using VI = hn::Vec<DI>;

// Streamed inputs are fetched this far ahead by software: the hardware prefetcher alone left the
// 2^24 rounding waiting on memory (measured on AVX-512: 22.6 -> 16.2 ms; 2-8 KiB ahead all alike).
constexpr std::size_t kPrefetchBytes = 4096;

template <int kVecs>
using Lookup = LaneTable<kVecs>;  // core/detail/lane_table-inl.h

// Level interval of a vector by binary search over the power-of-two search table of 2^kSteps
// entries (the loop unrolls; its constants are hoisted). The first two steps need no lookup:
// their candidates are one table entry, then one of two, picked by the first comparison. On AVX2
// a step adds its comparison's bits instead of selecting (VBLENDVPS is 3 uops on Intel cores, 1
// on AMD's, where the add costs the same): stochastic rounding of 2^18 values in L2, s = 16,
// 340 -> 324 us (Intel Xeon family 6 model 207); on SSE4 the select is cheaper (665 against 677).
template <int kSteps, class Look>
HWY_INLINE VI interval(VF x, const Look& search, const float* table) {
  const DF df;
  const DI di;
  constexpr int h = 1 << (kSteps - 1);
  const auto m = hn::Le(hn::Set(df, table[h]), x);
  VI c = hn::IfThenElseZero(hn::RebindMask(di, m), hn::Set(di, h));
  if constexpr (kSteps >= 2) {
    constexpr int q = h / 2;
    const VF t = hn::IfThenElse(m, hn::Set(df, table[h + q]), hn::Set(df, table[q]));
#if HWY_TARGET == HWY_AVX2
    c = hn::Add(c, hn::And(hn::VecFromMask(di, hn::RebindMask(di, hn::Le(t, x))), hn::Set(di, q)));
#else
    c = hn::IfThenElse(hn::RebindMask(di, hn::Le(t, x)), hn::Add(c, hn::Set(di, q)), c);
#endif
  }
  for (int k = kSteps - 3; k >= 0; --k) {
    const VI cand = hn::Add(c, hn::Set(di, 1 << k));
#if HWY_TARGET == HWY_AVX2
    const VI le = hn::VecFromMask(di, hn::RebindMask(di, hn::Le(search(cand), x)));
    c = k == 0 ? hn::Sub(c, le) : hn::Add(c, hn::And(le, hn::Set(di, 1 << k)));
#else
    c = hn::IfThenElse(hn::RebindMask(di, hn::Le(search(cand), x)), cand, c);
#endif
  }
  return c;
}

// The interval c of each lane of x and its two levels a = level[c], b = level[c + 1]: a binary
// search of the search table, then two lookups of the level table.
template <int kVecs, int kSteps>
struct Bracket {
  Lookup<kVecs> search, level;
  const float* search_table;
  explicit Bracket(const Tables& t) : search(t.search), level(t.level), search_table(t.search) {}
  HWY_INLINE VI operator()(VF x, VF& a, VF& b) const {
    const VI c = interval<kSteps>(x, search, search_table);
    a = level(c);
    b = level(hn::Add(c, hn::Set(DI(), 1)));
    return c;
  }
};

#if !HWY_HAVE_SCALABLE
// The one-vector tables of a search by groups of G entries (kGroups = lanes groups): lane j of
// search[r] is entry G·j + r of the search table, lane j of level[r] entry G·j + r of the level
// table, and first[j] = search[G·j] (the binary search's broadcast steps read it).
template <int G, std::size_t kGroups>
struct GroupTables {
  VF search[G];
  VF level[G + 1];
  HWY_ALIGN float first[kGroups];
  explicit GroupTables(const Tables& t) {
    HWY_ALIGN float lanes[kGroups];
    for (int r = 0; r <= G; ++r) {
      for (std::size_t j = 0; j < kGroups; ++j) lanes[j] = t.level[G * j + r];
      level[r] = hn::Load(DF(), lanes);
      if (r == G) break;
      for (std::size_t j = 0; j < kGroups; ++j) lanes[j] = t.search[G * j + r];
      search[r] = hn::Load(DF(), lanes);
    }
    for (std::size_t j = 0; j < kGroups; ++j) first[j] = t.search[G * j];
  }
  /// Lane i of table at index j[i].
  static HWY_INLINE VF look(VF table, VI j) {
    return hn::TableLookupLanes(table, hn::IndicesFromVec(DF(), j));
  }
  /// The groups' first entries at j (the binary search's lookup).
  HWY_INLINE VF operator()(VI j) const { return look(search[0], j); }
};

// Tables of two vectors (2^kSteps = 2 · lanes entries: s = 9..16 on AVX2, 17..32 on AVX-512,
// 5..8 on 128-bit vectors) cost two permutes and a select per lookup, and tables of four vectors
// four permutes and three selects. Searched by pairs of entries instead, every table fits one
// vector: j = the last pair whose even entry is <= x (a binary search of search[2j]), then one
// comparison with the odd entry search[2j + 1] picks c = 2j or 2j + 1, and the levels come from
// the tables level[2j], level[2j + 1] and level[2j + 2], all indexed by j. Same c, a and b as
// the generic search.
template <int kSteps>
struct Bracket<2, kSteps> {
  using T = GroupTables<2, std::size_t{1} << (kSteps - 1)>;  // as many pairs as lanes
  T t;
  explicit Bracket(const Tables& tables) : t(tables) {}
  HWY_INLINE VI operator()(VF x, VF& a, VF& b) const {
    const DI di;
    const VI j = interval<kSteps - 1>(x, t, t.first);
    const auto up = hn::Le(T::look(t.search[1], j), x);
    const VF mid = T::look(t.level[1], j);
    a = hn::IfThenElse(up, mid, T::look(t.level[0], j));
    b = hn::IfThenElse(up, T::look(t.level[2], j), mid);
    return hn::Sub(hn::Add(j, j), hn::VecFromMask(di, hn::RebindMask(di, up)));
  }
};

// Tables of four vectors (s = 17..32 on AVX2, 33..64 on AVX-512, 9..16 on 128-bit vectors), by
// quads: j = the last quad whose first entry search[4j] is <= x, then search[4j + 2] and one of
// search[4j + 1], search[4j + 3] give c = 4j + 2·m1 + m2, and level[4j + r], r = 0..4, the levels.
template <int kSteps>
struct Bracket<4, kSteps> {
  using T = GroupTables<4, std::size_t{1} << (kSteps - 2)>;  // as many quads as lanes
  T t;
  explicit Bracket(const Tables& tables) : t(tables) {}
  HWY_INLINE VI operator()(VF x, VF& a, VF& b) const {
    const DI di;
    const VI j = interval<kSteps - 2>(x, t, t.first);
    const auto m1 = hn::Le(T::look(t.search[2], j), x);
    const auto m2 = hn::Le(hn::IfThenElse(m1, T::look(t.search[3], j), T::look(t.search[1], j)), x);
    const VF v1 = T::look(t.level[1], j), v2 = T::look(t.level[2], j), v3 = T::look(t.level[3], j);
    a = hn::IfThenElse(m1, hn::IfThenElse(m2, v3, v2),
                       hn::IfThenElse(m2, v1, T::look(t.level[0], j)));
    b = hn::IfThenElse(m1, hn::IfThenElse(m2, T::look(t.level[4], j), v3),
                       hn::IfThenElse(m2, v2, v1));
    const VI two = hn::Set(di, 2);
    const VI c = hn::Add(hn::ShiftLeft<2>(j), hn::IfThenElseZero(hn::RebindMask(di, m1), two));
    return hn::Sub(c, hn::VecFromMask(di, hn::RebindMask(di, m2)));
  }
};
#endif

HWY_INLINE void store_codes(VI code, std::uint16_t* out) {
  const hn::Rebind<std::uint16_t, DI> d16;
  hn::StoreU(hn::DemoteTo(d16, code), d16, out);
}

// Whether stochastic rounding with tables of kVecs vectors draws through PhiloxLanes' folded
// first rounds. Gathered tables (kVecs = 0) on AVX-512 do not: s = 256, 2^18 values in L2, 808 us
// so, 884 folded, 888 folded in pairs (829 before either); elsewhere the fold costs nothing or
// gains (AVX2, s = 256: 1253 -> 1204 us). Intel Xeon family 6 model 207.
template <int kVecs>
constexpr bool fold_philox() {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  return kVecs != 0;
#else
  return true;
#endif
}

template <int kVecs, int kSteps>
std::size_t stochastic_impl(const float* x, std::size_t n, std::span<const float> levels,
                            const PhiloxStream& stream, std::uint64_t first,
                            std::uint16_t* codes) {
  const DF df;
  const DI di;
  const std::size_t nf = hn::Lanes(df);
  const Tables tables(levels);
  const Bracket<kVecs, kSteps> bracket(tables);
  const VF lo = hn::Set(df, levels.front()), hi = hn::Set(df, levels.back());
  const PhiloxLanes philox(philox_words(stream));
  const std::size_t step = 4 * nf;  // draws per Philox call
  // Scalar head up to a block boundary of the stream (4 draws per Philox block).
  std::size_t i = std::min<std::size_t>(n, (4 - first % 4) % 4);
  if (std::size_t bad = stochastic_round_scalar(x, i, levels, stream, first, codes); bad < i)
    return bad;
  // Steps of one Philox call (four vectors of draws) or, with `pair`, of two (uniforms2: four
  // independent chains of rounds, where the registers hold them beside the tables:
  // PhiloxLanes::kPairCalls).
  const auto run = [&](auto pair) -> std::size_t {
    constexpr bool kPair = decltype(pair)::value;
    const std::size_t span = kPair ? 2 * step : step;
    for (; i + span <= n; i += span) {
      for (std::size_t q = 0; q < span; q += 16) hwy::Prefetch(x + i + q + kPrefetchBytes / 4);
      VF u0, u1, u2, u3, u4, u5, u6, u7;  // separate variables: SVE vectors cannot form arrays
      if constexpr (kPair)
        philox.uniforms2((first + i) / 4, u0, u1, u2, u3, u4, u5, u6, u7);
      else
        philox.template uniforms<fold_philox<kVecs>()>((first + i) / 4, u0, u1, u2, u3);
      // Rounds the q-th vector of the step with draws u; returns the index of the first value
      // outside the levels, or n when all are inside.
      const auto round_vector = [&](std::size_t q, VF u) -> std::size_t {
        const std::size_t at = i + nf * q;
        const VF v = hn::LoadU(df, x + at);
        const auto outside = hn::Not(hn::And(hn::Ge(v, lo), hn::Le(v, hi)));
        if (!hn::AllFalse(df, outside))
          return at + static_cast<std::size_t>(hn::FindFirstTrue(df, outside));
        VF a, b;
        const VI c = bracket(v, a, b);
        const VF p = hn::Div(hn::Sub(v, a), hn::Sub(b, a));
        const VI up = hn::VecFromMask(di, hn::RebindMask(di, hn::Lt(u, p)));
        store_codes(hn::Sub(c, up), codes + at);  // up is -1 where the draw rounds up
        return n;
      };
      if (std::size_t bad = round_vector(0, u0); bad < n) return bad;
      if (std::size_t bad = round_vector(1, u1); bad < n) return bad;
      if (std::size_t bad = round_vector(2, u2); bad < n) return bad;
      if (std::size_t bad = round_vector(3, u3); bad < n) return bad;
      if constexpr (kPair) {
        if (std::size_t bad = round_vector(4, u4); bad < n) return bad;
        if (std::size_t bad = round_vector(5, u5); bad < n) return bad;
        if (std::size_t bad = round_vector(6, u6); bad < n) return bad;
        if (std::size_t bad = round_vector(7, u7); bad < n) return bad;
      }
    }
    return n;
  };
  if constexpr (PhiloxLanes::kPairCalls && kVecs != 0) {
    if (std::size_t bad = run(std::true_type{}); bad < n) return bad;
  }
  if (std::size_t bad = run(std::false_type{}); bad < n) return bad;
  const std::size_t bad =
      stochastic_round_scalar(x + i, n - i, levels, stream, first + i, codes + i);
  return i + bad;
}

template <int kVecs, int kSteps>
std::size_t nearest_impl(const float* x, std::size_t n, std::span<const float> levels,
                         std::uint16_t* codes) {
  const DF df;
  const DI di;
  const std::size_t nf = hn::Lanes(df);
  const Tables tables(levels);
  const Bracket<kVecs, kSteps> bracket(tables);
  std::size_t i = 0;
  for (; i + nf <= n; i += nf) {
    if ((i * sizeof(float)) % 64 == 0) hwy::Prefetch(x + i + kPrefetchBytes / 4);
    const VF v = hn::LoadU(df, x + i);
    const auto nan = hn::Not(hn::Eq(v, v));
    if (!hn::AllFalse(df, nan)) return i + static_cast<std::size_t>(hn::FindFirstTrue(df, nan));
    VF a, b;
    const VI c = bracket(v, a, b);
    const VI up = hn::VecFromMask(di, hn::RebindMask(di, hn::Gt(hn::Sub(v, a), hn::Sub(b, v))));
    store_codes(hn::Sub(c, up), codes + i);
  }
  return i + nearest_round_scalar(x + i, n - i, levels, codes + i);
}

// Calls kernel.template run<kVecs, kSteps>() for the table that fits s levels: registers (up to
// four vectors per table) with the search depth fixed at compile time up to 64 levels, gathers
// beyond (and on scalable vectors).
template <class Kernel>
std::size_t dispatch_levels(std::size_t s, const Kernel& kernel) {
  const int steps = std::bit_width(std::bit_ceil(s)) - 1;  // 1 .. 16
#if HWY_HAVE_SCALABLE
  switch (steps) {
    case 1: return kernel.template run<0, 1>();
    case 2: return kernel.template run<0, 2>();
    case 3: return kernel.template run<0, 3>();
    case 4: return kernel.template run<0, 4>();
    case 5: return kernel.template run<0, 5>();
    case 6: return kernel.template run<0, 6>();
    default: break;
  }
#else
  constexpr int kLanes = static_cast<int>(hn::MaxLanes(DF()));
  // Vectors per table of 2^steps entries (at least one).
  const auto vecs = [](int st) { return (1 << st) <= kLanes ? 1 : (1 << st) / kLanes; };
  switch (steps) {
    case 1: return kernel.template run<1, 1>();
    case 2: return kernel.template run<1, 2>();
    case 3: return (vecs(3) == 1) ? kernel.template run<1, 3>() : kernel.template run<2, 3>();
    case 4:
      if (vecs(4) == 1) return kernel.template run<1, 4>();
      if (vecs(4) == 2) return kernel.template run<2, 4>();
      return kernel.template run<4, 4>();
    case 5:
      if (vecs(5) <= 2) return kernel.template run<2, 5>();
      if (vecs(5) == 4) return kernel.template run<4, 5>();
      return kernel.template run<0, 5>();
    case 6:
      if (vecs(6) == 4) return kernel.template run<4, 6>();
      return kernel.template run<0, 6>();
    default: break;
  }
#endif
  switch (steps) {
    case 7: return kernel.template run<0, 7>();
    case 8: return kernel.template run<0, 8>();
    case 9: return kernel.template run<0, 9>();
    case 10: return kernel.template run<0, 10>();
    case 11: return kernel.template run<0, 11>();
    case 12: return kernel.template run<0, 12>();
    case 13: return kernel.template run<0, 13>();
    case 14: return kernel.template run<0, 14>();
    case 15: return kernel.template run<0, 15>();
    default: return kernel.template run<0, 16>();
  }
}

struct StochasticKernel {
  const float* x;
  std::size_t n;
  std::span<const float> levels;
  const PhiloxStream& stream;
  std::uint64_t first;
  std::uint16_t* codes;
  template <int kVecs, int kSteps>
  std::size_t run() const {
    return stochastic_impl<kVecs, kSteps>(x, n, levels, stream, first, codes);
  }
};

struct NearestKernel {
  const float* x;
  std::size_t n;
  std::span<const float> levels;
  std::uint16_t* codes;
  template <int kVecs, int kSteps>
  std::size_t run() const {
    return nearest_impl<kVecs, kSteps>(x, n, levels, codes);
  }
};

}  // namespace

std::size_t StochasticRound(const float* x, std::size_t n, std::span<const float> levels,
                            const PhiloxStream& stream, std::uint64_t first_index,
                            std::uint16_t* codes) {
  if (levels.size() < 2 || n < 4 * hn::Lanes(DF()) + 4)
    return stochastic_round_scalar(x, n, levels, stream, first_index, codes);
  return dispatch_levels(levels.size(), StochasticKernel{x, n, levels, stream, first_index, codes});
}

std::size_t NearestRound(const float* x, std::size_t n, std::span<const float> levels,
                         std::uint16_t* codes) {
  if (levels.size() < 2 || n < hn::Lanes(DF())) return nearest_round_scalar(x, n, levels, codes);
  return dispatch_levels(levels.size(), NearestKernel{x, n, levels, codes});
}
#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dme/core/simd.h"

namespace dme::detail {

HWY_EXPORT(StochasticRound);
HWY_EXPORT(NearestRound);

std::size_t stochastic_round_kernel(const float* x, std::size_t n, std::span<const float> levels,
                                    const PhiloxStream& stream, std::uint64_t first_index,
                                    std::uint16_t* codes) {
  simd_init();
  return HWY_DYNAMIC_DISPATCH(StochasticRound)(x, n, levels, stream, first_index, codes);
}

std::size_t nearest_round_kernel(const float* x, std::size_t n, std::span<const float> levels,
                                 std::uint16_t* codes) {
  simd_init();
  return HWY_DYNAMIC_DISPATCH(NearestRound)(x, n, levels, codes);
}

bool rounding_kernels_vectorised() {
  return simd_target() != "scalar";
}

}  // namespace dme::detail
#endif  // HWY_ONCE
