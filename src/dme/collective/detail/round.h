// One round of MeanEstimator, the skeleton every exchange fills in:
//
//   compress (each rank) ─ reduce (the exchange: move and decode-accumulate payloads into the
//   round's sum) ─ finish (divide, rotate back, crop: finish_round, once) ─ distribute (only
//   gather-bcast: the root's mean to all)
//
// The exchanges live one per file (allgather.cpp, gather_bcast.cpp, reduce_scatter.cpp) and
// share what is here: the round's context, the payload header and the expectations of received
// payloads, and the failure rule (a rank that fails to compress sends the size kFailedSize, so
// every rank throws its error instead of waiting for its payload).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <optional>
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
  CompressionPlan plan;
  std::uint32_t round;
  std::uint64_t d;
  std::uint64_t padded;
  int rotations;
  RotationKey rotation;  ///< this rank's rotation (shared or its own)
  Report& report;
  /// The backend that holds the round's vectors (RoundVector::kSum is the accumulator, size
  /// padded) and encodes and decodes payloads.
  Compression& compression;
  const KnownRange* rotated_range = nullptr;  ///< extremes of the rotated vector, when known
  /// A streamed rotation (streams_rotation): x is the input, not yet rotated, and the exchange
  /// rotates it into y (the vector it reduces) a chunk at a time. Empty otherwise.
  struct Streamed {
    std::span<const float> x;
    std::span<float> y;
    /// Non-zero when the round deferred the input check to its chunks (MeanEstimator): each
    /// chunk of x must have max_magnitude_bits below it (finite, and small enough to need no
    /// scaling); else this rank sets `recheck` and posts kRecheckSize from then on.
    std::uint32_t check_below = 0;
    bool recheck = false;
  } streamed;
  /// The caller's output (host memory, size d) where the exchange may accumulate into it: it
  /// does not overlap the input. Empty otherwise.
  std::span<float> mean_out;
};

/// True when the round's rotation streams: the pipelined allgather (or gather-bcast's pipelined
/// compressed downlink) with buckets and rotation blocks rotates each chunk's blocks just before
/// it encodes them, so the first chunk leaves
/// after one chunk's rotation and solve instead of the whole vector's (each bucket has its own
/// levels, so no chunk waits for the rest of the vector).
bool streams_rotation(const Options& options, int rotations, std::uint64_t d);

/// What an exchange leaves in the accumulator (ctx.compression's RoundVector::kSum).
struct RoundSum {
  bool held = true;      ///< this rank holds it (gather-bcast: the root only)
  float divisor = 1.0f;  ///< the mean is accumulator / divisor (n for a sum, 1 for a mean)
  bool rotated = true;   ///< in the rotated domain (a shared rotation), else already rotated back
  /// The accumulator is ctx.mean_out itself, not the compression's kSum vector (the pipelined
  /// allgather's when padded == d: no copy at the end).
  bool in_output = false;
};

/// An exchange algorithm: reduce() turns the rotated local vector y (size padded) into the
/// round's sum; distribute(), where not null, gives every rank the finished mean of the ranks
/// that hold it (size d). Both are collective.
struct ExchangeAlgorithm {
  RoundSum (*reduce)(RoundContext& ctx, std::span<const float> y);
  void (*distribute)(RoundContext& ctx, std::span<float> mean_out);
};
const ExchangeAlgorithm& exchange_algorithm(Exchange e);

/// mean_out (host) <- the first d coordinates of R⁻¹(accumulator / divisor) (R⁻¹ only when
/// rotated).
void finish_round(RoundContext& ctx, const RoundSum& sum, std::span<float> mean_out);

// ---- shared by the exchanges ----------------------------------------------------------------

/// A payload size that signals a local failure: it travels with the sizes, so every rank
/// learns of it instead of waiting for a payload that never comes.
inline constexpr std::int64_t kFailedSize = -1;

