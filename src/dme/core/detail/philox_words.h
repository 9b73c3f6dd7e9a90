// The key and counter words of a dme::PhiloxStream, for kernels that run Philox4x32-10 on many
// blocks at once (SIMD lanes) and must produce exactly the stream's draws.
#pragma once

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

}  // namespace dme::detail
