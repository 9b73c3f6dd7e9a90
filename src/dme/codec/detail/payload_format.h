// The pieces of the payload wire format (payload.h documents it) shared by encode and the
// decoders: section offsets, header serialisation and the validation rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dme/codec/bitpack.h"
#include "dme/codec/payload.h"

namespace dme::detail::codec {

inline constexpr std::size_t kHeaderBytes = 104;
inline constexpr std::size_t kChecksumBytes = 8;
inline constexpr std::size_t kMinPayloadBytes = kHeaderBytes + kChecksumBytes;
inline constexpr std::uint8_t kFlagBiased = 1;
inline constexpr std::uint8_t kFlagIndependentRotation = 2;

/// Byte offsets of the sections; every offset is a multiple of 8.
struct Sections {
  std::uint64_t level_counts = kHeaderBytes;
  std::uint64_t levels = 0;
  std::uint64_t codes = 0;
  std::uint64_t codes_bytes = 0;  ///< packed_bytes(count), without padding
  std::uint64_t checksum = 0;
  std::uint64_t total = 0;
};

/// Offsets for B buckets, L levels and the h.count codes of h (packed in layout, or as kind 4's
/// Lloyd-Max codes); a size overflowing 64 bits -> dme::Error.
Sections section_offsets(std::uint64_t buckets, std::uint64_t levels, const PayloadHeader& h,
                         const CodeLayout& layout);

/// A header with what it implies.
struct WireHeader {
  PayloadHeader header;
  CodeLayout layout;
  std::uint64_t buckets = 0;
  std::uint64_t levels = 0;
  Sections sections;
};

/// The field rules encode and decode share: s, rotations, padded against d, the carried range.
void validate_header(const PayloadHeader& h);

/// Checks a level table against a header (shape, counts 1..s, finite, strictly increasing).
void validate_level_table(const LevelTable& levels, const PayloadHeader& h);

/// Writes the kHeaderBytes header bytes at out.
void write_header(const WireHeader& w, std::byte* out);

/// Everything decode_header promises: length, magic, version, checksum, fields, section sizes
/// against the buffer length, expectations. Reads nothing outside buf; allocates nothing.
WireHeader read_header(std::span<const std::byte> buf, const DecodeExpectations& expect);

/// The level table of a payload whose header read_header accepted, fully validated (the level
/// counts, the levels and the zero padding of both sections).
LevelTable read_levels(std::span<const std::byte> buf, const WireHeader& w);

/// The level count of bucket b of a validated table (kind 5: s, for every bucket).
std::uint32_t bucket_level_count(const LevelTable& levels, const PayloadHeader& h, std::size_t b);

/// Throws when padding bytes [from, to) of buf are not zero, naming the section.
void check_zero_padding(std::span<const std::byte> buf, std::uint64_t from, std::uint64_t to,
                        const char* section);

/// Checks that the codes of every bucket are below its level count. Buckets whose level count
/// is at least `always_below` (a bound every unpacked code already meets) are skipped.
/// @param codes size h.count
void check_codes_in_buckets(const std::uint16_t* codes, const PayloadHeader& h,
                            const LevelTable& levels, std::uint64_t always_below);

}  // namespace dme::detail::codec
