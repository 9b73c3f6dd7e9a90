#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <string>

#include "dme/codec/bitpack.h"
#include "dme/codec/detail/endian.h"
#include "dme/codec/payload.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "payload_test_util.h"

namespace {

using dme::test::encode_parts;
using dme::test::make_codes_only;
using dme::test::make_parts;
namespace dc = dme::detail::codec;

std::uint64_t pad8(std::uint64_t n) {
  return (n + 7) / 8 * 8;
}

/// Throws and the message contains every fragment.
template <class F>
void expect_error(F&& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no dme::Error";
  } catch (const dme::Error& e) {
    for (const auto& frag : fragments)
      EXPECT_NE(std::string(e.what()).find(frag), std::string::npos)
          << "'" << frag << "' not in: " << e.what();
  }
}

TEST(Payload, RoundTripWithSeveralBuckets) {
  for (std::uint32_t s : {2u, 3u, 10u, 16u, 17u, 256u, 1000u, 65536u})
    for (std::uint64_t count : {0ull, 1ull, 63ull, 4097ull})
      for (std::uint64_t bucket : {0ull, 1ull, 7ull, 64ull, 1000ull}) {
        const auto p = make_parts(count, s, bucket, s + count + bucket);
        const auto buf = encode_parts(p);
        ASSERT_EQ(buf.size(), dme::encoded_size(p.header, p.levels));
        const std::uint64_t buckets = dme::num_buckets(p.header);
        const std::uint64_t expect_size = 112 + pad8(4 * buckets) +
                                          pad8(4 * p.levels.values.size()) +
                                          pad8(dme::packed_bytes(count, dme::choose_layout(s)));
        ASSERT_EQ(buf.size(), expect_size);
        const dme::Payload d = dme::decode(buf);
        ASSERT_EQ(d.header, p.header) << "s=" << s << " count=" << count << " bucket=" << bucket;
        ASSERT_EQ(d.levels, p.levels);
        ASSERT_EQ(d.codes, p.codes);
        ASSERT_EQ(dme::decode_header(buf), p.header);
      }
}

TEST(Payload, NumBuckets) {
  dme::PayloadHeader h;
  h.count = 10;
  EXPECT_EQ(dme::num_buckets(h), 1u);
  h.bucket_size = 3;
  EXPECT_EQ(dme::num_buckets(h), 4u);
  h.bucket_size = 10;
  EXPECT_EQ(dme::num_buckets(h), 1u);
  h.count = 0;
  EXPECT_EQ(dme::num_buckets(h), 0u);
}

// The documented layout, read back byte by byte.
TEST(Payload, WireLayoutIsLittleEndianAtDocumentedOffsets) {
  const auto p = make_parts(40, 10, 16, 2);
  const auto buf = encode_parts(p);
  const std::byte* b = buf.data();
  EXPECT_EQ(std::memcmp(b, "DMEPAYLD", 8), 0);
  EXPECT_EQ(dc::load_le<std::uint16_t>(b + 8), 1);
  EXPECT_EQ(dc::load_le<std::uint8_t>(b + 10), 1);   // mixed radix
  EXPECT_EQ(dc::load_le<std::uint8_t>(b + 11), 19);  // digits per word
  EXPECT_EQ(dc::load_le<std::uint8_t>(b + 12), 2);   // rotations
  EXPECT_EQ(dc::load_le<std::uint8_t>(b + 13), 0);   // seed 2: unbiased, shared rotation
  EXPECT_EQ(dc::load_le<std::uint32_t>(b + 16), 10u);
  EXPECT_EQ(dc::load_le<std::uint32_t>(b + 20), 17u);
  EXPECT_EQ(dc::load_le<std::uint32_t>(b + 24), 5u);
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + 32), p.header.d);
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + 40), p.header.padded);
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + 48), 3u);
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + 56), 40u);
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + 64), 16u);
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + 72), p.header.seed);
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + 80), 3u);  // ceil(40 / 16) buckets
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + 88), p.levels.values.size());
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + 96), buf.size());
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(dc::load_le<std::uint32_t>(b + 104 + 4 * i),
              p.levels.offsets[i + 1] - p.levels.offsets[i]);
  const std::size_t lv = 104 + 16;
  EXPECT_EQ(dc::load_le<std::uint32_t>(b + lv), std::bit_cast<std::uint32_t>(p.levels.values[0]));
  // First code word: the first 19 codes as base-10 digits, code 0 least significant.
  const std::size_t codes = lv + pad8(4 * p.levels.values.size());
  std::uint64_t word = 0;
  for (int j = 18; j >= 0; --j) word = word * 10 + p.codes[j];
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + codes), word);
  EXPECT_EQ(codes + 24 + 8, buf.size());
  EXPECT_EQ(dc::load_le<std::uint64_t>(b + buf.size() - 8), XXH3_64bits(b, buf.size() - 8));
}

