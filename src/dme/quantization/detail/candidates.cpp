// Candidate levels and grid statistics. The compensated mean and the histogram's binning are
// one Highway source for every SIMD target (core/simd.h), chosen at run time; every target gives
// bit-identical results (the same operations per value, the same chains and copies).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/quantization/detail/candidates.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/cache_control.h>
#include <hwy/highway.h>

#ifndef DME_CANDIDATES_ONCE
#define DME_CANDIDATES_ONCE
#include "dme/quantization/detail/candidates.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

#include "dme/core/error.h"
#include "dme/quantization/detail/compensated_sum.h"

namespace dme::detail {

namespace {

// The compensated mean keeps eight TwoSum chains (value i in chain i % 8), merged at the end:
// one AVX-512 vector, two AVX2 or four SSE4 vectors, the same sums on every target (2^20 values
// 1.4 -> ~0.2 ms on AVX-512 against one chain).
constexpr std::size_t kMeanChains = 8;

// The chains over x[0, n - n % 8) as the vector kernels run them: the definition for the scalar
// target. Returns the number of values consumed. The chains live in local variables: through
// `sums` and `comps` (which may alias) every step went to memory, 1.2 ms at 2^20 on the scalar
// target against ~0.3 ms on AVX2 for the same sums; local arrays 0.9 ms, two-lane vectors 0.6.
std::size_t mean_chains_scalar(const float* x, std::size_t n, double* sums, double* comps) {
  double sum[kMeanChains], comp[kMeanChains];
  std::copy_n(sums, kMeanChains, sum);
  std::copy_n(comps, kMeanChains, comp);
  std::size_t i = 0;
#if defined(__GNUC__)
  // Two-lane generic vectors (SSE2 on x86-64, the baseline the scalar target runs on): the
  // same operations lane by lane.
  typedef double Pair __attribute__((vector_size(16)));
  constexpr std::size_t kPairs = kMeanChains / 2;
  Pair ps[kPairs], pc[kPairs];
  for (std::size_t q = 0; q < kPairs; ++q) {
    ps[q] = Pair{sum[2 * q], sum[2 * q + 1]};
    pc[q] = Pair{comp[2 * q], comp[2 * q + 1]};
  }
  for (; i + kMeanChains <= n; i += kMeanChains)
    for (std::size_t q = 0; q < kPairs; ++q) {
      const Pair y = {x[i + 2 * q], x[i + 2 * q + 1]};
      const Pair s = ps[q] + y;
      const Pair bb = s - ps[q];
      pc[q] = pc[q] + ((ps[q] - (s - bb)) + (y - bb));
      ps[q] = s;
    }
  for (std::size_t q = 0; q < kPairs; ++q)
    for (std::size_t l = 0; l < 2; ++l) {
      sum[2 * q + l] = ps[q][l];
      comp[2 * q + l] = pc[q][l];
    }
#else
  for (; i + kMeanChains <= n; i += kMeanChains)
    for (std::size_t lane = 0; lane < kMeanChains; ++lane) {
      const double y = x[i + lane];
      const double s = sum[lane] + y;
      const double bb = s - sum[lane];
      comp[lane] = comp[lane] + ((sum[lane] - (s - bb)) + (y - bb));
      sum[lane] = s;
    }
#endif
  std::copy_n(sum, kMeanChains, sums);
  std::copy_n(comp, kMeanChains, comps);
  return i;
}

}  // namespace
std::vector<double> centred_prefix(std::span<const float> sorted, double shift) {
  std::vector<double> prefix(sorted.size());
  CompensatedSum sum;
  for (std::size_t t = 0; t < sorted.size(); ++t) {
    sum.add(static_cast<double>(sorted[t]) - shift);
    prefix[t] = sum.value();
  }
  return prefix;
}

void chord_points(std::span<const float> sorted, double shift, ChordPoint* out) {
  CompensatedSum sum;
  for (std::size_t t = 0; t < sorted.size(); ++t) {
    const double y = static_cast<double>(sorted[t]) - shift;
    sum.add(y);
    out[t] = {y, static_cast<double>(t) * y - sum.value()};
  }
}

void chord_arrays(std::span<const float> sorted, double shift, double* x, double* u) {
  CompensatedSum sum;
  double td = 0;  // t as a double, counted (exact below 2^53): no integer conversion per point
  for (std::size_t t = 0; t < sorted.size(); ++t, td += 1.0) {
    const double y = static_cast<double>(sorted[t]) - shift;
    sum.add(y);
    x[t] = y;
    u[t] = td * y - sum.value();
  }
}

std::vector<double> centred_exclusive_prefix(std::span<const float> sorted, double shift) {
  std::vector<double> prefix(sorted.size() + 1);
  CompensatedSum sum;
  prefix[0] = 0;
  for (std::size_t t = 0; t < sorted.size(); ++t) {
    sum.add(static_cast<double>(sorted[t]) - shift);
    prefix[t + 1] = sum.value();
  }
  return prefix;
}

std::vector<double> centred_square_prefix(std::span<const float> sorted, double shift) {
  std::vector<double> prefix(sorted.size());
  CompensatedSum sum;
  for (std::size_t t = 0; t < sorted.size(); ++t) {
    const double y = static_cast<double>(sorted[t]) - shift;
    sum.add(y * y);
    prefix[t] = sum.value();
  }
  return prefix;
}

namespace {

// Interleaved histograms, so values of one bin a few positions apart do not serialise on one
// slot. Four copies of m = 400 bins (26 KiB) stay in L1 where eight (51 KiB) did not: spread
// inputs (uniform, 2^20) 0.99 -> 0.85 ms; inputs piled in one bin (90% zeros) pay 0.91 -> 1.06.
constexpr std::size_t kCopies = 4;
constexpr std::size_t kChunk = 512;  // a chunk of slots and values (6 KiB) stays in L1 with the
                                     // accumulators (2^24: 512 -> 14.0 ms, 2048 -> 15.5; 256 and
                                     // 1024 within noise of 512 at 2^20 on Zen 4)
constexpr std::size_t kPrefetchBytes = 8192;
constexpr std::size_t kMaxVectorBins = std::size_t(1) << 20;

// The grid is defined in float arithmetic, level[t] = min(lo + t·δ, hi) with level[m] = hi, so
// the vector kernel can recompute any level instead of gathering it.
struct Grid {
  float lo, hi, delta, scale;
  std::size_t m;
  // An estimate (v - lo)·scale further than this from an integer rounds up to v's bin exactly
  // (bound_estimate_error below); 2 when no such bound holds (every estimate gets checked).
  float safe_margin = 2.0f;
  float level(std::size_t t) const {
    return t >= m ? hi : std::min(lo + static_cast<float>(t) * delta, hi);
  }
};

// Bin of v: the first level at or above it. The float estimate can be one bin off near grid
// points; the loops fix it against the levels themselves.
inline std::uint32_t bin_of(const Grid& g, float v) {
  // clamp(ceil(raw), 0, m), without the libm call std::ceil is on baseline x86-64; NaN gives 0
  // (a value outside the range still gets a slot inside the accumulators).
  const float raw = (v - g.lo) * g.scale;
  std::size_t t = 0;
  if (raw >= static_cast<float>(g.m)) {
    t = g.m;
  } else if (raw > 0.0f) {
    t = static_cast<std::size_t>(raw);
    t += static_cast<float>(t) < raw ? 1 : 0;
  }
  while (t < g.m && g.level(t) < v) ++t;
  while (t > 0 && g.level(t - 1) >= v) --t;
  return static_cast<std::uint32_t>(t);
}

// How far from an integer an estimate e = fl(fl(v - lo)·scale) must be for ceil(e) to be v's
// bin, the first t with level(t) >= v. With u = (v - lo)/δ exact, δ and scale rounded from one
// double (|scale·δ - 1| <= 2^-23) and three more roundings, |e - u| <= u·2^-21 <= m·2^-21. Each
// level(t) = fl(lo + fl(t·δ)) is within A = 2^-23·(m·δ + |lo| + |hi|) of lo + t·δ. So when
// t = ceil(e) and the gap t - e lies in (margin, 1 - margin) with margin > m·2^-21 + A/δ,
// level(t) >= lo + (u + margin - m·2^-21)·δ - A >= v and level(t-1) <= v - (margin -
// m·2^-21)·δ + A < v; levels do not decrease, so t is the bin. (gap itself is exact by
// Sterbenz's lemma when e >= 1; 2^-20 more covers e < 1.) Twice the bound is used; a grid whose
// margin would exceed 1/4 (levels far from zero relative to δ) gets 2: every value is checked.
float safe_margin(const Grid& g) {
  const double m = static_cast<double>(g.m);
  const double spread = (std::fabs(static_cast<double>(g.lo)) + std::fabs(g.hi)) / g.delta;
  const double margin = 2.0 * (m * 0x1p-21 + 0x1p-23 * (m + spread) + 0x1p-20);
  return margin < 0.25 ? static_cast<float>(margin) : 2.0f;
}

// One chunk of input prepared for the histogram: per value its slot, the offset of its pair
// {count, sum} in the accumulators (copy i % kCopies, bin t: 2·(copy·bins + t)), and y = x - shift
// (the pair {1, y} is added there).
struct Prepared {
  std::uint32_t slot[kChunk];
  alignas(64) double y[kChunk];
};

// i0: index of x[0] within the chunk (fixes the copy of each value).
// Returns false when some x[i] is outside [lo, hi] (NaN included); its slot is then some bin's.
bool prepare_scalar(const Grid& g, const float* x, std::size_t n, std::size_t i0, double shift,
                    std::uint32_t* slot, double* y) {
  const std::size_t bins = g.m + 1;
  bool inside = true;
  for (std::size_t i = 0; i < n; ++i) {
    inside &= x[i] >= g.lo && x[i] <= g.hi;
    slot[i] = static_cast<std::uint32_t>(2 * (((i0 + i) % kCopies) * bins + bin_of(g, x[i])));
    y[i] = static_cast<double>(x[i]) - shift;
  }
  return inside;
}

// acc[slot] += {1, y}, value by value (the definition; the vector targets add each pair as one
// 128-bit vector, the same two sums).
void accumulate_scalar(double* acc, const Prepared& in, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    acc[in.slot[i]] += 1.0;
    acc[in.slot[i] + 1] += in.y[i];
  }
}

Grid make_grid(float lo, float hi, std::size_t m) {
  DME_ASSERT(lo < hi && m >= 1);
  const double width = static_cast<double>(hi) - lo;
  // A range near the float underflow limit makes m / width overflow float: cap it, so bin
  // estimates stay finite (the level comparisons then place each value).
  const double scale = std::min(static_cast<double>(m) / width,
                                static_cast<double>(std::numeric_limits<float>::max()));
  Grid grid{lo, hi, static_cast<float>(width / static_cast<double>(m)), static_cast<float>(scale),
            m};
  if (scale == static_cast<double>(m) / width) grid.safe_margin = safe_margin(grid);
  return grid;
}

}  // namespace
}  // namespace dme::detail
#endif  // DME_CANDIDATES_ONCE

HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// mean_chains_scalar's chains, eight lanes at a time.
std::size_t MeanChains(const float* x, std::size_t n, double* sums, double* comps) {
#if HWY_TARGET == HWY_SCALAR
  return mean_chains_scalar(x, n, sums, comps);
#else
  // Eight lanes in 1, 2 or 4 vectors; scalable (SVE) vectors get a fixed 2 lanes (their width
  // is not known at compile time).
#if HWY_HAVE_SCALABLE
  const hn::FixedTag<double, 2> d;
#else
  const hn::CappedTag<double, kMeanChains> d;
#endif
  constexpr std::size_t N = hn::MaxLanes(d);
  static_assert(kMeanChains % N == 0 && kMeanChains / N <= 4);
  constexpr std::size_t K = kMeanChains / N;
  const hn::Rebind<float, decltype(d)> df;
  const auto zero = hn::Zero(d);
  auto s0 = zero, s1 = zero, s2 = zero, s3 = zero;
  auto c0 = zero, c1 = zero, c2 = zero, c3 = zero;
  // TwoSum lane by lane, as CompensatedSum::add.
  const auto add = [&](auto& sum, auto& comp, const float* at) {
    const auto y = hn::PromoteTo(d, hn::LoadU(df, at));
    const auto s = hn::Add(sum, y);
    const auto bb = hn::Sub(s, sum);
    comp = hn::Add(comp, hn::Add(hn::Sub(sum, hn::Sub(s, bb)), hn::Sub(y, bb)));
    sum = s;
  };
  std::size_t i = 0;
  for (; i + kMeanChains <= n; i += kMeanChains) {
    add(s0, c0, x + i);
    if constexpr (K > 1) add(s1, c1, x + i + N);
    if constexpr (K > 2) {
      add(s2, c2, x + i + 2 * N);
      add(s3, c3, x + i + 3 * N);
    }
  }
  hn::StoreU(s0, d, sums);
  hn::StoreU(c0, d, comps);
  if constexpr (K > 1) {
    hn::StoreU(s1, d, sums + N);
    hn::StoreU(c1, d, comps + N);
  }
  if constexpr (K > 2) {
    hn::StoreU(s2, d, sums + 2 * N);
    hn::StoreU(c2, d, comps + 2 * N);
    hn::StoreU(s3, d, sums + 3 * N);
    hn::StoreU(c3, d, comps + 3 * N);
  }
  return i;
#endif
}

