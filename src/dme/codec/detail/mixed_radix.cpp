// Mixed-radix unpacking (the format's tables, packing, range checks and the references are in
// mixed_radix_format.cpp): a scalar kernel (the HWY_SCALAR target) and one Highway source for
// every SIMD target, chosen at run time (dme/core/simd.h). Fixed-size vectors (SSE4, AVX2,
// AVX-512, NEON) take a batch of words with a lane per word: the words split into groups of
// digits (s <= 2^15), whose digits come from arithmetic in word order where groups hold four
// (digit_quads-inl.h), from a table where one is small enough, else from divisions; larger
// radices from division chains. A kernel with a lane per digit of one word
// serves fewer words than a batch and scalable vectors (SVE). Every kernel produces the same
// digits, exactly (the bounds are next to each kernel).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/codec/detail/mixed_radix.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#ifndef DME_CODEC_MIXED_RADIX_ONCE
#define DME_CODEC_MIXED_RADIX_ONCE
#include "dme/codec/detail/mixed_radix.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "dme/codec/detail/endian.h"
#include "dme/core/error.h"

namespace dme::detail::codec {

namespace {

/// The k digits of v (a valid word) to out[0, m), m <= k, by integer division.
inline void word_digits_scalar(std::uint64_t v, const RadixTable& t, unsigned m,
                               std::uint16_t* out) {
  std::uint64_t hi = t.split.divide(v);
  std::uint64_t lo = v - hi * t.low_pow;
  for (unsigned j = 0; j < m; ++j) {
    std::uint64_t& x = j < t.low_digits ? lo : hi;
    const std::uint64_t q = t.digit.divide(x);
    out[j] = static_cast<std::uint16_t>(x - q * t.s);
    x = q;
  }
}

void unpack_radix_scalar(const std::byte* in, std::size_t n, const RadixTable& t,
                         std::uint16_t* digits) {
  for (std::size_t w = 0; w * t.k < n; ++w)
    word_digits_scalar(load_le<std::uint64_t>(in + 8 * w), t,
                       static_cast<unsigned>(std::min<std::size_t>(t.k, n - w * t.k)),
                       digits + w * t.k);
}

}  // namespace
}  // namespace dme::detail::codec
#endif  // DME_CODEC_MIXED_RADIX_ONCE

// Blocks of 8 digits and their 8×8 transposes, and the digits of groups of four (per target).
#include "dme/codec/detail/digit_blocks-inl.h"
#include "dme/codec/detail/digit_quads-inl.h"
#include "dme/codec/detail/group_split-inl.h"

