// `dme-experiment collective`: the compressed mean estimate against MPI_Allreduce of the float32
// vectors, measured in the same run, per exchange algorithm and size.
#pragma once

#include <mpi.h>

#include <ostream>
#include <string>
#include <vector>

#include "dme/collective/options.h"
#include "dme/experiment/inputs.h"
#include "dme/experiment/output.h"

namespace dme {

struct CollectiveExperimentConfig {
  std::vector<int> log2d = {16, 20};
  std::vector<Exchange> exchanges = {Exchange::kAllgather, Exchange::kGatherBcast,
                                     Exchange::kReduceScatter, Exchange::kReduceScatterInt};
  Options options;  ///< s, solver, rotations, seed ... (exchange is swept)
  int trials = 5;   ///< timed estimates per row (median time reported)
  Distribution dist = Distribution::kLogNormal;
  DistributionParams params;
  InputMode inputs = InputMode::kIid;
  OutputOptions output;
};

/// Rows (rank 0): ranks, log2d, exchange, compressed_ms, allreduce_ms, ratio, bytes_per_rank,
/// float_bytes_per_rank, compression, nmse, max_rank_diff. Checks its own results: every rank
/// must hold the same estimate (max_rank_diff 0) and the NMSE must stay below 4x the variance
/// bound of stochastic rounding with the levels used; returns 1 (and says why on stderr) if not.
int run_collective_experiment(const CollectiveExperimentConfig& config, MPI_Comm comm,
                              std::ostream& os);

}  // namespace dme
