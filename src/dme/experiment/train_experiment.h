// `dme-experiment train`: data-parallel SGD on a real dataset (data/digits.h5), every rank a shard
// of the training split, the gradients averaged each step by MPI_Allreduce ("exact") or by a
// MeanEstimator (a scheme at a bit budget), every rank applying the same mean so the model
// replicas never drift apart (checked at the end of every run).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "dme/collective/options.h"
#include "dme/experiment/output.h"

namespace dme {

struct TrainExperimentConfig {
  std::string data = "data/digits.h5";
  /// "softmax" (64-10, d = 650) or "mlp" (64-1000-64-10, tanh, d = 129714: just below 2^17,
  /// so the rotation pads it by 1%)
  std::string model = "mlp";
  /// exact (MPI_Allreduce), asq (Options::solver, stochastic), asq-shared, eden (per-rank
  /// rotations), qsgd (no rotation), kmeans (asq with the optimal biased k-means levels and
  /// nearest rounding); a name ending in ":per-rank" (asq:per-rank) gives every rank its own
  /// rotation instead of the shared one.
  std::vector<std::string> estimators = {"exact", "asq", "asq-shared", "eden", "kmeans"};
  /// true: `estimators` is the driver's default list (the command line named none), whose runs
  /// the other options refuse are left out with a line saying why (default_list.h); false: every
  /// run must be accepted.
  bool default_estimators = false;
  std::vector<int> bits = {4};  ///< budgets b (s = 2^b) of every estimator but exact
  int steps = 300;
  int batch = 32;      ///< examples per rank per step; 0: the rank's whole shard
  double lr = 0.1;     ///< SGD step size
  int eval_every = 10; ///< steps between test-accuracy evaluations (and the last step)
  Options options;     ///< rotations, exchange, seed ... (scheme, solver, s per estimator)
  OutputOptions output;
};

/// One training run: its learning curve and the final parameters.
struct TrainCurve {
  std::string name;       ///< "exact", or "<estimator>_b<bits>" (":per-rank" as "-per-rank")
  std::string estimator;  ///< as given in the configuration
  int bits = 32;          ///< 32 for exact
  std::vector<double> loss;           ///< per step: mean over ranks of the batch loss
  std::vector<double> bytes;          ///< per step: cumulative bytes each rank contributed
  std::vector<double> eval_step;      ///< steps of the evaluations (0 = before training)
  std::vector<double> test_accuracy;  ///< at those steps
  std::vector<float> params;          ///< after the last step (rank 0's; all ranks equal)
  bool replicas_identical = true;
};

/// The runs, collective; the same on every rank. Throws dme::Error (on every rank) for a bad
/// configuration or data file, before training.
std::vector<TrainCurve> run_train_sweep(const TrainExperimentConfig& config, MPI_Comm comm);

/// run_train_sweep, a row per run on os (rank 0): estimator, bits, bits_per_coord, final_loss,
/// test_accuracy, bytes_per_rank, bytes_ratio (exact's bytes over the run's), replicas; the
/// curves in HDF5 (runs train_<name>). Returns 1 when a run's replicas differ.
int run_train_experiment(const TrainExperimentConfig& config, MPI_Comm comm, std::ostream& os);

}  // namespace dme
