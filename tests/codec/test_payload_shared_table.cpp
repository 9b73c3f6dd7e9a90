// Kind-3 payloads (shared table, the quic-fl scheme): round trips at awkward sizes, decode_accumulate
// against a per-coordinate reference (PhiloxStream::bits32, QuicFlQuantizer::receive), and
// hostile edits of every kind-3 rule, each named by every decoder.
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
using dme::test::make_shared_table;

TEST(PayloadSharedTable, RoundTripsAndAccumulatesTheTableValues) {
  for (unsigned bits : {1u, 2u, 3u, 4u})
    for (std::uint64_t count : {0ull, 1ull, 2ull, 7ull, 64ull, 4099ull, 10007ull}) {
      auto parts = make_shared_table(count, bits, 11 + count);
      parts.header.first = 3;  // an odd first coordinate: the draws start mid-block
      parts.header.padded = parts.header.d = count + 9;
      const auto buf = encode_parts(parts);
      const dme::Payload p = dme::decode(buf);
      EXPECT_EQ(p.header, parts.header);
      EXPECT_EQ(p.levels, parts.levels);
      EXPECT_EQ(p.codes, parts.codes);
      std::vector<float> acc(count, 0.5f);
      std::vector<double> acc_d(count, 0.0);
      dme::decode_accumulate(buf, {}, std::span<float>(acc));
      dme::decode_accumulate(buf, {}, std::span<double>(acc_d));
      for (std::size_t i = 0; i < count; ++i) {
        const float want = dme::test::shared_table_value(p, i);
        ASSERT_EQ(acc[i], 0.5f + want) << "bits " << bits << " count " << count << " i " << i;
        ASSERT_EQ(acc_d[i], double(want));
      }
    }
}

/// A valid kind-3 payload of 30 codes of 4 bits (exact coordinates 0, 3, ..., 27), edited and
/// resealed: every decoder must reject it naming `fragment`.
void expect_rejected(const std::function<void(std::vector<std::byte>&)>& edit,
                     const std::string& fragment) {
  dme::test::expect_edit_rejected(encode_parts(make_shared_table(30, 4, 5)), edit, fragment);
}

using dme::test::put;

TEST(PayloadSharedTable, HostileFieldsAreNamed) {
  // Header: 104 bytes; level counts at 104 (one, padded to 8); exact values at 112 (10 of them),
  // their indices at 152; codes at 192.
  expect_rejected(put<std::uint8_t>(15, 2), "draw purpose must be 7, 8 or 9");
  expect_rejected(put<std::uint32_t>(28, 0xff800000u), "scale must be finite and >= 0");
  expect_rejected(put<std::uint32_t>(28, std::bit_cast<std::uint32_t>(-1.0f)),
                  "scale must be finite and >= 0");
  expect_rejected(put<std::uint8_t>(13, 1), "must come from unbiased rounding");
  expect_rejected(put<std::uint64_t>(88, 21), "expected an even number up to 2 * 30");
  expect_rejected(put<std::uint64_t>(88, 62), "expected an even number up to 2 * 30");
  expect_rejected(put<std::uint32_t>(104, 15), "level count (kind 3: s)");
  expect_rejected(put<std::uint32_t>(112, 0x7fc00000u), "expected finite");
  expect_rejected(put<std::uint32_t>(152 + 4, 0), "strictly increasing");
  expect_rejected(put<std::uint32_t>(152 + 36, 30), "strictly increasing and below 30");
  // Coordinate 3 is sent exactly; its code (a nibble of byte 1 of the codes) must be 0.
  expect_rejected([](std::vector<std::byte>& b) { b[192 + 1] |= std::byte{0xff}; },
                  "but it is sent exactly");
}

TEST(PayloadSharedTable, EncodeRefusesWhatDecodeRefuses) {
  auto parts = make_shared_table(30, 4, 5);
  std::vector<std::byte> out;
  auto p = parts;
  p.header.s = 32;  // no table of 5 bits
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
  p = parts;
  p.header.bucket_size = 8;
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
  p = parts;
  p.levels.exact.pop_back();  // a value without its index
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
  p = parts;
  p.levels.exact[1] = p.levels.exact[0];
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
  p = parts;
  p.codes[3] = 1;  // coordinate 3 is sent exactly: its code must be 0
  EXPECT_THROW(dme::encode(p.header, p.levels, p.codes, out), dme::Error);
  auto levels = dme::test::make_parts(30, 10, 0, 4);  // kind 0 has no exact coordinates
  levels.levels.exact = {1};
  levels.levels.values.push_back(1e6f);
  EXPECT_THROW(dme::encode(levels.header, levels.levels, levels.codes, out), dme::Error);
}

}  // namespace