#if HWY_TARGET != HWY_SCALAR
// A vector of floats per step: bins by the float estimate and one correction against the
// recomputed levels. Values with the same index get the same bin, slot and pair as in
// prepare_scalar.
bool prepare_vector(const Grid& g, const float* x, std::size_t n, double shift, Prepared& out) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const hn::RebindToUnsigned<decltype(d)> du;
  const hn::Half<decltype(d)> dh;
  const hn::Repartition<double, decltype(d)> dd;
  const std::size_t N = hn::Lanes(d), half = N / 2;
  const auto lo = hn::Set(d, g.lo), hi = hn::Set(d, g.hi);
  const auto delta = hn::Set(d, g.delta), scale = hn::Set(d, g.scale);
  const auto zero = hn::Zero(di), one = hn::Set(di, 1);
  const auto m = hn::Set(di, static_cast<std::int32_t>(g.m));
  const auto margin = hn::Set(d, g.safe_margin);
  const auto one_less_margin = hn::Set(d, 1.0f - g.safe_margin);
  const auto top = hn::Set(d, static_cast<float>(g.m));
  const auto two23 = hn::Set(d, 0x1p23f);
  const auto two23_bits = hn::BitCast(di, two23);
  static_assert(kMaxVectorBins < (std::size_t(1) << 23));
  const auto centre = hn::Set(dd, shift);
  static_assert(kCopies == 4, "lane l of a step belongs to copy l % 4 (steps are multiples of 4)");
  const auto copy_base = hn::Mul(hn::And(hn::Iota(di, 0), hn::Set(di, 3)),
                                 hn::Set(di, static_cast<std::int32_t>(g.m + 1)));
  const auto level = [&](decltype(zero) t) {
    const auto v = hn::Min(hn::Add(lo, hn::Mul(hn::ConvertTo(d, t), delta)), hi);
    return hn::IfThenElse(hn::RebindMask(d, hn::Lt(t, m)), v, hi);
  };
  auto inside = hn::VecFromMask(d, hn::Eq(lo, lo));
  std::size_t i = 0;
  for (; i + N <= n; i += N) {
    // Streaming inputs: one prefetch per step, a few KiB ahead (past the end is harmless).
    hwy::Prefetch(reinterpret_cast<const char*>(x + i) + kPrefetchBytes);
    const auto v = hn::LoadU(d, x + i);
    const auto raw = hn::Mul(hn::Sub(v, lo), scale);
    const auto est = hn::Ceil(raw);
    // The integer of est by its bits: 2^23 + est is exact for integral est in [0, 2^23), and
    // its bits less those of 2^23 are est. Any other est (negative, past 2^23, infinite, NaN)
    // gives a difference outside [0, m] (m <= kMaxVectorBins < 2^23), clamped to 0 or m, as
    // is an est in (m, 2^23); every such lane fails the safe test below (raw <= 0, est > m or
    // NaN), whose checked path corrects its bin or finds it outside [lo, hi]. No ConvertTo:
    // its fix-up of out-of-range lanes is three more operations on x86.
    auto t = hn::Min(hn::Max(hn::Sub(hn::BitCast(di, hn::Add(est, two23)), two23_bits), zero), m);
    // Estimates safely inside a bin are exact; the others (about 2 in 1000 values) are checked
    // against the recomputed levels on both sides. A safe estimate also says v is in [lo, hi]:
    // raw > 0 excludes v <= lo (fl(v - lo) keeps its sign), est <= m excludes v > hi (an
    // estimate within the bound of safe_margin of u > m is above m or within the margin below
    // it), and a NaN fails every comparison; so only the vectors checked here are range-checked.
    const auto gap = hn::Sub(est, raw);
    const auto safe = hn::And(hn::And(hn::Gt(gap, margin), hn::Lt(gap, one_less_margin)),
                              hn::And(hn::Le(est, top), hn::Gt(raw, hn::Zero(d))));
    if (!hn::AllTrue(d, safe)) [[unlikely]] {
      inside = hn::And(inside, hn::VecFromMask(d, hn::And(hn::Ge(v, lo), hn::Le(v, hi))));
      const auto up = hn::And(hn::Lt(t, m), hn::RebindMask(di, hn::Lt(level(t), v)));
      const auto down =
          hn::And(hn::Gt(t, zero), hn::RebindMask(di, hn::Ge(level(hn::Sub(t, one)), v)));
      t = hn::IfThenElse(up, hn::Add(t, one), t);
      t = hn::IfThenElse(down, hn::Sub(t, one), t);
    }
    hn::StoreU(hn::BitCast(du, hn::ShiftLeft<1>(hn::Add(t, copy_base))), du, out.slot + i);
    hn::Store(hn::Sub(hn::PromoteTo(dd, hn::LowerHalf(dh, v)), centre), dd, out.y + i);
    hn::Store(hn::Sub(hn::PromoteTo(dd, hn::UpperHalf(dh, v)), centre), dd, out.y + i + half);
  }
  const bool tail_inside = prepare_scalar(g, x + i, n - i, i, shift, out.slot + i, out.y + i);
  return tail_inside && hn::AllTrue(d, hn::MaskFromVec(inside));
}
#endif

