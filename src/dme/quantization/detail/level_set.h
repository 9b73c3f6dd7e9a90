// Turning solver output (candidate indices, possibly repeated) into a valid level set.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dme::detail {

/// The distinct values of sorted input, ascending.
std::vector<float> distinct_sorted(std::span<const float> sorted);

/// The distinct values of x (any order), ascending; -0 and +0 are one value, the first of the
/// sorted order (-0). With at most s values these are the optimal levels of every unbiased
/// solver: stochastic rounding to them is exact.
std::vector<float> distinct_values(std::span<const float> x);

/// Sorted, strictly increasing levels from values (any order, repeats allowed).
std::vector<float> unique_levels(std::vector<float> values);

/// Adds values of pool (sorted ascending) that are not levels yet, until levels has s values or
/// no pool value lies strictly between levels or outside them. Each round puts one new level in
/// each of the widest gaps that hold pool values (the value nearest the gap's middle). Solvers
/// use it when a DP tie repeated a level or a baseline's structure leaves a level unused: adding
/// a level never increases the rounding error, and the set then has s values whenever the data
/// have that many distinct values.
void top_up_levels(std::vector<float>& levels, std::span<const float> pool, std::size_t s);

/// top_up_levels with the (unsorted) input itself as the pool, when levels has fewer than s.
void top_up_from_input(std::vector<float>& levels, std::span<const float> x, std::size_t s);

}  // namespace dme::detail
