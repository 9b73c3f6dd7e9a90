// The payload one rank sends for one round: header, levels, packed codes, checksum.
//
// Wire format, version 1. Every integer is little-endian, every section starts at a multiple of
// 8 bytes, and every padding byte is zero. N is the total length; B the number of buckets
// (num_buckets), L the total number of levels, P = packed_bytes(count, choose_layout(s)).
//
//   offset  size  field
//        0     8  magic, the ASCII bytes "DMEPAYLD"
//        8     2  format version, 1
//       10     1  packing: 0 fixed width, 1 mixed radix (must be choose_layout(s))
//       11     1  bits per code (fixed width) or base-s digits per 64-bit word (mixed radix)
//       12     1  rotations, 0..3
//       13     1  flags: bit 0 biased, bit 1 independent_rotation, bits 2..7 zero
//       14     1  kind: 0 levels, 1 dithered levels, 2 codes only, 3 shared table, 4 Lloyd-Max,
//                 5 norm grid (PayloadKind)
//       15     1  kind 1: the Purpose of the sender's rounding stream (2 rounding, 3 requantize,
//                 5 downlink); kind 3: the Purpose of the shared draws (7 uplink,
//                 8 requantize, 9 downlink); kind 4: G, 0..255, the wide codes' groups of 8
//                 per period of 2048 codes;
//                 kinds 0, 2 and 5: zero
//       16     4  s, 2..65536: codes are base-s digits
//       20     4  round
//       24     4  rank of the sender
//       28     4  kind 1: the dither scale c; kind 3: the scale σ; kind 4: the scale S;
//                 float32, finite and >= 0; kinds 0, 2 and 5: zero
//       32     8  d, the vector length
//       40     8  padded length D (== d without rotation; with rotations 2^ceil(log2 d), the
//                 padded layout, or d, the overlapped one: rotation/rht.h)
//       48     8  first coordinate carried
//       56     8  count of coordinates carried, first + count <= D
//       64     8  bucket_size (0: one bucket)
//       72     8  seed
//       80     8  B, must equal num_buckets
//       88     8  L, B <= L <= B·s
//       96     8  N, must equal the buffer length
//      104  4·B   level count of each bucket, uint32 in 1..s, summing to L; padded to 8
//        .  4·L   levels as IEEE-754 float32, bucket after bucket, finite and strictly
//                 increasing within a bucket; padded to 8
//        .    P   codes, packed as bitpack.h describes; code i belongs to bucket
//                 i / bucket_size and is below that bucket's level count; padded to 8
//      N-8     8  checksum: XXH3_64bits (seed 0) of bytes [0, N-8)
//
// Kind 2 (codes only) carries no levels: one bucket (bucket_size 0, B = 1) whose level count
// is s, L = 0 and an empty levels section; its codes are below s and mean what the exchange
// that sent them agreed beforehand (reduce-scatter-int: level indices, then integer sums).
//
// Kind 3 (shared table, the quic-fl scheme: quantization/quic_fl.h) carries a receiver table
// that s = 2^b fixes (b = 1..4, fixed-width codes) instead of levels, and E coordinates sent
// exactly: one bucket (bucket_size 0, B = 1) whose level count is s, L = 2E <= 2·count, and a
// levels section of E float32 values (finite) followed by their E uint32 indices within the
// payload (strictly increasing, below count). The code of an exact coordinate is 0.
//
// Kind 4 (Lloyd-Max, the eden scheme without buckets: collective/detail/eden.cpp) carries one
// scale S instead of levels, and may give some codes one bit more than others (a fractional bit
// budget). s = 2^b, one bucket (bucket_size 0, B = 1) whose level count is s, L = 0 (as kind 2).
// Its codes come in periods of 2048: in each, the first 8·G codes are wide (b + 1 bits) and the
// others narrow (b bits); the last period may be short, its wide codes first. b = 1..8 when
// G = 0 (every code narrow: the plain fixed-width stream), b = 1..7 when G > 0. Each period is a
// wide run then a narrow run of fixed-width codes (bitpack.h), each starting at a byte; so
// P = F·(256·b + G) + ceil(w·(b + 1) / 8) + ceil(r·b / 8) for F whole periods and a last one
// of w wide and r narrow codes. Bytes 10 and 11 say fixed width, b bits (choose_layout(s)).
// A wide code c decodes to the float32 product S·C[b + 1][c], a narrow one to S·C[b][c], with
// C[k] the float32 Lloyd-Max centroids of N(0, 1) for 2^k levels (quantization/lloyd_max.h).
//
// Kind 5 (norm grid, the qsgd scheme: collective/detail/compress.cpp) carries one float32 per
// bucket, its norm ν_b (finite, >= 0), instead of level counts and levels: L = B, an empty
// level-count section, and a levels section of the B norms. Every bucket has s levels (any code
// below s is valid): code t of bucket b decodes to the float32 product fl(ν_b · u[t]), with
// u[t] = fl((2t - (s - 1)) / (s - 1)) computed in double (quantization/uniform.h,
// norm_grid_unit). Side information is 4 bytes per bucket, where kind 0 would carry 4 + 4s.
//
// So N = 112 + pad8(4B) + pad8(4L) + pad8(P) (kind 5: 112 + pad8(4B) + pad8(P)). decode()
// checks all of the above, in an order that never reads past the buffer nor allocates before the
// lengths are proven to fit it.
//
// Coordinate first + i decodes to the level of its code, plus, in a kind-1 payload,
// c · (u - 1/2) with u = PhiloxStream(seed, round, rank, purpose).uniform_float(first + i): the
// sender's own rounding draw, which the receiver regenerates (docs/schemes.md, asq-shared).
// In a kind-3 payload coordinate g = first + i decodes to σ·R[h][code], h the top log2(H) bits of
// bits 8·(g mod 4) .. 8·(g mod 4) + 7 of bits32(g / 4) of PhiloxStream(seed, round, rank, purpose)
// (QuicFlQuantizer::h_of), or to its value if it is sent exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "dme/codec/bitpack.h"

