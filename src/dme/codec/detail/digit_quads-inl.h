// The digits of mixed-radix words whose groups hold four digits (RadixTable: s = 9 .. 13 at
// k = 17 .. 20), in word order without transposes, per SIMD target of fixed vector size: the
// grouped kernel of mixed_radix.cpp hands over each batch's two parts per word.
//
// Per-target header: include it after <hwy/highway.h> inside a foreach_target translation unit.
#if defined(DME_CODEC_DETAIL_DIGIT_QUADS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DME_CODEC_DETAIL_DIGIT_QUADS_INL_H_
#undef DME_CODEC_DETAIL_DIGIT_QUADS_INL_H_
#else
#define DME_CODEC_DETAIL_DIGIT_QUADS_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "dme/codec/detail/mixed_radix.h"

HWY_BEFORE_NAMESPACE();
namespace dme::detail::codec::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace {

#if HWY_TARGET != HWY_SCALAR && !HWY_HAVE_SCALABLE
// Groups of four digits (s = 9 .. 13 at k = 17 .. 20 digits per word: five groups, the last
// holding k - 16, and a first cut after two) need neither the table nor the digit rows'
// transposes. Of each word's part lo, one peel gives q = group 1 and the remainder group 0, and
// lo + q·(2^16 - s^4) is the pair g0 + 2^16·g1 (an integer below 2^31: one exact fused
// multiply-add); of hi, two peels give q, q2 = group 4 and, by two more fused multiply-adds,
// g2 + 2^16·g3 = hi + q·(2^16 - s^4) - q2·2^16·s^4 (integers below 2^53 all the way, products
// included, so that they are exact without a fused multiply-add as well: SSE4). The low 32
// bits of R + pair are the pair, so two vectors of words become one of 32-bit lanes (the even
// halves), whose 16-bit lanes are groups: three divisions by s (multiply-high and shift, as in
// the rows) give
// their digits, and interleaving them (16-bit, then 32-bit lanes) leaves, in each 128-bit block,
// the 8 digits of lanes 2i and 2i + 1 (one word's pair) in vector e[i]: a word's 16 digits are
// the same block of the pairs (g0, g1) and (g2, g3), and its last four are group 4's (paired
// with a zero group). Each word stores 16 digits, then 8 from digit 16, in increasing word
// order: what lands past its k digits is the next word's to overwrite.
// 16 lanes (AVX2; quad_store_wide takes all 32 of AVX-512) or 8 (NEON, SSE4)
using DQ = hn::CappedTag<std::uint16_t, 16>;
constexpr std::size_t kQuadLanes = hn::MaxLanes(DQ());

/// The digits of the groups in the 16-bit lanes of x: e[i] holds, in each 128-bit block, the
/// four digits of lane 2i and then those of lane 2i + 1.
/// kShift: floor(x / s) is MulHigh(x, mul) >> shift, else MulHigh(x, mul) alone
/// (RadixTable::group_mul_high).
template <bool kShift, class D = DQ>
HWY_INLINE void quad_digits(hn::Vec<D> x, hn::Vec<D> mul, hn::Vec<D> radix, int shift,
                            hn::Vec<D> (&e)[4]) {
  const D dq;
  const hn::Repartition<std::uint32_t, D> dq32;
  const auto div = [&](hn::Vec<D> v) {
    return kShift ? hn::ShiftRightSame(hn::MulHigh(v, mul), shift) : hn::MulHigh(v, mul);
  };
  const auto q1 = div(x), q2 = div(q1), q3 = div(q2);  // q3 below s
  const auto d0 = hn::Sub(x, hn::Mul(q1, radix)), d1 = hn::Sub(q1, hn::Mul(q2, radix));
  const auto d2 = hn::Sub(q2, hn::Mul(q3, radix));
  const auto a = hn::BitCast(dq32, hn::InterleaveLower(dq, d0, d1));
  const auto b = hn::BitCast(dq32, hn::InterleaveUpper(dq, d0, d1));
  const auto c = hn::BitCast(dq32, hn::InterleaveLower(dq, d2, q3));
  const auto f = hn::BitCast(dq32, hn::InterleaveUpper(dq, d2, q3));
  e[0] = hn::BitCast(dq, hn::InterleaveLower(dq32, a, c));
  e[1] = hn::BitCast(dq, hn::InterleaveUpper(dq32, a, c));
  e[2] = hn::BitCast(dq, hn::InterleaveLower(dq32, b, f));
  e[3] = hn::BitCast(dq, hn::InterleaveUpper(dq32, b, f));
}

/// The group values of a batch of 4·Lanes(DD) words, a 32-bit lane per word (the low halves of
/// R + value): g0 + 2^16·g1, g2 + 2^16·g3 and g4 of the words of half h in x01[h], x23[h], x4[h].
template <class DD>
struct QuadValues {
  using D32 = hn::Repartition<std::uint32_t, DD>;
  // User-provided, so that it is compiled for the target (GCC gives implicit members none).
  QuadValues() {}
  hn::Vec<D32> x01[2], x23[2], x4[2];
};

/// The QuadValues of the batch whose parts (as in mixed_radix.cpp) are lo and hi.
template <class DD>
HWY_INLINE QuadValues<DD> quad_values(DD dd, const hn::Vec<DD> (&lo)[4],
                                      const hn::Vec<DD> (&hi)[4], const RadixTable& t) {
  const typename QuadValues<DD>::D32 d32;
  const auto inv = hn::Set(dd, t.split_inv[1]), half = hn::Set(dd, t.split_half[1]);
  const auto round = hn::Set(dd, 0x1.8p52), shifted = hn::Set(dd, 0x1p16 - t.split_pow[1]);
  const auto scaled = hn::Set(dd, 0x1p16 * t.split_pow[1]);
  hn::Vec<decltype(d32)> pair01[4], pair23[4], last[4];  // one word per 64-bit lane
  for (std::size_t i = 0; i < 4; ++i) {
    const auto q = hn::Floor(hn::MulAdd(lo[i], inv, half));
    pair01[i] = hn::BitCast(d32, hn::Add(hn::MulAdd(q, shifted, lo[i]), round));
    const auto r = hn::Floor(hn::MulAdd(hi[i], inv, half));
    const auto r2 = hn::Floor(hn::MulAdd(r, inv, half));
    pair23[i] =
        hn::BitCast(d32, hn::Add(hn::NegMulAdd(r2, scaled, hn::MulAdd(r, shifted, hi[i])), round));
    last[i] = hn::BitCast(d32, hn::Add(r2, round));
  }
  QuadValues<DD> v;
  for (std::size_t h = 0; h < 2; ++h) {
    v.x01[h] = hn::ConcatEven(d32, pair01[2 * h + 1], pair01[2 * h]);
    v.x23[h] = hn::ConcatEven(d32, pair23[2 * h + 1], pair23[2 * h]);
    v.x4[h] = hn::ConcatEven(d32, last[2 * h + 1], last[2 * h]);
  }
  return v;
}

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
/// quad_store on 512-bit vectors: the digits of a half's 16 words at once (quad_digits over all
/// 32 lanes, not 16 at a time through memory). e01[i] and e23[i] hold, in 128-bit block j, the
/// (g0, g1) and (g2, g3) digits of word 4j + i; one two-source permute per pair of blocks puts
/// block j of each side by side, so a word's 16 digits are one 256-bit half, and its last 8
/// digits are block j of e4[i]. AMD EPYC Zen 5 (family 26 model 2), s = 10, 2^20 codes: unpack
/// 0.085-0.101 -> 0.067-0.070 ms (fixed 4-bit 0.021-0.031), 2^24 1.47-1.50 -> 1.22-1.31 ms.
template <bool kShift, class DD>
HWY_INLINE void quad_store_wide(const QuadValues<DD>& v, const RadixTable& t, std::size_t count,
                                std::uint16_t* out) {
  using DW = hn::Repartition<std::uint16_t, DD>;  // 32 lanes
  const DW dw;
  const hn::Half<DW> dh;
  const auto mul = hn::Set(dw, kShift ? t.group_mul : t.group_mul_high);
  const auto radix = hn::Set(dw, static_cast<std::uint16_t>(t.s));
  const int shift = static_cast<int>(t.group_shift);
  const std::size_t k = t.k;
  // 64-bit lane indices: blocks 0 and 1 of a beside those of b, then blocks 2 and 3.
  const __m512i pick_lo = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
  const __m512i pick_hi = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
  for (std::size_t p = 0; p < 2; ++p) {
    const std::size_t w0 = p * 16;
    if (w0 >= count) return;
    hn::Vec<DW> e01[4], e23[4], e4[4];
    quad_digits<kShift, DW>(hn::BitCast(dw, v.x01[p]), mul, radix, shift, e01);
    quad_digits<kShift, DW>(hn::BitCast(dw, v.x23[p]), mul, radix, shift, e23);
    quad_digits<kShift, DW>(hn::BitCast(dw, v.x4[p]), mul, radix, shift, e4);
    hn::Vec<DW> pair[2][4];  // pair[j / 2][i]: words 4j + i for j = 0, 1 (2, 3) in its halves
    for (std::size_t i = 0; i < 4; ++i) {
      pair[0][i] = hn::Vec<DW>{_mm512_permutex2var_epi64(e01[i].raw, pick_lo, e23[i].raw)};
      pair[1][i] = hn::Vec<DW>{_mm512_permutex2var_epi64(e01[i].raw, pick_hi, e23[i].raw)};
    }
    // Word 4j + i, in increasing order (each word's stores run past its k digits onto the next
    // word's, which overwrites them).
    const std::size_t n = std::min<std::size_t>(16, count - w0);
    const auto block = [&]<int J>() {
      for (std::size_t i = 0; i < 4 && 4 * J + i < n; ++i) {
        std::uint16_t* at = out + (w0 + 4 * J + i) * k;
        const auto& both = pair[J / 2][i];
        if constexpr (J % 2)
          hn::StoreU(hn::UpperHalf(dh, both), dh, at);
        else
          hn::StoreU(hn::LowerHalf(dh, both), dh, at);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(at + 16),
                         _mm512_extracti32x4_epi32(e4[i].raw, J));
      }
    };
    block.template operator()<0>();
    block.template operator()<1>();
    block.template operator()<2>();
    block.template operator()<3>();
  }
}
#endif

