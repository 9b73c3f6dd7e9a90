// Exact adaptive stochastic quantization (ASQ): QUIVER and accelerated QUIVER
// (docs/algorithms.md §4).
// Both return the level set of at most s values minimising Σ_i (b_i - x_i)(x_i - a_i), with
// levels at input values including min and max. Each layer of the DP is a column-minima problem
// of a totally monotone matrix: SMAWK would solve it in O(d) (O(s·d) in all); the vectorised
// divide-and-conquer of detail/accel_minima.h does, on every SIMD target (the same levels on
// each), in O(d log d) evaluations but 1.7–2.3x less time than SMAWK for d = 2^16 .. 2^23 on
// AVX-512 (measured).
// Before the layers run, detail/level_bounds.h bounds where each level of an optimal solution
// can lie (lower bounds on groups of candidates against the error of a feasible level set), and
// every layer works only on its level's index range: still the exact optimum, on a fraction of
// the columns (d = 2^20, s = 16, LogNormal: ~12 ms instead of ~250, about 0.18x std::sort).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dme {

/// QUIVER: the layered DP, one pass per level (s - 3 passes and a final O(d) scan).
/// @param sorted  the input sorted ascending, finite, size d >= 1
/// @param s       number of levels, 2 <= s <= kMaxLevels
/// @return        sorted distinct levels; all distinct input values when there are at most s
std::vector<float> quiver_exact(std::span<const float> sorted, std::size_t s);

/// Accelerated QUIVER: two levels per pass, the middle one in closed form (about half the
/// passes of quiver_exact, same optimum). Arguments and result as quiver_exact.
std::vector<float> quiver_accelerated(std::span<const float> sorted, std::size_t s);

namespace detail {

/// quiver_accelerated with the level ranges of detail/level_bounds.h computed on groups of
/// group_size points after a pass on groups of coarse_size points (0: none; both 0: the
/// defaults), for tests of the bounds at sizes where the defaults make one pass of tiny groups.
std::vector<float> quiver_accelerated_grouped(std::span<const float> sorted, std::size_t s,
                                              std::size_t group_size, std::size_t coarse_size = 0);

}  // namespace detail

}  // namespace dme
