// The allgather exchange: every rank gathers every payload (MPI_Allgatherv) and decodes them all;
// pipelined (Options::pipeline_chunks > 1), chunk by chunk with non-blocking collectives.
#include <algorithm>
#include <deque>
#include <exception>
#include <memory>
#include <optional>

#include "dme/collective/detail/round.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/max_magnitude.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/parallel.h"
#include "dme/core/timer.h"
#include "dme/rotation/rht.h"

namespace dme::detail {
namespace {

/// One chunk in flight: this rank's payload, the sizes of all, then all payloads.
struct Chunk : ChunkPayload {
  Received all;
  MPI_Request sizes_request = MPI_REQUEST_NULL, data_request = MPI_REQUEST_NULL;
};

/// Waits for every request still posted (on every exit path, so no buffer is freed while MPI
/// may write it; every rank has posted the same collectives, so the waits complete).
struct RequestGuard {
  std::deque<Chunk>& chunks;
  void wait_all() {
    for (Chunk& c : chunks) {
      DME_MPI_CHECK(MPI_Wait(&c.sizes_request, MPI_STATUS_IGNORE));
      DME_MPI_CHECK(MPI_Wait(&c.data_request, MPI_STATUS_IGNORE));
    }
  }
  ~RequestGuard() {
    for (Chunk& c : chunks) {  // no throwing here: waits only
      MPI_Wait(&c.sizes_request, MPI_STATUS_IGNORE);
      MPI_Wait(&c.data_request, MPI_STATUS_IGNORE);
    }
  }
};

// The pipeline solves the levels of the whole vector once, then posts its collectives in one
// order on every rank, whatever the timing: sizes of chunk 0; then for each k >= 1: sizes of
// chunk k, wait for the sizes of chunk k - 1 (a rank whose compression failed sent kFailedSize:
// all ranks see it here, wait for what is posted and raise its error), payloads of chunk k - 1;
// finally the payloads of the last chunk. Between
// steps, MPI_Test progresses the payloads in flight and each chunk that has arrived is decoded
// into its range of the sum (ranks in order, as decode_all). A decoding error (the same on
// every rank: they decode the same bytes) is kept until every collective has completed.
//
// With rotation blocks (Options::rotation_block), every block that the tail block does not
// overlap is averaged and rotated back as soon as its chunks are decoded (EarlyInverse, round.h).
// With buckets too, the forward rotation streams (streams_rotation): chunk k's
// blocks are rotated just before chunk k is encoded. (The pipeline runs on the cpu backend
// only: the sum is in host memory.)
RoundSum reduce_allgather_pipelined(RoundContext& ctx, std::span<const float> y,
                                    const std::vector<std::uint64_t>& bounds) {
  const std::size_t chunks = bounds.size() - 1;
  Compression& c = ctx.compression;
  // The sum accumulates in the caller's output where it may (round.h) and has the length. Each
  // chunk's range is zeroed just before its payloads are decoded into it (the chunks cover the
  // vector): in cache then, where zeroing the whole sum first wrote it all to memory once more
  // (5-6.6 ms of a 90 ms mean at d = 2^24 on 2 ranks, Intel Xeon family 6 model 207).
  const bool in_output = ctx.padded == ctx.d && !ctx.mean_out.empty();
  const std::span<float> acc = in_output ? ctx.mean_out : c.vector(RoundVector::kSum, ctx.padded);
  std::deque<Chunk> flight(chunks);  // stable addresses for MPI
  RequestGuard guard{flight};
  std::optional<std::string> compress_error;
  std::exception_ptr decode_error;
  std::size_t decoded = 0, posted = 0;  // chunks decoded, chunks whose payloads are posted
  const int n = ctx.size;

  std::optional<Rotation> blocks;
  if (ctx.rotation.count > 0 && ctx.rotation.block != 0)
    blocks.emplace(host_rotation(ctx.rotation));
  EarlyInverse early(ctx, acc, static_cast<float>(n), blocks ? &*blocks : nullptr);

  const auto decode_chunk = [&](Chunk& ch) {
    Timer t;
    if (!decode_error) {
      try {
        const std::span<float> part = acc.subspan(ch.first, ch.count);
        c.fill_zero(part);
        for (int r = 0; r < n; ++r)
          c.decode_accumulate(ch.all.from(r), expectations(ctx, r, ch.first, ch.count), part);
      } catch (...) {
        decode_error = std::current_exception();
      }
    }
    // Both transfers have completed: the buffers go back for the next chunks (compression.h).
    c.give_bytes(std::move(ch.all.data));
    c.give_bytes(std::move(ch.mine));
    ch.all = Received{};
    ctx.report.times.decode_ms += t.elapsed_ms();
    if (!decode_error) early.upto(ch.first + ch.count);
  };
  // Decodes, in order, the chunks whose payloads have arrived (all posted ones when wait).
  const auto drain = [&](bool wait) {
    while (decoded < posted) {
      Chunk& ch = flight[decoded];
      Timer t;
      int done = 0;
      if (wait) {
        DME_MPI_CHECK(MPI_Wait(&ch.data_request, MPI_STATUS_IGNORE));
        done = 1;
      } else {
        DME_MPI_CHECK(MPI_Test(&ch.data_request, &done, MPI_STATUS_IGNORE));
      }
      ctx.report.times.exchange_ms += t.elapsed_ms();
      if (!done) return;
      decode_chunk(ch);
      ++decoded;
    }
  };

  // While a chunk is encoded or decoded, MPI gets called now and then to move the transfers.
  auto progress = [&](std::size_t, unsigned) {
    for (std::size_t j = decoded; j < posted; ++j) {
      if (flight[j].data_request == MPI_REQUEST_NULL) continue;  // arrived, not yet decoded
      int done = 0;
      MPI_Test(&flight[j].data_request, &done, MPI_STATUS_IGNORE);
      return;
    }
  };
  const ProgressScope progress_scope{TaskRef(progress)};

  // Without buckets, every chunk rounds to the whole vector's levels; with buckets, each
  // bucket to its own (chunks are whole buckets). Coordinate i takes draw i, as always, so the
  // sum, and the mean, are the plain allgather's bit for bit.
  std::optional<WholeVectorLevels> levels;
  if (ctx.options.bucket_size == 0) levels.emplace(ctx, y, compress_error);
  // Each chunk's values are read only by its encoding: one buffer serves them all.
  ChunkValues values_of(ctx, blocks ? &*blocks : nullptr, bounds, y, 1);

  for (std::size_t k = 0; k <= chunks; ++k) {
    if (k < chunks) {
      Chunk& ch = flight[k];
      std::optional<KnownRange> range;
      const std::span<const float> values = values_of.take(k, compress_error, range);
      encode_chunk_and_post_sizes(ctx, values, bounds[k], compress_error, ch, &ch.sizes_request,
                                  range ? &*range : nullptr);
      drain(false);
    }
    if (k == 0) continue;
    Chunk& prev = flight[k - 1];
    Timer t;
    DME_MPI_CHECK(MPI_Wait(&prev.sizes_request, MPI_STATUS_IGNORE));
    ctx.report.times.exchange_ms += t.elapsed_ms();
    for (std::int64_t size : prev.sizes) {
      if (size != kFailedSize && size != kRecheckSize) continue;
      guard.wait_all();  // what is posted completes on every rank, then all raise
      recheck_if_asked(prev.sizes);
      raise_if_failed(prev.sizes, compress_error, ctx.comm);
    }
    prev.all.counts = to_int_counts(prev.sizes, prev.all.displs);
    prev.all.data = c.take_bytes();
    prev.all.data.resize(static_cast<std::size_t>(prev.all.displs.back()) + prev.all.counts.back());
    DME_MPI_CHECK(MPI_Iallgatherv(prev.mine.data(), static_cast<int>(prev.mine.size()), MPI_BYTE,
                                  prev.all.data.data(), prev.all.counts.data(),
                                  prev.all.displs.data(), MPI_BYTE, ctx.comm, &prev.data_request));
    ++posted;
    ctx.report.payload_bytes += prev.mine.size();
    ctx.report.payload_bytes_sent += prev.mine.size() * static_cast<std::uint64_t>(n - 1);
    ctx.report.payload_bytes_received += prev.all.data.size() - prev.mine.size();
    drain(false);
  }
  drain(true);
  if (decode_error) std::rethrow_exception(decode_error);  // the same on every rank
  RoundSum sum = early.finish();
  sum.in_output = in_output;
  return sum;
}

}  // namespace

void encode_chunk_and_post_sizes(RoundContext& ctx, std::span<const float> values,
                                 std::uint64_t first, std::optional<std::string>& error,
                                 ChunkPayload& c, MPI_Request* sizes_request,
                                 const KnownRange* range, bool encode) {
  const auto n = static_cast<std::uint64_t>(ctx.size);
  c.first = first;
  c.count = values.size();
  if (!error && encode && !ctx.streamed.recheck) {
    c.mine = ctx.compression.take_bytes();
    error = try_compress(ctx, values, c.first, Purpose::kRounding, c.mine, range);
  }
  c.my_size = ctx.streamed.recheck ? kRecheckSize
              : error              ? kFailedSize
                                   : static_cast<std::int64_t>(c.mine.size());
  c.sizes.resize(static_cast<std::size_t>(n));
  DME_MPI_CHECK(MPI_Iallgather(&c.my_size, 1, MPI_INT64_T, c.sizes.data(), 1, MPI_INT64_T, ctx.comm,
                               sizes_request));
  ctx.report.metadata_bytes_sent += 8 * (n - 1);
  ctx.report.metadata_bytes_received += 8 * (n - 1);
}

WholeVectorLevels::WholeVectorLevels(RoundContext& ctx, std::span<const float> y,
                                     std::optional<std::string>& error)
    : ctx_(ctx), saved_(ctx.plan) {
  Timer t;
  error = mpi::capture_error([&] {
    ctx.plan.levels = std::make_shared<const std::vector<float>>(
        chunk_levels(y, payload_header(ctx, 0, ctx.padded), saved_, ctx.rotated_range).values);
  });
  ctx.report.times.solve_ms += t.elapsed_ms();
}

std::uint64_t pipeline_bound(std::uint64_t padded, std::size_t chunks, std::size_t k) {
  if (k >= chunks) return padded;
  return padded * k / chunks / 64 * 64;
}

std::size_t pipeline_chunk_count(std::uint64_t padded, std::size_t requested) {
  return std::max<std::size_t>(1, std::min<std::uint64_t>(requested, padded / kMinPipelineChunk));
}

EarlyInverse::EarlyInverse(RoundContext& ctx, std::span<float> acc, float divisor,
                           const Rotation* rotation)
    : ctx_(ctx),
      acc_(acc),
      divisor_(divisor),
      rotation_(rotation),
      independent_(rotation ? rotation->independent_blocks() : 0) {}

void EarlyInverse::upto(std::uint64_t end) {
  if (independent_ == 0) return;
  const std::size_t b = rotation_->block();
  const std::size_t upto = std::min<std::size_t>(independent_, end / b);
  if (upto <= finished_) return;
  Timer t;
  if (divisor_ != 1.0f)
    ctx_.compression.divide(acc_.subspan(finished_ * b, (upto - finished_) * b), divisor_);
  rotation_->inverse_blocks(acc_, finished_, upto);
  finished_ = upto;
  ctx_.report.times.inverse_ms += t.elapsed_ms();
}

RoundSum EarlyInverse::finish() {
  if (independent_ == 0) return {true, divisor_, true};
  Timer t;  // the blocks that the tail overlaps, and the tail
  if (divisor_ != 1.0f)
    ctx_.compression.divide(acc_.subspan(finished_ * rotation_->block()), divisor_);
  rotation_->inverse_rest(acc_, finished_);
  ctx_.report.times.inverse_ms += t.elapsed_ms();
  return {true, 1.0f, false};
}

ChunkValues::ChunkValues(RoundContext& ctx, const Rotation* rotation,
                         const std::vector<std::uint64_t>& bounds, std::span<const float> y,
                         std::size_t buffers)
    : ctx_(ctx), rotation_(rotation), bounds_(bounds), y_(y), buffers_(buffers) {
  if (ctx.streamed.x.empty()) return;
  DME_ASSERT(rotation != nullptr && buffers >= 1);
  for (std::size_t k = 0; k + 1 < bounds.size(); ++k)
    longest_ = std::max<std::uint64_t>(longest_, bounds[k + 1] - bounds[k]);
  window_.resize(buffers * longest_);
}

std::span<const float> ChunkValues::take(std::size_t k, std::optional<std::string>& error,
                                         std::optional<KnownRange>& range) {
  const std::size_t count = bounds_[k + 1] - bounds_[k];
  if (window_.empty()) return y_.subspan(bounds_[k], count);
  const std::span<float> out = std::span<float>(window_).subspan(k % buffers_ * longest_, count);
  range = rotate_streamed_chunk(ctx_, *rotation_, bounds_, k, error, out);
  return out;
}

std::optional<KnownRange> rotate_streamed_chunk(RoundContext& ctx, const Rotation& rotation,
                                                const std::vector<std::uint64_t>& bounds,
                                                std::size_t k, std::optional<std::string>& error,
                                                std::span<float> out) {
  if (error || ctx.streamed.recheck) return std::nullopt;
  Timer t;
  std::optional<KnownRange> range;
  const std::size_t b = rotation.block(), begin = bounds[k] / b;
  if (ctx.streamed.check_below != 0) {  // the deferred input check, on the chunk's coordinates
    const std::uint64_t end = std::min<std::uint64_t>(bounds[k + 1], ctx.d);
    const std::span<const float> xs = ctx.streamed.x.subspan(bounds[k], end - bounds[k]);
    if (max_magnitude_bits(xs) >= ctx.streamed.check_below) {
      ctx.streamed.recheck = true;
      ctx.report.times.rotate_ms += t.elapsed_ms();
      return std::nullopt;
    }
  }
  error = mpi::capture_error([&] {
    const bool last = k + 2 >= bounds.size();
    if (!out.empty() && !last)
      rotation.forward_blocks_to(ctx.streamed.x, begin, bounds[k + 1] / b, out, &range.emplace());
    else if (!out.empty())
      rotation.forward_rest_to(ctx.streamed.x, begin, out);
    else if (!last)
      rotation.forward_blocks(ctx.streamed.x, ctx.streamed.y, begin, bounds[k + 1] / b,
                              &range.emplace());
    else
      rotation.forward_rest(ctx.streamed.x, ctx.streamed.y, begin);
  });
  ctx.report.times.rotate_ms += t.elapsed_ms();
  return error ? std::nullopt : range;
}

bool streams_rotation(const Options& o, int rotations, std::uint64_t d) {
  const bool pipelined = o.exchange == Exchange::kAllgather ||
                         (o.exchange == Exchange::kGatherBcast && o.compressed_downlink);
  return pipelined && o.pipeline_chunks > 1 && o.bucket_size != 0 && o.rotation_block != 0 &&
         rotations > 0 && d > o.rotation_block;
}

std::vector<std::uint64_t> pipeline_bounds(const Options& o, std::uint64_t d, std::uint64_t padded,
                                           bool streamed) {
  std::vector<std::uint64_t> bounds;
  const std::uint64_t bucket = o.bucket_size;
  if (bucket == 0) {
    const std::size_t chunks = pipeline_chunk_count(padded, o.pipeline_chunks);
    for (std::size_t k = 0; k <= chunks; ++k) bounds.push_back(pipeline_bound(padded, chunks, k));
    return bounds;
  }
  // Units of whole buckets (and whole blocks, when the rotation streams) up to `prefix`, then
  // the rest as one last unit.
  std::uint64_t unit = bucket, prefix = padded;
  if (streamed) {
    const std::uint64_t block = o.rotation_block;
    unit = std::max(bucket, block);
    prefix = independent_block_count(d, block) * block;
  }
  const std::uint64_t whole = prefix / unit;
  const std::uint64_t units = whole + (whole * unit < padded ? 1 : 0);
  const std::uint64_t chunks = std::min<std::uint64_t>(
      {o.pipeline_chunks, units, std::max<std::uint64_t>(1, padded / kMinPipelineChunk)});
  for (std::uint64_t k = 0; k < chunks; ++k) bounds.push_back(units * k / chunks * unit);
  bounds.push_back(padded);
  return bounds;
}

RoundSum reduce_allgather(RoundContext& ctx, std::span<const float> y) {
  const std::vector<std::uint64_t> bounds =
      pipeline_bounds(ctx.options, ctx.d, ctx.padded, !ctx.streamed.x.empty());
  if (bounds.size() > 2) return reduce_allgather_pipelined(ctx, y, bounds);
  std::vector<std::byte> mine = ctx.compression.take_bytes();
  const GiveBackBytes keep_mine(ctx.compression, mine);
  std::optional<std::string> error;
  if (!ctx.streamed.x.empty())  // one chunk: the whole rotation first
    rotate_streamed_chunk(ctx, host_rotation(ctx.rotation), {0, ctx.padded}, 0, error);
  if (!error) error = try_compress(ctx, y, 0, Purpose::kRounding, mine, ctx.rotated_range);
  Received all = allgather_payloads(ctx, mine, error);
  const GiveBackBytes keep_all(ctx.compression, all.data);
  ctx.report.payload_bytes = mine.size();
  Timer t;
  const RoundSum sum = decode_all(ctx, all);
  ctx.report.times.decode_ms += t.elapsed_ms();
  return sum;
}

}  // namespace dme::detail
