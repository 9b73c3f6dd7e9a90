// MeanEstimator: the public entry of dme. Every rank passes its vector and receives an unbiased
// estimate of the mean over the communicator, having sent a few bits per coordinate.
//
//   dme::Options opt;  opt.s = 16;  opt.solver = dme::Solver::kQuiverApx;  opt.seed = 42;
//   dme::MeanEstimator est(MPI_COMM_WORLD, opt);         // collective
//   dme::Report r = est.estimate(local, mean);            // collective, once per round
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <span>

#include "dme/collective/compression.h"
#include "dme/collective/options.h"
#include "dme/collective/report.h"

namespace dme {

class Timer;

class MeanEstimator {
 public:
  /// Collective over comm (duplicates it), an intracommunicator: MPI_COMM_NULL, an
  /// intercommunicator or MPI outside MPI_Init .. MPI_Finalize throw dme::Error. Invalid options
  /// on any rank make every rank throw the same dme::Error; so do options that differ between
  /// ranks.
  MeanEstimator(MPI_Comm comm, Options options);
  /// The same with the caller's implementation of the compression seam instead of the one
  /// options.backend selects (another encoding scheme, an instrumented backend). Every rank's
  /// implementation must produce and accept the same payloads.
  MeanEstimator(MPI_Comm comm, Options options, std::unique_ptr<Compression> compression);
  ~MeanEstimator();
  /// A moved-from estimator may be destroyed or assigned to; its estimate() throws dme::Error
  /// and its other accessors must not be called.
  MeanEstimator(MeanEstimator&&) noexcept;
  MeanEstimator& operator=(MeanEstimator&&) noexcept;

  /// Collective. mean_out <- estimate of (1/n) Σ_r local_r; bit-identical on every rank.
  /// Uses round options().first_round + (number of earlier calls), so repeated calls draw fresh
  /// signs and rounding. A rank with bad input (empty, NaN/Inf, lengths that differ across ranks
  /// or from mean_out) makes every rank throw the same dme::Error naming it.
  /// @param local    this rank's vector, size d (the same d on every rank)
  /// @param mean_out output, size d
  Report estimate(std::span<const float> local, std::span<float> mean_out);

  const Options& options() const noexcept;
  int rank() const noexcept;
  int size() const noexcept;
  std::uint32_t next_round() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  /// estimate() for round `round`; deferred: the input is checked chunk by chunk in a streamed
  /// rotation (mean_estimator.cpp).
  Report run_round(std::uint32_t round, std::span<const float> local, std::span<float> mean_out,
                   bool deferred, const Timer& total);
};

}  // namespace dme
