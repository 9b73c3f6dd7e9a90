// The codec kernels (fixed_width.cpp, mixed_radix.cpp, level_lookup.cpp) under every SIMD target
// this machine runs, against the scalar references at awkward sizes, and whole payloads, which
// must be byte-identical whatever the target.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../simd_test_support.h"
#include "dme/codec/bitpack.h"
#include "dme/codec/detail/code_reader.h"
#include "dme/codec/detail/endian.h"
#include "dme/codec/detail/fixed_width.h"
#include "dme/codec/detail/level_lookup.h"
#include "dme/codec/detail/mixed_radix.h"
#include "dme/codec/payload.h"
#include "dme/core/rng.h"
#include "payload_test_util.h"

namespace {

namespace dc = dme::detail::codec;
using dme::test::for_each_simd_target;

// Around every vector and block size the kernels use (8 codes per group, 16 to 64 lanes).
// Bitwise equality of two buffers; empty vectors may hand out null pointers, which memcmp must
// not get.
bool same_bytes(const void* a, const void* b, std::size_t bytes) {
  return bytes == 0 || std::memcmp(a, b, bytes) == 0;
}

const std::vector<std::size_t> kCounts = {0, 1, 7, 8, 31, 33, 64, 65, 1000, 4099};

/// Codes below `bound`, random, with runs of the extremes at both ends.
std::vector<std::uint16_t> make_codes(std::size_t n, std::uint32_t bound, std::uint64_t seed) {
  dme::PhiloxStream rng(seed, bound, 7, dme::Purpose::kInput);
  std::vector<std::uint16_t> c(n);
  for (std::size_t i = 0; i < n; ++i) c[i] = static_cast<std::uint16_t>(rng.bits32(i) % bound);
  for (std::size_t i = 0; i < std::min<std::size_t>(n, 40); ++i)
    c[i] = static_cast<std::uint16_t>(bound - 1);
  for (std::size_t i = n - std::min<std::size_t>(n, 9); i < n; ++i) c[i] = 0;
  return c;
}

TEST(CodecSimd, FixedWidthMatchesReferenceOnEveryTarget) {
  for_each_simd_target([](const std::string&) {
    // The fixed-width layout has 1..16 bits per code (bitpack.h).
    for (unsigned bits = 1; bits <= 16; ++bits)
      for (std::size_t n : kCounts) {
        SCOPED_TRACE("bits " + std::to_string(bits) + ", n " + std::to_string(n));
        const std::vector<std::uint16_t> codes =
            make_codes(n, std::uint32_t(1) << bits, 100 + bits);
        const std::size_t bytes = (n * bits + 7) / 8;
        // Sentinel bytes after the output catch a kernel that writes past it.
        std::vector<std::byte> fast(bytes + 64, std::byte{0xA5}), ref(bytes);
        dc::pack_fixed(codes.data(), n, bits, fast.data());
        dc::pack_fixed_reference(codes.data(), n, bits, ref.data());
        ASSERT_TRUE(std::equal(ref.begin(), ref.end(), fast.begin()));
        for (std::size_t i = bytes; i < fast.size(); ++i) ASSERT_EQ(fast[i], std::byte{0xA5});
        // Exact input (no byte past the stream may be read) and an input with slack.
        for (std::size_t slack : {std::size_t(0), std::size_t(64)}) {
          std::vector<std::byte> in(ref);
          in.resize(bytes + slack, std::byte{0xFF});
          std::vector<std::uint16_t> back(n + 64, 0xBEEF);
          ASSERT_TRUE(dc::unpack_fixed(in.data(), in.size(), bits, n, back.data()));
          ASSERT_TRUE(std::equal(codes.begin(), codes.end(), back.begin()));
          for (std::size_t i = n; i < back.size(); ++i) ASSERT_EQ(back[i], 0xBEEF);
        }
        // A set padding bit after the last code is reported.
        if ((n * bits) % 8) {
          std::vector<std::byte> bad(ref);
          bad.back() |= std::byte(0x80);
          std::vector<std::uint16_t> back(n);
          ASSERT_FALSE(dc::unpack_fixed(bad.data(), bad.size(), bits, n, back.data()));
        }
      }
  });
}

TEST(CodecSimd, FixedWidthUnpacksAtGroupOffsets) {
  // CodeReader reads from any group boundary with the rest of the stream behind it.
  for_each_simd_target([](const std::string&) {
    for (unsigned bits : {1u, 3u, 4u, 7u, 10u, 13u}) {
      const std::size_t n = 4099;
      const std::vector<std::uint16_t> codes = make_codes(n, std::uint32_t(1) << bits, 9);
      std::vector<std::byte> packed((n * bits + 7) / 8);
      dc::pack_fixed_reference(codes.data(), n, bits, packed.data());
      for (std::size_t first : {std::size_t(8), std::size_t(56), std::size_t(4088)})
        for (std::size_t len : {std::size_t(8), std::size_t(40), n - first}) {
          if (first + len > n) continue;
          const std::size_t offset = first / 8 * bits;
          std::vector<std::uint16_t> back(len);
          ASSERT_TRUE(dc::unpack_fixed(packed.data() + offset, packed.size() - offset, bits, len,
                                       back.data()));
          ASSERT_TRUE(std::equal(back.begin(), back.end(), codes.begin() + first))
              << bits << " " << first << " " << len;
        }
    }
  });
}

TEST(CodecSimd, MaxCodeMatchesScalarOnEveryTarget) {
  for_each_simd_target([](const std::string&) {
    for (std::size_t n : kCounts)
      for (std::size_t at : {std::size_t(0), n / 2, n ? n - 1 : 0}) {
        std::vector<std::uint16_t> codes = make_codes(n, 300, 4);
        if (n) codes[at] = 0xFFFF;
        const std::uint16_t expect = n ? *std::max_element(codes.begin(), codes.end()) : 0;
        ASSERT_EQ(dc::max_code(codes.data(), n), expect) << n << " " << at;
        ASSERT_EQ(dc::find_code_at_least(codes.data(), n, 0xFFFF), n ? at : SIZE_MAX);
      }
  });
}

TEST(CodecSimd, MixedRadixMatchesReferenceOnEveryTarget) {
  for_each_simd_target([](const std::string&) {
    for (std::uint32_t s :
         {2u, 3u, 5u, 9u, 10u, 11u, 12u, 13u, 17u, 33u, 100u, 1000u, 65535u, 65536u}) {
      const unsigned k_max = dme::max_digits_per_word(s);
      for (unsigned k : {1u, 2u, k_max / 2 + 1, k_max - 1, k_max}) {
        if (k < 1 || k > k_max) continue;
        const dc::RadixTable t = dc::make_radix_table(s, k);
        for (std::size_t n : kCounts) {
          SCOPED_TRACE("s " + std::to_string(s) + ", k " + std::to_string(k) + ", n " +
                       std::to_string(n));
          const std::vector<std::uint16_t> digits = make_codes(n, s, s + k);
          const std::size_t bytes = 8 * ((n + k - 1) / k);
          std::vector<std::byte> fast(bytes + 64, std::byte{0xA5}), ref(bytes);
          dc::pack_radix(digits.data(), n, t, fast.data());
          dc::pack_radix_reference(digits.data(), n, s, k, ref.data());
          ASSERT_TRUE(std::equal(ref.begin(), ref.end(), fast.begin()));
          for (std::size_t i = bytes; i < fast.size(); ++i) ASSERT_EQ(fast[i], std::byte{0xA5});
          ASSERT_EQ(dc::find_bad_radix_word(ref.data(), n, t), SIZE_MAX);
          std::vector<std::uint16_t> back(n + 64, 0xBEEF), expect(n);
          dc::unpack_radix(ref.data(), n, t, back.data());
          dc::unpack_radix_reference(ref.data(), n, s, k, expect.data());
          ASSERT_TRUE(std::equal(expect.begin(), expect.end(), back.begin()));
          ASSERT_TRUE(std::equal(digits.begin(), digits.end(), back.begin()));
          for (std::size_t i = n; i < back.size(); ++i) ASSERT_EQ(back[i], 0xBEEF);
        }
      }
    }
  });
}

// The table kernel (the scalar target's unpacking where a group table exists) called
// directly, so that every machine checks it whatever target it dispatches to: every radix with a
// table, every word length with two groups or more, awkward counts, nothing written past n.
TEST(CodecSimd, MixedRadixTableKernelMatchesReference) {
  std::size_t checked = 0;
  for (std::uint32_t s = 3; s <= 200; ++s) {
    for (unsigned k = 1; k <= dme::max_digits_per_word(s); ++k) {
      const dc::RadixTable t = dc::make_radix_table(s, k);
      if (t.group_table == nullptr) continue;
      for (std::size_t n : kCounts) {
        const std::vector<std::uint16_t> digits = make_codes(n, s, s * 64 + k);
        std::vector<std::byte> packed(8 * ((n + k - 1) / k));
        dc::pack_radix_reference(digits.data(), n, s, k, packed.data());
        std::vector<std::uint16_t> back(n + 16, 0xBEEF);
        dc::unpack_radix_table(packed.data(), n, t, back.data());
        ASSERT_TRUE(std::equal(digits.begin(), digits.end(), back.begin()))
            << "s " << s << ", k " << k << ", n " << n;
        for (std::size_t i = n; i < back.size(); ++i) ASSERT_EQ(back[i], 0xBEEF) << s << " " << k;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);  // radices 3..128 have tables at many word lengths
}

// Words out of range (which find_bad_radix_word rejects before any decoder unpacks them) give
// wrong digits but stay in memory: every kernel, the group tables included, reads and writes
// only where a valid word would (AddressSanitizer checks the reads in CI).
TEST(CodecSimd, MixedRadixWordsOutOfRangeStayInMemory) {
  for_each_simd_target([](const std::string&) {
    for (std::uint32_t s : {3u, 9u, 10u, 11u, 12u, 13u, 17u, 33u, 100u}) {
      const unsigned k = dme::max_digits_per_word(s);
      const dc::RadixTable t = dc::make_radix_table(s, k);
      const std::size_t words = 100, n = words * k;
      const std::uint64_t top = ~std::uint64_t{0} - 2;
      for (std::uint64_t w : {top, t.word_bound, t.word_bound + (top - t.word_bound) / 2}) {
        std::vector<std::byte> in(8 * words);
        for (std::size_t i = 0; i < words; ++i) dc::store_le(in.data() + 8 * i, w + i % 3);
        ASSERT_EQ(dc::find_bad_radix_word(in.data(), n, t), 0u) << "s=" << s;
        std::vector<std::uint16_t> out(n + 64, 0xBEEF);
        dc::unpack_radix(in.data(), n, t, out.data());
        for (std::size_t i = n; i < out.size(); ++i) ASSERT_EQ(out[i], 0xBEEF) << "s=" << s;
      }
    }
  });
}

// The range check every receiver runs before unpacking (a vector of words at a time, then the
// rest): one word at or above s^k, anywhere among valid ones, is found where it is; words just
// below s^k pass. Word counts across a few vector steps and their tails, on every target.
TEST(CodecSimd, MixedRadixRangeCheckFindsEveryBadWord) {
  for_each_simd_target([](const std::string&) {
    for (std::uint32_t s : {3u, 10u, 100u, 65535u}) {
      const unsigned k = dme::max_digits_per_word(s);
      const dc::RadixTable t = dc::make_radix_table(s, k);
      for (std::size_t words : {1u, 2u, 7u, 16u, 17u, 33u, 70u}) {
        const std::size_t n = words * k;
        std::vector<std::byte> in(8 * words);
        for (std::size_t i = 0; i < words; ++i) dc::store_le(in.data() + 8 * i, t.word_bound - 1);
        ASSERT_EQ(dc::find_bad_radix_word(in.data(), n, t), SIZE_MAX);
        for (std::size_t at = 0; at < words; ++at)
          for (std::uint64_t bad : {t.word_bound, ~std::uint64_t{0}}) {
            dc::store_le(in.data() + 8 * at, bad);
            ASSERT_EQ(dc::find_bad_radix_word(in.data(), n, t), at)
                << "s=" << s << " words=" << words << " bad=" << bad;
            dc::store_le(in.data() + 8 * at, t.word_bound - 1);
          }
      }
    }
  });
}

// Words at the edges of every power of s (where a floating-point digit would first go wrong) and
// random words, for every radix up to 1000 and a spread above, unpacked and packed back by each
// target.
TEST(CodecSimd, MixedRadixEdgeWordsOnEveryTarget) {
  std::vector<std::uint32_t> radices;
  for (std::uint32_t s = 3; s <= dme::kMaxRadix; s = s < 1000 ? s + 1 : s * 5 / 4)
    radices.push_back(s);
  radices.push_back(dme::kMaxRadix);
  for_each_simd_target([&](const std::string&) {
    for (std::uint32_t s : radices) {
      const unsigned k = dme::max_digits_per_word(s);
      const dc::RadixTable t = dc::make_radix_table(s, k);
      std::vector<std::uint64_t> words;
      dme::PhiloxStream rng(8, s, 0, dme::Purpose::kInput);
      for (std::uint64_t i = 0; i < 16; ++i)
        words.push_back(((std::uint64_t(rng.bits32(2 * i)) << 32) | rng.bits32(2 * i + 1)) %
                        t.word_bound);
      words.push_back(t.word_bound - 1);
      for (unsigned j = 1; j <= k; ++j)
        for (std::uint64_t delta : {0ull, 1ull})
          for (std::uint64_t w : {t.pow[j] - 1 - std::min(delta, t.pow[j] - 1), t.pow[j] + delta,
                                  t.word_bound - t.pow[j] + delta})
            if (w < t.word_bound) words.push_back(w);
      // Multiples of every power, and one either side: where a quotient taken in floating point
      // (the grouped kernel's first split, the later ones) would first be one off.
      for (unsigned j = 1; j < k; ++j)
        for (std::uint64_t i = 0; i < 6; ++i) {
          const std::uint64_t c =
              1 + ((std::uint64_t(rng.bits32(1000 + 8 * j + i)) << 32) | rng.bits32(2000 + j + i)) %
                      (t.word_bound / t.pow[j] - 1);
          for (std::uint64_t w : {c * t.pow[j] - 1, c * t.pow[j], c * t.pow[j] + 1})
            if (w < t.word_bound) words.push_back(w);
        }
      std::vector<std::byte> in(8 * words.size());
      for (std::size_t i = 0; i < words.size(); ++i) dc::store_le(in.data() + 8 * i, words[i]);
      const std::size_t n = words.size() * k;
      std::vector<std::uint16_t> fast(n), ref(n);
      dc::unpack_radix(in.data(), n, t, fast.data());
      dc::unpack_radix_reference(in.data(), n, s, k, ref.data());
      ASSERT_EQ(fast, ref) << "s=" << s;
      // And back: the digits of the edge words pack into the same words.
      std::vector<std::byte> packed(in.size());
      dc::pack_radix(ref.data(), n, t, packed.data());
      ASSERT_EQ(packed, in) << "s=" << s;
    }
  });
}

template <class T>
void check_add_levels() {
  for (std::uint32_t count :
       {1u, 2u, 3u, 4u, 5u, 8u, 9u, 15u, 16u, 17u, 31u, 32u, 33u, 64u, 256u, 1000u, 65536u})
    for (std::size_t n : kCounts) {
      SCOPED_TRACE("levels " + std::to_string(count) + ", n " + std::to_string(n));
      dme::PhiloxStream rng(count, 3, 0, dme::Purpose::kInput);
      std::vector<float> levels(count);
      for (std::uint32_t j = 0; j < count; ++j) levels[j] = rng.uniform_float(j) * 6.0f - 3.0f;
      const std::vector<std::uint16_t> codes = make_codes(n, count, count + n);
      std::vector<T> acc(n), expect(n);
      for (std::size_t i = 0; i < n; ++i)
        acc[i] = expect[i] = static_cast<T>(rng.uniform_float(count + i)) * T(1000) - T(500);
      for (std::size_t i = 0; i < n; ++i) expect[i] += static_cast<T>(levels[codes[i]]);
      dc::add_levels(acc.data(), levels.data(), count, codes.data(), n);
      ASSERT_TRUE(same_bytes(acc.data(), expect.data(), n * sizeof(T)));
    }
}

TEST(CodecSimd, AddLevelsMatchesScalarOnEveryTarget) {
  for_each_simd_target([](const std::string&) {
    check_add_levels<float>();
    check_add_levels<double>();
  });
}

// Every layout the codec picks (and the s of the issue), with buckets of fewer levels than s:
// the payload bytes, the decoded codes and both accumulations are the same on every target (the
// first target's results are the reference; every target's accumulation is also checked against
// the plain sum).
TEST(CodecSimd, PayloadsAreIdenticalAcrossTargets) {
  struct Result {
    std::vector<std::byte> wire;
    std::vector<float> acc_f;
    std::vector<double> acc_d;
  };
  const std::uint32_t radices[] = {2, 3, 4, 5, 8, 10, 16, 17, 32, 64, 100, 128, 256, 1000, 65536};
  const std::uint64_t counts[] = {1, 33, 4099};
  std::vector<std::string> targets;
  std::vector<std::vector<Result>> by_target;
  for_each_simd_target([&](const std::string& target) {
    targets.push_back(target);
    std::vector<Result>& results = by_target.emplace_back();
    for (std::uint32_t s : radices)
      for (std::uint64_t count : counts)
        for (std::uint64_t bucket : {std::uint64_t(0), std::uint64_t(512)}) {
          SCOPED_TRACE("s " + std::to_string(s) + ", count " + std::to_string(count) + ", bucket " +
                       std::to_string(bucket));
          const dme::test::PayloadParts p = dme::test::make_parts(count, s, bucket, s + count);
          Result r;
          r.wire = dme::test::encode_parts(p);
          ASSERT_EQ(dme::decode(r.wire, {}).codes, p.codes);
          r.acc_f.assign(count, 0.25f);
          r.acc_d.assign(count, -0.125);
          dme::decode_accumulate(r.wire, {}, std::span<float>(r.acc_f));
          dme::decode_accumulate(r.wire, {}, std::span<double>(r.acc_d));
          for (std::uint64_t i = 0; i < count; ++i) {
            const float level =
                p.levels.values[p.levels.offsets[bucket ? i / bucket : 0] + p.codes[i]];
            ASSERT_EQ(std::bit_cast<std::uint32_t>(r.acc_f[i]),
                      std::bit_cast<std::uint32_t>(0.25f + level));
            ASSERT_EQ(std::bit_cast<std::uint64_t>(r.acc_d[i]),
                      std::bit_cast<std::uint64_t>(-0.125 + static_cast<double>(level)));
          }
          results.push_back(std::move(r));
        }
  });
  ASSERT_FALSE(by_target.empty());
  const std::vector<Result>& ref = by_target.front();
  for (std::size_t t = 1; t < by_target.size(); ++t) {
    ASSERT_EQ(by_target[t].size(), ref.size());
    for (std::size_t i = 0; i < ref.size(); ++i) {
      SCOPED_TRACE(targets[t] + " against " + targets.front() + ", case " + std::to_string(i));
      ASSERT_EQ(by_target[t][i].wire, ref[i].wire);
      ASSERT_EQ(by_target[t][i].acc_f.size(), ref[i].acc_f.size());
      ASSERT_TRUE(same_bytes(by_target[t][i].acc_f.data(), ref[i].acc_f.data(),
                             ref[i].acc_f.size() * sizeof(float)));
      ASSERT_EQ(by_target[t][i].acc_d.size(), ref[i].acc_d.size());
      ASSERT_TRUE(same_bytes(by_target[t][i].acc_d.data(), ref[i].acc_d.data(),
                             ref[i].acc_d.size() * sizeof(double)));
    }
  }
}

// A payload packed in pieces (as the compressor does, 8192 codes at a time) is the same bytes as
// one packed whole, on every target.
TEST(CodecSimd, PiecewisePackingMatchesWholeOnEveryTarget) {
  for_each_simd_target([](const std::string& target) {
    for (std::uint32_t s : {4u, 10u, 32u, 256u}) {
      const dme::test::PayloadParts p = dme::test::make_parts(20000, s, 0, 3);
      const std::vector<std::byte> whole = dme::test::encode_parts(p);
      std::vector<std::byte> out;
      dme::PayloadWriter writer(p.header, p.levels, out);
      const std::size_t piece = 8192 / writer.alignment() * writer.alignment();
      for (std::size_t first = 0; first < p.codes.size(); first += piece)
        writer.pack(first, std::span<const std::uint16_t>(p.codes).subspan(
                               first, std::min(piece, p.codes.size() - first)));
      writer.finish();
      ASSERT_EQ(out, whole) << target << " s " << s;
    }
  });
}

}  // namespace
