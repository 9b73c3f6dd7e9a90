// The FWHT's in-register building blocks, per SIMD target: lane bits and sign flips from the
// masks, the butterfly (an add, or a multiply-add by ±1 where exact), the networks of up to three
// levels across vectors, the levels inside one vector (lane swaps or table lookups), and the
// butterfly passes over memory with their fused epilogue. Included by rotation/fwht.cpp only, after
// its target-independent part (ExtremaAcc, the tuning constants).
//
// Per-target header: include it after <hwy/highway.h> inside a foreach_target translation unit.
#if defined(DME_ROTATION_DETAIL_FWHT_KERNELS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DME_ROTATION_DETAIL_FWHT_KERNELS_INL_H_
#undef DME_ROTATION_DETAIL_FWHT_KERNELS_INL_H_
#else
#define DME_ROTATION_DETAIL_FWHT_KERNELS_INL_H_
#endif

#include <hwy/highway.h>

#include <cstddef>
#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace {

// Lane i's bit of a sign mask word: 1 << i (1 << (i mod 32) for 32-bit lanes, where scalable
// vectors can hold more than 32; flip_signs then reads the word's upper half for those lanes).
// From a table: variable shifts are not portable across targets in this Highway version.
template <class U>
struct LaneBitTable {
  static constexpr std::size_t kMax = 64;  // lanes of a 2048-bit vector of 32-bit numbers
  alignas(64) U bit[kMax];
  constexpr LaneBitTable() : bit() {
    for (std::size_t i = 0; i < kMax; ++i) bit[i] = U(1) << (i % (sizeof(U) * 8));
  }
};
template <class U>
constexpr LaneBitTable<U> kLaneBits{};

template <class DU>
HWY_INLINE hn::Vec<DU> lane_bits(DU du) {
  return hn::Load(du, kLaneBits<hn::TFromD<DU>>.bit);
}

// The sign bits of a vector of N lanes (N <= 8) for each value of its N mask bits: entry b, lane
// i holds the sign mask where bit i of b is set, 0 elsewhere (2^N entries: 8 KiB for AVX2's eight
// floats, 512 bytes for its four doubles, 256 or 64 bytes for SSE4's four floats or two doubles).
template <class U, std::size_t N>
struct SignExpansionTable {
  alignas(64) U lanes[std::size_t{1} << N][N];
  constexpr SignExpansionTable() : lanes() {
    for (std::size_t b = 0; b < (std::size_t{1} << N); ++b)
      for (std::size_t i = 0; i < N; ++i)
        lanes[b][i] = ((b >> i) & 1) ? U(U(1) << (sizeof(U) * 8 - 1)) : U(0);
  }
};
template <class U, std::size_t N>
constexpr SignExpansionTable<U, N> kSignExpansion{};

// Whether flip_signs reads the sign bits from the table above: x86 targets below AVX-512, where
// expanding mask bits to lanes takes a broadcast, an AND, a compare and another AND per vector
// (AVX2, d = 2^15: one RHT 13.8 µs against 10.5 for the bare FWHT), and the table one load.
// AVX-512 tests the bits into a mask register instead; other targets keep the lane-bit test.
#if HWY_ARCH_X86 && HWY_TARGET > HWY_AVX3 && HWY_TARGET != HWY_SCALAR && !HWY_HAVE_SCALABLE
template <class D>
constexpr bool kSignTable = hn::MaxLanes(D()) <= 8;
#else
template <class D>
constexpr bool kSignTable = false;
#endif

// v with the sign of lane i flipped where bit g + i of the mask is set. g is a multiple of the
// lane count (at most 64), so every lane's bit is in the word of bit g.
template <class D>
HWY_INLINE hn::Vec<D> flip_signs(D d, hn::Vec<D> v, const std::uint64_t* mask, std::size_t g,
                                 hn::Vec<hn::RebindToUnsigned<D>> lane_bit) {
  const hn::RebindToUnsigned<D> du;
  using U = hn::TFromD<decltype(du)>;
  const std::uint64_t word = mask[g >> 6] >> (g & 63);
  if constexpr (kSignTable<D>) {
    (void)lane_bit;
    constexpr std::size_t N = hn::MaxLanes(D());
    const std::size_t bits = static_cast<std::size_t>(word) & ((std::size_t{1} << N) - 1);
    return hn::Xor(v, hn::BitCast(d, hn::Load(du, kSignExpansion<U, N>.lanes[bits])));
  } else {
    auto bits = hn::Set(du, static_cast<U>(word));
#if HWY_HAVE_SCALABLE
    if constexpr (sizeof(U) == 4)
      bits = hn::IfThenElse(hn::Lt(hn::Iota(du, 0), hn::Set(du, U(32))), bits,
                            hn::Set(du, static_cast<U>(word >> 32)));
#endif
    const auto sign = hn::Set(du, hwy::SignMask<hn::TFromD<D>>());
    return hn::Xor(v, hn::BitCast(d, hn::IfThenElseZero(hn::TestBit(bits, lane_bit), sign)));
  }
}