template <class T>
void check_accumulate(const dme::test::PayloadParts& p) {
  const auto buf = encode_parts(p);
  std::vector<T> acc(p.header.count), want(p.header.count);
  for (std::size_t i = 0; i < acc.size(); ++i)
    acc[i] = want[i] = static_cast<T>(0.25 * double(i % 13));
  const dme::Payload d = dme::decode(buf);
  for (std::size_t i = 0; i < want.size(); ++i) {
    const std::size_t b = p.header.bucket_size ? i / p.header.bucket_size : 0;
    want[i] += static_cast<T>(d.levels.values[d.levels.offsets[b] + d.codes[i]]);
  }
  EXPECT_EQ(dme::decode_accumulate(buf, {}, std::span<T>(acc)), p.header);
  ASSERT_EQ(acc, want);  // the same additions in the same order: bit-identical
}

// A kind-1 payload decodes to level + c·(u − 1/2), u the sender's rounding draw of each
// coordinate, regenerated from (seed, round, rank, purpose) and the rotated-domain index.
TEST(Payload, DitheredLevelsAddTheSendersDraws) {
  for (auto purpose : {dme::Purpose::kRounding, dme::Purpose::kRequantize}) {
    auto p = make_parts(37, 10, 16, 6);
    p.header.kind = dme::PayloadKind::kDitheredLevels;
    p.header.dither_purpose = static_cast<std::uint8_t>(purpose);
    p.header.dither = 0.375f;
    const auto buf = encode_parts(p);
    EXPECT_EQ(dme::decode_header(buf), p.header);
    const dme::PhiloxStream stream(p.header.seed, p.header.round, p.header.rank, purpose);
    std::vector<double> acc(p.header.count, 0.0), want(p.header.count, 0.0);
    for (std::size_t i = 0; i < want.size(); ++i) {
      const std::size_t b = i / p.header.bucket_size;
      const float level = p.levels.values[p.levels.offsets[b] + p.codes[i]];
      const float u = stream.uniform_float(p.header.first + i);
      want[i] = double(level) + double(0.375f * (u - 0.5f));
    }
    dme::decode_accumulate(buf, {}, std::span<double>(acc));
    EXPECT_EQ(acc, want);
    dme::DecodeExpectations e;
    e.kind = dme::PayloadKind::kLevels;
    EXPECT_THROW(dme::decode_header(buf, e), dme::Error);
    p.header.biased = true;  // a dither needs stochastic rounding: encode refuses it too
    EXPECT_THROW(encode_parts(p), dme::Error);
  }
}

