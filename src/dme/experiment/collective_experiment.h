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
  /// true: `exchanges` is the driver's default list (the command line named none), and the
  /// exchanges that refuse the options (a scheme, buckets or a backend they do not take) are left
  /// out with a line saying why (default_list.h); false: every one must take the options, or the
  /// run stops with its error.
  bool default_exchanges = false;
  Options options;  ///< s, solver, rotations, seed ... (exchange is swept)
  int trials = 5;   ///< timed estimates per row (median time reported)
  Distribution dist = Distribution::kLogNormal;
  DistributionParams params;
  InputMode inputs = InputMode::kIid;
  OutputOptions output;
};

/// Rows (rank 0), in the manner of the OSU and nccl-tests tables: ranks, log2d, exchange,
/// compressed_ms and allreduce_ms (medians, the same run), speedup (allreduce / compressed),
/// algbw and busbw (GB/s of the float32 vector: 4d / time, and times 2(n - 1)/n as an allreduce
/// moves), bytes_per_rank, compression, recv_bits, reduce_bits, side_bits, nmse, ranks_differ
/// (ranks whose estimate differs from rank 0's: must be 0). Comparing the ranks' estimates and
/// the NMSE happen outside the timed region. HDF5 runs also keep the phase times (rotate,
/// encode, exchange, decode, inverse: slowest rank, per trial) and, when the environment has
/// DME_NETEM_RATE / DME_NETEM_TCP_GBPS (scripts/netem/netem.sh sets them), the emulated link.
/// Checks its own results: every rank must hold the same estimate and the NMSE must stay below
/// 4x a bound on the rounding error (collective_experiment.cpp's variance_bound: stochastic
/// rounding's variance on the levels' span, reduce-scatter-int's on the ranks' joint range,
/// nearest rounding's without the 1/n of independent errors); returns 1 (and says why on
/// stderr) if not.
int run_collective_experiment(const CollectiveExperimentConfig& config, MPI_Comm comm,
                              std::ostream& os);

}  // namespace dme