// On x86 with FMA, a level inside a vector is one fused multiply-add by ±1, exact like the sign
// flip and add it replaces (the product by ±1 is exact and the sum is rounded once), and it runs
// on the multiply pipes: AMD Zen cores add on only two of their four FP pipes (Zen 4, d = 2^16:
// 23.9 -> 21.1 µs on AVX-512, 22.3 -> 21.1 µs on AVX2). The butterflies' subtracts go the same
// way (a - b·1, the same bits as a - b, signed zeros included), so a radix-8 pass splits its adds
// over all four pipes: on Zen 4 that gained little (AVX2 21.1 -> 20.5 µs, AVX-512 21.1 -> 21.7),
// on a Zen 5 (AMD EPYC family 26 model 2), whose two add pipes bound the pass, a bare radix-8
// pass over L1 went from 1.47 to 1.0 cycles per AVX2 vector and the FWHT of 2^16 from 17.4 to
// 16.0 µs on AVX2, 9.97 to 9.6 µs on AVX-512.
constexpr bool kFmaLevels = HWY_ARCH_X86 && HWY_NATIVE_FMA;

// One butterfly: (a, b) <- (a + b, a - b).
template <class V>
HWY_INLINE void bfly(V& a, V& b) {
  const V t = a;
  a = hn::Add(t, b);
  if constexpr (kFmaLevels)
    b = hn::NegMulAdd(b, hn::Set(hn::DFromV<V>(), hn::TFromV<V>(1)), t);  // t - b·1
  else
    b = hn::Sub(t, b);
}

// The same on plain numbers (the one-lane target's loops, below).
HWY_INLINE void bfly(float& a, float& b) {
  const float t = a;
  a = t + b;
  b = t - b;
}
HWY_INLINE void bfly(double& a, double& b) {
  const double t = a;
  a = t + b;
  b = t - b;
}

// kLog (0..3) levels over the 2^kLog vectors v0.. (strides 1, 2, 4 between vectors), in level
// order; the unused vectors are left alone.
template <int kLog, class V>
HWY_INLINE void network(V& v0, V& v1, V& v2, V& v3, V& v4, V& v5, V& v6, V& v7) {
  if constexpr (kLog >= 1) {
    bfly(v0, v1);
    if constexpr (kLog >= 2) {
      bfly(v2, v3);
      if constexpr (kLog >= 3) {
        bfly(v4, v5);
        bfly(v6, v7);
      }
    }
  }
  if constexpr (kLog >= 2) {
    bfly(v0, v2);
    bfly(v1, v3);
    if constexpr (kLog >= 3) {
      bfly(v4, v6);
      bfly(v5, v7);
    }
  }
  if constexpr (kLog >= 3) {
    bfly(v0, v4);
    bfly(v1, v5);
    bfly(v2, v6);
    bfly(v3, v7);
  }
}

// ---- the levels inside one vector --------------------------------------------------------------
// Level H (lane i with lane i ^ H): lane i gets v[i] + v[i^H] when bit H of i is clear, v[i^H] -
// v[i] when it is set: flip the sign bit of those lanes, then one add (rounds exactly like the add
// or subtract), or one multiply-add by ±1 where kFmaLevels.
#if !HWY_HAVE_SCALABLE
// Lane i exchanged with lane i ^ H: in-block shuffles for 4 and 8 bytes, a half swap or a
// permute across 128-bit blocks beyond.
template <std::size_t H, class D>
HWY_INLINE hn::Vec<D> swap_lanes(D d, hn::Vec<D> v) {
#if HWY_TARGET == HWY_SCALAR
  (void)d;
  return v;  // one lane: there is no level inside a vector
#else
  using T = hn::TFromD<D>;
  constexpr std::size_t kBytes = H * sizeof(T);
  constexpr std::size_t kVecBytes = hn::MaxLanes(D()) * sizeof(T);
  if constexpr (kBytes == 4) {
    return hn::Shuffle2301(v);
  } else if constexpr (kBytes == 8) {
    if constexpr (sizeof(T) == 4)
      return hn::Shuffle1032(v);
    else
      return hn::Shuffle01(v);
  } else if constexpr (2 * kBytes == kVecBytes) {
    return hn::ConcatLowerUpper(d, v, v);  // the two halves exchanged
  } else {
    // 128-bit blocks inside a 512-bit vector
    const hn::RebindToSigned<D> di;
    using I = hn::TFromD<decltype(di)>;
    return hn::TableLookupLanes(v,
                                hn::IndicesFromVec(d, hn::Xor(hn::Iota(di, 0), hn::Set(di, I(H)))));
  }
#endif
}

