// The three exchange algorithms of MeanEstimator (see Exchange in options.h).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <span>
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
  AlignedVector<float>& accumulator;  ///< size padded, reused across rounds
};

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
