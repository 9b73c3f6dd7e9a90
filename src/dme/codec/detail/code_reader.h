// Random access to a packed code stream by groups (8 codes for fixed width, one word of k digits
// for mixed radix), so that decoders can unpack a payload chunk by chunk in cache-sized pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dme/codec/bitpack.h"
#include "dme/codec/detail/mixed_radix.h"

namespace dme::detail::codec {

class CodeReader {
 public:
  /// @param in size packed_bytes(count, layout) (checked), layout valid (checked)
  CodeReader(std::span<const std::byte> in, const CodeLayout& layout, std::size_t count);

  /// Codes per group; reads start at multiples of it.
  std::size_t group() const { return group_; }
  std::size_t count() const { return count_; }

  /// Throws dme::Error when a mixed-radix word is out of range or the padding bits after the
  /// last fixed-width code are not zero. Reads only the packed bytes: no code is unpacked. After
  /// it, every unpacked code is < 2^bits (fixed) or < s (mixed radix).
  void check_stream() const;

  /// Unpacks codes [first, first + n) into out (size n); first % group() == 0,
  /// first + n <= count() (asserted).
  void read(std::size_t first, std::size_t n, std::uint16_t* out) const;

 private:
  std::span<const std::byte> in_;
  CodeLayout layout_;
  std::size_t count_;
  std::size_t group_;
  RadixTable radix_;
};

/// Index of the first code >= bound, or SIZE_MAX when all are below it.
/// @param codes size n
std::size_t find_code_at_least(const std::uint16_t* codes, std::size_t n, std::uint32_t bound);

}  // namespace dme::detail::codec
