// How many RHTs an input needs before scalar quantization (an O(d) moment check).
//
// After one RHT, coordinate j of sqrt(D)·R(x)/‖x‖ is Σ_i ε_i x_i H_ij/‖x‖, a Rademacher sum whose
// Kolmogorov distance to N(0,1) is at most C·‖x‖_3³/‖x‖_2³ (Berry–Esseen). Two RHTs reach
// O(D^-1/2) for every input. So one RHT is as good as two when
//     ρ = sqrt(D)·‖x‖_3³/‖x‖_2³
// is O(1) (ρ = sqrt(8/π) ≈ 1.6 for Gaussian input, ≈ 4.5 for LogNormal(0,1), sqrt(D) for a
// one-hot vector).
#pragma once

#include <mpi.h>

#include <cstddef>
#include <span>

namespace dme {

/// Inputs with ρ at or below this take one RHT; above it, two.
/// Measured with `dme-experiment gaussianity` (8192 seeds, D = 2^8 .. 2^12): the Kolmogorov
/// distance after one RHT (K1) against two (K2) is K1/K2 = 0.4–1.2 for ρ ≤ 2.1 (normal,
/// exponential, lognormal with σ ≤ 0.75), 1.7–2.9 for ρ in 2.2–3.0, 2.2–7.3 for 3.0–4.8,
/// 6.5–18 for 5–8 and 50–1150 for ρ ≥ 15 (sparse inputs). One RHT counts as good as two while
/// K1 ≤ 2·K2, which holds up to ρ ≈ 2.5.
inline constexpr double kOneRotationMaxRho = 2.5;

struct MomentSummary {
  double rho = 0;    ///< sqrt(D)·‖x‖_3³/‖x‖_2³
  double kappa = 0;  ///< D·‖x‖_4⁴/‖x‖_2⁴ (3 for Gaussian-like input, D for one-hot)
};

/// ρ and κ of x padded to D = padded_length(d). Throws dme::Error on NaN/Inf or empty input.
MomentSummary moment_summary(std::span<const float> x);

/// 1 or 2: the number of RHTs x needs (a zero vector needs 1).
int adaptive_rotation_count(std::span<const float> x, double max_rho = kOneRotationMaxRho);

}  // namespace dme