/// quad_store where half a batch is one vector of DQ (16 lanes on AVX2, 8 on 128-bit targets).
template <bool kShift, class DD>
HWY_INLINE void quad_store_halves(const QuadValues<DD>& v, const RadixTable& t, std::size_t count,
                                  std::uint16_t* out) {
  const DQ dq;
  const auto mul = hn::Set(dq, kShift ? t.group_mul : t.group_mul_high);
  const auto radix = hn::Set(dq, static_cast<std::uint16_t>(t.s));
  const int shift = static_cast<int>(t.group_shift);
  constexpr std::size_t kStep = kQuadLanes / 2;  // words per half
  const std::size_t k = t.k;
  for (std::size_t p = 0; p < 2; ++p) {
    const std::size_t w = p * kStep;
    if (w >= count) return;
    hn::Vec<DQ> e01[4], e23[4], e4[4];
    quad_digits<kShift>(hn::BitCast(dq, v.x01[p]), mul, radix, shift, e01);
    quad_digits<kShift>(hn::BitCast(dq, v.x23[p]), mul, radix, shift, e23);
    quad_digits<kShift>(hn::BitCast(dq, v.x4[p]), mul, radix, shift, e4);
    for (std::size_t i = 0; i < std::min(kStep, count - w); ++i) {
      std::uint16_t* at = out + (w + i) * k;
      const hn::Half<DQ> dh;
      if constexpr (kQuadLanes == 16) {
        const auto& a = e01[i % 4];
        const auto& b = e23[i % 4];
        if (i < 4) {
          hn::StoreU(hn::ConcatLowerLower(dq, b, a), dq, at);
          hn::StoreU(hn::LowerHalf(dh, e4[i % 4]), dh, at + 16);
        } else {
          hn::StoreU(hn::ConcatUpperUpper(dq, b, a), dq, at);
          hn::StoreU(hn::UpperHalf(dh, e4[i % 4]), dh, at + 16);
        }
      } else {
        hn::StoreU(e01[i], dq, at);
        hn::StoreU(e23[i], dq, at + 8);
        hn::StoreU(e4[i], dq, at + 16);
      }
    }
  }
}

/// The digits of words [0, count) of the batch of values v, from out in word order (writing 24
/// digits per word).
template <class DD>
HWY_INLINE void quad_store(const QuadValues<DD>& v, const RadixTable& t, std::size_t count,
                           std::uint16_t* out) {
  const auto store = [&]<bool kShift>() {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
    if constexpr (hn::MaxLanes(hn::Repartition<std::uint16_t, DD>()) > kQuadLanes)
      quad_store_wide<kShift>(v, t, count, out);
    else
#endif
      quad_store_halves<kShift>(v, t, count, out);
  };
  if (t.group_mul_high)
    store.template operator()<false>();
  else
    store.template operator()<true>();
}

#endif  // HWY_TARGET != HWY_SCALAR && !HWY_HAVE_SCALABLE

}  // namespace
}  // namespace dme::detail::codec::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // DME_CODEC_DETAIL_DIGIT_QUADS_INL_H_
