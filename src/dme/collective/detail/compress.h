// The CPU implementation of the compression seam (collective/compression.h): quantise and
// encode one range of a rotated vector with dme's solvers and codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dme/codec/payload.h"
#include "dme/collective/compression.h"
#include "dme/collective/report.h"
#include "dme/core/extrema.h"
#include "dme/core/rng.h"
#include "dme/quantization/solver.h"

namespace dme::detail {

/// Reusable buffers, so repeated rounds do not reallocate.
struct CompressScratch {
  std::vector<std::uint16_t> codes;
  std::vector<std::vector<std::uint16_t>> worker_codes;  ///< one per thread (Options::threads)
  LevelTable levels;  ///< the levels each bucket is rounded to
  /// qsgd: the payload's table (each bucket's norm: kind 5), and per bucket the grid code of
  /// each of its distinct levels (empty where the grid's levels are all distinct).
  LevelTable norms;
  std::vector<std::vector<std::uint16_t>> grid_codes;
};

/// The smallest and largest value of a chunk, when the caller knows them (the rotation finds
/// them while writing the rotated vector).
using KnownRange = Extrema<float>;

/// The levels compress_chunk rounds chunk to when plan.levels is not set: per bucket, from
/// plan.solver (qsgd's grids, with their codes, come from norm_grid_tables).
LevelTable chunk_levels(std::span<const float> chunk, const PayloadHeader& header,
                        const CompressionPlan& plan, const KnownRange* range = nullptr);

/// Encodes chunk (the rotated coordinates [header.first, header.first + header.count)) into out.
/// Each bucket gets its own levels from plan.solver; the rounding draw of coordinate i is
/// stream.uniform_float(i), i the rotated-domain index, so it is the same whatever the chunking.
/// Adds the solve and round+pack times to times. With range (exact extremes of chunk), a
/// one-bucket quiver-apx skips its scan for them.
/// @param chunk size header.count
void compress_chunk(std::span<const float> chunk, const PayloadHeader& header,
                    const CompressionPlan& plan, const PhiloxStream& stream,
                    CompressScratch& scratch, std::vector<std::byte>& out, PhaseTimes& times,
                    const KnownRange* range = nullptr);

/// qsgd: fl(‖bucket‖₂); dme::Error when the sum of squares is not finite.
float bucket_norm(std::span<const float> bucket);

/// qsgd's levels of a bucket: the grid of s points on [-‖bucket‖₂, ‖bucket‖₂] that a kind-5
/// payload decodes to (quantization/norm_grid.h), distinct ({-0} for a zero bucket).
std::vector<float> norm_grid_levels(std::span<const float> bucket, std::size_t s);

/// qsgd's tables of a chunk into scratch: levels (the grid of each bucket, to round to),
/// grid_codes and norms (the payload's kind-5 table).
void norm_grid_tables(std::span<const float> chunk, const PayloadHeader& header, std::size_t s,
                      CompressScratch& scratch);

/// asq-shared's dither scale c for chunk rounded stochastically to levels: the c that minimises
/// the variance of level + c·(u - 1/2), from the coordinates (a fixed subsample of long chunks).
float dither_scale(std::span<const float> chunk, const PayloadHeader& header,
                   const LevelTable& levels);

/// The CPU Compression: compress_chunk and dme::decode_accumulate, with reusable buffers.
std::unique_ptr<Compression> make_cpu_compression();

}  // namespace dme::detail