struct XXH3_state_s;  // xxHash's streaming state (xxhash.h)

namespace dme {

/// What a receiver adds for each coordinate.
enum class PayloadKind : std::uint8_t {
  kLevels = 0,          ///< the level of its code (asq, eden)
  kDitheredLevels = 1,  ///< the level plus dither · (u - 1/2), u the sender's draw (asq-shared)
  kCodes = 2,  ///< codes only, no levels: decode() gives the codes, decode_accumulate refuses
               ///< (reduce-scatter-int's level indices and integer sums)
  kSharedTable = 3,  ///< σ·R[h][code], R the quic-fl table of s, h a shared draw; plus
                     ///< coordinates sent exactly (quic-fl)
  kLloydMax = 4,     ///< S·C[code], C the Lloyd-Max table of the code's width (eden; at a
                     ///< fractional bit budget some codes have one bit more)
  kNormGrid = 5,     ///< ν·u[code], ν the bucket's norm, u the grid of s points on [-1, 1] (qsgd)
};

/// Kind 4: codes come in periods of this many, the wide ones first in each.
inline constexpr std::uint64_t kTwoWidthPeriod = 2048;

struct PayloadHeader {
  std::uint64_t d = 0;            ///< original vector length
  std::uint64_t padded = 0;       ///< rotated length D (== d when no rotation or overlapped)
  std::uint64_t first = 0;        ///< first (rotated-domain) coordinate carried by this payload
  std::uint64_t count = 0;        ///< coordinates carried: [first, first + count) ⊆ [0, padded)
  std::uint64_t bucket_size = 0;  ///< coordinates per bucket, each with its own levels; 0 = one
  std::uint32_t s = 0;            ///< max levels per bucket; codes are base-s digits
  std::uint8_t rotations = 0;     ///< 0..3
  bool biased = false;            ///< nearest rounding (informational)
  bool independent_rotation = false;
  std::uint64_t seed = 0;
  std::uint32_t round = 0;
  std::uint32_t rank = 0;  ///< sender
  PayloadKind kind = PayloadKind::kLevels;
  /// kDitheredLevels: the Purpose of the sender's rounding stream, and the scale c of the dither.
  /// kSharedTable: the Purpose of the shared draws (kSharedDraw), and the scale σ of the table.
  /// kLloydMax: the scale S of the Lloyd-Max tables (dither_purpose 0).
  std::uint8_t dither_purpose = 0;
  float dither = 0.0f;
  /// kLloydMax: G, 0..255: the first 8·G codes of every kTwoWidthPeriod are wide.
  std::uint8_t wide_groups = 0;

