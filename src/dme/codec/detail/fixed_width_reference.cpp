// The bit-by-bit definition of the fixed-width format (fixed_width.h), for the tests.
#include <algorithm>

#include "dme/codec/detail/fixed_width.h"

namespace dme::detail::codec {

void pack_fixed_reference(const std::uint16_t* codes, std::size_t n, unsigned bits,
                          std::byte* out) {
  const std::size_t bytes = (n * bits + 7) / 8;
  std::fill(out, out + bytes, std::byte{0});
  for (std::size_t i = 0; i < n; ++i)
    for (unsigned t = 0; t < bits; ++t)
      if ((codes[i] >> t) & 1u) {
        const std::size_t j = i * bits + t;
        out[j / 8] |= std::byte(1u << (j % 8));
      }
}

bool unpack_fixed_reference(const std::byte* in, unsigned bits, std::size_t n,
                            std::uint16_t* codes) {
  auto bit = [&](std::size_t j) { return (std::to_integer<unsigned>(in[j / 8]) >> (j % 8)) & 1u; };
  for (std::size_t i = 0; i < n; ++i) {
    unsigned c = 0;
    for (unsigned t = 0; t < bits; ++t) c |= bit(i * bits + t) << t;
    codes[i] = static_cast<std::uint16_t>(c);
  }
  for (std::size_t j = n * bits; j < (n * bits + 7) / 8 * 8; ++j)
    if (bit(j)) return false;
  return true;
}

}  // namespace dme::detail::codec
