// Payloads for the codec tests: a header, per-bucket levels (some buckets with fewer than s) and
// codes below each bucket's level count, all from fixed seeds.
#pragma once

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <set>
#include <vector>

#include "dme/codec/detail/endian.h"
#include "dme/codec/payload.h"
#include "dme/core/rng.h"
#include "dme/quantization/lloyd_max.h"
#include "dme/quantization/quic_fl.h"

namespace dme::test {

struct PayloadParts {
  PayloadHeader header;
  LevelTable levels;
  std::vector<std::uint16_t> codes;
};

inline PayloadParts make_parts(std::uint64_t count, std::uint32_t s, std::uint64_t bucket_size,
                               std::uint64_t seed = 1) {
  PayloadParts p;
  PayloadHeader& h = p.header;
  h.d = count + 5;
  h.padded = std::uint64_t(1) << std::max<int>(1, std::bit_width(h.d - 1));
  h.first = 3;
  h.count = count;
  h.bucket_size = bucket_size;
  h.s = s;
  h.rotations = 2;
  h.biased = seed % 2 == 1;
  h.independent_rotation = false;
  h.seed = 0x0123456789ABCDEFull + seed;
  h.round = 17;
  h.rank = 5;
  PhiloxStream rng(seed, s, 1, Purpose::kInput);
  std::uint64_t draw = 0;
  const std::size_t buckets = num_buckets(h);
  p.levels.offsets.push_back(0);
  std::vector<std::uint32_t> per_bucket;
  for (std::size_t b = 0; b < buckets; ++b) {
    // Every third bucket has fewer levels than s, as a solver produces for constant data.
    const std::uint32_t n = b % 3 == 1 ? 1 + rng.bits32(draw++) % std::min<std::uint32_t>(s, 40)
                                       : std::min<std::uint32_t>(s, 300);
    std::set<float> lv;
    while (lv.size() < n) lv.insert(rng.uniform_float(draw++) * 8.0f - 4.0f);
    p.levels.values.insert(p.levels.values.end(), lv.begin(), lv.end());
    p.levels.offsets.push_back(static_cast<std::uint32_t>(p.levels.values.size()));
    per_bucket.push_back(n);
  }
  p.codes.resize(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint32_t n = per_bucket[bucket_size ? i / bucket_size : 0];
    p.codes[i] = static_cast<std::uint16_t>(rng.bits32(draw++) % n);
  }
  if (count) p.codes[count - 1] = static_cast<std::uint16_t>(per_bucket.back() - 1);
  return p;
}

/// A kind-2 (codes only) payload of count codes below s.
inline PayloadParts make_codes_only(std::uint64_t count, std::uint32_t s, std::uint64_t seed = 1) {
  PayloadParts p = make_parts(0, 2, 0, seed);
  p.header.count = count;
  p.header.d = count + 5;
  p.header.padded = std::uint64_t(1) << std::max<int>(1, std::bit_width(p.header.d - 1));
  p.header.s = s;
  p.header.kind = PayloadKind::kCodes;
  p.levels = codes_only_levels(s);
  PhiloxStream rng(seed, s, 2, Purpose::kInput);
  p.codes.resize(count);
  for (std::uint64_t i = 0; i < count; ++i)
    p.codes[i] = static_cast<std::uint16_t>(rng.bits32(i) % s);
  if (count) p.codes[count - 1] = static_cast<std::uint16_t>(s - 1);
  return p;
}

/// A kind-3 (shared table, quic-fl) payload of count codes of `bits` bits, every third
/// coordinate sent exactly.
inline PayloadParts make_shared_table(std::uint64_t count, unsigned bits, std::uint64_t seed = 1) {
  PayloadParts p = make_codes_only(count, 1u << bits, seed);
  p.header.kind = PayloadKind::kSharedTable;
  p.header.biased = false;
  p.header.dither_purpose = static_cast<std::uint8_t>(Purpose::kSharedDraw);
  p.header.dither = 0.75f;
  for (std::uint64_t i = 0; i < count; i += 3) {
    p.levels.exact.push_back(static_cast<std::uint32_t>(i));
    p.levels.values.push_back(static_cast<float>(i) - 4.5f);
    p.codes[i] = 0;
  }
  return p;
}

/// What a kind-3 payload decodes coordinate first + i to (codec/payload.h).
inline float shared_table_value(const Payload& p, std::size_t i) {
  const auto& exact = p.levels.exact;
  const auto at = std::lower_bound(exact.begin(), exact.end(), i);
  if (at != exact.end() && *at == i) return p.levels.values[at - exact.begin()];
  const QuicFlQuantizer& q = QuicFlQuantizer::get(std::countr_zero(p.header.s));
  const PhiloxStream shared(p.header.seed, p.header.round, p.header.rank,
                            static_cast<Purpose>(p.header.dither_purpose));
  const std::uint64_t g = p.header.first + i;
  const auto byte = static_cast<std::uint8_t>(shared.bits32(g / 4) >> (8 * (g % 4)));
  return p.header.dither * q.receive(q.h_of(byte), p.codes[i]);
}

/// A kind-4 (Lloyd-Max, eden) payload of count codes: narrow ones of
/// `bits` bits, `groups` groups of 8 wide ones (bits + 1) per period.
inline PayloadParts make_two_widths(std::uint64_t count, unsigned bits, unsigned groups,
                                    std::uint64_t seed = 1) {
  PayloadParts p = make_codes_only(count, 1u << bits, seed);
  p.header.kind = PayloadKind::kLloydMax;
  p.header.wide_groups = static_cast<std::uint8_t>(groups);
  p.header.dither = 1.25f;
  for (std::uint64_t i = 0; i < count; ++i)
    if (i % kTwoWidthPeriod < 8 * groups)
      p.codes[i] = static_cast<std::uint16_t>((p.codes[i] << 1 | (i & 1)) % (2u << bits));
  return p;
}

/// Whether code i of a kind-4 payload is wide (codec/payload.h).
inline bool two_widths_is_wide(const PayloadHeader& h, std::uint64_t i) {
  return i % kTwoWidthPeriod < 8 * std::uint64_t(h.wide_groups);
}

/// What a kind-4 payload decodes coordinate first + i to: S·C[width][code].
inline float two_widths_value(const Payload& p, std::size_t i) {
  const unsigned bits = std::countr_zero(p.header.s) + (two_widths_is_wide(p.header, i) ? 1 : 0);
  return p.header.dither * lloyd_max_table(bits)[p.codes[i]];
}

/// A kind-5 (norm grid, qsgd) payload: count codes below s in buckets of bucket_size, each with
/// a norm (every fourth bucket's 0, every fourth but one's subnormal).
inline PayloadParts make_norm_grid(std::uint64_t count, std::uint32_t s, std::uint64_t bucket_size,
                                   std::uint64_t seed = 1) {
  PayloadParts p = make_parts(count, s, 0, seed);  // the header; levels and codes are redone
  p.header.bucket_size = bucket_size;
  p.header.kind = PayloadKind::kNormGrid;
  PhiloxStream rng(seed, s, 3, Purpose::kInput);
  std::vector<float> norms(num_buckets(p.header));
  for (std::size_t b = 0; b < norms.size(); ++b)
    norms[b] = b % 4 == 3 ? 0.0f : b % 4 == 2 ? 3e-42f : 0.5f + 4.0f * rng.uniform_float(b);
  p.levels = norm_grid_table(std::move(norms), s);
  for (std::uint64_t i = 0; i < count; ++i)
    p.codes[i] = static_cast<std::uint16_t>(rng.bits32(1000 + i) % s);
  if (count) p.codes[count - 1] = static_cast<std::uint16_t>(s - 1);
  return p;
}

/// What a kind-5 payload decodes coordinate first + i to: ν_b · u[code] in float32, with
/// u[t] = (2t - (s - 1)) / (s - 1) rounded once from double (codec/payload.h).
inline float norm_grid_value(const Payload& p, std::size_t i) {
  const std::uint64_t size = p.header.bucket_size ? p.header.bucket_size : p.header.count;
  const double last = static_cast<double>(p.header.s) - 1.0;
  const auto u = static_cast<float>((2.0 * p.codes[i] - last) / last);
  return p.levels.values[i / size] * u;
}

inline std::vector<std::byte> encode_parts(const PayloadParts& p) {
  std::vector<std::byte> out;
  encode(p.header, p.levels, p.codes, out);
  return out;
}

/// Recomputes the checksum after a test edits a payload, so that the field checks behind it run.
inline void reseal(std::vector<std::byte>& buf) {
  const std::size_t body = buf.size() - 8;
  detail::codec::store_le<std::uint64_t>(buf.data() + body, XXH3_64bits(buf.data(), body));
}

}  // namespace dme::test
