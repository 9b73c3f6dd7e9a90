// The loops behind dme::stochastic_round and dme::nearest_round (rounding.h documents the exact
// arithmetic). The vector kernels process 64 coordinates per step with AVX-512 (Philox on 16
// blocks per register, a branch-free binary search over the levels held in registers or
// gathered) and agree bit for bit with the scalar ones, which are the definition.
// Kernels do not throw: they return the index of the first invalid value, or n when all are valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dme/core/rng.h"

namespace dme::detail {

/// Interval of x among sorted levels (size s >= 2): #{t in [1, s-2] : levels[t] <= x}.
std::size_t level_interval(float x, const float* levels, std::size_t s);

/// Stochastic rounding, one coordinate at a time with stream.uniform_float(). Returns the index
/// of the first x outside [levels.front(), levels.back()] (NaN included), or n.
std::size_t stochastic_round_scalar(const float* x, std::size_t n, std::span<const float> levels,
                                    const PhiloxStream& stream, std::uint64_t first_index,
                                    std::uint16_t* codes);
/// The same with the vector kernel where the build has one (else the scalar loop).
std::size_t stochastic_round_kernel(const float* x, std::size_t n, std::span<const float> levels,
                                    const PhiloxStream& stream, std::uint64_t first_index,
                                    std::uint16_t* codes);

/// Nearest rounding (ties low, clamped). Returns the index of the first NaN, or n.
std::size_t nearest_round_scalar(const float* x, std::size_t n, std::span<const float> levels,
                                 std::uint16_t* codes);
std::size_t nearest_round_kernel(const float* x, std::size_t n, std::span<const float> levels,
                                 std::uint16_t* codes);

/// True when the *_kernel functions use vector code in this build.
bool rounding_kernels_vectorised();

}  // namespace dme::detail