template <std::size_t H, class D>
HWY_INLINE hn::Vec<D> levels_in_register_from(D d, hn::Vec<D> v) {
  if constexpr (H >= hn::MaxLanes(D())) {
    return v;
  } else {
    const hn::RebindToUnsigned<D> du;
    using U = hn::TFromD<decltype(du)>;
    const auto sign = hn::Set(du, hwy::SignMask<hn::TFromD<D>>());
    const auto flip =
        hn::BitCast(d, hn::IfThenElseZero(hn::TestBit(hn::Iota(du, 0), hn::Set(du, U(H))), sign));
    if constexpr (kFmaLevels)  // v·(±1) + swapped
      v = hn::MulAdd(hn::Xor(hn::Set(d, hn::TFromD<D>(1)), flip), v, swap_lanes<H>(d, v));
    else
      v = hn::Add(hn::Xor(v, flip), swap_lanes<H>(d, v));
    return levels_in_register_from<2 * H>(d, v);
  }
}

template <class D>
HWY_INLINE hn::Vec<D> all_levels_in_register(D d, hn::Vec<D> v) {
  return levels_in_register_from<1>(d, v);
}
#else
// Scalable vectors: the lane count is known at run time only, so every level is a table lookup.
template <class D>
HWY_INLINE hn::Vec<D> all_levels_in_register(D d, hn::Vec<D> v) {
  const hn::RebindToUnsigned<D> du;
  const hn::RebindToSigned<D> di;
  using U = hn::TFromD<decltype(du)>;
  using I = hn::TFromD<decltype(di)>;
  const auto sign = hn::Set(du, hwy::SignMask<hn::TFromD<D>>());
  for (std::size_t h = 1; h < hn::Lanes(d); h <<= 1) {
    const auto flip =
        hn::BitCast(d, hn::IfThenElseZero(hn::TestBit(hn::Iota(du, 0), hn::Set(du, U(h))), sign));
    const auto swapped =
        hn::TableLookupLanes(v, hn::IndicesFromVec(d, hn::Xor(hn::Iota(di, 0), hn::Set(di, I(h)))));
    v = hn::Add(hn::Xor(v, flip), swapped);
  }
  return v;
}
#endif

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
};

