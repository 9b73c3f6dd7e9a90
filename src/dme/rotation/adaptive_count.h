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
/// Chosen by measurement (`dme-experiment gaussianity`, see README): at ρ ≤ 8 the Kolmogorov
/// distance after one RHT stays within a small factor of the distance after two RHTs, while
/// sparse inputs (ρ ≥ 16) are clearly worse after one.
inline constexpr double kOneRotationMaxRho = 8.0;

struct MomentSummary {
  double rho = 0;    ///< sqrt(D)·‖x‖_3³/‖x‖_2³
  double kappa = 0;  ///< D·‖x‖_4⁴/‖x‖_2⁴ (3 for Gaussian-like input, D for one-hot)
};

/// ρ and κ of x padded to D = padded_length(d). Throws dme::Error on NaN/Inf or empty input.
MomentSummary moment_summary(std::span<const float> x);

/// 1 or 2: the number of RHTs x needs (a zero vector needs 1).
int adaptive_rotation_count(std::span<const float> x, double max_rho = kOneRotationMaxRho);

/// The largest of the ranks' counts (MPI_Allreduce MAX): all ranks must rotate alike.
int agree_rotation_count(int local_count, MPI_Comm comm);

}  // namespace dme