// A kind-2 payload carries codes only: they round-trip at awkward counts and every radix layout.
TEST(Payload, CodesOnlyRoundTrips) {
  for (std::uint32_t s : {2u, 3u, 12u, 16u, 63u, 1985u, 65536u})
    for (std::uint64_t count : {0ull, 1ull, 7ull, 19ull, 1000ull, 4097ull}) {
      const auto p = make_codes_only(count, s, s + count);
      const auto buf = encode_parts(p);
      const dme::Payload d = dme::decode(buf);
      EXPECT_EQ(d.header, p.header);
      EXPECT_EQ(d.levels, dme::codes_only_levels(s));
      EXPECT_EQ(d.codes, p.codes);
      // 112 header and level-count bytes, the packed codes, the checksum.
      EXPECT_EQ(buf.size(),
                112 + (dme::packed_bytes(count, dme::choose_layout(s)) + 7) / 8 * 8 + 8);
    }
}

TEST(Payload, DecodeIntoAReusedPayloadEqualsAFreshDecode) {
  // One Payload decoding payloads of mixed kinds and lengths (longer, then shorter, then empty,
  // then after a failed decode) holds exactly what a fresh decode returns each time.
  dme::Payload reused;
  const auto check = [&](const std::vector<std::byte>& buf, const std::string& what) {
    dme::decode(buf, {}, reused);
    const dme::Payload fresh = dme::decode(buf);
    EXPECT_EQ(reused.header, fresh.header) << what;
    EXPECT_EQ(reused.levels, fresh.levels) << what;
    EXPECT_EQ(reused.codes, fresh.codes) << what;
  };
  check(encode_parts(make_parts(4097, 17, 64, 1)), "asq, 4097 codes");
  check(encode_parts(make_codes_only(1000, 1985, 2)), "codes only, 1000 codes");
  check(encode_parts(make_parts(63, 3, 0, 3)), "asq, 63 codes");
  check(encode_parts(make_parts(0, 16, 0, 4)), "asq, no codes");
  std::vector<std::byte> bad = encode_parts(make_parts(100, 16, 0, 5));
  bad.back() ^= std::byte{1};  // the checksum
  EXPECT_THROW(dme::decode(bad, {}, reused), dme::Error);
  check(encode_parts(make_codes_only(19, 12, 6)), "codes only after a failed decode");
}

TEST(Payload, DecodeAccumulateEqualsDecodeThenAdd) {
  for (std::uint32_t s : {2u, 3u, 10u, 15u, 16u, 257u, 65536u})
    for (std::uint64_t bucket : {0ull, 1ull, 5ull, 19ull, 2048ull, 3000ull}) {
      check_accumulate<float>(make_parts(5000, s, bucket, s * 7 + bucket));
      check_accumulate<double>(make_parts(4097, s, bucket, s * 7 + bucket + 1));
    }
  check_accumulate<float>(make_parts(0, 4, 0));
}

TEST(Payload, DecodeAccumulateLeavesAccumulatorOnError) {
  // A code above its bucket's level count in the last bucket: found by the check pass, which runs
  // before the first addition.
  auto p = make_parts(3000, 16, 1000, 4);
  p.levels.values.resize(p.levels.offsets[2] + 3);
  p.levels.offsets[3] = p.levels.offsets[2] + 3;
  for (std::size_t i = 2000; i < 3000; ++i) p.codes[i] = 1;
  auto buf = encode_parts(p);
  // Code 2999 is in byte codes + 1499 (4 bits per code, high nibble): make it 7 >= 3 levels.
  const std::size_t codes_at = buf.size() - 8 - pad8(1500);
  buf[codes_at + 1499] = std::byte{0x71};
  dme::test::reseal(buf);
  std::vector<float> acc(3000, 1.5f);
  expect_error([&] { dme::decode_accumulate(buf, {}, std::span<float>(acc)); },
               {"coordinate 3002 is 7", "bucket 2 has 3 levels"});
  EXPECT_EQ(acc, std::vector<float>(3000, 1.5f));
  std::vector<float> wrong(2999);
  expect_error(
      [&] {
        dme::decode_accumulate(encode_parts(make_parts(3000, 16, 0)), {}, std::span<float>(wrong));
      },
      {"accumulator of size 2999", "count 3000"});
}

