#include "dme/codec/detail/payload_format.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "dme/codec/detail/checked.h"
#include "dme/codec/detail/code_reader.h"
#include "dme/codec/detail/endian.h"
#include "dme/codec/detail/two_width.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/quantization/quic_fl.h"

namespace dme::detail::codec {
namespace {

constexpr char kMagic[8] = {'D', 'M', 'E', 'P', 'A', 'Y', 'L', 'D'};

// Offsets of the header fields (payload.h).
enum Offset : std::size_t {
  kOffMagic = 0,
  kOffVersion = 8,
  kOffPacking = 10,
  kOffCodeParam = 11,
  kOffRotations = 12,
  kOffFlags = 13,
  kOffKind = 14,
  kOffDitherPurpose = 15,
  kOffS = 16,
  kOffRound = 20,
  kOffRank = 24,
  kOffDither = 28,
  kOffD = 32,
  kOffPadded = 40,
  kOffFirst = 48,
  kOffCount = 56,
  kOffBucketSize = 64,
  kOffSeed = 72,
  kOffBuckets = 80,
  kOffLevels = 88,
  kOffTotal = 96,
};
static_assert(kOffTotal + 8 == kHeaderBytes);

template <class T>
T field(std::span<const std::byte> buf, std::size_t offset) {
  return load_le<T>(buf.data() + offset);
}

// Small integers print as numbers, flags as true/false.
template <class T>
auto printable(T v) {
  if constexpr (std::is_same_v<T, bool>)
    return v ? "true" : "false";
  else
    return +v;
}

template <class T>
void expect_field(const char* name, const std::optional<T>& want, T found) {
  DME_CHECK(!want || *want == found, "payload field '" << name << "': expected " << printable(*want)
                                                       << ", found " << printable(found));
}

void check_expectations(const PayloadHeader& h, const DecodeExpectations& e) {
  expect_field("d", e.d, h.d);
  expect_field("padded", e.padded, h.padded);
  expect_field("first", e.first, h.first);
  expect_field("count", e.count, h.count);
  expect_field("bucket_size", e.bucket_size, h.bucket_size);
  expect_field("seed", e.seed, h.seed);
  expect_field("s", e.s, h.s);
  expect_field("round", e.round, h.round);
  expect_field("rank", e.rank, h.rank);
  expect_field("rotations", e.rotations, h.rotations);
  expect_field("biased", e.biased, h.biased);
  expect_field("independent_rotation", e.independent_rotation, h.independent_rotation);
  if (e.kind && *e.kind != h.kind)
    DME_THROW("payload field 'kind': expected " << int(static_cast<std::uint8_t>(*e.kind))
                                                << ", found "
                                                << int(static_cast<std::uint8_t>(h.kind)));
}

/// Reads the fields after magic, version, length and checksum have been accepted.
WireHeader parse_fields(std::span<const std::byte> buf) {
  WireHeader w;
  PayloadHeader& h = w.header;
  const auto packing = field<std::uint8_t>(buf, kOffPacking);
  const auto param = field<std::uint8_t>(buf, kOffCodeParam);
  const auto flags = field<std::uint8_t>(buf, kOffFlags);
  DME_CHECK((flags & ~(kFlagBiased | kFlagIndependentRotation)) == 0,
            "payload field 'flags': unknown bits set in 0x" << std::hex << int(flags));
  const auto kind = field<std::uint8_t>(buf, kOffKind);
  DME_CHECK(kind <= static_cast<std::uint8_t>(PayloadKind::kNormGrid),
            "payload field 'kind': expected 0 (levels), 1 (dithered levels), 2 (codes only), 3 "
            "(shared table), 4 (Lloyd-Max) or 5 (norm grid), found "
                << int(kind));
  h.kind = static_cast<PayloadKind>(kind);
  (h.kind == PayloadKind::kLloydMax ? h.wide_groups : h.dither_purpose) =
      field<std::uint8_t>(buf, kOffDitherPurpose);
  h.dither = std::bit_cast<float>(field<std::uint32_t>(buf, kOffDither));
  h.s = field<std::uint32_t>(buf, kOffS);
  DME_CHECK(h.s >= 2 && h.s <= kMaxRadix,
            "payload field 's': expected 2.." << kMaxRadix << ", found " << h.s);
  w.layout = choose_layout(h.s);
  const unsigned want_param =
      w.layout.packing == Packing::kFixedWidth ? w.layout.bits : w.layout.digits_per_word;
  DME_CHECK(packing == static_cast<std::uint8_t>(w.layout.packing) && param == want_param,
            "payload code layout: expected packing "
                << int(static_cast<std::uint8_t>(w.layout.packing)) << " with parameter "
                << want_param << " for s = " << h.s << ", found packing " << int(packing)
                << " with parameter " << int(param));
  h.rotations = field<std::uint8_t>(buf, kOffRotations);
  h.biased = flags & kFlagBiased;
  h.independent_rotation = flags & kFlagIndependentRotation;
  h.round = field<std::uint32_t>(buf, kOffRound);
  h.rank = field<std::uint32_t>(buf, kOffRank);
  h.d = field<std::uint64_t>(buf, kOffD);
  h.padded = field<std::uint64_t>(buf, kOffPadded);
  h.first = field<std::uint64_t>(buf, kOffFirst);
  h.count = field<std::uint64_t>(buf, kOffCount);
  h.bucket_size = field<std::uint64_t>(buf, kOffBucketSize);
  h.seed = field<std::uint64_t>(buf, kOffSeed);
  w.buckets = field<std::uint64_t>(buf, kOffBuckets);
  w.levels = field<std::uint64_t>(buf, kOffLevels);
  return w;
}

/// Levels v[0, n) of bucket b, n >= 1: finite and strictly increasing.
void check_bucket_levels(const float* v, std::uint32_t n, std::size_t b) {
  // Strictly increasing (a NaN fails every comparison) with finite ends implies all finite. The
  // branch-free pass vectorises; the culprit is searched for only when it fails.
  bool ok = std::isfinite(v[0]) && std::isfinite(v[n - 1]);
  for (std::uint32_t i = 1; i < n; ++i) ok &= v[i - 1] < v[i];
  if (ok) return;
  for (std::uint32_t i = 0; i < n; ++i) {
    DME_CHECK(std::isfinite(v[i]),
              "bucket " << b << " level " << i << " is " << v[i] << ", expected a finite value");
    DME_CHECK(i == 0 || v[i - 1] < v[i], "bucket " << b
                                                   << " levels are not strictly increasing: level "
                                                   << i << " is " << v[i] << " after " << v[i - 1]);
  }
}

}  // namespace

Sections section_offsets(std::uint64_t buckets, std::uint64_t levels, const PayloadHeader& h,
                         const CodeLayout& layout) {
  Sections s;
  const std::uint64_t counts = h.kind == PayloadKind::kNormGrid ? 0 : buckets;  // kind 5: none
  s.levels =
      checked_add(s.level_counts,
                  checked_pad8(checked_mul(counts, 4, "level counts"), "level counts"), "payload");
  s.codes =
      checked_add(s.levels, checked_pad8(checked_mul(levels, 4, "levels"), "levels"), "payload");
  s.codes_bytes = h.kind == PayloadKind::kLloydMax ? TwoWidthStream::of(h).bytes(h.count)
                                                     : packed_bytes(h.count, layout);
  s.checksum = checked_add(s.codes, checked_pad8(s.codes_bytes, "packed codes"), "payload");
  s.total = checked_add(s.checksum, kChecksumBytes, "payload");
  return s;
}

void validate_header(const PayloadHeader& h) {
  DME_CHECK(h.s >= 2 && h.s <= kMaxRadix,
            "payload s must be in 2.." << kMaxRadix << ", got " << h.s);
  DME_CHECK(h.rotations <= 3, "payload rotations must be in 0..3, got " << int(h.rotations));
  DME_CHECK(h.padded >= h.d, "payload padded length " << h.padded << " is below d = " << h.d);
  if (h.rotations == 0) {
    DME_CHECK(h.padded == h.d, "payload without rotation has padded length "
                                   << h.padded << ", expected d = " << h.d);
  } else {
    // padded >= d is checked above; a power of two below 2d is then 2^ceil(log2 d) (no
    // bit_ceil: d may be anything a payload claims).
    DME_CHECK(h.padded == h.d || (std::has_single_bit(h.padded) && h.padded / 2 < h.d),
              "payload with " << int(h.rotations) << " rotations has padded length " << h.padded
                              << ", expected d = " << h.d << " (overlapped layout) or the power "
                              << "of two in [d, 2d) (padded layout)");
  }
  DME_CHECK(h.first <= h.padded && h.count <= h.padded - h.first,
            "payload carries coordinates [" << h.first << ", " << h.first << " + " << h.count
                                            << ") outside [0, " << h.padded << ")");
  DME_CHECK(h.kind == PayloadKind::kLloydMax || h.wide_groups == 0,
            "payload of kind " << int(static_cast<std::uint8_t>(h.kind)) << " has "
                               << int(h.wide_groups)
                               << " groups of wide codes: only kind 4 (Lloyd-Max) has them");
  // Kinds 3 and 4: one bucket, one scale of a table that s fixes.
  const auto check_scaled_table = [&h](const char* kind, bool s_ok, const char* s_expected) {
    DME_CHECK(s_ok, "payload of " << kind << " has s = " << h.s << ", expected " << s_expected);
    DME_CHECK(h.bucket_size == 0, "payload of " << kind << " has bucket_size " << h.bucket_size
                                                << ", expected 0 (one bucket)");
    DME_CHECK(std::isfinite(h.dither) && h.dither >= 0.0f,
              "payload of " << kind << ": scale must be finite and >= 0, got " << h.dither);
  };
  if (h.kind == PayloadKind::kLloydMax) {
    check_scaled_table("kind 4 (Lloyd-Max)",
                       std::has_single_bit(h.s) && h.s <= (h.wide_groups ? 128u : 256u),
                       h.wide_groups ? "2^b for b = 1..7 (with wide codes)" : "2^b for b = 1..8");
    DME_CHECK(h.dither_purpose == 0,
              "payload of kind 4 names a draw purpose " << int(h.dither_purpose)
                                                        << ", expected none (0)");
  } else if (h.kind == PayloadKind::kLevels || h.kind == PayloadKind::kCodes ||
             h.kind == PayloadKind::kNormGrid) {
    DME_CHECK(h.dither_purpose == 0 && std::bit_cast<std::uint32_t>(h.dither) == 0,
              "payload of kind " << int(static_cast<std::uint8_t>(h.kind))
                                 << " carries a dither (purpose " << int(h.dither_purpose)
                                 << ", scale " << h.dither << "), expected none");
    DME_CHECK(h.kind != PayloadKind::kCodes || h.bucket_size == 0,
              "payload of kind 2 (codes only) has bucket_size " << h.bucket_size
                                                                << ", expected 0 (one bucket)");
  } else if (h.kind == PayloadKind::kSharedTable) {
    check_scaled_table("kind 3 (shared table)",
                       std::has_single_bit(h.s) && QuicFlQuantizer::has_bits(std::countr_zero(h.s)),
                       "2, 4, 8 or 16");
    DME_CHECK(h.dither_purpose >= static_cast<std::uint8_t>(Purpose::kSharedDraw) &&
                  h.dither_purpose <= static_cast<std::uint8_t>(Purpose::kSharedDrawDownlink),
              "payload of kind 3: draw purpose must be 7, 8 or 9 (shared draws of the uplink, "
              "requantize, downlink), got "
                  << int(h.dither_purpose));
    DME_CHECK(!h.biased, "payload of kind 3 must come from unbiased rounding, not nearest");
  } else {
    DME_CHECK(h.kind == PayloadKind::kDitheredLevels,
              "payload kind " << int(static_cast<std::uint8_t>(h.kind)) << " is unknown");
    DME_CHECK(std::isfinite(h.dither) && h.dither >= 0.0f,
              "payload dither scale must be finite and >= 0, got " << h.dither);
    DME_CHECK(h.dither_purpose == static_cast<std::uint8_t>(Purpose::kRounding) ||
                  h.dither_purpose == static_cast<std::uint8_t>(Purpose::kRequantize) ||
                  h.dither_purpose == static_cast<std::uint8_t>(Purpose::kDownlink),
              "payload dither purpose must be 2 (rounding), 3 (requantize) or 5 (downlink), got "
                  << int(h.dither_purpose));
    DME_CHECK(!h.biased, "payload with a dither must come from stochastic rounding, not nearest");
  }
}

void validate_level_table(const LevelTable& levels, const PayloadHeader& h) {
  const std::size_t buckets = num_buckets(h);
  const auto& off = levels.offsets;
  if (h.kind == PayloadKind::kCodes || h.kind == PayloadKind::kLloydMax) {
    DME_CHECK(levels.values.empty() && levels.exact.empty() && off.size() == 2 && off[0] == 0 &&
                  off[1] == h.s,
              "a kind-" << int(static_cast<std::uint8_t>(h.kind))
                        << " payload takes codes_only_levels(s): no levels, one count of s = "
                        << h.s);
    return;
  }
  if (h.kind == PayloadKind::kNormGrid) {
    DME_CHECK(levels.exact.empty() && off.size() == 2 && off[0] == 0 && off[1] == h.s &&
                  levels.values.size() == buckets,
              "a kind-5 (norm grid) payload has one level count, s = "
                  << h.s << ", and one norm per bucket (" << buckets << "), got "
                  << levels.values.size() << " values and " << off.size() << " offsets");
    for (std::size_t b = 0; b < buckets; ++b)
      DME_CHECK(std::isfinite(levels.values[b]) && levels.values[b] >= 0.0f,
                "bucket " << b << " has norm " << levels.values[b]
                          << ", expected a finite value >= 0");
    return;
  }
  if (h.kind == PayloadKind::kSharedTable) {
    DME_CHECK(off.size() == 2 && off[0] == 0 && off[1] == h.s,
              "a kind-3 (shared table) payload has one level count, s = " << h.s);
    DME_CHECK(levels.exact.size() == levels.values.size() && levels.exact.size() <= h.count,
              "a kind-3 payload has " << levels.values.size() << " exact values and "
                                      << levels.exact.size() << " indices for " << h.count
                                      << " coordinates");
    for (std::size_t i = 0; i < levels.exact.size(); ++i) {
      DME_CHECK(std::isfinite(levels.values[i]), "exact coordinate " << levels.exact[i] << " is "
                                                                     << levels.values[i]
                                                                     << ", expected finite");
      DME_CHECK(levels.exact[i] < h.count && (i == 0 || levels.exact[i - 1] < levels.exact[i]),
                "exact coordinate indices must be strictly increasing and below "
                    << h.count << ": index " << levels.exact[i] << " at position " << i);
    }
    return;
  }
  DME_CHECK(levels.exact.empty(), "a payload of kind " << int(static_cast<std::uint8_t>(h.kind))
                                                       << " carries no exact coordinates");
  DME_CHECK(!off.empty() && off.size() - 1 == buckets,
            "level table has " << off.size() << " offsets, expected " << buckets << " buckets + 1");
  DME_CHECK(off[0] == 0, "level table offsets[0] is " << off[0] << ", expected 0");
  DME_CHECK(off.back() == levels.values.size(), "level table ends at offset "
                                                    << off.back() << " but holds "
                                                    << levels.values.size() << " values");
  for (std::size_t b = 0; b < buckets; ++b) {
    DME_CHECK(off[b + 1] > off[b] && off[b + 1] - off[b] <= h.s,
              "bucket " << b << " has " << (std::int64_t(off[b + 1]) - std::int64_t(off[b]))
                        << " levels, expected 1.." << h.s);
    check_bucket_levels(levels.values.data() + off[b], off[b + 1] - off[b], b);
  }
}

void write_header(const WireHeader& w, std::byte* out) {
  const PayloadHeader& h = w.header;
  std::memcpy(out + kOffMagic, kMagic, sizeof kMagic);
  store_le<std::uint16_t>(out + kOffVersion, kPayloadVersion);
  store_le<std::uint8_t>(out + kOffPacking, static_cast<std::uint8_t>(w.layout.packing));
  store_le<std::uint8_t>(out + kOffCodeParam,
                         static_cast<std::uint8_t>(w.layout.packing == Packing::kFixedWidth
                                                       ? w.layout.bits
                                                       : w.layout.digits_per_word));
  store_le<std::uint8_t>(out + kOffRotations, h.rotations);
  store_le<std::uint8_t>(
      out + kOffFlags,
      static_cast<std::uint8_t>((h.biased ? kFlagBiased : 0) |
                                (h.independent_rotation ? kFlagIndependentRotation : 0)));
  store_le<std::uint8_t>(out + kOffKind, static_cast<std::uint8_t>(h.kind));
  store_le<std::uint8_t>(out + kOffDitherPurpose,
                         h.kind == PayloadKind::kLloydMax ? h.wide_groups : h.dither_purpose);
  store_le<std::uint32_t>(out + kOffS, h.s);
  store_le<std::uint32_t>(out + kOffRound, h.round);
  store_le<std::uint32_t>(out + kOffRank, h.rank);
  store_le<std::uint32_t>(out + kOffDither, std::bit_cast<std::uint32_t>(h.dither));
  store_le<std::uint64_t>(out + kOffD, h.d);
  store_le<std::uint64_t>(out + kOffPadded, h.padded);
  store_le<std::uint64_t>(out + kOffFirst, h.first);
  store_le<std::uint64_t>(out + kOffCount, h.count);
  store_le<std::uint64_t>(out + kOffBucketSize, h.bucket_size);
  store_le<std::uint64_t>(out + kOffSeed, h.seed);
  store_le<std::uint64_t>(out + kOffBuckets, w.buckets);
  store_le<std::uint64_t>(out + kOffLevels, w.levels);
  store_le<std::uint64_t>(out + kOffTotal, w.sections.total);
}

WireHeader read_header(std::span<const std::byte> buf, const DecodeExpectations& expect) {
  DME_CHECK(buf.size() >= kMinPayloadBytes,
            "payload of " << buf.size() << " bytes is shorter than the smallest payload ("
                          << kMinPayloadBytes << " bytes)");
  DME_CHECK(std::memcmp(buf.data() + kOffMagic, kMagic, sizeof kMagic) == 0,
            "payload magic: expected \"DMEPAYLD\", found other bytes (not a dme payload)");
  const auto version = field<std::uint16_t>(buf, kOffVersion);
  DME_CHECK(version == kPayloadVersion,
            "payload field 'version': expected " << kPayloadVersion << ", found " << version);
  const auto total = field<std::uint64_t>(buf, kOffTotal);
  DME_CHECK(total == buf.size(),
            "payload field 'total length': expected the buffer length "
                << buf.size() << ", found " << total
                << (total > buf.size() ? " (truncated payload?)" : " (trailing bytes?)"));
  const std::size_t body = buf.size() - kChecksumBytes;
  const std::uint64_t stored = field<std::uint64_t>(buf, body);
  const std::uint64_t computed = XXH3_64bits(buf.data(), body);
  DME_CHECK(stored == computed, "payload checksum: expected 0x"
                                    << std::hex << computed << " (XXH3 of the first " << std::dec
                                    << body << " bytes), found 0x" << std::hex << stored
                                    << " (corrupted payload)");

  WireHeader w = parse_fields(buf);
  validate_header(w.header);
  expect_field<std::uint64_t>("buckets", num_buckets(w.header), w.buckets);
  std::uint64_t max_levels;
  if (__builtin_mul_overflow(w.buckets, std::uint64_t(w.header.s), &max_levels))
    max_levels = std::numeric_limits<std::uint64_t>::max();
  if (w.header.kind == PayloadKind::kCodes)
    expect_field<std::uint64_t>("levels (kind 2: none)", 0, w.levels);
  else if (w.header.kind == PayloadKind::kLloydMax)
    expect_field<std::uint64_t>("levels (kind 4: none)", 0, w.levels);
  else if (w.header.kind == PayloadKind::kNormGrid)
    expect_field<std::uint64_t>("levels (kind 5: a norm per bucket)", w.buckets, w.levels);
  else if (w.header.kind == PayloadKind::kSharedTable)
    DME_CHECK(w.levels % 2 == 0 && w.levels / 2 <= w.header.count,
              "payload field 'levels' (kind 3: twice the exact coordinates): expected an even "
              "number up to 2 * "
                  << w.header.count << ", found " << w.levels);
  else
    DME_CHECK(w.levels >= w.buckets && w.levels <= max_levels &&
                  w.levels <= std::numeric_limits<std::uint32_t>::max(),
              "payload field 'levels': expected " << w.buckets << ".." << w.buckets << " * "
                                                  << w.header.s << " (at most 2^32 - 1), found "
                                                  << w.levels);
  w.sections = section_offsets(w.buckets, w.levels, w.header, w.layout);
  DME_CHECK(w.sections.total == total,
            "payload sections: " << w.buckets << " buckets, " << w.levels << " levels and "
                                 << w.header.count << " codes need " << w.sections.total
                                 << " bytes, but the payload has " << total);
  check_expectations(w.header, expect);
  return w;
}

std::uint32_t bucket_level_count(const LevelTable& levels, const PayloadHeader& h,
                                 std::size_t b) {
  return h.kind == PayloadKind::kNormGrid ? h.s : levels.offsets[b + 1] - levels.offsets[b];
}

void check_zero_padding(std::span<const std::byte> buf, std::uint64_t from, std::uint64_t to,
                        const char* section) {
  for (std::uint64_t i = from; i < to; ++i)
    DME_CHECK(buf[i] == std::byte{0}, "payload: padding byte "
                                          << i << " after the " << section << " is "
                                          << std::to_integer<int>(buf[i]) << ", expected 0");
}

LevelTable read_levels(std::span<const std::byte> buf, const WireHeader& w) {
  const Sections& sec = w.sections;
  if (w.header.kind == PayloadKind::kCodes ||
      w.header.kind == PayloadKind::kLloydMax) {  // read_header proved B = 1 and L = 0
    expect_field<std::uint32_t>(w.header.kind == PayloadKind::kCodes ? "level count (kind 2: s)"
                                                                     : "level count (kind 4: s)",
                                w.header.s,
                                field<std::uint32_t>(buf, sec.level_counts));
    check_zero_padding(buf, sec.level_counts + 4, sec.codes, "level counts");
    return codes_only_levels(w.header.s);
  }
  if (w.header.kind == PayloadKind::kNormGrid) {  // read_header proved L = B, no level counts
    std::vector<float> norms(w.levels);  // proven to fit: 4 bytes per norm are in the buffer
    for (std::uint64_t b = 0; b < w.levels; ++b)
      norms[b] = std::bit_cast<float>(field<std::uint32_t>(buf, sec.levels + 4 * b));
    check_zero_padding(buf, sec.levels + 4 * w.levels, sec.codes, "norms");
    LevelTable t = norm_grid_table(std::move(norms), w.header.s);
    validate_level_table(t, w.header);
    return t;
  }
  if (w.header.kind == PayloadKind::kSharedTable) {  // read_header proved B = 1, L = 2E <= 2n
    expect_field<std::uint32_t>("level count (kind 3: s)", w.header.s,
                                field<std::uint32_t>(buf, sec.level_counts));
    check_zero_padding(buf, sec.level_counts + 4, sec.levels, "level counts");
    const std::uint64_t e = w.levels / 2;
    LevelTable t = codes_only_levels(w.header.s);
    t.values.resize(e);  // proven to fit: 8 bytes per exact coordinate are in the buffer
    t.exact.resize(e);
    for (std::uint64_t i = 0; i < e; ++i) {
      t.values[i] = std::bit_cast<float>(field<std::uint32_t>(buf, sec.levels + 4 * i));
      t.exact[i] = field<std::uint32_t>(buf, sec.levels + 4 * (e + i));
    }
    validate_level_table(t, w.header);
    return t;
  }
  LevelTable t;
  t.offsets.resize(w.buckets + 1);  // proven to fit: 4 bytes per bucket are in the buffer
  std::uint64_t sum = 0;
  for (std::uint64_t b = 0; b < w.buckets; ++b) {
    const auto n = field<std::uint32_t>(buf, sec.level_counts + 4 * b);
    DME_CHECK(n >= 1 && n <= w.header.s, "payload level count of bucket "
                                             << b << ": expected 1.." << w.header.s << ", found "
                                             << n);
    sum += n;  // <= buckets · 2^16: no overflow
    DME_CHECK(sum <= w.levels, "payload level counts: their sum exceeds the 'levels' field "
                                   << w.levels << " at bucket " << b);
    t.offsets[b + 1] = static_cast<std::uint32_t>(sum);
  }
  DME_CHECK(sum == w.levels, "payload level counts: expected them to sum to the 'levels' field "
                                 << w.levels << ", found " << sum);
  check_zero_padding(buf, sec.level_counts + 4 * w.buckets, sec.levels, "level counts");
  t.values.resize(w.levels);  // proven to fit: 4 bytes per level are in the buffer
  if constexpr (std::endian::native == std::endian::little) {
    if (w.levels) std::memcpy(t.values.data(), buf.data() + sec.levels, 4 * w.levels);
  } else {
    for (std::uint64_t i = 0; i < w.levels; ++i)
      t.values[i] = std::bit_cast<float>(field<std::uint32_t>(buf, sec.levels + 4 * i));
  }
  check_zero_padding(buf, sec.levels + 4 * w.levels, sec.codes, "levels");
  validate_level_table(t, w.header);
  return t;
}

void check_codes_in_buckets(const std::uint16_t* codes, const PayloadHeader& h,
                            const LevelTable& levels, std::uint64_t always_below) {
  const std::uint64_t size = bucket_length(h);
  for (std::size_t b = 0, buckets = num_buckets(h); b < buckets; ++b) {
    const std::uint32_t n = bucket_level_count(levels, h, b);
    if (n >= always_below) continue;
    const std::uint64_t begin = b * size, end = std::min(h.count, begin + size);
    const std::size_t bad = find_code_at_least(codes + begin, end - begin, n);
    DME_CHECK(bad == SIZE_MAX, "code of coordinate " << h.first + begin + bad << " is "
                                                     << codes[begin + bad] << ", but its bucket "
                                                     << b << " has " << n << " levels");
  }
}

}  // namespace dme::detail::codec