// L (1..3) butterfly levels with strides h, 2h, 4h on the 2^L vectors p + m*h + k, for every
// k in [0, count) in steps of one vector. prefetch: when non-zero, also fetches the elements
// that far on. With kEpi, epi is applied to every vector as it is stored (the last pass of a
// sweep).
template <int L, bool kEpi, class D, class T = hn::TFromD<D>>
HWY_NOINLINE void butterflies(D d, T* HWY_RESTRICT p, std::size_t h, std::size_t count,
                              std::ptrdiff_t prefetch, const Epilogue<T>* epi) {
  using V = hn::Vec<D>;
  const hn::RebindToUnsigned<D> du;
  const std::size_t N = hn::Lanes(d);
  T* const p0 = p;
  T* const p1 = p + h;
  T* const p2 = p + 2 * h;
  T* const p3 = p + 3 * h;
  T* const p4 = p + 4 * h;
  T* const p5 = p + 5 * h;
  T* const p6 = p + 6 * h;
  T* const p7 = p + 7 * h;
  // Epilogue constants; extremes are kept in registers here (stores through p could alias acc).
  const V scale = hn::Set(d, kEpi ? epi->scale : T(1));
  const auto lane_bit = lane_bits(du);
  const std::uint64_t* const signs = kEpi ? epi->signs : nullptr;
  const bool track = kEpi && epi->acc;
  V lo = hn::Set(d, std::numeric_limits<T>::infinity());
  V hi = hn::Set(d, -std::numeric_limits<T>::infinity());
  const std::size_t origin = kEpi ? static_cast<std::size_t>(p - epi->origin) : 0;
#if HWY_TARGET == HWY_SCALAR && defined(__GNUC__) && !defined(__clang__)
  // One lane per vector: without the epilogue and the prefetches this is a plain loop over
  // numbers, which GCC vectorises for the build's baseline ISA (SSE2 on x86-64) once told that
  // the 2^L rows do not overlap (Zen 4, 2^20: 4.1 -> 3.7 ms).
  if (!kEpi && !prefetch) {
#pragma GCC ivdep
    for (std::size_t k = 0; k < count; ++k) {
      T a0 = p0[k], a1 = p1[k], a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
      if constexpr (L >= 2) {
        a2 = p2[k];
        a3 = p3[k];
      }
      if constexpr (L >= 3) {
        a4 = p4[k];
        a5 = p5[k];
        a6 = p6[k];
        a7 = p7[k];
      }
      network<L>(a0, a1, a2, a3, a4, a5, a6, a7);
      p0[k] = a0;
      p1[k] = a1;
      if constexpr (L >= 2) {
        p2[k] = a2;
        p3[k] = a3;
      }
      if constexpr (L >= 3) {
        p4[k] = a4;
        p5[k] = a5;
        p6[k] = a6;
        p7[k] = a7;
      }
    }
    return;
  }
#endif
  for (std::size_t k = 0; k < count; k += N) {
    V v0 = hn::LoadU(d, p0 + k), v1 = hn::LoadU(d, p1 + k), v2 = v0, v3 = v0, v4 = v0, v5 = v0,
      v6 = v0, v7 = v0;
    if constexpr (L >= 2) {
      v2 = hn::LoadU(d, p2 + k);
      v3 = hn::LoadU(d, p3 + k);
    }
    if constexpr (L >= 3) {
      v4 = hn::LoadU(d, p4 + k);
      v5 = hn::LoadU(d, p5 + k);
      v6 = hn::LoadU(d, p6 + k);
      v7 = hn::LoadU(d, p7 + k);
    }
    if (prefetch && (k * sizeof(T)) % 64 == 0)
      for (int m = 0; m < (1 << L); ++m) __builtin_prefetch(p + m * h + k + prefetch, 1, 2);
    network<L>(v0, v1, v2, v3, v4, v5, v6, v7);
    if constexpr (kEpi) {
      v0 = hn::Mul(v0, scale);
      v1 = hn::Mul(v1, scale);
      if constexpr (L >= 2) {
        v2 = hn::Mul(v2, scale);
        v3 = hn::Mul(v3, scale);
      }
      if constexpr (L >= 3) {
        v4 = hn::Mul(v4, scale);
        v5 = hn::Mul(v5, scale);
        v6 = hn::Mul(v6, scale);
        v7 = hn::Mul(v7, scale);
      }
      if (signs) {
        const std::size_t g = origin + k;
        v0 = flip_signs(d, v0, signs, g, lane_bit);
        v1 = flip_signs(d, v1, signs, g + h, lane_bit);
        if constexpr (L >= 2) {
          v2 = flip_signs(d, v2, signs, g + 2 * h, lane_bit);
          v3 = flip_signs(d, v3, signs, g + 3 * h, lane_bit);
        }
        if constexpr (L >= 3) {
          v4 = flip_signs(d, v4, signs, g + 4 * h, lane_bit);
          v5 = flip_signs(d, v5, signs, g + 5 * h, lane_bit);
          v6 = flip_signs(d, v6, signs, g + 6 * h, lane_bit);
          v7 = flip_signs(d, v7, signs, g + 7 * h, lane_bit);
        }
      }
      if (track) {  // the extremes of the 2^L vectors by a tree, then into the running ones
        V a = hn::Min(v1, v0), b = hn::Max(v1, v0);
        if constexpr (L >= 2) {
          a = hn::Min(a, hn::Min(v3, v2));
          b = hn::Max(b, hn::Max(v3, v2));
        }
        if constexpr (L >= 3) {
          a = hn::Min(a, hn::Min(hn::Min(v5, v4), hn::Min(v7, v6)));
          b = hn::Max(b, hn::Max(hn::Max(v5, v4), hn::Max(v7, v6)));
        }
        lo = hn::Min(a, lo);
        hi = hn::Max(b, hi);
      }
    }
    hn::StoreU(v0, d, p0 + k);
    hn::StoreU(v1, d, p1 + k);
    if constexpr (L >= 2) {
      hn::StoreU(v2, d, p2 + k);
      hn::StoreU(v3, d, p3 + k);
    }
    if constexpr (L >= 3) {
      hn::StoreU(v4, d, p4 + k);
      hn::StoreU(v5, d, p5 + k);
      hn::StoreU(v6, d, p6 + k);
      hn::StoreU(v7, d, p7 + k);
    }
  }
  if (track) epi->acc->add(hn::GetLane(hn::MinOfLanes(d, lo)), hn::GetLane(hn::MaxOfLanes(d, hi)));
}

}  // namespace
}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // DME_ROTATION_DETAIL_FWHT_KERNELS_INL_H_
