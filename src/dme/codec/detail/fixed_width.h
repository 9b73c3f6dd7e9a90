// Fixed-width bit-packing kernels (b = 1..16 bits per code), unchecked: the callers in
// bitpack.cpp and payload.cpp validate codes and sizes first.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dme::detail::codec {

/// Packs n codes, each < 2^bits, into out, size ceil(n·bits / 8), every byte written.
void pack_fixed(const std::uint16_t* codes, std::size_t n, unsigned bits, std::byte* out);

/// Unpacks n codes from in, of which in_size >= ceil(n·bits / 8) bytes may be read (more lets
/// the kernel use wide loads). n must be a multiple of 8 unless the codes end the stream.
/// Returns false when the unused bits after the last code, in its byte, are not zero.
bool unpack_fixed(const std::byte* in, std::size_t in_size, unsigned bits, std::size_t n,
                  std::uint16_t* codes);

/// The largest of n codes (0 when n is 0).
std::uint16_t max_code(const std::uint16_t* codes, std::size_t n);

/// Bit-by-bit versions of the two kernels, the definition of the format (for tests).
void pack_fixed_reference(const std::uint16_t* codes, std::size_t n, unsigned bits, std::byte* out);
bool unpack_fixed_reference(const std::byte* in, unsigned bits, std::size_t n,
                            std::uint16_t* codes);

}  // namespace dme::detail::codec
