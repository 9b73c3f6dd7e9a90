// Exact adaptive stochastic quantization (ASQ): QUIVER and accelerated QUIVER (ALGORITHMS.md).
// Both return the level set of at most s values minimising Σ_i (b_i - x_i)(x_i - a_i), with
// levels at input values including min and max, in O(s·d) time through SMAWK.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dme {

/// QUIVER: the layered DP, one SMAWK pass per level (s - 3 passes and a final O(d) scan).
/// @param sorted  the input sorted ascending, finite, size d >= 1
/// @param s       number of levels, 2 <= s <= kMaxLevels
/// @return        sorted distinct levels; all distinct input values when there are at most s
std::vector<float> quiver_exact(std::span<const float> sorted, std::size_t s);

/// Accelerated QUIVER: two levels per pass, the middle one in closed form (about half the
/// passes of quiver_exact, same optimum). Arguments and result as quiver_exact.
std::vector<float> quiver_accelerated(std::span<const float> sorted, std::size_t s);

}  // namespace dme