HWY_BEFORE_NAMESPACE();
namespace dme::detail::codec::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR  // one-lane fallback target: integer division
void UnpackRadix(const std::byte* in, std::size_t n, const RadixTable& t, std::uint16_t* digits) {
  if (std::endian::native == std::endian::little && t.group_table != nullptr)
    return unpack_radix_table(in, n, t, digits);
  unpack_radix_scalar(in, n, t, digits);
}
#else
namespace {

// A word v splits (one 64x64 -> 128-bit multiply) into hi = floor(v / s^h) and lo = v - hi·s^h,
// both < s^h < 2^40, and lane j of a vector of doubles computes digit m of its part x as
// q_m - s·q_(m+1) with q_m = floor(x / s^m) (RadixTable holds the constants of each lane).
// Since x is an integer, q_m = floor(y) with y = (x + 0.5) / s^m, which lies at least 0.5 / s^m
// from every integer. The kernel computes y - 1/2 as fl(x·fl(1 / s^m) + fl(fl(1 / s^m) / 2 - 1/2))
// and rounds it to the nearest integer, which is floor(y): the computed value is off by less than
// 2^-13 / s^m for the rounding of 1 / s^m (x + 1/2 < 2^40), 2^-54 for the constant's, and
// 2^-12 / s^m + 2^-53 for at most two roundings of a result below 2^40 / s^m + 1/2 (one with a
// fused multiply-add), under 0.5 / s^m in all because s^m < 2^40. Adding R = 1.5·2^52 rounds it
// (IEEE round-to-nearest; this file must not be built with -ffast-math, which would fold the
// constant away) and leaves R + q_m, exact. q_(m+1) = floor(fl(x·fl(1 / s^(m+1)) + half of it)) by
// the same bounds, and R + q_m - s·q_(m+1) = R + digit is exact (integers below 2^53), so the digit
// is the low 16 bits of its bit pattern. Lanes >= k have zero constants: digit 0. The lanes are
// independent, so a word takes ceil(k / lanes) vectors of the same operations.
using DF = hn::ScalableTag<double>;
constexpr double kRound = 0x1.8p52;

HWY_INLINE void word_digits(std::uint64_t v, const RadixTable& t, std::size_t extent,
                            std::uint16_t* out) {
  const DF df;
  const hn::RebindToUnsigned<DF> du;
  const hn::Rebind<std::uint16_t, DF> d16;
  const std::size_t lanes = hn::Lanes(df);
  const std::uint64_t hi = t.split.divide(v);
  const std::uint64_t lo = v - hi * t.low_pow;
  // Both parts are below 2^40 for a valid word; the signed conversions are the cheap ones (and
  // well defined for any word).
  const double lo_d = static_cast<double>(static_cast<std::int64_t>(lo));
  const double hi_d = static_cast<double>(static_cast<std::int64_t>(hi));
  const auto x_lo = hn::Set(df, lo_d);
  const auto x_diff = hn::Set(df, hi_d - lo_d);  // exact for a valid word
  const auto radix = hn::Set(df, static_cast<double>(t.s));
  const auto round = hn::Set(df, kRound);
  for (std::size_t j = 0; j < extent; j += lanes) {
    const auto x = hn::MulAdd(hn::LoadU(df, t.part.data() + j), x_diff, x_lo);  // lo or hi
    const auto q = hn::Add(
        hn::MulAdd(x, hn::LoadU(df, t.inv.data() + j), hn::LoadU(df, t.bias.data() + j)), round);
    const auto q_next = hn::Floor(
        hn::MulAdd(x, hn::LoadU(df, t.inv_next.data() + j), hn::LoadU(df, t.half_next.data() + j)));
    const auto digit = hn::NegMulAdd(radix, q_next, q);  // R + digit
    hn::StoreU(hn::TruncateTo(d16, hn::BitCast(du, digit)), d16, out + j);
  }
}

void unpack_per_word(const std::byte* in, std::size_t n, const RadixTable& t,
                     std::uint16_t* digits) {
  const std::size_t k = t.k, lanes = hn::Lanes(DF());
  const std::size_t words = (n + k - 1) / k;
  // Word w writes out[w·k, w·k + extent); the next word overwrites the excess, so words go
  // straight to the output while that range fits and through a buffer after.
  const std::size_t extent = (k + lanes - 1) / lanes * lanes;
  const std::size_t direct = n >= extent ? std::min(n / k, (n - extent) / k + 1) : 0;
  std::size_t w = 0;
  for (; w < direct; ++w)
    word_digits(load_le<std::uint64_t>(in + 8 * w), t, extent, digits + w * k);
  std::uint16_t buf[RadixTable::kLaneSlots];
  for (; w < words; ++w) {
    word_digits(load_le<std::uint64_t>(in + 8 * w), t, extent, buf);
    std::copy_n(buf, std::min(k, n - w * k), digits + w * k);
  }
}

#if !HWY_HAVE_SCALABLE
// The batched kernel: a lane per word. A batch of kBatch words (8 per 128-bit block of u16) is
// split into lo and hi as above (scalar, one batch ahead of the vector work: a wide load of
// values just written by narrow stores cannot be forwarded and waits for them). In lanes of
// doubles each half x splits exactly, by the bound above, into floor(x / s^c) and x mod s^c with
// s^c < 2^31, and the digits of these four parts come out of chains of divisions by s in 32-bit
// lanes (two multiplies, of the even and the odd lanes, give floor(x / s), exact by the bound in
// make_radix_table): one row of kBatch digits per digit index. 8×8 transposes inside each block
// turn 8 rows into 8 digits of 8 words.
using D16 = hn::ScalableTag<std::uint16_t>;
using D32 = hn::Repartition<std::uint32_t, D16>;
using D64 = hn::Repartition<std::uint64_t, D16>;
using DD = hn::Repartition<double, D16>;
constexpr std::size_t kBatch = hn::MaxLanes(D16());
constexpr std::size_t kHalf = kBatch / 2;

struct BatchScratch {
  // The halves lo and hi of word i, as doubles, at (i % 2)·kHalf + i / 2: the even words fill
  // one 32-bit vector and the odd words the other, so that a row of 16-bit digits is the even
  // vector or'ed with the odd one shifted up by 16 bits, in word order.
  HWY_ALIGN double halves[2][2][kBatch];
  HWY_ALIGN std::uint16_t rows[RadixTable::kMaxDigits + 8][kBatch];
  HWY_ALIGN std::uint16_t cols[8][kBatch];
};

/// lo and hi of words in[0, count) into halves[0] and halves[1] (words past count are 0).
HWY_INLINE void split_batch(const std::byte* in, std::size_t count, const RadixTable& t,
                            double (*halves)[kBatch]) {
  for (std::size_t i = 0; i < kBatch; ++i) {
    const std::uint64_t v = i < count ? load_le<std::uint64_t>(in + 8 * i) : 0;
    const std::uint64_t hi = t.split.divide(v);
    const std::uint64_t lo = v - hi * t.low_pow;
    const std::size_t at = (i % 2) * kHalf + i / 2;
    halves[0][at] = static_cast<double>(static_cast<std::int64_t>(lo));
    halves[1][at] = static_cast<double>(static_cast<std::int64_t>(hi));
  }
}

/// floor(x / s) in 32-bit lanes; the quotient replaces x and the digit x mod s is returned.
HWY_INLINE hn::Vec<D32> next_digit(hn::Vec<D32>& x, hn::Vec<D32> mul, hn::Vec<D32> radix,
                                   int shift) {
  const D32 d32;
  const D64 d64;
  const auto even = hn::MulEven(x, mul);
  const auto odd = hn::MulEven(hn::BitCast(d32, hn::ShiftRight<32>(hn::BitCast(d64, x))), mul);
  const auto high = hn::OddEven(hn::BitCast(d32, odd), hn::BitCast(d32, hn::ShiftRight<32>(even)));
  const auto q = hn::ShiftRightSame(high, shift);
  const auto digit = hn::Sub(x, hn::Mul(q, radix));
  x = q;
  return digit;
}

/// Rows j .. j + count - 1 of the digits of parts `even` and `odd` (32-bit lanes).
HWY_INLINE void chain_rows(hn::Vec<D32> even, hn::Vec<D32> odd, const RadixTable& t, std::size_t j,
                           std::size_t count, BatchScratch& sc) {
  const D16 d16;
  const D32 d32;
  const auto mul = hn::Set(d32, t.chain_mul);
  const auto radix = hn::Set(d32, t.s);
  const int shift = static_cast<int>(t.chain_shift);
  for (std::size_t end = j + count; j < end; ++j) {
    const auto de = next_digit(even, mul, radix, shift);
    const auto dd = next_digit(odd, mul, radix, shift);
    hn::Store(hn::BitCast(d16, hn::Or(de, hn::ShiftLeft<16>(dd))), d16, sc.rows[j]);
  }
}

/// kHalf doubles (integers below 2^31) to 32-bit lanes.
HWY_INLINE hn::Vec<D32> to_u32(hn::Vec<DD> a, hn::Vec<DD> b) {
  const D32 d32;
  const hn::Half<D32> dh;
  const hn::Rebind<std::int32_t, DD> di;
  return hn::Combine(d32, hn::BitCast(dh, hn::DemoteTo(di, b)),
                     hn::BitCast(dh, hn::DemoteTo(di, a)));
}

/// Rows of the digits of one half (halves[part]) of the batch, `digits` of them from row j.
HWY_INLINE void half_rows(const double* x, const RadixTable& t, std::size_t j, std::size_t digits,
                          BatchScratch& sc) {
  const DD dd;
  const std::size_t nd = hn::Lanes(dd);                                     // kHalf / 2
  const auto x0 = hn::Load(dd, x), x1 = hn::Load(dd, x + nd);               // even words
  const auto x2 = hn::Load(dd, x + 2 * nd), x3 = hn::Load(dd, x + 3 * nd);  // odd words
  const std::size_t c = t.chain_digits;
  if (digits <= c) return chain_rows(to_u32(x0, x1), to_u32(x2, x3), t, j, digits, sc);
  const auto inv = hn::Set(dd, t.chain_inv), half = hn::Set(dd, t.chain_half);
  const auto pw = hn::Set(dd, t.chain_pow);
  const auto q0 = hn::Floor(hn::MulAdd(x0, inv, half)), q1 = hn::Floor(hn::MulAdd(x1, inv, half));
  const auto q2 = hn::Floor(hn::MulAdd(x2, inv, half)), q3 = hn::Floor(hn::MulAdd(x3, inv, half));
  chain_rows(to_u32(hn::NegMulAdd(q0, pw, x0), hn::NegMulAdd(q1, pw, x1)),
             to_u32(hn::NegMulAdd(q2, pw, x2), hn::NegMulAdd(q3, pw, x3)), t, j, c, sc);
  chain_rows(to_u32(q0, q1), to_u32(q2, q3), t, j + c, digits - c, sc);
}

/// The digit rows sc.rows[0, k) to out[i·k + j] for every word i < count (all kBatch words when
/// count is kBatch), writing up to 7 digits past the last word's.
HWY_INLINE void store_rows(const RadixTable& t, BatchScratch& sc, std::size_t count,
                           std::uint16_t* out) {
  const D16 d16;
  const std::size_t k = t.k;
  // Groups of 8 digits, the last (partial) one first: its digits past k land on the next word's
  // first 8, which a later store of group 0 rewrites. With k < 8 a group also overlaps the
  // words after, so the stores then go word by word in increasing order.
  const std::size_t groups = (k + 7) / 8;
  const bool whole = count == kBatch && k >= 8;
  for (std::size_t g = groups; g-- > 0;) {
    using V = hn::Vec<D16>;
    V r[8], c[8];  // c[i]: in block b, the 8 digits of word 8·b + i
    for (std::size_t j = 0; j < 8; ++j) r[j] = hn::Load(d16, sc.rows[8 * g + j]);
    transpose_blocks(d16, r, c);
    if (whole) {
      for (std::size_t i = 0; i < 8; ++i) store_blocks(d16, c[i], out + i * k + 8 * g, 8 * k);
    } else {
      for (std::size_t i = 0; i < 8; ++i) hn::Store(c[i], d16, sc.cols[i]);
      for (std::size_t i = 0; i < count; ++i)
        std::memcpy(out + i * k + 8 * g, &sc.cols[i % 8][8 * (i / 8)], 16);
    }
  }
}

/// The digits of the batch whose halves are in `halves`, as store_rows() writes them.
HWY_INLINE void digits_of_batch(const double (*halves)[kBatch], const RadixTable& t,
                                BatchScratch& sc, std::size_t count, std::uint16_t* out) {
  half_rows(halves[0], t, 0, t.low_digits, sc);
  half_rows(halves[1], t, t.low_digits, t.k - t.low_digits, sc);
  store_rows(t, sc, count, out);
}

/// The digits store_rows() writes per word (k rounded up to whole groups of 8). Rows past k feed
/// only the digits past each word's k, which later stores overwrite; they are zeroed so that no
/// indeterminate value is read.
std::size_t zero_padding_rows(const RadixTable& t, BatchScratch& sc) {
  const std::size_t extent = (t.k + 7) / 8 * 8;
  for (std::size_t j = t.k; j < extent; ++j) std::fill_n(sc.rows[j], kBatch, 0);
  return extent;
}

void unpack_batched(const std::byte* in, std::size_t n, const RadixTable& t,
                    std::uint16_t* digits) {
  const std::size_t k = t.k;
  const std::size_t words = (n + k - 1) / k;
  BatchScratch sc;
  const std::size_t extent = zero_padding_rows(t, sc);
  std::size_t w = 0;
  unsigned cur = 0;
  split_batch(in, std::min(kBatch, words), t, sc.halves[cur]);
  // Whole batches whose writes stay inside the output go straight to it.
  while (w + kBatch <= words && (w + kBatch - 1) * k + extent <= n) {
    const std::size_t next = w + kBatch;
    if (next < words)
      split_batch(in + 8 * next, std::min(kBatch, words - next), t, sc.halves[cur ^ 1]);
    digits_of_batch(sc.halves[cur], t, sc, kBatch, digits + w * k);
    w = next;
    cur ^= 1;
  }
  // The rest (at most a batch and the few words whose extent runs past n) through a buffer.
  HWY_ALIGN std::uint16_t buf[kBatch * RadixTable::kMaxDigits + 8];
  while (w < words) {
    const std::size_t count = std::min(kBatch, words - w);
    digits_of_batch(sc.halves[cur], t, sc, count, buf);
    std::copy_n(buf, std::min(count * k, n - w * k), digits + w * k);
    w += count;
    if (w < words) {
      cur ^= 1;
      split_batch(in + 8 * w, std::min(kBatch, words - w), t, sc.halves[cur]);
    }
  }
}

// The grouped kernel (s <= 2^15, RadixTable::grouped): a lane per word, as in the batched one,
// but the digits come out of 16-bit lanes, a group of p digits per lane (s^p <= 2^15), where
// floor(x / s) is one multiply-high and a shift (the bound is in make_radix_table).
//
// Group values, in lanes of doubles. Split 0 cuts each 64-bit word at P = s^(p·m) into two
// parts below 2^40 (group_split-inl.h: in doubles with a fused multiply-add, else in integers).
// Every later split cuts a value x < 2^40 at P < 2^40: with y = (x + 1/2) / P at least 1/(2P)
// from every integer, fl(x·fl(1 / P) + fl(1 / P) / 2) is within 2^-12 / P + 2^-53 of y with a
// fused multiply-add (one rounding of 1 / P, one of the result below 2^40 / P + 1) and within
// 3·2^-13 / P + 2^-53 without one (the product rounded too), less than 1/(2P) either way, so
// its floor is floor(x / P), and x - q·P is exact (integers below 2^40).
using DU64 = hn::Repartition<std::uint64_t, D16>;
constexpr std::size_t kQuarter = kBatch / 4;  // the words in a vector of doubles

/// The digit rows row, row + 1, ... of group values x (below 2^15, one per word of the batch).
HWY_INLINE void group_digit_rows(hn::Vec<D16> x, const RadixTable& t, std::size_t row,
                                 std::size_t len, BatchScratch& sc) {
  const D16 d16;
  const auto mul = hn::Set(d16, t.group_mul);
  const auto radix = hn::Set(d16, static_cast<std::uint16_t>(t.s));
  const int shift = static_cast<int>(t.group_shift);
  for (std::size_t j = 0; j + 1 < len; ++j) {
    const auto q = hn::ShiftRightSame(hn::MulHigh(x, mul), shift);
    hn::Store(hn::Sub(x, hn::Mul(q, radix)), d16, sc.rows[row + j]);
    x = q;
  }
  hn::Store(x, d16, sc.rows[row + len - 1]);  // below s: the group's last digit
}

/// Four vectors of group values (integers below 2^15 as doubles) as one vector of 16-bit lanes,
/// in word order: adding R = 1.5·2^52 leaves each value in the low bits of its lane.
HWY_INLINE hn::Vec<D16> to_u16(const hn::Vec<DD> (&x)[4]) {
  const DD dd;
  const DU64 du;
  const D16 d16;
  const hn::Half<D16> dh;
  const hn::Half<decltype(dh)> dq;
  const auto round = hn::Set(dd, kRound);
  hn::Vec<decltype(dq)> part[4];
  for (std::size_t i = 0; i < 4; ++i)
    part[i] = hn::TruncateTo(dq, hn::BitCast(du, hn::Add(x[i], round)));
  return hn::Combine(d16, hn::Combine(dh, part[3], part[2]), hn::Combine(dh, part[1], part[0]));
}

/// Peels groups [from, to) off each x[i] (their value, below 2^40), one at a time, and hands
/// emit(g, values) the four vectors of group g's values (integers below 2^15 as doubles).
template <class Emit>
HWY_INLINE void peel_groups(hn::Vec<DD> (&x)[4], const RadixTable& t, std::size_t from,
                            std::size_t to, const Emit& emit) {
  const DD dd;
  const auto pw = hn::Set(dd, t.split_pow[1]), inv = hn::Set(dd, t.split_inv[1]);
  const auto half = hn::Set(dd, t.split_half[1]);
  for (std::size_t g = from; g + 1 < to; ++g) {
    hn::Vec<DD> rem[4];
    for (std::size_t i = 0; i < 4; ++i) {
      const auto q = hn::Floor(hn::MulAdd(x[i], inv, half));
      rem[i] = hn::NegMulAdd(q, pw, x[i]);
      x[i] = q;
    }
    emit(g, rem);
  }
  emit(to - 1, x);
}

/// The digit rows of groups [from, to) of each x[i].
HWY_INLINE void peel_rows(hn::Vec<DD> (&x)[4], const RadixTable& t, std::size_t from,
                          std::size_t to, BatchScratch& sc) {
  const std::size_t p = t.group_digits;
  peel_groups(x, t, from, to, [&](std::size_t g, const hn::Vec<DD>(&v)[4]) {
    group_digit_rows(to_u16(v), t, g * p, std::min(p, t.k - g * p), sc);
  });
}

// With a group table (RadixTable::group_table) the groups' digits are looked up instead: the
// group values go to memory as R + value (so the low 32 bits of each double are the value), and
// each group's entry is stored whole, 8 bytes at the group's first digit, in increasing order
// (a short group's zero lanes land on digits that a later store writes). The table stays in L1
// or L2 (at most 2^14 entries), and the stores are the digits' own: no transposes.

/// R + the values of groups [from, to) of each x[i] to vals[g][word of the batch].
HWY_INLINE void peel_values(hn::Vec<DD> (&x)[4], const RadixTable& t, std::size_t from,
                            std::size_t to, double (*vals)[kBatch]) {
  const DD dd;
  const auto round = hn::Set(dd, kRound);
  peel_groups(x, t, from, to, [&](std::size_t g, const hn::Vec<DD>(&v)[4]) {
    for (std::size_t i = 0; i < 4; ++i) hn::Store(hn::Add(v[i], round), dd, vals[g] + i * kQuarter);
  });
}

/// The digits of words [0, count) of the batch whose group values are in vals, G groups per
/// word (unrolled), through the group table; writes up to (G - 1)·p + 4 digits per word.
template <std::size_t G>
HWY_INLINE void table_digits(const double (*vals)[kBatch], const RadixTable& t, std::size_t count,
                             std::uint16_t* out) {
  const std::size_t k = t.k, p = t.group_digits;
  const std::uint64_t* table = t.group_table;
  // Below s^p for a valid word; clamped, so that a word out of range (whose digits are wrong
  // anyway) reads inside the table.
  const auto last = static_cast<std::uint32_t>(t.pow[p] - 1);
  for (std::size_t i = 0; i < count; ++i, out += k)
    for (std::size_t g = 0; g < G; ++g) {
      std::uint32_t value;
      std::memcpy(&value, &vals[g][i], sizeof value);  // the low half of R + value
      std::memcpy(out + g * p, table + std::min(value, last), sizeof(std::uint64_t));
    }
}

// table_digits for each group count 2 .. kMaxGroups (a grouped word has at least two groups).
using TableDigits = void (*)(const double (*)[kBatch], const RadixTable&, std::size_t,
                             std::uint16_t*);
constexpr TableDigits kTableDigits[RadixTable::kMaxGroups + 1] = {
    nullptr,         nullptr,         table_digits<2>, table_digits<3>, table_digits<4>,
    table_digits<5>, table_digits<6>, table_digits<7>, table_digits<8>};

void unpack_grouped(const std::byte* in, std::size_t n, const RadixTable& t,
                    std::uint16_t* digits) {
  const std::size_t k = t.k;
  const std::size_t words = (n + k - 1) / k;
  BatchScratch sc;
  const bool quads = t.group_digits == 4 && t.groups == 5 && t.first_cut == 2;
  const bool lookup = !quads && t.group_table != nullptr;
  // Digits a word's writes reach: whole groups of 8 (store_rows), or the last entry's end.
  std::size_t extent = zero_padding_rows(t, sc);
  if (lookup) extent = std::max<std::size_t>(extent, (t.groups - 1) * t.group_digits + 4);
  if (quads) extent = std::max<std::size_t>(extent, 24);
  HWY_ALIGN double vals[RadixTable::kMaxGroups][kBatch];
  const auto split = [&](const std::byte* words_in, hn::Vec<DD>(&lo)[4], hn::Vec<DD>(&hi)[4]) {
    for (std::size_t i = 0; i < 4; ++i)
      first_split(DD(), words_in + 8 * i * kQuarter, t, lo[i], hi[i]);
  };
  const auto values = [&](const std::byte* words_in) {
    hn::Vec<DD> lo[4], hi[4];
    split(words_in, lo, hi);
    return quad_values(DD(), lo, hi, t);
  };
  const auto batch = [&](const std::byte* words_in, std::size_t count, std::uint16_t* out) {
    if (quads) return quad_store(values(words_in), t, count, out);
    hn::Vec<DD> lo[4], hi[4];
    split(words_in, lo, hi);
    if (!lookup) {
      peel_rows(lo, t, 0, t.first_cut, sc);
      peel_rows(hi, t, t.first_cut, t.groups, sc);
      return store_rows(t, sc, count, out);
    }
    peel_values(lo, t, 0, t.first_cut, vals);
    peel_values(hi, t, t.first_cut, t.groups, vals);
    kTableDigits[t.groups](vals, t, count, out);
  };
  // Whole batches whose writes stay inside the output go straight to it; the rest (at most a
  // batch and the few words whose extent runs past n) through buffers, zero words past the end.
  std::size_t w = 0;
  const auto whole = [&](std::size_t at) {
    return at + kBatch <= words && (at + kBatch - 1) * k + extent <= n;
  };
  if (quads && whole(0)) {
    // Software-pipelined: the next batch's group values go ahead of this batch's digits (the
    // work is bound by the latency of its chains).
    auto cur = values(in);
    for (;;) {
      const std::size_t next = w + kBatch;
      const bool more = whole(next);
      decltype(cur) ahead;
      if (more) ahead = values(in + 8 * next);
      quad_store(cur, t, kBatch, digits + w * k);
      w = next;
      if (!more) break;
      cur = ahead;
    }
  }
  for (; whole(w); w += kBatch) batch(in + 8 * w, kBatch, digits + w * k);
  HWY_ALIGN std::byte last[8 * kBatch];
  HWY_ALIGN std::uint16_t buf[kBatch * RadixTable::kMaxDigits + 8];
  while (w < words) {
    const std::size_t count = std::min(kBatch, words - w);
    std::memset(last, 0, sizeof(last));
    std::memcpy(last, in + 8 * w, 8 * count);
    batch(last, count, buf);
    std::copy_n(buf, std::min(count * k, n - w * k), digits + w * k);
    w += count;
  }
}
#endif  // !HWY_HAVE_SCALABLE

}  // namespace

