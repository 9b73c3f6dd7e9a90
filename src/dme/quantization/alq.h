// ALQ, adaptive levels (Faghri et al. 2020; docs/algorithms.md §6.6): quantize the normalised
// magnitudes r_i = |x_i|/‖x‖ ∈ [0, 1] with levels 0 = l_0 < ... < l_K = 1, the sign sent
// apart, so the signed level set is {±‖x‖·l_j}. Levels are fitted by coordinate descent, each
// l_j moved to the optimum between its neighbours,
//   F(l_j) <- F(l_{j+1}) - ∫_{l_{j-1}}^{l_{j+1}} (r - l_{j-1})/(l_{j+1} - l_{j-1}) dF(r),
// first under a truncated normal fitted to r (mean, variance, support [0, 1]), then under the
// empirical distribution of r until no level moves.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dme {

/// @param x  finite, size d >= 1 (any order); 2 <= s <= kMaxLevels
/// @return   signed levels covering [min x, max x]: 0 and K = (s-1)/2 magnitudes per sign when
///           x has both signs, K = s - 1 when it has one sign; when that leaves levels unused
///           (even s, or magnitudes merged by the descent) input values are added in the widest
///           gaps (detail::top_up_levels), so s levels whenever x has s distinct values;
///           for d <= s, the distinct values of x themselves (exact, and no descent to run: it
///           took 174 ms for 64 values at s = 256)
std::vector<float> alq_levels(std::span<const float> x, std::size_t s);

namespace detail {
class Magnitudes;
/// The two coordinate-descent stages on magnitudes (K + 1 levels from 0 to 1), exposed for tests.
std::vector<double> alq_truncated_normal_levels(const Magnitudes& m, std::size_t k);
std::vector<double> alq_empirical_descent(const Magnitudes& m, std::vector<double> levels);
}  // namespace detail

}  // namespace dme