// acc[slot] += {1, x - shift}: one 128-bit add per value, the copies interleaved by the slots.
// Compiled per target, so the adds use the same instruction encoding as the binning (on Zen 4,
// grid_statistics of 2^20 values on AVX2 took ~1.8 ms with a baseline SSE2 copy, ~1.0 with this).
HWY_INLINE void accumulate(double* acc, const Prepared& in, std::size_t n) {
#if HWY_TARGET == HWY_SCALAR
  accumulate_scalar(acc, in, n);
#else
  // {1, y}: y broadcast (a load) blended into a vector of ones by a constant blend (a variable
  // one, VBLENDVPD, is 3 uops on Intel cores: quiver-apx of 2^20 values, s = 16, took 1.06-1.17
  // -> 1.01-1.07 ms on AVX2 and 0.84-0.94 -> 0.81-0.84 on AVX-512, Intel Xeon family 6 model 207).
  const hn::FixedTag<double, 2> d;
  const auto ones = hn::Set(d, 1.0);
  const auto add = [&](std::size_t k) {
    double* slot = acc + in.slot[k];
    const auto pair = hn::OddEven(hn::Set(d, in.y[k]), ones);  // lane 1: y, lane 0: 1
    hn::StoreU(hn::Add(hn::LoadU(d, slot), pair), d, slot);
  };
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    add(i);
    add(i + 1);
    add(i + 2);
    add(i + 3);
  }
  for (; i < n; ++i) add(i);
