// decode against damaged and hostile buffers: every failure must be a dme::Error, found without
// reading past the buffer (the sanitizer build checks that) and without allocating from an
// unchecked length (the operator new below checks that).
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cstdlib>
#include <functional>
#include <limits>
#include <new>

#include "dme/codec/bitpack.h"
#include "dme/codec/detail/endian.h"
#include "dme/codec/payload.h"
#include "dme/core/error.h"
#include "payload_reject.h"
#include "payload_test_util.h"

namespace {
std::atomic<std::size_t> g_largest_allocation{0};
}  // namespace

// GCC cannot see that operator delete below pairs with this operator new's malloc.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Records the largest allocation, so a test can show decode never asked for a size it read from
// a hostile header.
void* operator new(std::size_t n) {
  std::size_t prev = g_largest_allocation.load(std::memory_order_relaxed);
  while (n > prev && !g_largest_allocation.compare_exchange_weak(prev, n)) {
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using dme::test::encode_parts;
using dme::test::make_codes_only;
using dme::test::make_parts;
using dme::test::reseal;
namespace dc = dme::detail::codec;

using dme::test::expect_all_reject;

// A payload small enough to damage in every possible way.
std::vector<std::byte> small_payload(std::uint32_t s) {
  return encode_parts(make_parts(23, s, 10, 9));
}

TEST(PayloadHostile, TruncatedAtEveryLength) {
  for (std::uint32_t s : {4u, 10u}) {
    const auto buf = small_payload(s);
    for (std::size_t n = 0; n < buf.size(); ++n) {
      std::vector<std::byte> cut(buf.begin(), buf.begin() + n);
      SCOPED_TRACE(n);
      expect_all_reject(cut, n < 112 ? "shorter than the smallest payload" : "total length");
    }
  }
}

TEST(PayloadHostile, TrailingBytesAreRejected) {
  const auto buf = small_payload(10);
  for (std::size_t extra : {1u, 7u, 8u, 4096u}) {
    auto big = buf;
    big.resize(buf.size() + extra, std::byte{0});
    expect_all_reject(big, "trailing bytes");
  }
}

TEST(PayloadHostile, EverySingleBitFlipIsRejected) {
  for (std::uint32_t s : {3u, 16u}) {
    const auto buf = small_payload(s);
    for (std::size_t bit = 0; bit < 8 * buf.size(); ++bit) {
      auto bad = buf;
      bad[bit / 8] ^= std::byte(1u << (bit % 8));
      // A flip in the length field is caught by the length check, in the magic or version by
      // theirs; all others by the checksum.
      EXPECT_THROW(dme::decode(bad), dme::Error) << "bit " << bit;
      std::vector<double> acc(23);
      EXPECT_THROW(dme::decode_accumulate(bad, {}, std::span<double>(acc)), dme::Error)
          << "bit " << bit;
    }
  }
}

TEST(PayloadHostile, HugeCountInTinyBufferIsRejectedWithoutAllocating) {
  auto buf = encode_parts(make_parts(8, 16, 0, 1));
  for (std::uint64_t count : {std::uint64_t(1) << 40, std::uint64_t(1) << 62, ~std::uint64_t(0)}) {
    auto bad = buf;
    dc::store_le<std::uint64_t>(bad.data() + 40, std::uint64_t(1)
                                                     << 63);  // padded, so the range fits
    dc::store_le<std::uint64_t>(bad.data() + 56, count);
    reseal(bad);
    g_largest_allocation = 0;
    EXPECT_THROW(dme::decode(bad), dme::Error);
    std::vector<float> acc;
    EXPECT_THROW(dme::decode_accumulate(bad, {}, std::span<float>(acc)), dme::Error);
    EXPECT_THROW(dme::decode_header(bad), dme::Error);
    EXPECT_LT(g_largest_allocation.load(), 4096u) << "count " << count;
  }
  // Huge bucket and level counts.
  for (std::uint64_t n : {std::uint64_t(1) << 62, ~std::uint64_t(0) / 4 + 1}) {
    for (std::size_t offset : {80u, 88u}) {
      auto bad = buf;
      dc::store_le<std::uint64_t>(bad.data() + offset, n);
      reseal(bad);
      g_largest_allocation = 0;
      EXPECT_THROW(dme::decode(bad), dme::Error);
      EXPECT_LT(g_largest_allocation.load(), 4096u);
    }
  }
}

TEST(PayloadHostile, NormGridDecodingIsBoundedByTheCountAndS) {
  // Kind 5 (qsgd) sends one norm per bucket and no levels: a payload of buckets of one code at
  // s = 65536 must not cost buckets · s. decode_accumulate holds at most the s-point grid (and
  // its scaled copy) beside the count's own buffers, and work per code.
  const std::uint64_t count = 20000;
  const auto buf = encode_parts(dme::test::make_norm_grid(count, 65536, 1, 3));
  std::vector<float> acc(count, 0.0f);
  g_largest_allocation = 0;
  dme::decode_accumulate(buf, {}, std::span<float>(acc));
  EXPECT_LE(g_largest_allocation.load(), 4u * 65536u);
  const dme::Payload p = dme::decode(buf);
  for (std::uint64_t i = 0; i < count; ++i)
    ASSERT_EQ(acc[i], dme::test::norm_grid_value(p, i)) << i;
}

/// Edits a valid payload, reseals it and expects every decoder to name the problem.
void expect_resealed_reject(std::uint32_t s, std::uint64_t bucket,
                            const std::function<void(std::vector<std::byte>&)>& edit,
                            const std::string& fragment) {
  dme::test::expect_edit_rejected(encode_parts(make_parts(30, s, bucket, 4)), edit, fragment);
}

using dme::test::put;

TEST(PayloadHostile, ResealedBadFieldsAreNamed) {
  expect_resealed_reject(
      10, 0, [](auto& b) { b[0] = std::byte{'X'}; }, "magic");
  expect_resealed_reject(10, 0, put<std::uint16_t>(8, 2), "'version': expected 1, found 2");
  expect_resealed_reject(10, 0, put<std::uint8_t>(10, 0), "code layout");
  expect_resealed_reject(10, 0, put<std::uint8_t>(11, 18), "found packing 1 with parameter 18");
  expect_resealed_reject(10, 0, put<std::uint8_t>(12, 4), "rotations must be in 0..3, got 4");
  expect_resealed_reject(10, 0, put<std::uint8_t>(13, 4), "'flags'");
  expect_resealed_reject(10, 0, put<std::uint8_t>(14, 6), "'kind': expected 0 (levels), 1");
  expect_resealed_reject(10, 0, put<std::uint8_t>(14, 3), "kind 3 (shared table) has s = 10");
  expect_resealed_reject(10, 0, put<std::uint8_t>(14, 4), "kind 4 (Lloyd-Max) has s = 10");
  expect_resealed_reject(10, 0, put<std::uint8_t>(15, 2), "kind 0 carries a dither");
  expect_resealed_reject(10, 0, put<std::uint32_t>(28, 1), "kind 0 carries a dither");
  // Kind 1 (dithered levels): its purpose and scale are checked, and nearest rounding excluded.
  const auto kind1 = [](std::uint8_t purpose, float c) {
    return [=](std::vector<std::byte>& b) {
      dc::store_le<std::uint8_t>(b.data() + 14, 1);
      dc::store_le<std::uint8_t>(b.data() + 15, purpose);
      dc::store_le<std::uint32_t>(b.data() + 28, std::bit_cast<std::uint32_t>(c));
    };
  };
  expect_resealed_reject(10, 0, kind1(4, 0.5f), "dither purpose must be 2");
  expect_resealed_reject(10, 0, kind1(2, -1.0f), "dither scale must be finite and >= 0");
  expect_resealed_reject(10, 0, kind1(2, std::numeric_limits<float>::infinity()),
                         "dither scale must be finite");
  expect_resealed_reject(
      10, 0,
      [&](auto& b) {
        kind1(2, 0.5f)(b);
        b[13] = std::byte{1};  // biased
      },
      "must come from stochastic rounding");
  expect_resealed_reject(10, 0, put<std::uint32_t>(16, 1), "'s': expected 2..65536, found 1");
  expect_resealed_reject(10, 0, put<std::uint32_t>(16, 16), "code layout");
  expect_resealed_reject(10, 0, put<std::uint64_t>(40, 48), "expected d = 35 (overlapped layout)");
  // A d above 2^63 has no power of two above it (found by the fuzzer: no UB, a clear error).
  expect_resealed_reject(
      10, 0,
      [](auto& b) {
        dc::store_le<std::uint64_t>(b.data() + 32, 0xF7F7F7F7F7FFFFFFull);
        dc::store_le<std::uint64_t>(b.data() + 40, ~std::uint64_t(0));
      },
      "(overlapped layout) or the power of two in [d, 2d)");
  expect_resealed_reject(10, 0, put<std::uint64_t>(48, 60), "outside [0, 64)");
  expect_resealed_reject(10, 0, put<std::uint64_t>(80, 2), "'buckets': expected 1, found 2");
  expect_resealed_reject(10, 7, put<std::uint64_t>(64, 8), "'buckets': expected 4, found 5");
  expect_resealed_reject(10, 0, put<std::uint64_t>(88, 0), "'levels'");
  expect_resealed_reject(10, 0, put<std::uint64_t>(88, 11), "'levels'");
  expect_resealed_reject(10, 0, put<std::uint64_t>(88, 8), "sections");
  expect_resealed_reject(10, 0, put<std::uint32_t>(104, 0), "level count of bucket 0");
  expect_resealed_reject(10, 0, put<std::uint32_t>(104, 11), "level count of bucket 0");
  expect_resealed_reject(10, 0, put<std::uint32_t>(108, 1),
                         "padding byte 108 after the level counts");
  expect_resealed_reject(10, 0, put<std::uint32_t>(112, 0x7FC00000u), "finite");  // NaN
  expect_resealed_reject(10, 0, put<std::uint32_t>(116, 0xC0A00000u), "strictly increasing");  // -5
  // Codes: 30 digits of base 10 in two words at 152; a word >= 10^19, then the 11-digit last
  // word >= 10^11, then padding bits of a fixed-width stream.
  expect_resealed_reject(10, 0, put<std::uint64_t>(152, 10000000000000000000ull), "word 0");
  expect_resealed_reject(10, 0, put<std::uint64_t>(160, 100000000000ull), "word 1");
  expect_resealed_reject(3, 0, put<std::uint64_t>(128, 205891132094649ull), "word 0");  // 3^30
}

// Kind 2 (codes only): one bucket, no levels, one level count equal to s, codes below s.
TEST(PayloadHostile, CodesOnlyPayloadFieldsAreChecked) {
  const auto reject = [](std::uint32_t s, const std::function<void(std::vector<std::byte>&)>& edit,
                         const std::string& fragment) {
    auto buf = encode_parts(make_codes_only(30, s, 4));
    edit(buf);
    reseal(buf);
    SCOPED_TRACE(fragment);
    EXPECT_THROW(dme::decode(buf), dme::Error);
    try {
      dme::decode(buf);
    } catch (const dme::Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  reject(10, put<std::uint32_t>(28, 1), "kind 2 carries a dither");
  reject(10, put<std::uint8_t>(15, 2), "kind 2 carries a dither");
  reject(10, put<std::uint64_t>(64, 30), "bucket_size 30, expected 0");
  reject(10, put<std::uint64_t>(88, 1), "'levels (kind 2: none)'");
  reject(10, put<std::uint32_t>(104, 9), "'level count (kind 2: s)': expected 10, found 9");
  reject(10, put<std::uint32_t>(108, 1), "padding byte 108 after the level counts");
  // s = 15 packs 4-bit codes (a tie with mixed radix goes to fixed width): a code of 15 is a
  // valid nibble but not below s.
  reject(
      15, [](auto& b) { b[112] = std::byte{0xFF}; }, "is 15");
  // Kind 2 has no levels to add; encode takes only codes_only_levels(s).
  const auto buf = encode_parts(make_codes_only(30, 10, 4));
  std::vector<float> acc(30);
  EXPECT_THROW(dme::decode_accumulate(buf, {}, std::span<float>(acc)), dme::Error);
  auto p = make_codes_only(30, 10, 4);
  p.levels = make_parts(30, 10, 0, 4).levels;
  EXPECT_THROW(encode_parts(p), dme::Error);
}

TEST(PayloadHostile, CodeAboveItsBucketLevelsIsNamed) {
  // s = 16, buckets of 10: bucket 1 has fewer than 16 levels (make_parts). Raise a code of it.
  std::uint64_t seed = 4;
  auto p = make_parts(30, 16, 10, seed);
  while (p.levels.offsets[2] - p.levels.offsets[1] == 16) p = make_parts(30, 16, 10, ++seed);
  auto buf = encode_parts(p);
  const std::size_t codes_at = buf.size() - 8 - 16;  // 30 codes of 4 bits: 15 bytes, padded to 16
  buf[codes_at + 6] |= std::byte{0xF0};              // code 13, in bucket 1
  reseal(buf);
  expect_all_reject(buf, "code of coordinate 16 is 15");
}

TEST(PayloadHostile, NonZeroPaddingAfterCodesIsRejected) {
  auto buf = encode_parts(make_parts(30, 16, 10, 4));
  buf[buf.size() - 9] = std::byte{1};  // last padding byte of the code section
  reseal(buf);
  expect_all_reject(buf, "after the codes");
}

}  // namespace
