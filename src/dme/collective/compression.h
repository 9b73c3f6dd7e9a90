// The compression seam: how one rank's rotated coordinates become a payload, and how received
// payloads become a rotated-domain sum. MeanEstimator holds one implementation, chosen by
// Options::backend, and a round (collective/detail/round.h) touches its vectors only through it:
// another encoding scheme or backend plugs in here without touching the exchanges. The round's
// vectors (the rotated input, the sum, a scratch vector) live where the implementation works:
// host memory for the CPU, device memory for CUDA, so a GPU round moves only the input, the
// payloads and the mean between host and device. (reduce-scatter-int encodes level indices and
// integer sums itself, for the CPU backend's asq only, and uses the seam for the vectors.)
//
//   auto comp = dme::make_compression(dme::Backend::kCpu);
//   std::span<float> y = comp->vector(dme::RoundVector::kRotated, padded);
//   comp->rotate(key, x, y, range);
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
#include "dme/core/aligned_buffer.h"
#include "dme/core/error.h"
#include "dme/core/extrema.h"
#include "dme/core/rng.h"
#include "dme/quantization/solver.h"
#include "dme/rotation/rht.h"

namespace dme {

/// What a compression does with one range of a rotated vector: the levels of each bucket and
/// the rounding to them. Every backend takes this one plan.
struct CompressionPlan {
  std::size_t s = 16;  ///< levels per bucket (PayloadHeader::s)
  Solver solver = Solver::kQuiverApx;
  SolverOptions solver_options;
  bool nearest = false;         ///< round to nearest instead of stochastically
  std::size_t bucket_size = 0;  ///< coordinates per bucket; 0: one bucket for the whole range
  bool shared_dither = false;   ///< asq-shared: a dithered-levels payload (stochastic rounding)
  bool norm_grid = false;  ///< qsgd: levels uniform on [-‖bucket‖₂, ‖bucket‖₂], no solver
  /// When set (one bucket, asq): encode rounds to these levels instead of solving, so chunks
  /// of one vector share the levels the whole vector would get (the pipelined allgather).
  /// Implementations that cannot honour it refuse it (dme::Error).
  std::shared_ptr<const std::vector<float>> levels = nullptr;
  /// eden: G > 0 gives the first 8·G of every 2048 coordinates one bit more (payload kind 4;
  /// Options::fractional_bits).
  std::uint8_t wide_groups = 0;
};

/// The plan of MeanEstimator's options (nearest rounding as uses_nearest_rounding says).
CompressionPlan compression_plan(const Options& o);

/// The arguments of dme::Rotation(seed, round, count, d, stream, layout, block): which rotation.
struct RotationKey {
  std::uint64_t seed = 0;
  std::uint32_t round = 0;
  int count = 0;
  std::size_t d = 0;
  std::uint32_t stream = 0;
  RotationLayout layout = RotationLayout::kPadded;
  std::size_t block = 0;  ///< Options::rotation_block
};

/// The host (CPU) Rotation that key names.
Rotation host_rotation(const RotationKey& key);

/// The vectors of a round, in a compression's memory.
enum class RoundVector { kRotated, kSum, kScratch };

class Compression {
 public:
  virtual ~Compression() = default;

  /// "cpu" or "cuda".
  virtual std::string_view name() const = 0;

  // ---- the round's vectors: host memory here, overridden by a device implementation ---------

  /// The first n values of round vector `which` in this compression's memory, grown as needed
  /// (values kept unless it grows).
  virtual std::span<float> vector(RoundVector which, std::size_t n);
  /// y <- R(x) for the rotation of key; x in host memory (size key.d), y of this compression
  /// (size padded_length(key.d, key.layout)). Returns true with range = y's extremes when it found
  /// them on the way. Throws dme::Error naming the first NaN or Inf of x.
  virtual bool rotate(const RotationKey& key, std::span<const float> x, std::span<float> y,
                      Extrema<float>& range);
  /// v <- R⁻¹(v) in place, v of this compression, size padded_length(key.d, key.layout).
  virtual void inverse(const RotationKey& key, std::span<float> v);
  virtual void fill_zero(std::span<float> v);
  /// v[i] <- v[i] / divisor (IEEE division).
  virtual void divide(std::span<float> v, float divisor);
  /// dst[i] <- dst[i] + src[i].
  virtual void add(std::span<float> dst, std::span<const float> src);
  /// host <- v (same size), v of this compression.
  virtual void to_host(std::span<const float> v, std::span<float> host);

  // ---- the encoding -------------------------------------------------------------------------

  /// Encodes chunk, the rotated coordinates [h.first, h.first + h.count) in this compression's
  /// memory (a range of vector()), into out (host). The rounding draw of coordinate i is
  /// stream.uniform_float(i), i the rotated-domain index, so the payload does not depend on how the
  /// vector is cut. Adds the solve and round+pack times to times. range: the chunk's exact
  /// extremes, when the caller knows them (a one-bucket quiver-apx then skips its scan). Throws
  /// dme::Error on bad input.
  virtual void encode(std::span<const float> chunk, const PayloadHeader& h,
                      const CompressionPlan& plan, const PhiloxStream& stream,
                      std::vector<std::byte>& out, PhaseTimes& times,
                      const Extrema<float>* range = nullptr) = 0;

  /// Validates payload (host) against expect completely (header, checksum, levels, every code),
  /// then adds its decoded values into acc (this compression's memory, size expect.count); on
  /// dme::Error acc is unchanged. The host implementation is dme::decode_accumulate, whose
  /// payload kinds cover every CPU scheme.
  virtual void decode_accumulate(std::span<const std::byte> payload,
                                 const DecodeExpectations& expect, std::span<float> acc);

  // ---- payload buffers ---------------------------------------------------------------------

  /// An empty byte buffer for an exchange's payloads, one given back earlier where there is one
  /// (its capacity kept), so the buffers keep their memory between chunks and rounds. Made and
  /// freed per chunk, they went back to the system at the top of glibc's heap and the next
  /// chunks faulted them in again: ~2100 page faults per streamed mean at d = 2^24 on 2 ranks
  /// (3072 for the blocking allgather, 6115 for reduce-scatter), ~5 ms of 75 on an Intel Xeon
  /// family 6 model 207.
  std::vector<std::byte> take_bytes();
  /// Keeps bytes' memory for take_bytes (up to kSpareBuffers buffers; the rest, and any that
  /// cannot be kept, are freed). Never throws: callers give back from destructors.
  void give_bytes(std::vector<std::byte>&& bytes) noexcept;
  static constexpr std::size_t kSpareBuffers = 32;

 private:
  TransformVector<float> host_vectors_[3];  // the host implementation of vector()
  std::vector<std::vector<std::byte>> spare_bytes_;
};

/// The implementation of `scheme` for `backend`: kCpu always; kCuda in builds with the CUDA
/// backend, for the asq scheme (dme::Error naming what is missing otherwise).
std::unique_ptr<Compression> make_compression(Backend backend, Scheme scheme = Scheme::kAsq);

namespace detail {

/// The checks every implementation makes before encoding: the header's s and bucket size are
/// the plan's, and chunk_size is the header's count; wide codes (plan.wide_groups) only for
/// implementations that take them.
void check_plan(const PayloadHeader& h, const CompressionPlan& plan, std::size_t chunk_size,
                bool takes_two_widths = false);

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
