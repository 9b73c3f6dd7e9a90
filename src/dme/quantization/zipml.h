// The ZipML baselines for ASQ (docs/algorithms.md §6.3-§6.5), for comparison with QUIVER.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dme {

/// Largest d the O(s·d²) exact DP accepts (about a second at s = 64).
inline constexpr std::size_t kMaxZipmlD = std::size_t(1) << 13;
/// Largest candidate count m the O(s·m²) ZipML-CP variants accept.
inline constexpr std::size_t kMaxZipmlCandidates = std::size_t(1) << 13;

/// ZipML exact: the plain O(s·d²) DP over sorted input (same optimum as quiver_exact).
/// @param sorted  ascending, finite, 1 <= d <= kMaxZipmlD (larger d -> dme::Error)
std::vector<float> zipml_exact(std::span<const float> sorted, std::size_t s);

/// ZipML-CP Unif: the exact DP restricted to the m + 1 points of the uniform grid on [min, max],
/// with per-bin sums from one pass over the unsorted input; O(d + s·m²).
/// @param x  any order, finite, size d >= 1; s <= m <= kMaxZipmlCandidates
std::vector<float> zipml_cp_uniform(std::span<const float> x, std::size_t s, std::size_t m);

/// ZipML-CP Quant: the exact DP restricted to the input quantiles x_(floor(l(d-1)/m)),
/// l = 0..m (0-based order statistics); O(d + s·m²).
/// @param sorted  ascending, finite; s <= m <= kMaxZipmlCandidates
std::vector<float> zipml_cp_quantile(std::span<const float> sorted, std::size_t s, std::size_t m);

/// ZipML 2-Apx, a bicriteria approximation by threshold greedy: for a threshold τ, cut sorted
/// input greedily into maximal intervals of cost <= τ; the smallest τ (bisection) whose cut
/// needs at most s - 1 intervals gives the levels. Guarantee (proved in zipml.cpp): the error
/// is at most twice the exact optimum with floor(s/4) + 1 levels. O(d + s·log(d)·64).
/// @param sorted  ascending, finite
std::vector<float> zipml_2apx(std::span<const float> sorted, std::size_t s);

}  // namespace dme
