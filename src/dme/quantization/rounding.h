// Rounding a vector to sorted levels, producing codes (level indices).
//
// Both roundings first find the interval of x among the levels:
//   c = #{ t in [1, s-2] : levels[t] <= x }     (so levels[c] <= x < levels[c+1] inside the range)
//   a = levels[c], b = levels[c+1]
// and then, in IEEE float arithmetic exactly as written (no fused multiply-add, no reciprocal):
//   stochastic: code = c + (u < (x - a) / (b - a) ? 1 : 0),
//               u = stream.uniform_float(first_index + i)
//   nearest:    code = c + ((x - a) > (b - x) ? 1 : 0)          (ties go to the lower level)
// A one-level set gives code 0. The CUDA backend reproduces these expressions bit for bit, so the
// same (seed, round, rank) stream yields the same codes on any backend, thread count or chunking.
// E[levels[code]] = x for stochastic rounding: P(up) = (x - a)/(b - a) up to float rounding of
// that probability (at most 2^-24 relative), which the 24-bit uniform resolves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dme/core/rng.h"
#include "dme/quantization/levels.h"

namespace dme {

/// Unbiased stochastic rounding of x to levels (sorted, strictly increasing, 1..65536 values).
/// @param x            values, size d, each in [levels.front(), levels.back()]
/// @param levels       the level set, size s
/// @param stream       draws: coordinate i uses stream.uniform_float(first_index + i)
/// @param first_index  index of x[0] in the stream (chunks of one vector pass their offset)
/// @param codes        out, size d
/// Throws dme::Error on bad levels, size mismatch, or a value outside the level range (NaN
/// included), naming the index and value; codes is then partly written.
void stochastic_round(std::span<const float> x, std::span<const float> levels,
                      const PhiloxStream& stream, std::uint64_t first_index,
                      std::span<std::uint16_t> codes);

/// Nearest level (ties to the lower level); values outside the range clamp to the end levels.
/// @param x       values, size d (NaN -> dme::Error)
/// @param levels  sorted, strictly increasing, size 1..65536
/// @param codes   out, size d
void nearest_round(std::span<const float> x, std::span<const float> levels,
                   std::span<std::uint16_t> codes);

/// out[i] = levels[codes[i]]; a code >= levels.size() -> dme::Error naming it.
/// @param codes   size d
/// @param levels  size s
/// @param out     out, size d
void dequantize(std::span<const std::uint16_t> codes, std::span<const float> levels,
                std::span<float> out);

}  // namespace dme
