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
using DQ = hn::CappedTag<std::uint16_t, 16>;  // 16 lanes (AVX2, AVX-512) or 8 (NEON)
using DQ32 = hn::Repartition<std::uint32_t, DQ>;
constexpr std::size_t kQuadLanes = hn::MaxLanes(DQ());

/// The digits of the groups in the 16-bit lanes of x: e[i] holds, in each 128-bit block, the
/// four digits of lane 2i and then those of lane 2i + 1.
HWY_INLINE void quad_digits(hn::Vec<DQ> x, hn::Vec<DQ> mul, hn::Vec<DQ> radix, int shift,
                            hn::Vec<DQ> (&e)[4]) {
  const DQ dq;
  const DQ32 dq32;
  const auto q1 = hn::ShiftRightSame(hn::MulHigh(x, mul), shift);
  const auto q2 = hn::ShiftRightSame(hn::MulHigh(q1, mul), shift);
  const auto q3 = hn::ShiftRightSame(hn::MulHigh(q2, mul), shift);  // below s
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

/// The digits of words [0, count) of the batch of values v, from out in word order (writing 24
/// digits per word).
template <class DD>
HWY_INLINE void quad_store(const QuadValues<DD>& v, const RadixTable& t, std::size_t count,
                           std::uint16_t* out) {
  using D16 = hn::Repartition<std::uint16_t, DD>;
  constexpr std::size_t kBatch = hn::MaxLanes(D16());
  const DQ dq;
  const auto mul = hn::Set(dq, t.group_mul), radix = hn::Set(dq, static_cast<std::uint16_t>(t.s));
  const int shift = static_cast<int>(t.group_shift);
  constexpr std::size_t kSteps = hn::MaxLanes(D16()) / kQuadLanes;  // 2 on AVX-512, else 1
  constexpr std::size_t kStep = kQuadLanes / 2;                     // words per step
  // Step h of a half: its words' lanes of x (through memory where the batch's vectors are wider
  // than a step's, AVX-512).
  const DQ32 dq32;
  const hn::Repartition<std::uint32_t, D16> d32;
  HWY_ALIGN std::uint32_t spill[3][kSteps > 1 ? hn::MaxLanes(d32) : 1];
  const auto part = [&](auto x, std::size_t which, std::size_t h) {
    if constexpr (kSteps == 1) {
      return x;
    } else {
      if (h == 0) hn::Store(x, d32, spill[which]);
      return hn::Load(dq32, spill[which] + h * hn::MaxLanes(dq32));
    }
  };
  const std::size_t k = t.k;
  for (std::size_t p = 0; p < 2; ++p) {
    for (std::size_t h = 0; h < kSteps; ++h) {
      const std::size_t w = p * kBatch / 2 + h * kStep;
      if (w >= count) return;
      hn::Vec<DQ> e01[4], e23[4], e4[4];
      quad_digits(hn::BitCast(dq, part(v.x01[p], 0, h)), mul, radix, shift, e01);
      quad_digits(hn::BitCast(dq, part(v.x23[p], 1, h)), mul, radix, shift, e23);
      quad_digits(hn::BitCast(dq, part(v.x4[p], 2, h)), mul, radix, shift, e4);
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
}

#endif  // HWY_TARGET != HWY_SCALAR && !HWY_HAVE_SCALABLE

}  // namespace
}  // namespace dme::detail::codec::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // DME_CODEC_DETAIL_DIGIT_QUADS_INL_H_