/// A payload size that says a rank's input failed a streamed round's deferred check
/// (RoundContext::Streamed::check_below): every rank, seeing it with the sizes, completes what it
/// has posted and throws RecheckRound, and the round starts again with the whole check first,
/// which then raises the input's error or scales it, exactly as a round that checked first.
inline constexpr std::int64_t kRecheckSize = -2;
struct RecheckRound {};
/// After every request posted has completed (the caller's guard): throws RecheckRound when a
/// rank's size is kRecheckSize (the same sizes on every rank, so every rank throws).
void recheck_if_asked(const std::vector<std::int64_t>& sizes);

/// Throws, on every rank, the error of the lowest rank whose size is kFailedSize (collective
/// when there is one). my_error is this rank's message when it failed.
void raise_if_failed(const std::vector<std::int64_t>& sizes,
                     const std::optional<std::string>& my_error, MPI_Comm comm);
/// MPI counts and displacements of byte sizes; throws when they exceed one MPI call's int range.
std::vector<int> to_int_counts(const std::vector<std::int64_t>& sizes, std::vector<int>& displs);
/// Collective: every rank's payload size (kFailedSize from a rank that failed, which makes every
/// rank throw its error). Counts the metadata bytes in ctx.report.
std::vector<std::int64_t> allgather_sizes(RoundContext& ctx, std::size_t my_bytes,
                                          const std::optional<std::string>& error);

/// Chunk j of the padded vector in the reduce-scatter exchanges is [chunk_bound(j),
/// chunk_bound(j + 1)): empty chunks when padded < n.
inline std::uint64_t chunk_bound(const RoundContext& ctx, int j) {
  return ctx.padded * static_cast<std::uint64_t>(j) / static_cast<std::uint64_t>(ctx.size);
}

/// Payloads a collective delivered: rank r's bytes are from(r).
struct Received {
  std::vector<std::byte> data;
  std::vector<int> counts, displs;
  std::span<const std::byte> from(int r) const {
    return {data.data() + displs[static_cast<std::size_t>(r)],
            static_cast<std::size_t>(counts[static_cast<std::size_t>(r)])};
  }
};
/// Gives a payload buffer's memory back to the compression's spare buffers when it goes out of
/// scope (Compression::take_bytes), so the exchanges' buffers keep their memory between rounds
/// instead of being faulted in again each round. Declared after the buffer (destroyed before
/// it), once every transfer of the buffer has completed.
class GiveBackBytes {
 public:
  GiveBackBytes(Compression& c, std::vector<std::byte>& bytes) : c_(c), bytes_(bytes) {}
  ~GiveBackBytes() { c_.give_bytes(std::move(bytes_)); }
  GiveBackBytes(const GiveBackBytes&) = delete;
  GiveBackBytes& operator=(const GiveBackBytes&) = delete;

 private:
  Compression& c_;
  std::vector<std::byte>& bytes_;
};
/// Collective: MPI_Alltoall of the sizes, then MPI_Alltoallv of the payloads. send holds this
/// rank's payloads for ranks 0, 1, ... back to back, sizes[j] bytes for rank j (all kFailedSize
/// when error is set: every rank then throws the lowest failed rank's error). Counts the bytes
/// and the time in ctx.report.
Received alltoall_payloads(RoundContext& ctx, const std::vector<std::byte>& send,
                           const std::vector<std::int64_t>& sizes,
                           const std::optional<std::string>& error);
/// Collective: allgather_sizes, then MPI_Allgatherv of every rank's payload `mine` (empty when
/// error is set). Counts the bytes and the time in ctx.report.
Received allgather_payloads(RoundContext& ctx, const std::vector<std::byte>& mine,
                            const std::optional<std::string>& error);

/// The header of this rank's payload of y[first, first + count) in this round.
PayloadHeader payload_header(const RoundContext& ctx, std::uint64_t first, std::uint64_t count);
/// What the payload of `sender` covering [first, first + count) must carry.
DecodeExpectations expectations(const RoundContext& ctx, int sender, std::uint64_t first,
                                std::uint64_t count);

