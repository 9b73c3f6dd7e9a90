// Kind-4 payloads (Lloyd-Max, the eden scheme, at whole and fractional bit budgets): the code stream
// against a bit-by-bit reference of its definition, round trips at awkward sizes,
// decode_accumulate against S·C[width][code], and hostile edits of every kind-4 rule, each
// named by every decoder.
#include <gtest/gtest.h>

#include <bit>
#include <functional>
#include <string>
#include <vector>

#include "dme/codec/detail/endian.h"
#include "dme/codec/payload.h"
#include "dme/core/error.h"
#include "payload_reject.h"
#include "payload_test_util.h"

namespace {

namespace dc = dme::detail::codec;
using dme::test::encode_parts;
using dme::test::make_two_widths;
using dme::test::reseal;

// The codes section of a kind-4 payload starts after the header and one level count.
constexpr std::size_t kCodesAt = 112;

// The definition: every code, wide (b + 1 bits) or narrow (b), LSB first, one after another
// (every run inside a period is a whole number of bytes, so the runs start at bytes).
std::vector<std::byte> reference_stream(const dme::test::PayloadParts& p) {
  const unsigned b = std::countr_zero(p.header.s);
  std::vector<std::byte> out;
  std::uint64_t bit = 0;
  for (std::uint64_t i = 0; i < p.codes.size(); ++i) {
    const unsigned width = b + (dme::test::two_widths_is_wide(p.header, i) ? 1 : 0);
    for (unsigned k = 0; k < width; ++k, ++bit) {
      if (bit / 8 >= out.size()) out.push_back(std::byte{0});
      if (p.codes[i] >> k & 1) out[bit / 8] |= std::byte(1u << (bit % 8));
    }
  }
  return out;
}

TEST(PayloadTwoWidths, StreamMatchesTheDefinitionAndRoundTrips) {
  for (unsigned bits : {1u, 3u, 7u, 8u})
    for (unsigned groups : {0u, 1u, 8u, 255u})
      for (std::uint64_t count :
           {0ull, 1ull, 7ull, 8ull, 2047ull, 2048ull, 2049ull, 4104ull, 10007ull}) {
        if (bits == 8 && groups > 0) continue;  // no 9-bit table
        SCOPED_TRACE("bits " + std::to_string(bits) + " groups " + std::to_string(groups) +
                     " count " + std::to_string(count));
        auto parts = make_two_widths(count, bits, groups, 7 + count + bits);
        const auto buf = encode_parts(parts);
        const auto want = reference_stream(parts);
        ASSERT_EQ(buf.size(), kCodesAt + (want.size() + 7) / 8 * 8 + 8);
        ASSERT_TRUE(std::equal(want.begin(), want.end(), buf.begin() + kCodesAt));
        EXPECT_EQ(dme::encoded_size(parts.header, parts.levels), buf.size());
        const dme::Payload p = dme::decode(buf);
        EXPECT_EQ(p.header, parts.header);
        EXPECT_EQ(p.levels, parts.levels);
        ASSERT_EQ(p.codes, parts.codes);
        std::vector<float> acc(count, 0.5f);
        std::vector<double> acc_d(count, 0.0);
        dme::decode_accumulate(buf, {}, std::span<float>(acc));
        dme::decode_accumulate(buf, {}, std::span<double>(acc_d));
        for (std::size_t i = 0; i < count; ++i) {
          const float value = dme::test::two_widths_value(p, i);
          ASSERT_EQ(acc[i], 0.5f + value) << "i " << i;
          ASSERT_EQ(acc_d[i], double(value)) << "i " << i;
        }
      }
}

TEST(PayloadTwoWidths, PiecesPackLikeOneCall) {
  // PayloadWriter::pack in period-aligned pieces, and pack_unordered in any order, give the
  // bytes of one encode.
  const auto parts = make_two_widths(3 * dme::kTwoWidthPeriod + 100, 2, 5, 3);
  const auto whole = encode_parts(parts);
  std::vector<std::byte> out;
  dme::PayloadWriter writer(parts.header, parts.levels, out);
  EXPECT_EQ(writer.alignment(), dme::kTwoWidthPeriod);
  for (std::uint64_t first = 0; first < parts.codes.size(); first += dme::kTwoWidthPeriod)
    writer.pack(first, std::span<const std::uint16_t>(parts.codes)
                           .subspan(first, std::min<std::uint64_t>(dme::kTwoWidthPeriod,
                                                                   parts.codes.size() - first)));
  writer.finish();
  EXPECT_EQ(out, whole);
  std::vector<std::byte> unordered;
  dme::PayloadWriter w2(parts.header, parts.levels, unordered);
  for (std::uint64_t k = 4; k-- > 0;) {
    const std::uint64_t first = k * dme::kTwoWidthPeriod;
    w2.pack_unordered(first, std::span<const std::uint16_t>(parts.codes)
                                 .subspan(first, std::min<std::uint64_t>(
                                                     dme::kTwoWidthPeriod,
                                                     parts.codes.size() - first)));
  }
  w2.finish_unordered();
  EXPECT_EQ(unordered, whole);
}

/// A valid kind-4 payload of 30 codes (8 wide of 4 bits, then 22 narrow of 3 bits: 13 code
/// bytes, the last with 6 padding bits), edited and resealed: every decoder must reject it
/// naming `fragment`.
void expect_rejected(const std::function<void(std::vector<std::byte>&)>& edit,
                     const std::string& fragment) {
  dme::test::expect_edit_rejected(encode_parts(make_two_widths(30, 3, 1, 5)), edit, fragment);
}

using dme::test::put;

TEST(PayloadTwoWidths, HostileFieldsAreNamed) {
  expect_rejected(
      [](std::vector<std::byte>& b) {  // s = 256 (its layout byte too): no 9-bit wide codes
        dc::store_le<std::uint32_t>(b.data() + 16, 256);
        dc::store_le<std::uint8_t>(b.data() + 11, 8);
      },
      "expected 2^b for b = 1..7 (with wide codes)");
  expect_rejected(put<std::uint64_t>(64, 8), "has bucket_size 8");
  expect_rejected(put<std::uint32_t>(28, 0x7fc00000u), "scale must be finite and >= 0");
  expect_rejected(put<std::uint32_t>(28, std::bit_cast<std::uint32_t>(-1.0f)),
                  "scale must be finite and >= 0");
  expect_rejected(put<std::uint64_t>(88, 1), "levels (kind 4: none)");
  expect_rejected(put<std::uint32_t>(104, 4), "level count (kind 4: s)");
  expect_rejected([](std::vector<std::byte>& b) { b[kCodesAt + 12] |= std::byte{0x80}; },
                  "padding bits after the last code are not zero");
  expect_rejected([](std::vector<std::byte>& b) { b[kCodesAt + 13] = std::byte{1}; },
                  "padding byte");
  // Another kind with wide groups: a kind-0 payload whose byte 15 is set.
  auto levels = encode_parts(dme::test::make_parts(30, 8, 0, 4));
  levels[15] = std::byte{3};
  reseal(levels);
  dme::test::expect_all_reject(levels, "carries a dither");
}

TEST(PayloadTwoWidths, EncodeRefusesWhatDecodeRefuses) {
  const auto parts = make_two_widths(30, 3, 1, 5);
  std::vector<std::byte> out;
  auto p = parts;
  p.codes[8] = 8;  // a narrow (3-bit) code of 4 bits
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
  p = parts;
  p.codes[0] = 16;  // a wide (4-bit) code of 5 bits
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
  p = dme::test::make_two_widths(30, 8, 0, 5);  // 8 bits: only without wide codes
  EXPECT_NO_THROW(dme::encode(p.header, p.levels, p.codes, out));
  p.header.wide_groups = 1;
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
  p = parts;
  p.header.dither_purpose = 2;
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
  p = parts;
  p.levels.values = {1.0f};  // its levels follow from the scale: none are sent
  p.levels.offsets = {0, 1};
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
  p = parts;
  p.header.kind = dme::PayloadKind::kLevels;  // wide groups on another kind
  p.header.dither = 0;
  p.levels = dme::test::make_parts(30, 8, 0, 4).levels;
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
}

}  // namespace
