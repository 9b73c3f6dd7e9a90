// Mixed-radix packing (mixed_radix.h), one Highway source for the SIMD targets of fixed vector
// size (SSE4, AVX2, AVX-512, NEON), chosen at run time (dme/core/simd.h); the scalar target,
// scalable vectors (SVE) and layouts without 16-bit groups (RadixTable::grouped) use
// pack_radix_scalar. Every kernel writes the same words: each is an exact integer.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/codec/detail/mixed_radix_pack.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#ifndef DME_CODEC_MIXED_RADIX_PACK_ONCE
#define DME_CODEC_MIXED_RADIX_PACK_ONCE
#include <algorithm>
#include <bit>
#include <cstring>

#include "dme/codec/detail/mixed_radix.h"
#endif  // DME_CODEC_MIXED_RADIX_PACK_ONCE

// Blocks of 8 digits and their 8×8 transposes (per target).
#include "dme/codec/detail/digit_blocks-inl.h"

HWY_BEFORE_NAMESPACE();
namespace dme::detail::codec::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR || HWY_HAVE_SCALABLE
void PackRadix(const std::uint16_t* digits, std::size_t n, const RadixTable& t, std::byte* out) {
  pack_radix_scalar(digits, n, t, out);
}
#else
namespace {

// The grouped unpacking kernel's inverse (RadixTable::grouped: s^p <= 2^15 with p digits per
// group), a lane per word of a batch of kBatch words: the digit rows come from transposing
// 8×8 blocks of the words' digits; a group's value, below 2^15, from Horner's rule in 16-bit
// lanes; the word's parts lo = Σ_{g < m} G_g·P^g and hi = Σ_{g >= m} G_g·P^(g - m) (P = s^p,
// m = first_cut), both below 2^40, by Horner's rule in lanes of doubles, where every product
// and sum is an integer below 2^53 and so exact (fused or not); and v = lo + hi·C,
// C = s^(p·m) < 2^40, in 64-bit lanes modulo 2^64 from 32-bit products (v < 2^64: exact).
using D16 = hn::ScalableTag<std::uint16_t>;
using D32 = hn::Repartition<std::uint32_t, D16>;
using DI32 = hn::Repartition<std::int32_t, D16>;
using D64 = hn::Repartition<std::uint64_t, D16>;
using DD = hn::Repartition<double, D16>;
constexpr std::size_t kBatch = hn::MaxLanes(D16());
constexpr std::size_t kQuarter = kBatch / 4;  // the words in a vector of doubles

/// The four quarters of x (u16 lanes, word order) as doubles.
HWY_INLINE void to_doubles(hn::Vec<D16> x, hn::Vec<DD> (&out)[4]) {
  const hn::Half<D16> dh16;
  const DI32 di32;
  const hn::Half<DI32> dh32;
  const DD dd;
  const hn::Vec<DI32> half[2] = {hn::PromoteTo(di32, hn::LowerHalf(dh16, x)),
                                 hn::PromoteTo(di32, hn::UpperHalf(dh16, x))};
  for (std::size_t i = 0; i < 2; ++i) {
    out[2 * i] = hn::PromoteTo(dd, hn::LowerHalf(dh32, half[i]));
    out[2 * i + 1] = hn::PromoteTo(dd, hn::UpperHalf(dh32, half[i]));
  }
}

/// x < 2^52 (an integer as a double) in a 64-bit lane.
HWY_INLINE hn::Vec<D64> to_u64(hn::Vec<DD> x) {
  const DD dd;
  const D64 d64;
  const auto two52 = hn::Set(dd, 0x1p52);
  return hn::And(hn::BitCast(d64, hn::Add(x, two52)), hn::Set(d64, (std::uint64_t(1) << 52) - 1));
}

/// kBatch words from the digits at in (every digit of every word, and up to 7 past the last,
/// readable).
HWY_INLINE void pack_batch(const std::uint16_t* in, const RadixTable& t,
                           std::uint16_t (*rows)[kBatch], std::byte* out) {
  const D16 d16;
  const D32 d32;
  const D64 d64;
  const DD dd;
  const std::size_t k = t.k, p = t.group_digits;
  for (std::size_t g8 = 0; g8 < (k + 7) / 8; ++g8) {
    hn::Vec<D16> cols[8], r[8];  // cols[i]: in block b, digits 8·g8.. of word 8·b + i
    for (std::size_t i = 0; i < 8; ++i) cols[i] = load_blocks(d16, in + i * k + 8 * g8, 8 * k);
    transpose_blocks(d16, cols, r);
    for (std::size_t j = 0; j < 8; ++j) hn::Store(r[j], d16, rows[8 * g8 + j]);
  }
  const auto radix = hn::Set(d16, static_cast<std::uint16_t>(t.s));
  const auto pw = hn::Set(dd, t.split_pow[1]);
  hn::Vec<DD> lo[4], hi[4];
  for (std::size_t q = 0; q < 4; ++q) lo[q] = hi[q] = hn::Zero(dd);
  for (std::size_t g = t.groups; g-- > 0;) {  // the top group first: part = part·P + G
    const std::size_t first = g * p, last = std::min<std::size_t>(k, first + p);
    auto value = hn::Load(d16, rows[last - 1]);
    for (std::size_t j = last - 1; j-- > first;)
      value = hn::Add(hn::Mul(value, radix), hn::Load(d16, rows[j]));
    hn::Vec<DD> x[4];
    to_doubles(value, x);
    hn::Vec<DD>(&part)[4] = g >= t.first_cut ? hi : lo;
    for (std::size_t q = 0; q < 4; ++q) part[q] = hn::MulAdd(part[q], pw, x[q]);
  }
  // hi·C mod 2^64 = h0·c0 + ((h0·c1 + h1·c0) mod 2^32)·2^32 with hi = h1·2^32 + h0, C alike.
  const auto c = static_cast<std::uint64_t>(t.split_pow[0]);
  const auto c_even = hn::BitCast(d32, hn::Set(d64, c));
  const auto c_swapped = hn::BitCast(d32, hn::Set(d64, (c << 32) | (c >> 32)));
  for (std::size_t q = 0; q < 4; ++q) {
    const auto h = hn::BitCast(d32, to_u64(hi[q]));
    const auto cross = hn::BitCast(d64, hn::Mul(h, c_swapped));  // h0·c1, h1·c0 (mod 2^32)
    const auto high = hn::ShiftLeft<32>(hn::Add(cross, hn::ShiftRight<32>(cross)));
    const auto v = hn::Add(hn::Add(hn::MulEven(h, c_even), high), to_u64(lo[q]));
    hn::StoreU(v, d64, reinterpret_cast<std::uint64_t*>(out + 8 * q * kQuarter));
  }
}

}  // namespace

void PackRadix(const std::uint16_t* digits, std::size_t n, const RadixTable& t, std::byte* out) {
  const std::size_t k = t.k;
  const std::size_t extent = (k + 7) / 8 * 8;  // digits a batch reads per word
  std::size_t w = 0;
  if (std::endian::native == std::endian::little && t.grouped) {
    HWY_ALIGN std::uint16_t rows[RadixTable::kMaxDigits + 8][kBatch];
    for (; (w + kBatch - 1) * k + extent <= n; w += kBatch)
      pack_batch(digits + w * k, t, rows, out + 8 * w);
  }
  pack_radix_scalar(digits + w * k, n - std::min(n, w * k), t, out + 8 * w);
}
#endif  // HWY_TARGET == HWY_SCALAR || HWY_HAVE_SCALABLE

}  // namespace dme::detail::codec::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dme/core/simd.h"

namespace dme::detail::codec {

HWY_EXPORT(PackRadix);

void pack_radix(const std::uint16_t* digits, std::size_t n, const RadixTable& t, std::byte* out) {
  if (n == 0) return;
  simd_init();
  HWY_DYNAMIC_DISPATCH(PackRadix)(digits, n, t, out);
}

}  // namespace dme::detail::codec
#endif  // HWY_ONCE
