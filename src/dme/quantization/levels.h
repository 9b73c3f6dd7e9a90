// Level sets: what every solver returns and every rounding consumes.
#pragma once

#include <cstddef>
#include <span>

namespace dme {

/// The most levels a set may have: codes are 16-bit level indices.
inline constexpr std::size_t kMaxLevels = 65536;

/// Throws dme::Error unless levels is a valid level set: 1..kMaxLevels finite values, strictly
/// increasing (naming the first offending index and its values).
void check_levels(std::span<const float> levels);

}  // namespace dme
