// The key and counter words of a dme::PhiloxStream, for kernels that run Philox4x32-10 on many
// blocks at once (SIMD lanes) and must produce exactly the stream's draws.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dme/core/rng.h"

namespace dme::detail {

/// Block b of a stream is Philox4x32-10 with key {key0, key1} and counter
/// {b mod 2^32, tag | ((b >> 32) & 0xFFFFFF), round, rank} (the layout documented in core/rng.h).
struct PhiloxWords {
  std::uint32_t key0, key1;
  std::uint32_t tag;  ///< purpose << 24
  std::uint32_t round, rank;
};

/// The key and counter words of a stream (tests check philox_blocks16 against stream.block()).
PhiloxWords philox_words(const PhiloxStream& stream);

/// Philox4x32-10 of the 16 blocks first_block .. first_block+15 in plain loops over the lanes,
/// which the compiler vectorises: out[w][l] = word w of block first_block + l.
void philox_blocks16(const PhiloxWords& words, std::uint64_t first_block, std::uint32_t out[4][16]);

/// Blocks first_block .. first_block + blocks - 1 on the current SIMD target (core/simd.h) as
/// 64-bit words in stream order: out[2b] = word 0 | word 1 << 32, out[2b + 1] = word 2 | word 3
/// << 32 of block first_block + b. Bit-identical to PhiloxStream::block() on every target.
void philox_words64(const PhiloxWords& key, std::uint64_t first_block, std::size_t blocks,
                    std::uint64_t* out);

/// The 4 · blocks draws of those blocks as PhiloxStream::uniform_float() gives them:
/// out[i] = uniform_float(4 · first_block + i).
void philox_uniforms(const PhiloxWords& key, std::uint64_t first_block, std::size_t blocks,
                     float* out);

/// Draws first .. first + n - 1 as PhiloxStream::bits32() gives them: out[i] = bits32(first + i),
/// made on the current SIMD target.
void philox_bits32(const PhiloxWords& key, std::uint64_t first, std::size_t n, std::uint32_t* out);

/// Bytes first .. first + n - 1 of the stream: byte b is bits (8·(b % 4)) .. (8·(b % 4) + 7) of
/// bits32(b / 4).
void philox_bytes(const PhiloxWords& key, std::uint64_t first, std::size_t n, std::uint8_t* out);

}  // namespace dme::detail
