// The three exchange algorithms of MeanEstimator (see Exchange in options.h).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dme/collective/detail/compress.h"
#include "dme/collective/options.h"
#include "dme/collective/report.h"
#include "dme/core/aligned_buffer.h"
#include "dme/rotation/rht.h"

namespace dme::detail {

/// Everything one round of one rank needs.
struct RoundContext {
  MPI_Comm comm;
  int rank;
  int size;
  const Options& options;
  CompressPlan plan;
  std::uint32_t round;
  std::uint64_t d;
  std::uint64_t padded;
  int rotations;
  const Rotation& rotation;  ///< this rank's rotation (shared or its own)
  Report& report;
  CompressScratch& scratch;
  AlignedVector<float>& accumulator;          ///< size padded, reused across rounds
  const KnownRange* rotated_range = nullptr;  ///< extremes of the rotated vector, when known
};

/// A payload size that signals a local failure: it travels with the sizes, so every rank
/// learns of it instead of waiting for a payload that never comes.
inline constexpr std::int64_t kFailedSize = -1;

/// Throws, on every rank, the error of the lowest rank whose size is kFailedSize (collective
/// when there is one). my_error is this rank's message when it failed.
void raise_if_failed(const std::vector<std::int64_t>& sizes, const std::string& my_error,
                     MPI_Comm comm);
/// MPI counts and displacements of byte sizes; throws when they exceed one MPI call's int range.
std::vector<int> to_int_counts(const std::vector<std::int64_t>& sizes, std::vector<int>& displs);
/// Collective: every rank's payload size (kFailedSize from a rank that failed, which makes every
/// rank throw its error). Counts the metadata bytes in ctx.report.
std::vector<std::int64_t> allgather_sizes(RoundContext& ctx, std::size_t my_bytes, bool ok,
                                          const std::string& error);

/// Header fields common to every payload of this round and rank.
PayloadHeader base_header(const RoundContext& ctx);
/// What every received payload of this round must carry.
DecodeExpectations base_expectations(const RoundContext& ctx);

/// @param y rotated local vector, size padded;  @param mean_out size d
void exchange_allgather(RoundContext& ctx, std::span<const float> y, std::span<float> mean_out);
void exchange_gather_bcast(RoundContext& ctx, std::span<const float> y, std::span<float> mean_out);
void exchange_reduce_scatter(RoundContext& ctx, std::span<const float> y,
                             std::span<float> mean_out);

}  // namespace dme::detail