  bool operator==(const PayloadHeader&) const = default;
};

/// Levels per bucket: bucket b uses values[offsets[b] .. offsets[b+1]); offsets.size() =
/// buckets + 1, offsets[0] = 0; each bucket has 1..s strictly increasing finite levels.
/// A kind-2 (codes only) payload's table is codes_only_levels(s): offsets {0, s}, no values.
/// A kind-3 (shared table) payload's has offsets {0, s}, the values of the coordinates sent
/// exactly, and in `exact` their indices within the payload (strictly increasing).
/// A kind-4 (Lloyd-Max) payload's is codes_only_levels(s): its levels follow from its scale.
/// A kind-5 (norm grid) payload's has offsets {0, s} (every bucket has s levels) and one value
/// per bucket, its norm (norm_grid_table).
struct LevelTable {
  std::vector<float> values;
  std::vector<std::uint32_t> offsets;
  std::vector<std::uint32_t> exact;  ///< kind 3 only

  bool operator==(const LevelTable&) const = default;
};

inline constexpr std::uint16_t kPayloadVersion = 1;

/// The level table of a kind-2 (codes only) payload with codes below s.
LevelTable codes_only_levels(std::uint32_t s);

/// The level table of a kind-5 (norm grid) payload: the norm of each bucket.
LevelTable norm_grid_table(std::vector<float> norms, std::uint32_t s);

/// What code `code` of a bucket of norm `norm` decodes to in a kind-5 payload of s levels.
float norm_grid_level(float norm, std::uint32_t code, std::uint32_t s);

/// ceil(count / bucket_size), or 1 when bucket_size == 0.
std::size_t num_buckets(const PayloadHeader& h);
/// Coordinates per bucket: bucket_size, or every coordinate (count, at least 1) when it is 0.
/// Code i of a payload belongs to bucket i / bucket_length(h).
std::uint64_t bucket_length(const PayloadHeader& h);

/// Exact bytes of the encoded payload. Invalid header or level table -> dme::Error.
std::size_t encoded_size(const PayloadHeader& h, const LevelTable& levels);

/// Resizes out to encoded_size(h, levels) and fills it (nothing is appended). Validates its
/// inputs: the header fields, the level table, and every code < its bucket's level count.
/// @param codes size h.count
void encode(const PayloadHeader& h, const LevelTable& levels, std::span<const std::uint16_t> codes,
            std::vector<std::byte>& out);

/// Writes a payload whose codes arrive in pieces, packed straight into the output (the fused
/// compressor rounds and packs a block at a time; a device backend copies packed bytes in).
/// The constructor validates header and levels (as encode does) and writes every section before
/// the codes; pack() packs pieces in order; finish() writes the padding and the checksum.
///   PayloadWriter w(h, levels, out);
///   for (...) w.pack(first, codes_of_the_piece);
///   w.finish();
/// A writer that is destroyed unfinished leaves out without a valid checksum.
class PayloadWriter {
 public:
  PayloadWriter(const PayloadWriter&) = delete;
  PayloadWriter& operator=(const PayloadWriter&) = delete;

  /// Resizes out to encoded_size(h, levels).
  PayloadWriter(const PayloadHeader& h, const LevelTable& levels, std::vector<std::byte>& out);

