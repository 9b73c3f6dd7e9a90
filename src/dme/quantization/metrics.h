// Error measures of a quantized vector (docs/algorithms.md §1, §2.3).
#pragma once

#include <cstdint>
#include <span>

namespace dme {

/// The expected squared error of stochastic rounding to levels, over ‖x‖²:
///   Σ_i (b_i - x_i)(x_i - a_i) / ‖x‖²   with a_i <= x_i <= b_i the neighbouring levels.
/// Computed in long double. A zero vector gives 0. Throws dme::Error on bad levels, on a value
/// outside the level range (naming it), or on empty x.
/// @param x       size d
/// @param levels  size s, sorted and strictly increasing
double analytic_vnmse(std::span<const float> x, std::span<const float> levels);

/// The same numerator, Σ_i (b_i - x_i)(x_i - a_i), without the normalisation.
double analytic_sse(std::span<const float> x, std::span<const float> levels);

/// Σ_i (xhat_i - x_i)², in double. Sizes must match.
double sum_squared_error(std::span<const float> x, std::span<const float> xhat);

/// error / norm2 with the conventions of a normalised error: 0 when both are 0 (an exact
/// estimate of the zero vector), +inf for a nonzero error of a zero vector.
double normalized_error(double error, double norm2);

/// ‖xhat - x‖² / ‖x‖² (0 when both are zero, +inf for a zero x and a nonzero error).
double vnmse(std::span<const float> x, std::span<const float> xhat);

/// Σ_i (xhat_i - x_i)² / d (mean squared error per coordinate). Sizes must match, d >= 1.
double mse(std::span<const float> x, std::span<const float> xhat);

/// vNMSE of actual stochastic rounding, averaged over trials: trial t rounds x with the stream
/// (seed, round t, rank 0, Purpose::kRounding). Its expectation is analytic_vnmse(x, levels).
/// @param x       size d, inside the level range
/// @param levels  size s
double sampled_vnmse(std::span<const float> x, std::span<const float> levels, std::uint64_t seed,
                     int trials);

/// ‖x‖², in double.
double squared_norm(std::span<const float> x);

/// The error a level set gives x: analytic_vnmse for stochastic rounding, or the vNMSE of
/// nearest rounding (biased = true).
double level_set_vnmse(std::span<const float> x, std::span<const float> levels, bool biased);

}  // namespace dme
