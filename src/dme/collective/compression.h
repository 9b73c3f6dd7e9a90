// The compression seam: how one rank's rotated coordinates become a payload, and how received
// payloads become a rotated-domain sum. MeanEstimator holds one implementation, chosen by
// Options::backend, and the exchanges (collective/detail/round.h) call only these two methods:
// another encoding scheme or backend plugs in here without touching them.
//
//   auto comp = dme::make_compression(dme::Backend::kCpu);
//   comp->encode(y, header, dme::compression_plan(options), stream, payload, times);
//   comp->decode_accumulate(payload, expectations, sum);
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "dme/codec/payload.h"
#include "dme/collective/options.h"
#include "dme/collective/report.h"
#include "dme/core/error.h"
#include "dme/core/extrema.h"
#include "dme/core/rng.h"
#include "dme/quantization/solver.h"

namespace dme {

/// What a compression does with one range of a rotated vector: the levels of each bucket and
/// the rounding to them. Every backend takes this one plan.
struct CompressionPlan {
  std::size_t s = 16;  ///< levels per bucket (PayloadHeader::s)
  Solver solver = Solver::kQuiverApx;
  SolverOptions solver_options;
  bool nearest = false;         ///< round to nearest instead of stochastically
  std::size_t bucket_size = 0;  ///< coordinates per bucket; 0: one bucket for the whole range
};

/// The plan of MeanEstimator's options (nearest rounding as uses_nearest_rounding says).
CompressionPlan compression_plan(const Options& o);

class Compression {
 public:
  virtual ~Compression() = default;

  /// "cpu" or "cuda".
  virtual std::string_view name() const = 0;

  /// Encodes chunk, the rotated coordinates [h.first, h.first + h.count) in host memory, into
  /// out. The rounding draw of coordinate i is stream.uniform_float(i), i the rotated-domain
  /// index, so the payload does not depend on how the vector is cut. Adds the solve and
  /// round+pack times to times. range: the chunk's exact extremes, when the caller knows them
  /// (a one-bucket quiver-apx then skips its scan). Throws dme::Error on bad input.
  virtual void encode(std::span<const float> chunk, const PayloadHeader& h,
                      const CompressionPlan& plan, const PhiloxStream& stream,
                      std::vector<std::byte>& out, PhaseTimes& times,
                      const Extrema<float>* range = nullptr) = 0;

  /// Validates payload against expect completely (header, checksum, levels, every code), then
  /// adds its decoded values into acc (host memory, size expect.count); on dme::Error acc is
  /// unchanged.
  virtual void decode_accumulate(std::span<const std::byte> payload,
                                 const DecodeExpectations& expect, std::span<float> acc) = 0;
};

/// The implementation of `scheme` for `backend`: kCpu always; kCuda in builds with the CUDA
/// backend, for the asq scheme (dme::Error naming what is missing otherwise).
std::unique_ptr<Compression> make_compression(Backend backend, Scheme scheme = Scheme::kAsq);

namespace detail {

/// The checks every implementation makes before encoding: the header's s and bucket size are
/// the plan's, and chunk_size is the header's count.
void check_plan(const PayloadHeader& h, const CompressionPlan& plan, std::size_t chunk_size);

/// The level table of a chunk: solve(lo, hi) gives the levels of its coordinates [lo, hi) (one
/// call per bucket, in order).
template <class Solve>
LevelTable bucket_levels(const PayloadHeader& h, Solve&& solve) {
  const std::uint64_t size = bucket_length(h);
  const std::size_t buckets = num_buckets(h);
  LevelTable table;
  table.offsets.assign(1, 0);
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::uint64_t lo = b * size, hi = std::min<std::uint64_t>(h.count, lo + size);
    const std::vector<float> levels = solve(lo, hi);
    table.values.insert(table.values.end(), levels.begin(), levels.end());
    table.offsets.push_back(static_cast<std::uint32_t>(table.values.size()));
  }
  return table;
}

}  // namespace detail
}  // namespace dme