/// Compresses chunk = y[first, first + chunk.size()) as this rank with the rounding stream of
/// `purpose` (range: the chunk's exact extremes, when known); returns the error instead of
/// throwing (out is then empty).
std::optional<std::string> try_compress(RoundContext& ctx, std::span<const float> chunk,
                                        std::uint64_t first, Purpose purpose,
                                        std::vector<std::byte>& out,
                                        const KnownRange* range = nullptr);

/// Sum of the decoded whole-vector payloads of all ranks, in rank order, into the accumulator;
/// with per-rank rotations each is rotated back with its sender's rotation first. Where `own`
/// is given (this rank's rotated vector, size padded), this rank's term is `own` itself, exact,
/// instead of its payload (gather-bcast's root with the compressed downlink).
/// @return the sum's description (divisor n; rotated when the rotation is shared)
RoundSum decode_all(RoundContext& ctx, const Received& all, std::span<const float> own = {});

/// The chunks a pipelined allgather uses: Options::pipeline_chunks, fewer where chunks would be
/// shorter than kMinPipelineChunk, at least 1 (a function of agreed values only).
std::size_t pipeline_chunk_count(std::uint64_t padded, std::size_t requested);
/// Chunk k < chunks of a pipelined round is [pipeline_bound(k), pipeline_bound(k + 1)):
/// padded·k/chunks rounded down to a multiple of 64 (whole bytes of codes); bound(chunks) = padded.
std::uint64_t pipeline_bound(std::uint64_t padded, std::size_t chunks, std::size_t k);

/// The chunks of a pipelined round (allgather, or gather-bcast's compressed downlink), as bounds:
/// chunk k is [bounds[k], bounds[k + 1]). Without buckets, pipeline_bound's. With buckets, each
/// chunk is whole buckets (a function of agreed values only, so the payloads, and the mean, are the
/// same for every chunk count); with a streamed rotation also whole rotation blocks, and the blocks
/// that the tail block overlaps, with the tail, form the last chunk. At least 1 chunk; none shorter
/// than kMinPipelineChunk unless its unit is.
/// @param streamed  whether the rotation streams (streams_rotation)
std::vector<std::uint64_t> pipeline_bounds(const Options& options, std::uint64_t d,
                                           std::uint64_t padded, bool streamed);

/// A streamed rotation (ctx.streamed), chunk k of `bounds`: its whole blocks (the last chunk:
/// every block from its first on, and the tail block) from ctx.streamed.x into ctx.streamed.y,
/// or, when `out` is not empty, into out[0, the chunk's length) (a buffer that stays in cache,
/// where nothing reads the chunk's rotated values after its encoding), unless `error` is set
/// already; a failure is left in `error` and counted as this chunk's. Returns the chunk's
/// extremes where the rotation found them (every chunk but the last).
std::optional<KnownRange> rotate_streamed_chunk(RoundContext& ctx, const Rotation& rotation,
                                                const std::vector<std::uint64_t>& bounds,
                                                std::size_t k, std::optional<std::string>& error,
                                                std::span<float> out = {});

/// Pipelined exchanges: the rotated values of chunk k of `bounds`, y's own, or with a streamed
/// rotation (ctx.streamed) the chunk rotated (rotate_streamed_chunk) into buffer k mod `buffers`
/// of a few chunks' length, which stays in cache: nothing reads a chunk's rotated values after
/// its last use, and rotating into the whole vector cost a pass to memory and back (the forward
/// rotation at d = 2^24 in chunks of three 2^15 blocks: 19 -> 15.4 ms, Intel Xeon family 6 model
/// 207). A chunk's values stay valid until chunk k + buffers is taken.
class ChunkValues {
 public:
  ChunkValues(RoundContext& ctx, const Rotation* rotation, const std::vector<std::uint64_t>& bounds,
              std::span<const float> y, std::size_t buffers);
  /// Chunk k's values; with a streamed rotation, unless `error` is set, rotates it first (a
  /// failure is left in `error`) and gives its extremes in `range` where the rotation finds them.
  std::span<const float> take(std::size_t k, std::optional<std::string>& error,
                              std::optional<KnownRange>& range);

