// `dme-experiment bias`: biased versus unbiased quantization in distributed mean estimation across
// node counts (the QUIVER paper's Figure 1b). One launch sweeps n over sub-communicators of the
// first n launched ranks; every rank of a sub-communicator compresses its vector with
// dme::MeanEstimator and the error of the estimated mean is measured over trials.
//
// With identical inputs the biased quantizers (kmeans, rtn: nearest rounding) make the same error
// on every rank, so averaging does not cancel it and their NMSE stays flat in n; the unbiased
// ones (quiver, uniform: stochastic rounding keyed by rank) make independent zero-mean errors
// whose average falls like 1/n.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <ostream>
#include <vector>

#include "dme/collective/options.h"
#include "dme/experiment/inputs.h"
#include "dme/experiment/output.h"

namespace dme {

struct BiasExperimentConfig {
  /// Node counts n, each in 1..(launched ranks). Empty: the powers of two up to the launch size,
  /// and the launch size itself.
  std::vector<int> ranks;
  std::vector<Solver> quantizers = {Solver::kQuiver, Solver::kKmeans, Solver::kUniform,
                                    Solver::kRtn};
  /// RHT counts to sweep (0..3 or kAutoRotations); 0 is the paper's setting (raw vector).
  std::vector<int> rotations = {0};
  /// Exchanges to sweep: the figure per exchange (reduce-scatter requantizes the owners'
  /// averages, which puts a floor under its error).
  std::vector<Exchange> exchanges = {Exchange::kAllgather};
  /// 2^18: `mpirun -np 4 dme-experiment bias` takes 15-35 s on 2 shared cores; the paper: 10^7
  std::size_t d = std::size_t(1) << 18;
  int trials = 10;  ///< estimates per (quantizer, n); trial t draws input t and fresh rounding
  /// s (10 by default, as in the paper), seed, shared_rotation, solver_options, bucket;
  /// solver, rounding (auto), rotations and exchange are set per sweep point.
  Options options = default_options();
  Distribution dist = Distribution::kLogNormal;
  DistributionParams params = default_params();  ///< LogNormal(0, sigma = 1/2)
  InputMode inputs = InputMode::kIdentical;
  OutputOptions output;

  static Options default_options();
  static DistributionParams default_params();
};

/// One (quantizer, rotation setting, n) point: per-trial errors of the estimated mean.
struct BiasPoint {
  Solver quantizer = Solver::kQuiver;
  bool biased = false;
  int rotations_requested = 0;  ///< as configured (kAutoRotations for auto)
  int rotations = 0;            ///< RHTs the estimator used (after agreement)
  Exchange exchange = Exchange::kAllgather;
  int ranks = 1;
  /// NMSE as docs/algorithms.md §1.3 defines it: ‖x̄̂ − x̄‖² / ((1/n) Σ_r ‖x_r‖²), size trials
  std::vector<double> nmse;
  /// What a user of the mean sees: ‖x̄̂ − x̄‖² / ‖x̄‖², size trials
  std::vector<double> relerr;
  double bits_per_coordinate = 0;  ///< payload bits per coordinate (headers included)
  /// Bits received per coordinate by the busiest rank: payloads, the reduce-scatters' reduce
  /// stage alone (the rest came in their gather stage), and side information (sizes, status,
  /// reduce-scatter-int's ranges and level masks).
  double recv_bits = 0, reduce_bits = 0, side_bits = 0;

  double nmse_mean() const;
  /// Sample standard deviation over the trials (n − 1 in the denominator; 0 for one trial).
  double nmse_std() const;
  double relerr_mean() const;
  double relerr_std() const;
};

/// Collective over comm: runs the sweep and returns every point, identical on all ranks, ordered
/// by rotation setting, quantizer, then n. Throws dme::Error on every rank, before any work, for
/// an n outside 1..size(comm), a bad option, or an unwritable config.output.
std::vector<BiasPoint> run_bias_sweep(const BiasExperimentConfig& config, MPI_Comm comm);

/// Collective: runs the sweep, prints (rank 0) one row per point — quantizer, biased, ranks,
/// nmse_mean, nmse_std, relerr_mean, relerr_std, rotations, bits_per_coord, recv_bits,
/// reduce_bits, side_bits — followed, unless
/// --csv, by the fitted slopes of log NMSE against log n and where each unbiased quantizer
/// overtakes each biased one; writes the HDF5 runs "bias_<quantizer>_rot<k>". Returns 0.
int run_bias_experiment(const BiasExperimentConfig& config, MPI_Comm comm, std::ostream& os);

}  // namespace dme