TEST(Payload, ExpectationMismatchNamesTheField) {
  const auto p = make_parts(100, 10, 32, 3);
  const auto buf = encode_parts(p);
  const auto& h = p.header;
  using E = dme::DecodeExpectations;
  auto with = [](auto set) {
    E e;
    set(e);
    return e;
  };
  const std::vector<std::pair<E, std::vector<std::string>>> cases = {
      {with([&](E& e) { e.d = h.d + 1; }),
       {"'d'", "expected " + std::to_string(h.d + 1), "found " + std::to_string(h.d)}},
      {with([&](E& e) { e.padded = 4096; }), {"'padded'", "expected 4096"}},
      {with([&](E& e) { e.first = 0; }), {"'first'", "expected 0, found 3"}},
      {with([&](E& e) { e.count = 99; }), {"'count'", "expected 99, found 100"}},
      {with([&](E& e) { e.bucket_size = 64; }), {"'bucket_size'", "expected 64, found 32"}},
      {with([&](E& e) { e.seed = 1; }), {"'seed'", "expected 1"}},
      {with([&](E& e) { e.s = 16; }), {"'s'", "expected 16, found 10"}},
      {with([&](E& e) { e.round = 18; }), {"'round'", "expected 18, found 17"}},
      {with([&](E& e) { e.rank = 4; }), {"'rank'", "expected 4, found 5"}},
      {with([&](E& e) { e.rotations = 1; }), {"'rotations'", "expected 1, found 2"}},
      {with([&](E& e) { e.biased = !h.biased; }), {"'biased'"}},
      {with([&](E& e) { e.independent_rotation = true; }),
       {"'independent_rotation'", "expected true, found false"}},
  };
  for (const auto& [e, frags] : cases) {
    SCOPED_TRACE(frags[0]);
    expect_error([&] { dme::decode(buf, e); }, frags);
    expect_error([&] { dme::decode_header(buf, e); }, frags);
    std::vector<double> acc(100);
    expect_error([&] { dme::decode_accumulate(buf, e, std::span<double>(acc)); }, frags);
  }
  E all;
  all.d = h.d;
  all.padded = h.padded;
  all.first = h.first;
  all.count = h.count;
  all.bucket_size = h.bucket_size;
  all.seed = h.seed;
  all.s = h.s;
  all.round = h.round;
  all.rank = h.rank;
  all.rotations = h.rotations;
  all.biased = h.biased;
  all.independent_rotation = h.independent_rotation;
  EXPECT_NO_THROW(dme::decode(buf, all));
}

TEST(Payload, EncodeValidatesItsInputs) {
  const auto good = make_parts(50, 10, 20, 5);
  std::vector<std::byte> out;
  auto fails = [&](auto edit, const std::vector<std::string>& frags) {
    auto p = good;
    edit(p);
    expect_error([&] { dme::encode(p.header, p.levels, p.codes, out); }, frags);
  };
  using P = dme::test::PayloadParts;
  fails([](P& p) { p.header.s = 1; }, {"s must be in 2..65536, got 1"});
  fails([](P& p) { p.header.s = 70000; }, {"got 70000"});
  fails([](P& p) { p.header.rotations = 4; }, {"rotations must be in 0..3, got 4"});
  fails([](P& p) { p.header.padded = p.header.d - 1; }, {"below d"});
  fails([](P& p) { p.header.padded = 100; },
        {"(overlapped layout) or the power of two in [d, 2d)"});
  fails([](P& p) { p.header.rotations = 0; }, {"without rotation", "expected d"});
  fails([](P& p) { p.header.first = p.header.padded - 10; }, {"outside [0, 64)"});
  fails([](P& p) { p.levels.offsets.pop_back(); }, {"offsets", "expected 3 buckets"});
  fails([](P& p) { p.levels.values.push_back(9.0f); }, {"holds"});
  fails([](P& p) { p.levels.values[1] = p.levels.values[0]; }, {"not strictly increasing"});
  fails([](P& p) { p.levels.values[0] = std::numeric_limits<float>::quiet_NaN(); }, {"finite"});
  fails([](P& p) { p.levels.values[2] = std::numeric_limits<float>::infinity(); }, {"finite"});
  fails([](P& p) { p.header.s = 5; }, {"bucket 0 has 10 levels, expected 1..5"});
  fails([](P& p) { p.codes.pop_back(); }, {"49 codes", "count 50"});
  fails([](P& p) { p.codes[45] = 10; }, {"coordinate 48 is 10"});
  EXPECT_THROW(dme::encoded_size(P{}.header, {}), dme::Error);
}

}  // namespace

