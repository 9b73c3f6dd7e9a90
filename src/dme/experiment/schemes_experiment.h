// `dme-experiment schemes`: the encoding schemes side by side (docs/schemes.md): NMSE of the
// mean, vNMSE of one vector, bits per coordinate as sent and time per phase, against the bit
// budget, for each scheme, vector length and input.
#pragma once

#include <mpi.h>

#include <ostream>
#include <vector>

#include "dme/collective/options.h"
#include "dme/experiment/inputs.h"
#include "dme/experiment/output.h"

namespace dme {

struct SchemesExperimentConfig {
  std::vector<int> log2d = {16};
  std::vector<Scheme> schemes = {Scheme::kQsgd, Scheme::kAsq, Scheme::kAsqShared, Scheme::kEden,
                                 Scheme::kQuicFl};
  /// true: `schemes` is the driver's default list (the command line named none), whose rows the
  /// other options refuse are left out with a line saying why (default_list.h); false: every row
  /// must be accepted.
  bool default_schemes = false;
  /// Budgets b in bits per coordinate: s = 2^floor(b) levels; a fractional part f is eden's
  /// Options::fractional_bits (rows of other schemes at such budgets are left out).
  std::vector<double> bits = {1, 2, 4};
  Options options;  ///< solver, rotations, exchange, seed ... (scheme and s are swept)
  int trials = 5;   ///< estimates per row (NMSE averaged, times median)
  Distribution dist = Distribution::kLogNormal;
  DistributionParams params;
  InputMode inputs = InputMode::kIid;
  OutputOptions output;
};

/// o with its scheme's rotation as published (docs/schemes.md): EDEN with per-rank rotations
/// (which reduce-scatter cannot use), QSGD without rotation, THC through reduce-scatter-int
/// (the exchange that adds integer codes); other schemes unchanged.
Options as_published(Options o);

/// Rows (rank 0): ranks, log2d, scheme, bits, s, rotation (none, shared or per-rank: each scheme
/// as published, EDEN with per-rank rotations except under reduce-scatter, QSGD with none),
/// bits_per_coord (payload bits
/// per coordinate as sent, side information included), nmse (of the mean, averaged over
/// trials), vnmse (one vector estimated alone, MPI_COMM_SELF, averaged over ranks and trials),
/// encode_ms, exchange_ms, decode_ms, total_ms (medians, the slowest rank). Returns 1 (and says
/// why on stderr) when ranks disagree on the estimate or an error is not finite.
int run_schemes_experiment(const SchemesExperimentConfig& config, MPI_Comm comm, std::ostream& os);

}  // namespace dme
