// Packing of quantization codes (values in [0, s)) into bytes.
//
// Two layouts, both little-endian and independent of the host:
//  - Fixed width, b in 1..16 bits per code: an LSB-first bit stream. Code i occupies bits
//    [i·b, (i+1)·b) of the stream, stream bit j being bit j % 8 of byte j / 8; so every 8 codes
//    fill exactly b bytes. The unused high bits of the last byte are zero. Size ceil(n·b / 8).
//  - Mixed radix, k base-s digits per 64-bit little-endian word: word w holds codes
//    c[w·k .. w·k + k) as Σ_j c[w·k + j]·s^j (code w·k is the least significant digit), so every
//    word is < s^k <= 2^64 - 1. The last word holds the remaining r < k codes and is < s^r (its
//    unused digits are zero). Size 8·ceil(n / k). Bits per code 64 / k, against the entropy
//    bound log2 s: s = 3 → 1.60 (40 digits), s = 5 → 2.37 (27), s = 10 → 3.37 (19),
//    s = 17 → 4.27 (15), s = 1000 → 10.67 (6;
//    fixed width takes 10 there).
// choose_layout picks the layout with the fewest bits per code; a tie goes to fixed width,
// which is faster.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace dme {

enum class Packing : std::uint8_t { kFixedWidth = 0, kMixedRadix = 1 };

/// How codes in [0, s) are packed. Only the field of the layout's packing is meaningful: bits
/// for kFixedWidth, digits_per_word for kMixedRadix (the other one is 0 from choose_layout).
struct CodeLayout {
  Packing packing = Packing::kFixedWidth;
  std::uint32_t s = 2;           ///< radix: the number of possible code values
  unsigned bits = 1;             ///< fixed width: bits per code (1..16), s <= 2^bits
  unsigned digits_per_word = 0;  ///< mixed radix: base-s digits per 64-bit word, s^k < 2^64

  /// Bits on the wire per code, ignoring the padding of the last byte or word.
  double bits_per_code() const;
  bool operator==(const CodeLayout&) const = default;
};

inline constexpr std::uint32_t kMaxRadix = 65536;

/// Best layout for codes in [0, s), 2 <= s <= 65536 (see the top of this file).
/// s < 2 or s > 65536 -> dme::Error.
CodeLayout choose_layout(std::uint32_t s);

/// The largest k with s^k < 2^64 (the digits a 64-bit word holds), 2 <= s <= 65536.
unsigned max_digits_per_word(std::uint32_t s);

/// Throws dme::Error when the layout cannot be packed or unpacked: s outside [2, 65536], fixed
/// width other than 1..16 bits or with s > 2^bits, mixed radix with 0 digits or s^k >= 2^64.
void check_layout(const CodeLayout& layout);

/// Short name for tables and messages: "fixed4" or "radix19" (19 digits per word).
std::string to_string(const CodeLayout& layout);

/// Exact bytes of count packed codes. A size that overflows 64 bits -> dme::Error.
std::size_t packed_bytes(std::size_t count, const CodeLayout& layout);

/// @param codes size count, each < layout.s (checked: a code >= s -> dme::Error naming it)
/// @param out   size packed_bytes(count, layout), fully written
void pack_codes(std::span<const std::uint16_t> codes, const CodeLayout& layout,
                std::span<std::byte> out);

/// @param in    size packed_bytes(codes.size(), layout)
/// @param codes size count, fully written
/// A decoded code >= s, a mixed-radix word >= s^k or non-zero padding bits -> dme::Error (the
/// contents of codes are then unspecified).
void unpack_codes(std::span<const std::byte> in, const CodeLayout& layout,
                  std::span<std::uint16_t> codes);

}  // namespace dme
