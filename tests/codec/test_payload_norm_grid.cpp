// Kind-5 payloads (norm grid, the qsgd scheme): one norm per bucket instead of level counts and
// levels; round trips at awkward sizes, decode_accumulate against the definition ν_b·u[code]
// (on both of its paths: through a table of the s products and product by product), the grid's
// tiny-norm merging, and hostile edits of every kind-5 rule, each named by every decoder.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dme/codec/bitpack.h"
#include "dme/codec/detail/endian.h"
#include "dme/codec/payload.h"
#include "dme/core/error.h"
#include "dme/quantization/norm_grid.h"
#include "payload_reject.h"
#include "payload_test_util.h"

namespace {

using dme::test::encode_parts;
using dme::test::make_norm_grid;
namespace dc = dme::detail::codec;

std::uint64_t pad8(std::uint64_t n) {
  return (n + 7) / 8 * 8;
}

TEST(PayloadNormGrid, RoundTripsAndDecodesToTheGrid) {
  for (std::uint32_t s : {2u, 3u, 10u, 16u, 17u, 1000u, 65536u})
    for (std::uint64_t count : {0ull, 1ull, 7ull, 513ull, 4100ull})
      for (std::uint64_t bucket : {0ull, 1ull, 7ull, 512ull}) {
        SCOPED_TRACE("s " + std::to_string(s) + " count " + std::to_string(count) + " bucket " +
                     std::to_string(bucket));
        const auto parts = make_norm_grid(count, s, bucket, s + count + bucket);
        const auto buf = encode_parts(parts);
        // Header, the norms (no level counts), the codes, the checksum.
        const std::uint64_t buckets = dme::num_buckets(parts.header);
        ASSERT_EQ(buf.size(), 104 + pad8(4 * buckets) +
                                  pad8(dme::packed_bytes(count, dme::choose_layout(s))) + 8);
        EXPECT_EQ(dme::encoded_size(parts.header, parts.levels), buf.size());
        const dme::Payload p = dme::decode(buf);
        EXPECT_EQ(p.header, parts.header);
        EXPECT_EQ(p.levels, parts.levels);
        EXPECT_EQ(p.codes, parts.codes);
        std::vector<float> acc(count);
        std::vector<double> acc_d(count);
        for (std::size_t i = 0; i < count; ++i) acc[i] = acc_d[i] = 0.25 * double(i % 5);
        dme::decode_accumulate(buf, {}, std::span<float>(acc));
        dme::decode_accumulate(buf, {}, std::span<double>(acc_d));
        for (std::size_t i = 0; i < count; ++i) {
          const float level = dme::test::norm_grid_value(p, i);
          const std::uint64_t b = bucket ? i / bucket : 0;
          ASSERT_EQ(level, dme::norm_grid_level(p.levels.values[b], p.codes[i], s)) << i;
          ASSERT_EQ(acc[i], 0.25f * float(i % 5) + level) << i;
          ASSERT_EQ(acc_d[i], 0.25 * double(i % 5) + double(level)) << i;
        }
      }
}

TEST(PayloadNormGrid, SideInformationIsOneFloatPerBucket) {
  // The same codes and grids as kind 0 cost a level count and s levels per bucket (4 + 4s
  // bytes) where kind 5 costs a norm (4 bytes): 4s bytes more per bucket.
  auto grid = make_norm_grid(4096, 16, 512, 3);
  for (std::size_t b = 0; b < 8; ++b) grid.levels.values[b] = 1.0f + float(b);  // 16 levels each
  dme::test::PayloadParts levels = grid;
  levels.header.kind = dme::PayloadKind::kLevels;
  levels.levels = {};
  levels.levels.offsets = {0};
  for (const float norm : grid.levels.values) {
    const dme::NormGrid g = dme::norm_grid(norm, dme::norm_grid_unit(16));
    levels.levels.values.insert(levels.levels.values.end(), g.levels.begin(), g.levels.end());
    levels.levels.offsets.push_back(static_cast<std::uint32_t>(levels.levels.values.size()));
  }
  ASSERT_EQ(levels.levels.values.size(), 8u * 16u);
  EXPECT_EQ(encode_parts(levels).size() - encode_parts(grid).size(), 8u * 4 * 16);
}

TEST(PayloadNormGrid, TinyNormsMergeLevelsThatCoincide) {
  for (std::uint32_t s : {2u, 3u, 16u, 255u, 65536u}) {
    const std::vector<float> unit = dme::norm_grid_unit(s);
    ASSERT_EQ(unit.front(), -1.0f);
    ASSERT_EQ(unit.back(), 1.0f);
    for (std::uint32_t t = 0; t < s; ++t) ASSERT_EQ(unit[t], -unit[s - 1 - t]) << t;
    for (float norm :
         {0.0f, std::numeric_limits<float>::denorm_min(), 3e-42f, 1e-39f, 1.0f, 3.0e38f}) {
      SCOPED_TRACE("s " + std::to_string(s) + " norm " + std::to_string(norm));
      const dme::NormGrid g = dme::norm_grid(norm, unit);
      // The levels are the distinct products, increasing, and code_of names a code of each.
      std::vector<float> distinct;
      for (std::uint32_t t = 0; t < s; ++t)
        if (distinct.empty() || distinct.back() != norm * unit[t])
          distinct.push_back(norm * unit[t]);
      ASSERT_EQ(g.levels, distinct);
      for (std::size_t j = 1; j < g.levels.size(); ++j) ASSERT_LT(g.levels[j - 1], g.levels[j]);
      if (g.code_of.empty()) {
        ASSERT_EQ(g.levels.size(), s);
      } else {
        ASSERT_EQ(g.code_of.size(), g.levels.size());
        for (std::size_t j = 0; j < g.levels.size(); ++j)
          ASSERT_EQ(dme::norm_grid_level(norm, g.code_of[j], s), g.levels[j]) << j;
      }
      if (norm >= 1e-39f) {
        EXPECT_TRUE(g.code_of.empty());  // only tiny norms merge
      }
    }
  }
  EXPECT_EQ(dme::norm_grid(0.0f, dme::norm_grid_unit(4)).levels.size(), 1u);
}

TEST(PayloadNormGrid, HostileFieldsAreNamed) {
  // s = 1000 packs 10-bit codes: a code of 1000..1023 fits the stream but not the grid.
  const auto parts = make_norm_grid(23, 1000, 10, 9);  // 3 buckets: norms at 104, 108, 112
  const auto buf = encode_parts(parts);
  using dme::test::expect_edit_rejected;
  using dme::test::put;
  expect_edit_rejected(buf, put<std::uint32_t>(104, std::bit_cast<std::uint32_t>(-1.0f)),
                       "bucket 0 has norm -1");
  expect_edit_rejected(buf, put<std::uint32_t>(108, 0x7fc00000u), "bucket 1 has norm nan");
  expect_edit_rejected(buf, put<std::uint32_t>(112, 0x7f800000u), "bucket 2 has norm inf");
  expect_edit_rejected(buf, put<std::uint8_t>(117, 1), "padding byte 117 after the norms");
  expect_edit_rejected(buf, put<std::uint64_t>(88, 2),
                       "'levels (kind 5: a norm per bucket)': expected 3, found 2");
  expect_edit_rejected(buf, put<std::uint32_t>(28, 1), "kind 5 carries a dither");
  expect_edit_rejected(buf, put<std::uint8_t>(15, 2), "kind 5 carries a dither");
  expect_edit_rejected(
      buf,
      [](std::vector<std::byte>& b) {
        const auto v = dc::load_le<std::uint16_t>(b.data() + 120);
        dc::store_le<std::uint16_t>(b.data() + 120, static_cast<std::uint16_t>(v | 0x3FF));
      },
      "is 1023, but its bucket 0 has 1000 levels");
  // A kind-0 payload relabelled kind 5: its level counts and levels do not fit the rule.
  expect_edit_rejected(encode_parts(dme::test::make_parts(23, 1000, 10, 9)),
                       put<std::uint8_t>(14, 5), "levels (kind 5: a norm per bucket)");
}

TEST(PayloadNormGrid, EncodeValidatesTheNorms) {
  auto parts = make_norm_grid(20, 16, 10, 4);
  std::vector<std::byte> out;
  auto bad = parts;
  bad.levels.values[1] = -0.5f;
  EXPECT_THROW(dme::encode(bad.header, bad.levels, bad.codes, out), dme::Error);
  bad = parts;
  bad.levels.values.pop_back();
  EXPECT_THROW(dme::encode(bad.header, bad.levels, bad.codes, out), dme::Error);
  bad = parts;
  bad.codes[3] = 16;
  EXPECT_THROW(dme::encode(bad.header, bad.levels, bad.codes, out), dme::Error);
  EXPECT_THROW(dme::norm_grid_level(1.0f, 16, 16), dme::Error);
}

}  // namespace
