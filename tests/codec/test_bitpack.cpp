#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "dme/codec/bitpack.h"
#include "dme/codec/detail/endian.h"
#include "dme/codec/detail/fixed_width.h"
#include "dme/codec/detail/mixed_radix.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"

namespace {

using dme::CodeLayout;
using dme::Packing;
namespace dc = dme::detail::codec;
__extension__ typedef unsigned __int128 U128;

const std::vector<std::uint32_t> kRadices = {2,  3,   4,   5,   7,   10,   15,    16,
                                             17, 100, 255, 256, 257, 1000, 65535, 65536};
const std::vector<std::size_t> kCounts = {0, 1, 7, 8, 31, 32, 63, 64, 65, 1000, 4097};

/// Codes in [0, s): random, with runs of 0 and s - 1 at both ends (the extreme digits).
std::vector<std::uint16_t> make_codes(std::size_t n, std::uint32_t s, std::uint64_t seed) {
  dme::PhiloxStream rng(seed, s, 0, dme::Purpose::kInput);
  std::vector<std::uint16_t> c(n);
  for (std::size_t i = 0; i < n; ++i) c[i] = static_cast<std::uint16_t>(rng.bits32(i) % s);
  for (std::size_t i = 0; i < std::min<std::size_t>(n, 70); ++i)
    c[i] = static_cast<std::uint16_t>(s - 1);
  for (std::size_t i = n - std::min<std::size_t>(n, 5); i < n; ++i) c[i] = 0;
  if (n > 80) std::fill(c.begin() + 70, c.begin() + 80, std::uint16_t(0));
  return c;
}

/// Largest k with s^k < 2^64, by 128-bit arithmetic.
unsigned brute_max_digits(std::uint32_t s) {
  unsigned k = 0;
  for (U128 p = s; p < (U128(1) << 64); p *= s) ++k;
  return k;
}

/// The reference packers, which define the format bit by bit or digit by digit.
std::vector<std::byte> reference_pack(const std::vector<std::uint16_t>& codes,
                                      const CodeLayout& l) {
  std::vector<std::byte> out(dme::packed_bytes(codes.size(), l));
  if (l.packing == Packing::kFixedWidth)
    dc::pack_fixed_reference(codes.data(), codes.size(), l.bits, out.data());
  else
    dc::pack_radix_reference(codes.data(), codes.size(), l.s, l.digits_per_word, out.data());
  return out;
}

void expect_round_trip(const std::vector<std::uint16_t>& codes, const CodeLayout& l) {
  std::vector<std::byte> packed(dme::packed_bytes(codes.size(), l));
  dme::pack_codes(codes, l, packed);
  ASSERT_EQ(packed, reference_pack(codes, l))
      << dme::to_string(l) << " s=" << l.s << " n=" << codes.size();
  std::vector<std::uint16_t> back(codes.size(), 0xBEEF);
  dme::unpack_codes(packed, l, back);
  ASSERT_EQ(back, codes) << dme::to_string(l) << " s=" << l.s << " n=" << codes.size();
}

TEST(Bitpack, ChooseLayoutKnownValues) {
  struct Case {
    std::uint32_t s;
    Packing p;
    unsigned param;
  };
  const Case cases[] = {{2, Packing::kFixedWidth, 1},      {3, Packing::kMixedRadix, 40},
                        {4, Packing::kFixedWidth, 2},      {5, Packing::kMixedRadix, 27},
                        {7, Packing::kMixedRadix, 22},     {10, Packing::kMixedRadix, 19},
                        {15, Packing::kFixedWidth, 4},     {16, Packing::kFixedWidth, 4},
                        {17, Packing::kMixedRadix, 15},    {100, Packing::kFixedWidth, 7},
                        {255, Packing::kFixedWidth, 8},    {256, Packing::kFixedWidth, 8},
                        {257, Packing::kFixedWidth, 9},    {512, Packing::kFixedWidth, 9},
                        {993, Packing::kFixedWidth, 10},   {1000, Packing::kFixedWidth, 10},
                        {1985, Packing::kFixedWidth, 11},  {8192, Packing::kFixedWidth, 13},
                        {32769, Packing::kFixedWidth, 16}, {65535, Packing::kFixedWidth, 16},
                        {65536, Packing::kFixedWidth, 16}};
  for (const auto& c : cases) {
    const CodeLayout l = dme::choose_layout(c.s);
    EXPECT_EQ(l.packing, c.p) << "s=" << c.s;
    EXPECT_EQ(l.packing == Packing::kFixedWidth ? l.bits : l.digits_per_word, c.param)
        << "s=" << c.s;
  }
}

TEST(Bitpack, MixedRadixForTenIsNineteenDigitsPerWord) {
  const CodeLayout l = dme::choose_layout(10);
  ASSERT_EQ(l.packing, Packing::kMixedRadix);
  EXPECT_EQ(l.digits_per_word, 19u);  // 10^19 < 2^64 < 10^20
  EXPECT_NEAR(l.bits_per_code(), 3.368, 1e-3);
  EXPECT_EQ(dme::packed_bytes(19, l), 8u);
  EXPECT_EQ(dme::packed_bytes(20, l), 16u);
  EXPECT_EQ(dme::packed_bytes(19 * 1000, l), 8000u);
}

// Every radix: the chosen layout is valid and no allowed alternative has fewer bits per code.
TEST(Bitpack, ChooseLayoutIsTightestForEveryRadix) {
  for (std::uint32_t s = 2; s <= dme::kMaxRadix; ++s) {
    const CodeLayout l = dme::choose_layout(s);
    ASSERT_NO_THROW(dme::check_layout(l)) << s;
    const unsigned k = brute_max_digits(s);
    ASSERT_EQ(dme::max_digits_per_word(s), k) << s;
    const unsigned need = static_cast<unsigned>(std::ceil(std::log2(double(s)) - 1e-12));
    const double fixed = need;
    const double best = std::min(fixed, 64.0 / k);
    ASSERT_EQ(l.bits_per_code(), best) << s;
    ASSERT_GE(l.bits_per_code(), std::log2(double(s)) - 1e-12) << s;
  }
}

TEST(Bitpack, RejectsBadRadixAndLayouts) {
  EXPECT_THROW(dme::choose_layout(0), dme::Error);
  EXPECT_THROW(dme::choose_layout(1), dme::Error);
  EXPECT_THROW(dme::choose_layout(65537), dme::Error);
  EXPECT_THROW(dme::check_layout({Packing::kFixedWidth, 17, 4, 0}), dme::Error);
  EXPECT_THROW(dme::check_layout({Packing::kFixedWidth, 2, 17, 0}), dme::Error);
  EXPECT_THROW(dme::check_layout({Packing::kFixedWidth, 1025, 10, 0}), dme::Error);
  EXPECT_THROW(dme::check_layout({Packing::kFixedWidth, 2, 0, 0}), dme::Error);
  EXPECT_THROW(dme::check_layout({Packing::kMixedRadix, 10, 0, 20}), dme::Error);
  EXPECT_THROW(dme::check_layout({Packing::kMixedRadix, 10, 0, 0}), dme::Error);
  EXPECT_THROW(dme::check_layout({static_cast<Packing>(7), 10, 4, 0}), dme::Error);
  EXPECT_THROW(
      dme::packed_bytes(std::numeric_limits<std::size_t>::max(), dme::choose_layout(65536)),
      dme::Error);
  EXPECT_THROW(dme::packed_bytes(std::numeric_limits<std::size_t>::max(), dme::choose_layout(1000)),
               dme::Error);
  EXPECT_EQ(dme::packed_bytes(std::size_t(1) << 40, dme::choose_layout(65536)), std::size_t(1)
                                                                                    << 41);
}

TEST(Bitpack, RoundTripAwkwardSizesEveryRadix) {
  for (std::uint32_t s : kRadices) {
    const CodeLayout l = dme::choose_layout(s);
    for (std::size_t n : kCounts) {
      const auto codes = make_codes(n, s, 7);
      expect_round_trip(codes, l);
      // Within a byte (fixed width) or a word (mixed radix) of count · bits_per_code / 8.
      const double ideal = double(n) * l.bits_per_code() / 8;
      EXPECT_GE(double(dme::packed_bytes(n, l)), ideal - 1e-9);
      EXPECT_LT(double(dme::packed_bytes(n, l)),
                ideal + (l.packing == Packing::kFixedWidth ? 1 : 8));
    }
  }
}

// Layouts that choose_layout does not pick still round-trip: every width with every radix it
// holds at its extremes, and every digit count of a few radices (down to one digit per word).
TEST(Bitpack, RoundTripNonCanonicalLayouts) {
  for (unsigned bits = 1; bits <= 16; ++bits)
    for (std::uint32_t s : {std::uint32_t(1) << bits, (std::uint32_t(1) << bits) - 1})
      if (s >= 2)
        for (std::size_t n : kCounts)
          expect_round_trip(make_codes(n, s, 11), {Packing::kFixedWidth, s, bits, 0});
  for (std::uint32_t s : {2u, 3u, 10u, 16u, 1000u, 65535u, 65536u})
    for (unsigned k = 1; k <= dme::max_digits_per_word(s); ++k)
      for (std::size_t n : {std::size_t(1), std::size_t(63), std::size_t(257)})
        expect_round_trip(make_codes(n, s, 13), {Packing::kMixedRadix, s, 0, k});
}

// The floating-point digit extraction of unpack_radix against plain division, on random words
// and on the words next to every power that bounds a half (s^h - 1, s^h, s^h + 1, s^k - 1).
TEST(Bitpack, MixedRadixDigitsMatchDivisionOnEdgeWords) {
  for (std::uint32_t s = 3; s <= dme::kMaxRadix; s = s < 300 ? s + 1 : s * 3 / 2) {
    const unsigned k = dme::max_digits_per_word(s);
    const dc::RadixTable t = dc::make_radix_table(s, k);
    std::vector<std::uint64_t> words;
    dme::PhiloxStream rng(5, s, 0, dme::Purpose::kInput);
    for (std::uint64_t i = 0; i < 64; ++i)
      words.push_back(((std::uint64_t(rng.bits32(2 * i)) << 32) | rng.bits32(2 * i + 1)) %
                      t.word_bound);
    for (unsigned j = 1; j <= k; ++j)
      for (std::uint64_t delta : {0ull, 1ull, 2ull})
        for (std::uint64_t w : {t.pow[j] - 1 - std::min(delta, t.pow[j] - 1), t.pow[j] + delta})
          if (w < t.word_bound) words.push_back(w);
    // Next to multiples of the grouped kernel's first cut, where its quotient may be one low.
    if (t.grouped) {
      const std::uint64_t cut = t.pow[t.group_digits * t.first_cut];
      for (std::uint64_t i = 0; i < 16; ++i) {
        const std::uint64_t c = rng.bits32(500 + i) % (t.word_bound / cut) + (i == 0);
        for (std::uint64_t w : {c * cut - 1, c * cut, c * cut + 1})
          if (w < t.word_bound) words.push_back(w);
      }
    }
    std::vector<std::byte> in(8 * words.size());
    for (std::size_t i = 0; i < words.size(); ++i) dc::store_le(in.data() + 8 * i, words[i]);
    const std::size_t n = words.size() * k;
    ASSERT_EQ(dc::find_bad_radix_word(in.data(), n, t), SIZE_MAX);
    std::vector<std::uint16_t> fast(n), ref(n);
    dc::unpack_radix(in.data(), n, t, fast.data());
    dc::unpack_radix_reference(in.data(), n, s, k, ref.data());
    ASSERT_EQ(fast, ref) << "s=" << s;
  }
}

TEST(Bitpack, DividerMatchesHardwareDivision) {
  dme::PhiloxStream rng(3, 0, 0, dme::Purpose::kInput);
  std::vector<std::uint64_t> divisors = {1,          2,
                                         3,          7,
                                         10,         1000,
                                         65536,      65537,
                                         1ull << 40, (1ull << 40) - 1,
                                         1ull << 63, (1ull << 63) - 25};
  for (std::uint64_t i = 0; i < 200; ++i)
    divisors.push_back(
        (((std::uint64_t(rng.bits32(2 * i)) << 32) | rng.bits32(2 * i + 1)) >> (1 + i % 63)) | 1);
  for (std::uint64_t d : divisors) {
    const dc::Divider64 div(d);
    std::vector<std::uint64_t> ns = {
        0, 1, d - 1, d, d + 1, ~0ull, ~0ull - 1, ~0ull / d * d, ~0ull / d * d - 1};
    for (std::uint64_t i = 0; i < 100; ++i)
      ns.push_back((std::uint64_t(rng.bits32(1000 + 2 * i)) << 32) | rng.bits32(1001 + 2 * i));
    for (std::uint64_t n : ns) ASSERT_EQ(div.divide(n), n / d) << n << " / " << d;
  }
}

// The grouped unpacking kernel divides 16-bit lanes by s with one multiply-high and a shift:
// exact for every value below 2^15, for every radix it is used with (all of them up to 400, a
// spread above, and the powers of two). Its plan covers every digit of the word.
TEST(Bitpack, GroupedDivisionIsExactBelowTwoToFifteen) {
  std::vector<std::uint32_t> radices;
  for (std::uint32_t s = 2; s <= (1u << 15); s = s < 400 ? s + 1 : s * 9 / 8) radices.push_back(s);
  for (std::uint32_t s = 2; s <= (1u << 15); s *= 2) radices.push_back(s);
  radices.push_back((1u << 15) - 1);
  for (std::uint32_t s : radices) {
    const dc::RadixTable t = dc::make_radix_table(s, dme::max_digits_per_word(s));
    ASSERT_GE(t.group_digits, 1u);
    std::uint64_t group_pow = 1;
    for (unsigned j = 0; j < t.group_digits; ++j) group_pow *= s;
    ASSERT_LE(group_pow, 1u << 15) << "s=" << s;
    ASSERT_GT(group_pow * s, 1u << 15) << "s=" << s;
    ASSERT_EQ(t.groups, (t.k + t.group_digits - 1) / t.group_digits);
    if (t.grouped) {
      ASSERT_TRUE(t.first_cut >= 1 && t.first_cut < t.groups) << "s=" << s;
      ASSERT_LT(t.split_pow[0], 0x1p40);
      ASSERT_LE(static_cast<double>(t.word_bound) / t.split_pow[0], 0x1p40);
    }
    for (std::uint32_t x = 0; x < (1u << 15); ++x) {
      const std::uint32_t q = ((x * std::uint32_t{t.group_mul}) >> 16) >> t.group_shift;
      ASSERT_EQ(q, x / s) << "s=" << s << " x=" << x;
    }
    // The multiply-high without a shift, where offered: exact below s^p, and offered for the
    // radices whose groups of four digits the quad kernel divides (s = 9, 10, 11 of 9..13).
    if (t.group_mul_high) {
      for (std::uint32_t x = 0; x < group_pow; ++x) {
        ASSERT_EQ((x * std::uint32_t{t.group_mul_high}) >> 16, x / s) << "s=" << s << " x=" << x;
      }
    }
    if (s >= 9 && s <= 11) {
      EXPECT_NE(t.group_mul_high, 0u) << "s=" << s;
    }
  }
}

TEST(Bitpack, PackRejectsCodeNotBelowRadixAndWrongSizes) {
  for (std::uint32_t s : {3u, 10u, 15u, 16u, 1000u, 65535u}) {
    const CodeLayout l = dme::choose_layout(s);
    auto codes = make_codes(100, s, 1);
    codes[37] = static_cast<std::uint16_t>(s);
    std::vector<std::byte> out(dme::packed_bytes(codes.size(), l));
    try {
      dme::pack_codes(codes, l, out);
      FAIL() << "no error for s=" << s;
    } catch (const dme::Error& e) {
      EXPECT_NE(std::string(e.what()).find("code 37 is " + std::to_string(s)), std::string::npos)
          << e.what();
    }
    codes[37] = 0;
    std::vector<std::byte> small(out.size() - 1), big(out.size() + 1);
    EXPECT_THROW(dme::pack_codes(codes, l, small), dme::Error);
    EXPECT_THROW(dme::pack_codes(codes, l, big), dme::Error);
    std::vector<std::uint16_t> back(codes.size());
    EXPECT_THROW(dme::unpack_codes(small, l, back), dme::Error);
    EXPECT_THROW(dme::unpack_codes(big, l, back), dme::Error);
  }
}

TEST(Bitpack, UnpackRejectsOutOfRangeWordsAndPadding) {
  // Mixed radix: a full word >= 10^19, then a last word of 3 digits >= 10^3.
  const CodeLayout l10 = dme::choose_layout(10);
  std::vector<std::uint16_t> codes(19 * 2 + 3, 9), back(codes.size());
  std::vector<std::byte> packed(dme::packed_bytes(codes.size(), l10));
  dme::pack_codes(codes, l10, packed);
  EXPECT_NO_THROW(dme::unpack_codes(packed, l10, back));
  auto bad = packed;
  dc::store_le<std::uint64_t>(bad.data() + 8, 10000000000000000000ull);
  EXPECT_THROW(dme::unpack_codes(bad, l10, back), dme::Error);
  bad = packed;
  dc::store_le<std::uint64_t>(bad.data() + 16, 1000);
  EXPECT_THROW(dme::unpack_codes(bad, l10, back), dme::Error);
  dc::store_le<std::uint64_t>(bad.data() + 16, 999);
  EXPECT_NO_THROW(dme::unpack_codes(bad, l10, back));
  // Fixed width: 3 codes of 3 bits leave 7 padding bits in the second byte.
  const CodeLayout l8 = dme::choose_layout(8);
  std::vector<std::uint16_t> three = {1, 2, 3}, back3(3);
  std::vector<std::byte> p3(2);
  dme::pack_codes(three, l8, p3);
  p3[1] |= std::byte{0x80};
  EXPECT_THROW(dme::unpack_codes(p3, l8, back3), dme::Error);
  // Fixed width with s not a power of two: 15 in 4 bits is not a valid code of s = 15.
  const CodeLayout l15 = dme::choose_layout(15);
  std::vector<std::uint16_t> c15(9, 14), b15(9);
  std::vector<std::byte> p15(dme::packed_bytes(9, l15));
  dme::pack_codes(c15, l15, p15);
  p15[2] |= std::byte{0x10};  // code 5 becomes 15
  EXPECT_THROW(dme::unpack_codes(p15, l15, b15), dme::Error);
}

}  // namespace