void UnpackRadix(const std::byte* in, std::size_t n, const RadixTable& t, std::uint16_t* digits) {
#if !HWY_HAVE_SCALABLE
  // Fewer words than a batch: the per-word kernel, which does no work for absent words.
  if (std::endian::native == std::endian::little && t.grouped && n >= kBatch * t.k)
    return unpack_grouped(in, n, t, digits);
  if (t.batched && n >= kBatch * t.k) return unpack_batched(in, n, t, digits);
#endif
  unpack_per_word(in, n, t, digits);
}
#endif  // HWY_TARGET == HWY_SCALAR

// Whether any of the first words at in (little-endian) is at least bound, a vector of words per
// step (the receiver's check of every payload before unpacking it: the scalar loop took 14 us
// per 2^20 digits at s = 10 on an Intel Xeon, 7% of the unpack; this, 7 us on AVX2). Returns how
// many words it covered (whole steps), the caller checks the rest.
std::size_t AnyWordAtLeast(const std::byte* in, std::size_t words, std::uint64_t bound, bool* bad) {
  *bad = false;
#if HWY_TARGET == HWY_SCALAR
  // Four running maxima: no chain of compares and ors through one flag.
  std::uint64_t m0 = 0, m1 = 0, m2 = 0, m3 = 0;
  std::size_t w = 0;
  for (; w + 4 <= words; w += 4) {
    m0 = std::max(m0, load_le<std::uint64_t>(in + 8 * w));
    m1 = std::max(m1, load_le<std::uint64_t>(in + 8 * w + 8));
    m2 = std::max(m2, load_le<std::uint64_t>(in + 8 * w + 16));
    m3 = std::max(m3, load_le<std::uint64_t>(in + 8 * w + 24));
  }
  *bad = std::max(std::max(m0, m1), std::max(m2, m3)) >= bound;
  return w;
#else
  if constexpr (std::endian::native != std::endian::little) return 0;
  DME_ASSERT(bound >= 1);
  const hn::ScalableTag<std::uint64_t> d;
  const std::size_t N = hn::Lanes(d);
  const auto below = hn::Set(d, bound - 1);  // "at least bound" is "above bound - 1"
  auto any = hn::Zero(d);
  const auto* p = reinterpret_cast<const std::uint64_t*>(in);
  std::size_t w = 0;
  for (; w + 2 * N <= words; w += 2 * N) {
    any = hn::Or(any, hn::VecFromMask(d, hn::Gt(hn::LoadU(d, p + w), below)));
    any = hn::Or(any, hn::VecFromMask(d, hn::Gt(hn::LoadU(d, p + w + N), below)));
  }
  *bad = !hn::AllFalse(d, hn::MaskFromVec(any));
  return w;
#endif
}

}  // namespace dme::detail::codec::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dme/core/simd.h"

namespace dme::detail::codec {

HWY_EXPORT(UnpackRadix);
HWY_EXPORT(AnyWordAtLeast);

std::size_t vector_words_at_least(const std::byte* in, std::size_t words, std::uint64_t bound,
                                  bool& bad) {
  simd_init();
  return HWY_DYNAMIC_DISPATCH(AnyWordAtLeast)(in, words, bound, &bad);
}

void unpack_radix(const std::byte* in, std::size_t n, const RadixTable& t, std::uint16_t* digits) {
  if (n == 0) return;
  simd_init();
  HWY_DYNAMIC_DISPATCH(UnpackRadix)(in, n, t, digits);
}

}  // namespace dme::detail::codec
#endif  // HWY_ONCE