#endif
}

// The histogram pass over x in chunks: into acc (kCopies interleaved copies of {count, sum} per
// bin) when acc is given, and each value's bin into bins when given. Returns false when some
// value is outside [lo, hi] (NaN included).
bool HistogramPass(const Grid& g, const float* x, std::size_t size, double shift, double* acc,
                   std::uint32_t* bins) {
  const auto prepared = std::make_unique<Prepared>();
  bool contained = true;
  for (std::size_t base = 0; base < size; base += kChunk) {
    const std::size_t n = std::min(kChunk, size - base);
#if HWY_TARGET == HWY_SCALAR
    contained &= prepare_scalar(g, x + base, n, 0, shift, prepared->slot, prepared->y);
#else
    // The vector kernel corrects an estimate by at most one bin: enough where the error bound of
    // safe_margin holds (< 1/8 bin); on grids a few ulps wide it does not, and the scalar loops
    // walk to the exact bin.
    if (g.m <= kMaxVectorBins && g.safe_margin < 1.0f)
      contained &= prepare_vector(g, x + base, n, shift, *prepared);
    else
      contained &= prepare_scalar(g, x + base, n, 0, shift, prepared->slot, prepared->y);
#endif
    if (acc != nullptr) accumulate(acc, *prepared, n);
    if (bins != nullptr)
      for (std::size_t i = 0; i < n; ++i) bins[base + i] = prepared->slot[i] / 2 % (g.m + 1);
  }
  return contained;
}

}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <atomic>

#include "dme/core/parallel.h"
#include "dme/core/simd.h"

