// `dme-experiment gaussianity`: how close a coordinate of z = sqrt(D)·R_k x/‖x‖ is to N(0,1)
// after k = 1, 2, 3 RHTs, for sparse and dense inputs, versus D (the RHT paper's claims).
//
// What is measured. The input x (length D, no padding) is fixed per (input, D); the rotation's
// signs are drawn from `seeds` independent seeds. By the symmetry of the RHT (ε_i·H_ij has the
// law of ε_i) every coordinate of z has the same marginal law, so the statistics pool all D
// coordinates of all seeds: seeds·D samples of that one marginal (correlated within a seed,
// independent across seeds). Kolmogorov and W1 distances come from a histogram of 2^18 bins on
// [-8, 8] (values beyond go to exact tail sums), which resolves the Kolmogorov distance to
// within 2.5e-5 and W1 to within 3e-5. Dependence between coordinates: over `pairs` fixed
// coordinate pairs (a, b) drawn at random, the covariance across seeds of z_a and z_b and of
// z_a² and z_b² (both 0 for independent N(0,1) coordinates, with sampling noise of about
// 1/sqrt(seeds) and sqrt(8/seeds)), reported as rms over the pairs. The ranks split the seeds
// and reduce the sums.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "dme/experiment/inputs.h"
#include "dme/experiment/output.h"
#include "dme/rotation/rht.h"

namespace dme {

/// One input family of the sweep: a distribution and, for lognormal, its sigma.
struct GaussianityInput {
  Distribution dist = Distribution::kOneHot;
  double sigma = 1;  ///< lognormal only (mu = 0); normal inputs are N(0, 1)

  std::string label() const;  ///< "onehot", "lognormal_sigma1.5", ...
};

struct GaussianityExperimentConfig {
  std::vector<int> log2d = {4, 6, 8, 10, 12, 14, 16};
  std::vector<int> rotations = {1, 2, 3};
  std::vector<GaussianityInput> inputs = {{Distribution::kOneHot, 1},
                                          {Distribution::kTwoHot, 1},
                                          {Distribution::kLogNormal, 1},
                                          {Distribution::kNormal, 1}};
  int seeds = 256;  ///< independent rotations per point
  int pairs = 32;   ///< coordinate pairs for the covariances
  /// Inputs of length 2^log2d + extra, rotated with `layout` (with padding: the rotated vector
  /// is 2^ceil(log2 d) long; overlapped: d), so that the layouts can be compared.
  std::size_t extra = 0;
  RotationLayout layout = RotationLayout::kPadded;
  /// Overlapped layout: rotate lengths above this power of two as blocks of it (Rotation's
  /// max_block); 0: whole vectors.
  std::size_t block = 0;
  std::uint64_t seed = 0;
  OutputOptions output;
};

struct GaussianityPoint {
  GaussianityInput input;
  int log2d = 0;
  int rotations = 1;
  double rho = 0, kappa = 0;    ///< moment_summary of the input
  int adaptive = 0;             ///< adaptive_rotation_count of the input
  double kolmogorov = 0;        ///< sup_t |F(t) − Φ(t)| of the pooled coordinates
  double kolmogorov_floor = 0;  ///< 0.87/sqrt(samples): the expected value for iid N(0,1) samples
  double w1 = 0;                ///< ∫ |F(t) − Φ(t)| dt
  double cov_rms = 0;           ///< rms over pairs of cov(z_a, z_b) across seeds
  double cov2_rms = 0;          ///< rms over pairs of cov(z_a², z_b²) across seeds
};

/// Collective over comm: every point, identical on all ranks, ordered by input, D, rotations.
/// Throws dme::Error on every rank, before any work, for log2d outside 1..24, rotations outside
/// 1..3, seeds < 2, pairs < 1, a bad sigma, a file input, or an unwritable output.
std::vector<GaussianityPoint> run_gaussianity_sweep(const GaussianityExperimentConfig& config,
                                                    MPI_Comm comm);

/// A distance counts as resolved when it exceeds the sampling floor by this factor.
inline constexpr double kResolvedOverFloor = 2.0;

/// Least-squares slope of log kolmogorov against log D over the resolved points (kolmogorov >
/// kResolvedOverFloor · kolmogorov_floor) of one input and one rotation count; NaN with fewer
/// than two such points. -0.5 is the O(D^-1/2) decay.
double kolmogorov_slope(const std::vector<GaussianityPoint>& points, const std::string& label,
                        int rotations);

/// Collective: runs the sweep, prints (rank 0) one row per point — input, log2d, rotations, rho,
/// kappa, adaptive, kolmogorov, k_floor, w1, cov_rms, cov2_rms, k_over_k2 — and, unless --csv,
/// the fitted slopes of log K against log D per input and rotation count; writes one HDF5 run
/// per input ("gaussianity_<label>"). Returns 0.
int run_gaussianity_experiment(const GaussianityExperimentConfig& config, MPI_Comm comm,
                               std::ostream& os);

}  // namespace dme
