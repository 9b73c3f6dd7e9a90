// AMQ, adaptive multiplier (Faghri et al. 2020; docs/algorithms.md §6.7): exponentially
// spaced magnitude levels l_j = p^(K-j), j = 1..K, plus 0, on the normalised magnitudes
// |x_i|/‖x‖ (sign sent apart), with the one multiplier p ∈ (0, 1) chosen to minimise the
// stochastic-rounding variance of the input: a scan of 64 values of p, then golden-section
// search around the best.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dme {

/// @param x  finite, size d >= 1 (any order); 2 <= s <= kMaxLevels
/// @return   signed levels covering [min x, max x] (same layout as alq_levels; for d <= s, the
///           distinct values of x, as there)
std::vector<float> amq_levels(std::span<const float> x, std::size_t s);

/// The multiplier AMQ chooses for x, exposed for tests.
double amq_multiplier(std::span<const float> x, std::size_t s);

}  // namespace dme
