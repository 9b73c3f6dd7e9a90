// `dme-experiment single`: the vNMSE of one quantized LogNormal(mu, sigma^2) vector for a sweep
// of sigma (the QUIVER paper's Figure 1a): the optimal unbiased (quiver), optimal biased
// (kmeans), uniform unbiased and RTN quantizers. Each (sigma, trial) is one independent task;
// the ranks split the tasks and the results are summed to every rank.
#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <vector>

#include "dme/experiment/output.h"
#include "dme/quantization/solver.h"

namespace dme {

struct SingleExperimentConfig {
  std::vector<double> sigmas = {0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0};
  std::vector<Solver> quantizers = {Solver::kQuiver, Solver::kKmeans, Solver::kUniform,
                                    Solver::kRtn};
  std::size_t d = std::size_t(1) << 16;  ///< the paper uses 10^7
  std::size_t s = 10;
  double mu = 0;
  int rotations = 0;  ///< RHTs applied before quantizing (0: the raw vector, as in the paper)
  int trials = 5;     ///< vectors per sigma (trial t: input draw t and rounding round t)
  std::uint64_t seed = 0;
  SolverOptions solver_options;
  OutputOptions output;
};

/// One (quantizer, sigma) point; vectors of size trials.
struct SinglePoint {
  Solver quantizer = Solver::kQuiver;
  bool biased = false;
  double sigma = 0;
  /// ‖x̂ − x‖² / ‖x‖² of the rounding actually drawn (nearest rounding for biased quantizers)
  std::vector<double> vnmse;
  /// Its expectation given the levels: analytic_vnmse for stochastic rounding; for nearest
  /// rounding (deterministic) the same value as vnmse
  std::vector<double> expected_vnmse;
  std::vector<double> solve_ms;  ///< time of solve_levels (sorting included), on a shared core

  double vnmse_mean() const;
  /// Sample standard deviation over trials (0 for one trial).
  double vnmse_std() const;
};

/// Collective over comm: every point, identical on all ranks, ordered by sigma then quantizer.
/// Throws dme::Error on every rank, before any work, on a bad option (empty or negative
/// sigmas, d = 0, s outside 2..65536, rotations outside 0..3, trials < 1) or an unwritable
/// config.output.
std::vector<SinglePoint> run_single_sweep(const SingleExperimentConfig& config, MPI_Comm comm);

/// Collective: runs the sweep, prints (rank 0) one row per point — sigma, quantizer, biased,
/// vnmse_mean, vnmse_std, expected_vnmse, solve_ms — and, unless --csv, which orderings of the
/// paper hold at every sigma; writes the HDF5 runs "single_<quantizer>". Returns 0.
int run_single_experiment(const SingleExperimentConfig& config, MPI_Comm comm, std::ostream& os);

}  // namespace dme