namespace {

// Packs p's codes through a PayloadWriter in pieces of `piece` codes (a multiple of the
// writer's alignment), each piece split off the code vector.
std::vector<std::byte> write_in_pieces(const dme::test::PayloadParts& p, std::size_t piece) {
  std::vector<std::byte> out;
  dme::PayloadWriter w(p.header, p.levels, out);
  const std::size_t step = std::max<std::size_t>(1, piece / w.alignment()) * w.alignment();
  for (std::size_t first = 0; first < p.codes.size(); first += step) {
    const std::size_t n = std::min(step, p.codes.size() - first);
    w.pack(first, std::span<const std::uint16_t>(p.codes).subspan(first, n));
  }
  w.finish();
  return out;
}

}  // namespace

TEST(PayloadWriter, PiecesGiveTheBytesOfEncode) {
  for (std::uint32_t s : {2u, 3u, 10u, 16u, 17u, 256u, 1000u, 65536u})
    for (std::uint64_t count : {0ull, 1ull, 63ull, 4097ull})
      for (std::uint64_t bucket : {0ull, 7ull, 1000ull})
        for (std::size_t piece : {1u, 64u, 1000u}) {
          const auto p = make_parts(count, s, bucket, 3 * s + count + bucket);
          ASSERT_EQ(write_in_pieces(p, piece), encode_parts(p))
              << "s=" << s << " count=" << count << " bucket=" << bucket << " piece=" << piece;
        }
}

TEST(PayloadWriter, RawCodeBytesThenFinish) {
  const auto p = make_parts(1000, 10, 0, 5);
  const auto expect = encode_parts(p);
  std::vector<std::byte> packed(dme::packed_bytes(p.codes.size(), dme::choose_layout(10)));
  dme::pack_codes(p.codes, dme::choose_layout(10), packed);
  std::vector<std::byte> out;
  dme::PayloadWriter w(p.header, p.levels, out);
  auto region = w.code_bytes();
  ASSERT_EQ(region.size(), packed.size());
  std::copy(packed.begin(), packed.end(), region.begin());
  w.finish();
  EXPECT_EQ(out, expect);
}

TEST(PayloadWriter, RejectsMisuse) {
  const auto p = make_parts(100, 16, 0, 9);  // fixed width 4 bits: alignment 8
  const std::span<const std::uint16_t> codes(p.codes);
  {
    std::vector<std::byte> out;
    dme::PayloadWriter w(p.header, p.levels, out);
    EXPECT_EQ(w.alignment(), 8u);
    expect_error([&] { w.pack(8, codes.subspan(8, 8)); }, {"in order", "expected first = 0"});
    expect_error([&] { w.pack(0, codes.subspan(0, 5)); }, {"multiple of 8"});
    w.pack(0, codes.subspan(0, 16));
    expect_error([&] { w.finish(); }, {"16 of 100 codes packed"});
    expect_error([&] { w.pack(16, codes.subspan(16, 83)); }, {"multiple of 8"});
    expect_error([&] { w.code_bytes(); }, {"after pack()"});
  }
  {
    auto bad = p;
    bad.codes[37] = 16;  // a 16-level bucket: codes 0..15
    std::vector<std::byte> out;
    dme::PayloadWriter w(bad.header, bad.levels, out);
    expect_error([&] { w.pack(0, bad.codes); }, {"coordinate 40", "is 16", "16 levels"});
  }
}