  const CodeLayout& layout() const noexcept { return layout_; }
  /// Pieces start at multiples of this (8 codes for fixed width: whole bytes; the digits of a
  /// word for mixed radix), and every piece but the last is a multiple of it long.
  std::size_t alignment() const noexcept { return alignment_; }

  /// Packs codes [first, first + codes.size()); first must be where the previous piece ended.
  /// Every code must be below the level count of its bucket (else dme::Error naming it).
  void pack(std::uint64_t first, std::span<const std::uint16_t> codes);

  /// pack() for threads: pieces in any order, from several threads at once (disjoint pieces,
  /// aligned as for pack()), hashed only by finish_unordered(). Not mixed with pack().
  void pack_unordered(std::uint64_t first, std::span<const std::uint16_t> codes) const;
  /// finish() after pack_unordered: the caller vouches that every code was packed once.
  void finish_unordered();

  /// The packed-code section, packed_bytes(count, layout()) bytes, for callers that pack the
  /// codes themselves (bitpack.h describes the layout). Using it replaces pack(): the codes
  /// are then the caller's responsibility (decode validates them).
  std::span<std::byte> code_bytes();

  /// Zero padding and checksum. Throws unless every code was packed (or code_bytes() was used).
  void finish();

 private:
  struct HashDeleter {
    void operator()(XXH3_state_s* state) const noexcept;
  };
  // Feeds payload bytes [hashed_, end) to the checksum: pieces are hashed as they are packed,
  // while their bytes are still in cache, and the digest equals one XXH3 over the whole range.
  void hash_through(std::uint64_t end);
  // Checks codes [first, first + codes.size()) against their buckets and packs them.
  void pack_piece(std::uint64_t first, std::span<const std::uint16_t> codes) const;

  std::unique_ptr<XXH3_state_s, HashDeleter> hash_;
  std::uint64_t hashed_ = 0;
  PayloadHeader header_;
  LevelTable levels_;
  CodeLayout layout_;
  std::size_t alignment_ = 8;
  std::uint64_t next_ = 0;
  bool raw_ = false, finished_ = false;
  std::uint64_t codes_offset_ = 0, codes_bytes_ = 0, checksum_offset_ = 0;
  std::vector<std::byte>* out_;
};

/// Each set field must match the header exactly, else dme::Error naming field, expected, found.
struct DecodeExpectations {
  std::optional<std::uint64_t> d, padded, first, count, bucket_size, seed;
  std::optional<std::uint32_t> s, round, rank;
  std::optional<std::uint8_t> rotations;
  std::optional<bool> biased, independent_rotation;
  std::optional<PayloadKind> kind;
};

struct Payload {
  PayloadHeader header;
  LevelTable levels;
  std::vector<std::uint16_t> codes;  ///< size header.count
};

/// Full validation: magic, version, reserved bits, every length against buf.size() before any
/// allocation, checksum, level counts and ordering, finiteness, every code < its bucket's level
/// count. Any failure -> dme::Error naming the field, the value found and the one expected.
Payload decode(std::span<const std::byte> buf, const DecodeExpectations& expect = {});
/// The same into out, whose codes keep their capacity (a caller decoding many payloads reuses
/// one Payload). On dme::Error out holds unspecified values.
void decode(std::span<const std::byte> buf, const DecodeExpectations& expect, Payload& out);

/// Only the header, validated against the buffer length, the checksum and the expectations.
PayloadHeader decode_header(std::span<const std::byte> buf, const DecodeExpectations& expect = {});

/// The hot path of the receivers: validates like decode (everything, checksum included), then
/// acc[i] += level of coordinate first + i, for i < count, without materialising the codes.
/// On dme::Error acc is unchanged: every check runs before the first addition.
/// @param acc size header.count
PayloadHeader decode_accumulate(std::span<const std::byte> buf, const DecodeExpectations& expect,
                                std::span<float> acc);
PayloadHeader decode_accumulate(std::span<const std::byte> buf, const DecodeExpectations& expect,
                                std::span<double> acc);

}  // namespace dme
