// The largest magnitude of a float vector and whether all of it is finite, in one SIMD pass
// (max_magnitude.cpp: one Highway source for every target, chosen at run time).
#pragma once

#include <cstdint>
#include <span>

namespace dme {

/// The bits of max |x_i| (0 for an empty x): with the sign cleared, a float's bits order like
/// its magnitude, and any NaN or ±Inf has bits at or above kNonFiniteBits. Exact on every
/// target (a maximum does not depend on the order).
std::uint32_t max_magnitude_bits(std::span<const float> x);

/// Bits of +Inf: max_magnitude_bits(x) >= it exactly when x holds a NaN or ±Inf.
inline constexpr std::uint32_t kNonFiniteBits = 0x7f800000u;

}  // namespace dme
