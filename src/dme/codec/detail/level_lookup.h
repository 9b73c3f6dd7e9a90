// The inner loop of decode_accumulate: acc[i] += levels[codes[i]], with the level table held in
// vector registers when it is small (two vectors: AVX-512 up to 32 levels, AVX2 16, SSE4 8) and
// read level by level otherwise; one Highway source for every SIMD target
// (level_lookup.cpp). Every variant performs the same float (or float-to-double) additions as the
// plain loop, so results are bit-identical across targets.
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