namespace dme::detail {

HWY_EXPORT(MeanChains);
HWY_EXPORT(HistogramPass);

namespace {
// grid_statistics' segments: long enough that adding their tables (kCopies·(m + 1)·2 doubles)
// costs little next to binning them, and a wave of them in flight at once.
constexpr std::size_t kSegment = std::size_t(1) << 18;
constexpr std::size_t kSegmentWave = 8;
}  // namespace

double compensated_mean(std::span<const float> x) {
  if (x.empty()) return 0.0;
  simd_init();
  double sums[kMeanChains] = {}, comps[kMeanChains] = {};
  std::size_t i = HWY_DYNAMIC_DISPATCH(MeanChains)(x.data(), x.size(), sums, comps);
  CompensatedSum total;
  for (double v : sums) total.add(v);
  for (double v : comps) total.add(v);
  for (; i < x.size(); ++i) total.add(x[i]);
  return total.value() / static_cast<double>(x.size());
}

std::vector<float> grid_levels(float lo, float hi, std::size_t m) {
  const Grid grid = make_grid(lo, hi, m);
  std::vector<float> level(m + 1);
  for (std::size_t t = 0; t <= m; ++t) level[t] = grid.level(t);
  return level;
}

std::vector<std::uint32_t> grid_bins(std::span<const float> x, float lo, float hi, std::size_t m) {
  const Grid grid = make_grid(lo, hi, m);
  std::vector<std::uint32_t> bins(x.size());
  simd_init();
  HWY_DYNAMIC_DISPATCH(HistogramPass)(grid, x.data(), x.size(), 0.0, nullptr, bins.data());
  return bins;
}

GridStatistics grid_statistics(std::span<const float> x, float lo, float hi, std::size_t m) {
  const Grid grid = make_grid(lo, hi, m);
  GridStatistics g;
  g.level.resize(m + 1);
  for (std::size_t t = 0; t <= m; ++t) g.level[t] = grid.level(t);
  g.shift = 0.5 * (static_cast<double>(lo) + hi);
  // Count and centred sum of each bin side by side, so one 128-bit add updates both.
  const std::size_t bins = m + 1;
  const std::size_t width = kCopies * bins * 2;
  std::vector<double> acc(width, 0.0);
  simd_init();
  // Segments of kSegment values, each into its own zeroed table, added to acc in segment
  // order: the same sums for every thread count (dme/core/parallel.h). A wave of segments runs
  // in parallel; one segment goes straight into acc, and so do all values on grids too fine for
  // a table per segment to be cheap (a rule of m and d only, not of the thread count).
  const std::size_t segments =
      width <= kSegment / 8 ? (x.size() + kSegment - 1) / kSegment : 1;
  if (segments <= 1) {
    g.contained = HWY_DYNAMIC_DISPATCH(HistogramPass)(grid, x.data(), x.size(), g.shift,
                                                      acc.data(), nullptr);
  } else {
    const std::size_t wave = std::max<std::size_t>(kSegmentWave, current_threads());
    std::vector<double> tables(std::min(wave, segments) * width);
    std::atomic<bool> outside{false};
    for (std::size_t first = 0; first < segments; first += wave) {
      const std::size_t count = std::min(wave, segments - first);
      parallel_for(count, [&](std::size_t j, unsigned) {
        const std::size_t begin = (first + j) * kSegment;
        const std::size_t n = std::min(kSegment, x.size() - begin);
        double* table = tables.data() + j * width;
        std::fill_n(table, width, 0.0);
        if (!HWY_DYNAMIC_DISPATCH(HistogramPass)(grid, x.data() + begin, n, g.shift, table,
                                                 nullptr))
          outside.store(true, std::memory_order_relaxed);
      });
      for (std::size_t j = 0; j < count; ++j)
        for (std::size_t e = 0; e < width; ++e) acc[e] += tables[j * width + e];
    }
    g.contained = !outside.load();
  }
  g.points.resize(bins);
  double alpha = 0;
  CompensatedSum beta;
  for (std::size_t t = 0; t < bins; ++t) {
    const double before = alpha;
    for (std::size_t c = 0; c < kCopies; ++c) {
      alpha += acc[2 * (c * bins + t)];
      beta.add(acc[2 * (c * bins + t) + 1]);
    }
    if (alpha != before) note_nonempty_bin(g.bordering, static_cast<std::uint32_t>(t));
    const double v = static_cast<double>(g.level[t]) - g.shift;
    g.points[t] = {v, alpha * v - beta.value()};
  }
  return g;
}

}  // namespace dme::detail
#endif  // HWY_ONCE