 private:
  RoundContext& ctx_;
  const Rotation* rotation_;
  const std::vector<std::uint64_t>& bounds_;
  std::span<const float> y_;
  std::size_t buffers_, longest_ = 0;
  AlignedVector<float> window_;
};

/// Pipelined exchanges with rotation blocks (a shared rotation): the blocks of the sum that the
/// tail block does not overlap are divided into the mean and rotated back as soon as their
/// coordinates are final (upto), while later chunks are in flight, and the rest at the end
/// (finish): the same operations on the same values as finish_round's, so the mean keeps its
/// bits, and most of the inverse rotation leaves the critical path.
class EarlyInverse {
 public:
  /// @param acc the round's sum (host memory), the mean times divisor
  /// @param rotation the round's shared rotation; null (or without independent blocks): none
  EarlyInverse(RoundContext& ctx, std::span<float> acc, float divisor, const Rotation* rotation);
  /// Coordinates [0, end) of acc are final: the blocks inside them are finished.
  void upto(std::uint64_t end);
  /// Finishes the rest, or leaves it all to finish_round: what acc then holds.
  RoundSum finish();

 private:
  RoundContext& ctx_;
  std::span<float> acc_;
  float divisor_;
  const Rotation* rotation_;
  std::size_t independent_, finished_ = 0;
};

/// Pipelined exchanges: one chunk of this rank's vector, its payload and every rank's size.
struct ChunkPayload {
  std::uint64_t first = 0, count = 0;
  std::vector<std::byte> mine;
  std::int64_t my_size = 0;
  std::vector<std::int64_t> sizes;
};
/// Pipelined exchanges, the chunk of coordinates [first, first + values.size()) whose values are
/// `values` (range: their extremes, when known): this rank's payload (none once `error` is set,
/// by this chunk or an earlier one: the size is then kFailedSize; an empty one, size 0, when not
/// `encode`) and the MPI_Iallgather of every rank's size into c.sizes (request: *sizes_request).
void encode_chunk_and_post_sizes(RoundContext& ctx, std::span<const float> values,
                                 std::uint64_t first, std::optional<std::string>& error,
                                 ChunkPayload& c, MPI_Request* sizes_request,
                                 const KnownRange* range = nullptr, bool encode = true);

/// Pipelined exchanges: the levels of the whole rotated vector y, solved once as the single
/// payload's would be and set as ctx.plan.levels for every chunk (the plan is restored on
/// destruction), so every coordinate keeps its level whatever the chunking. A failure is left
/// in `error` (the caller reports it as a failure of chunk 0).
class WholeVectorLevels {
 public:
  WholeVectorLevels(RoundContext& ctx, std::span<const float> y, std::optional<std::string>& error);
  ~WholeVectorLevels() { ctx_.plan = saved_; }
  WholeVectorLevels(const WholeVectorLevels&) = delete;
  WholeVectorLevels& operator=(const WholeVectorLevels&) = delete;

 private:
  RoundContext& ctx_;
  CompressionPlan saved_;
};

RoundSum reduce_allgather(RoundContext& ctx, std::span<const float> y);
RoundSum reduce_gather_bcast(RoundContext& ctx, std::span<const float> y);
void distribute_gather_bcast(RoundContext& ctx, std::span<float> mean_out);
RoundSum reduce_reduce_scatter(RoundContext& ctx, std::span<const float> y);
RoundSum reduce_reduce_scatter_int(RoundContext& ctx, std::span<const float> y);

}  // namespace dme::detail
