// The inner loop of decode_accumulate: acc[i] += levels[codes[i]], with the level table held in
// vector registers when it is small (AVX-512: up to 32 levels; AVX2: up to 8) and gathers
// otherwise. Every variant performs the same float (or float-to-double) additions as the plain
// loop, so results are bit-identical across instruction sets.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dme::detail::codec {

/// acc[i] += levels[codes[i]] for i < n. Every code must be < count (checked by the caller).
/// @param acc size n; levels size count; codes size n
void add_levels(float* acc, const float* levels, std::uint32_t count, const std::uint16_t* codes,
                std::size_t n);
void add_levels(double* acc, const float* levels, std::uint32_t count, const std::uint16_t* codes,
                std::size_t n);

}  // namespace dme::detail::codec
