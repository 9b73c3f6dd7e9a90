// The gather-bcast exchange: rank 0 gathers the payloads (MPI_Gatherv) and decodes them, then
// broadcasts the finished float32 mean (MPI_Bcast), or with the compressed downlink requantizes
// it and broadcasts the payload, pipelined chunk by chunk when Options::pipeline_chunks > 1.
//
// With the compressed downlink the root's own vector sends nothing: it enters the mean exactly
// (its rotated coordinates, added to the decoded payloads of the other ranks), so the root
// encodes once per round (the mean) instead of twice, and the mean carries n - 1 uplink
// roundings instead of n. With the float32 downlink every rank, the root included, encodes its
// payload, so the estimate is allgather's bit for bit.
#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <exception>
#include <memory>

#include "dme/collective/detail/agreement.h"
#include "dme/collective/detail/round.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/parallel.h"
#include "dme/core/timer.h"
#include "dme/quantization/detail/input_scan.h"

namespace dme::detail {
namespace {
constexpr int kRoot = 0;

// The compressed downlink: the root divides its sum into the mean and requantizes it (in the
// domain it holds it in: rotated with a shared rotation, else already rotated back) with its
// kDownlink stream, and broadcasts the payload, which every rank decodes into its accumulator.
// The payload's size travels first, kFailedSize when the root failed (to decode the uplink or to
// encode the mean), so every rank raises the root's error instead of waiting.
RoundSum downlink_payload(RoundContext& ctx, const RoundSum& sum,
                          std::optional<std::string> error) {
  Compression& c = ctx.compression;
  const std::span<float> acc = c.vector(RoundVector::kSum, ctx.padded);
  std::vector<std::byte> payload;
  if (ctx.rank == kRoot && !error) {
    error = mpi::capture_error([&] {
      Timer divide_timer;
      if (sum.divisor != 1.0f) c.divide(acc, sum.divisor);
      ctx.report.times.round_pack_ms += divide_timer.elapsed_ms();
      const PhiloxStream stream(ctx.options.seed, ctx.round, kRoot, Purpose::kDownlink);
      PayloadHeader h = payload_header(ctx, 0, ctx.padded);
      c.encode(acc, h, ctx.plan, stream, payload, ctx.report.times);  // adds its solve, round
    });
  }
  Timer t;
  std::int64_t size = ctx.rank != kRoot ? 0
                      : error           ? kFailedSize
                                        : static_cast<std::int64_t>(payload.size());
  DME_MPI_CHECK(MPI_Bcast(&size, 1, MPI_INT64_T, kRoot, ctx.comm));
  if (size == kFailedSize) raise_everywhere(kRoot, error.value_or(std::string()), ctx.comm);
  std::vector<int> displs;
  to_int_counts({size}, displs);  // a payload beyond one MPI call's int range is an error
  payload.resize(static_cast<std::size_t>(size));
  DME_MPI_CHECK(MPI_Bcast(payload.data(), static_cast<int>(size), MPI_BYTE, kRoot, ctx.comm));
  ctx.report.times.exchange_ms += t.elapsed_ms();
  const auto bytes = static_cast<std::uint64_t>(size);
  if (ctx.rank == kRoot) {
    ctx.report.payload_bytes = bytes;  // the root's payload is the mean's
    ctx.report.payload_bytes_sent = bytes * static_cast<std::uint64_t>(ctx.size - 1);
  } else {
    ctx.report.payload_bytes_received = bytes;
  }
  // Every rank decodes the root's payload; the same bytes everywhere, so a failure is the same
  // on every rank (agreed all the same).
  t.reset();
  DecodeExpectations e = expectations(ctx, kRoot, 0, ctx.padded);
  const auto decode_error = mpi::capture_error([&] {
    c.fill_zero(acc);
    c.decode_accumulate(payload, e, acc);
  });
  mpi::agree_or_throw(decode_error, ctx.comm);
  ctx.report.times.decode_ms += t.elapsed_ms();
  return {true, 1.0f, ctx.options.shared_rotation};  // the root's domain (decode_all)
}

/// One chunk of the pipelined compressed downlink: this rank's uplink payload, every rank's
/// uplink size, the root's gathered payloads, and the root's downlink payload and its size.
struct Leg : ChunkPayload {
  std::span<const float> values;  ///< this rank's rotated coordinates of the chunk
  Received all;
  std::int64_t down_size = 0;
  std::vector<std::byte> down;
  /// The uplink sizes, the uplink payloads, the downlink size, the downlink payload.
  enum { kSizes, kGather, kDownSize, kDown };
  std::array<MPI_Request, 4> requests{MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL,
                                      MPI_REQUEST_NULL};
};

/// Waits for every request still posted, on every exit path (see allgather.cpp's guard).
struct LegGuard {
  std::deque<Leg>& legs;
  void wait_all() {
    for (Leg& l : legs) DME_MPI_CHECK(MPI_Waitall(4, l.requests.data(), MPI_STATUSES_IGNORE));
  }
  ~LegGuard() {
    for (Leg& l : legs) MPI_Waitall(4, l.requests.data(), MPI_STATUSES_IGNORE);  // no throwing
  }
};

/// The root's downlink levels in a pipelined round: its own levels of the whole rotated vector y,
/// the ends moved out to every rank's (the mean lies between the lowest and the highest of the
/// other ranks' levels and the root's exact values) plus the rounding of the float sum and
/// division, so that every coordinate of the mean is inside them before the mean is known.
/// Collective.
std::shared_ptr<const std::vector<float>> downlink_levels(RoundContext& ctx,
                                                          std::span<const float> y, bool failed) {
  const std::vector<float>* own = ctx.plan.levels.get();
  const bool usable = !failed && own && own->size() >= 2;
  float ends[2] = {usable ? -own->front() : -INFINITY, usable ? own->back() : -INFINITY};
  if (usable && ctx.rank == kRoot) {  // its exact values may lie beyond its levels (nearest)
    const Extrema<float> r =
        ctx.rotated_range ? *ctx.rotated_range : scan_input(y, "the root's rotated vector");
    ends[0] = std::max(ends[0], -r.min);
    ends[1] = std::max(ends[1], r.max);
  }
  DME_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, ends, 2, MPI_FLOAT, MPI_MAX, ctx.comm));
  ctx.report.metadata_bytes_sent += 8;
  ctx.report.metadata_bytes_received += 8;
  if (!usable || ctx.rank != kRoot) return nullptr;
  auto levels = std::make_shared<std::vector<float>>(*own);
  if (ctx.size > 1) {
    // Adding n values and dividing by n rounds by less than (n + 1)·2^-24 of the largest.
    const float lo = -ends[0], hi = ends[1];
    const float margin =
        (std::fabs(lo) + std::fabs(hi)) * static_cast<float>(ctx.size + 2) * 0x1p-23f;
    levels->front() = std::min(levels->front(), lo - margin);
    levels->back() = std::max(levels->back(), hi + margin);
  }
  return levels;
}

// gather-bcast with the compressed downlink, pipelined (Options::pipeline_chunks > 1): the uplink
// is the pipelined allgather's (the whole vector's levels, chunk payloads, MPI_Igatherv to the
// root; the root's own payloads are empty), and the root decodes each chunk as it arrives, adds
// its own coordinates of the chunk exactly, requantizes its part of the mean to the
// downlink levels (coordinate i with draw i of its kDownlink stream, whatever the chunking) and
// broadcasts it while later chunks are still coming. Every rank posts the same collectives in
// the same order, step k of chunks + 3:
//   checks: the uplink sizes of chunk k - 1 (a rank failed to encode: kFailedSize) and the
//           downlink size of chunk k - 3 (the root failed: kFailedSize); on a failure every rank
//           is here with the same requests posted, waits for them and raises the failing rank's
//           error;
//   posts:  the uplink sizes of chunk k (MPI_Iallgather), the uplink payloads of chunk k - 1
//           (MPI_Igatherv), the downlink size of chunk k - 2 (MPI_Ibcast; the root first waits
//           for that chunk's payloads, decodes and requantizes it) and the downlink payload of
//           chunk k - 3 (MPI_Ibcast, whose size every rank knows from the check).
// Downlink payloads are decoded into the accumulator as they arrive (the root decodes its own
// too, so every rank holds the same estimate); a decoding error is the same on every rank (the
// same bytes) and is raised once everything has completed. The estimate is the same for every
// chunk count above 1 (one downlink rule, draws by coordinate).
//
// With buckets, each chunk is whole buckets with their own levels, up and down (the root solves
// the levels of each bucket of the mean as its chunk is complete), and with rotation blocks too
// the forward rotation streams as in the pipelined allgather (rotate_streamed_chunk). With
// rotation blocks, every rank rotates the blocks of the mean back as their downlink chunks are
// decoded (EarlyInverse).
RoundSum reduce_gather_bcast_pipelined(RoundContext& ctx, std::span<const float> y,
                                       const std::vector<std::uint64_t>& bounds) {
  const std::size_t chunks = bounds.size() - 1;
  Compression& c = ctx.compression;
  // Each chunk's range of the sum is zeroed where it is first written (the root's uplink sum,
  // every rank's downlink decode), in cache then, not all of it first.
  const std::span<float> acc = c.vector(RoundVector::kSum, ctx.padded);
  const int n = ctx.size;
  std::deque<Leg> legs(chunks);
  LegGuard guard{legs};
  std::optional<std::string> compress_error, root_error;
  std::exception_ptr decode_error;
  std::optional<WholeVectorLevels> levels;  // without buckets: sets ctx.plan.levels
  if (ctx.options.bucket_size == 0) levels.emplace(ctx, y, compress_error);
  CompressionPlan down_plan = ctx.plan;
  if (ctx.options.bucket_size == 0)
    down_plan.levels = downlink_levels(ctx, y, compress_error.has_value());
  std::optional<Rotation> blocks;  // streams the rotation, and rotates the mean back early
  if (ctx.rotation.count > 0 && ctx.rotation.block != 0)
    blocks.emplace(host_rotation(ctx.rotation));
  // The root reads chunk k's values last when it requantizes it, at step k + 2, before step
  // k + 3 takes chunk k + 3: three buffers.
  ChunkValues values_of(ctx, blocks ? &*blocks : nullptr, bounds, y, 3);
  EarlyInverse early(ctx, acc, 1.0f, blocks ? &*blocks : nullptr);
  const PhiloxStream down_stream(ctx.options.seed, ctx.round, kRoot, Purpose::kDownlink);
  std::size_t down_decoded = 0, down_posted = 0;

  const auto decode_down = [&](Leg& l) {
    Timer t;
    if (!decode_error) {
      try {
        const std::span<float> part = acc.subspan(l.first, l.count);
        c.fill_zero(part);
        c.decode_accumulate(l.down, expectations(ctx, kRoot, l.first, l.count), part);
      } catch (...) {
        decode_error = std::current_exception();
      }
    }
    c.give_bytes(std::move(l.down));  // received: kept for the next chunks (compression.h)
    ctx.report.times.decode_ms += t.elapsed_ms();
  };
  // Decodes, in order, the downlink payloads that have arrived (all posted ones when wait).
  const auto drain = [&](bool wait) {
    while (down_decoded < down_posted) {
      Leg& l = legs[down_decoded];
      Timer t;
      int done = 1;
      if (wait)
        DME_MPI_CHECK(MPI_Wait(&l.requests[Leg::kDown], MPI_STATUS_IGNORE));
      else
        DME_MPI_CHECK(MPI_Test(&l.requests[Leg::kDown], &done, MPI_STATUS_IGNORE));
      ctx.report.times.exchange_ms += t.elapsed_ms();
      if (!done) return;
      decode_down(l);
      ++down_decoded;
      if (!decode_error) early.upto(l.first + l.count);
    }
  };
  // The root: chunk j's payloads, decoded into its part of the sum, divided into the mean and
  // requantized; a failure makes its downlink size kFailedSize (and every later one).
  const auto requantize = [&](Leg& l) {
    Timer t;
    DME_MPI_CHECK(MPI_Wait(&l.requests[Leg::kGather], MPI_STATUS_IGNORE));
    ctx.report.times.exchange_ms += t.elapsed_ms();
    if (!root_error) {
      t.reset();
      root_error = mpi::capture_error([&] {
        const std::span<float> part = acc.subspan(l.first, l.count);
        c.fill_zero(part);
        for (int r = 0; r < n; ++r) {
          if (r == kRoot)  // its own coordinates, exact (it sent an empty payload)
            c.add(part, l.values);
          else
            c.decode_accumulate(l.all.from(r), expectations(ctx, r, l.first, l.count), part);
        }
        ctx.report.times.decode_ms += t.elapsed_ms();
        t.reset();
        c.divide(part, static_cast<float>(n));
        ctx.report.times.round_pack_ms += t.elapsed_ms();
        l.down = c.take_bytes();
        c.encode(part, payload_header(ctx, l.first, l.count), down_plan, down_stream, l.down,
                 ctx.report.times);  // adds its own solve and round+pack times
      });
      if (!root_error) ctx.report.payload_bytes += l.down.size();  // the root's payloads
    }
    c.give_bytes(std::move(l.all.data));
    c.give_bytes(std::move(l.mine));  // sent: the gather has completed
    l.all = Received{};
    l.down_size = root_error ? kFailedSize : static_cast<std::int64_t>(l.down.size());
    if (root_error) l.down.clear();
  };
  // The oldest uplink and downlink transfers still in flight get an MPI call now and then.
  auto progress = [&](std::size_t, unsigned) {
    for (const int which : {int(Leg::kGather), int(Leg::kDown)}) {
      for (Leg& l : legs) {
        MPI_Request& r = l.requests[static_cast<std::size_t>(which)];
        if (r == MPI_REQUEST_NULL) continue;
        int done = 0;
        MPI_Test(&r, &done, MPI_STATUS_IGNORE);
        break;
      }
    }
  };
  const ProgressScope progress_scope{TaskRef(progress)};

  for (std::size_t k = 0; k < chunks + 3; ++k) {
    if (k >= 1 && k - 1 < chunks) {
      Leg& l = legs[k - 1];
      Timer t;
      DME_MPI_CHECK(MPI_Wait(&l.requests[Leg::kSizes], MPI_STATUS_IGNORE));
      ctx.report.times.exchange_ms += t.elapsed_ms();
      for (std::int64_t size : l.sizes) {
        if (size != kFailedSize && size != kRecheckSize) continue;
        guard.wait_all();  // what is posted completes on every rank, then all raise
        recheck_if_asked(l.sizes);
        raise_if_failed(l.sizes, compress_error, ctx.comm);
      }
    }
    if (k >= 3 && k - 3 < chunks) {
      Leg& l = legs[k - 3];
      Timer t;
      DME_MPI_CHECK(MPI_Wait(&l.requests[Leg::kDownSize], MPI_STATUS_IGNORE));
      ctx.report.times.exchange_ms += t.elapsed_ms();
      if (l.down_size == kFailedSize) {
        guard.wait_all();
        raise_everywhere(kRoot, root_error.value_or(std::string()), ctx.comm);
      }
    }
    if (k < chunks) {  // uplink sizes of chunk k (a streamed rotation: its blocks first)
      std::optional<KnownRange> range;
      Leg& l = legs[k];
      l.values = values_of.take(k, compress_error, range);
      encode_chunk_and_post_sizes(ctx, l.values, bounds[k], compress_error, l,
                                  &l.requests[Leg::kSizes], range ? &*range : nullptr,
                                  /*encode=*/ctx.rank != kRoot);
    }
    if (k >= 1 && k - 1 < chunks) {  // uplink payloads of chunk k - 1
      Leg& l = legs[k - 1];
      if (ctx.rank == kRoot) {
        l.all.counts = to_int_counts(l.sizes, l.all.displs);
        l.all.data = c.take_bytes();
        l.all.data.resize(static_cast<std::size_t>(l.all.displs.back()) + l.all.counts.back());
        ctx.report.payload_bytes_received += l.all.data.size() - l.mine.size();
      } else {
        ctx.report.payload_bytes_sent += l.mine.size();
      }
      DME_MPI_CHECK(MPI_Igatherv(l.mine.data(), static_cast<int>(l.mine.size()), MPI_BYTE,
                                 l.all.data.data(), l.all.counts.data(), l.all.displs.data(),
                                 MPI_BYTE, kRoot, ctx.comm, &l.requests[Leg::kGather]));
      ctx.report.payload_bytes += l.mine.size();
    }
    if (k >= 2 && k - 2 < chunks) {  // downlink size of chunk k - 2
      Leg& l = legs[k - 2];
      if (ctx.rank == kRoot) requantize(l);
      DME_MPI_CHECK(MPI_Ibcast(&l.down_size, 1, MPI_INT64_T, kRoot, ctx.comm,
                               &l.requests[Leg::kDownSize]));
      if (ctx.rank == kRoot)
        ctx.report.metadata_bytes_sent += 8 * static_cast<std::uint64_t>(n - 1);
      else
        ctx.report.metadata_bytes_received += 8;
    }
    if (k >= 3 && k - 3 < chunks) {  // downlink payload of chunk k - 3
      Leg& l = legs[k - 3];
      std::vector<int> displs;
      to_int_counts({l.down_size}, displs);  // a payload beyond one MPI call's int range: error
      if (ctx.rank != kRoot) l.down = c.take_bytes();  // the root's holds its payload
      l.down.resize(static_cast<std::size_t>(l.down_size));
      DME_MPI_CHECK(MPI_Ibcast(l.down.data(), static_cast<int>(l.down_size), MPI_BYTE, kRoot,
                               ctx.comm, &l.requests[Leg::kDown]));
      ++down_posted;
      const auto bytes = static_cast<std::uint64_t>(l.down_size);
      if (ctx.rank == kRoot)
        ctx.report.payload_bytes_sent += bytes * static_cast<std::uint64_t>(n - 1);
      else
        ctx.report.payload_bytes_received += bytes;
    }
    drain(false);
  }
  drain(true);
  if (decode_error) std::rethrow_exception(decode_error);  // the same on every rank
  return early.finish();  // the decoded mean (rotated back where blocks allow)
}

}  // namespace

RoundSum reduce_gather_bcast(RoundContext& ctx, std::span<const float> y) {
  if (ctx.options.compressed_downlink) {
    const std::vector<std::uint64_t> bounds =
        pipeline_bounds(ctx.options, ctx.d, ctx.padded, !ctx.streamed.x.empty());
    if (bounds.size() > 2) return reduce_gather_bcast_pipelined(ctx, y, bounds);
  }
  std::vector<std::byte> mine;
  std::optional<std::string> error;
  if (!ctx.streamed.x.empty())  // one chunk: the whole rotation first
    rotate_streamed_chunk(ctx, host_rotation(ctx.rotation), {0, ctx.padded}, 0, error);
  // The compressed downlink's root sends nothing: its own vector enters the mean exactly.
  const bool root_exact = ctx.options.compressed_downlink && ctx.rank == kRoot;
  if (!error && !root_exact)
    error = try_compress(ctx, y, 0, Purpose::kRounding, mine, ctx.rotated_range);
  Timer t;
  // Sizes go to every rank (not only the root), so a failure is known everywhere.
  Received all;
  all.counts = to_int_counts(allgather_sizes(ctx, mine.size(), error), all.displs);
  if (ctx.rank == kRoot)
    all.data.resize(static_cast<std::size_t>(all.displs.back()) + all.counts.back());
  DME_MPI_CHECK(MPI_Gatherv(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data.data(),
                            all.counts.data(), all.displs.data(), MPI_BYTE, kRoot, ctx.comm));
  ctx.report.times.exchange_ms += t.elapsed_ms();
  ctx.report.payload_bytes = mine.size();
  if (ctx.rank == kRoot)
    ctx.report.payload_bytes_received = all.data.size() - mine.size();
  else
    ctx.report.payload_bytes_sent = mine.size();

  // The root decodes; a corrupt payload there must reach every rank before the broadcast.
  RoundSum sum{false, 1.0f, true};
  std::optional<std::string> decode_error;
  if (ctx.rank == kRoot) {
    t.reset();
    decode_error = mpi::capture_error(
        [&] { sum = decode_all(ctx, all, root_exact ? y : std::span<const float>()); });
    ctx.report.times.decode_ms += t.elapsed_ms();
  }
  if (ctx.options.compressed_downlink) return downlink_payload(ctx, sum, decode_error);
  t.reset();
  int root_failed = decode_error ? 1 : 0;
  DME_MPI_CHECK(MPI_Bcast(&root_failed, 1, MPI_INT, kRoot, ctx.comm));
  if (root_failed) raise_everywhere(kRoot, decode_error.value_or(std::string()), ctx.comm);
  ctx.report.times.exchange_ms += t.elapsed_ms();
  return sum;
}

void distribute_gather_bcast(RoundContext& ctx, std::span<float> mean_out) {
  if (ctx.options.compressed_downlink) return;  // every rank decoded the mean's payload
  Timer t;
  DME_MPI_CHECK(MPI_Bcast(mean_out.data(), static_cast<int>(ctx.d), MPI_FLOAT, kRoot, ctx.comm));
  ctx.report.times.exchange_ms += t.elapsed_ms();
  const std::uint64_t result_bytes = 4 * ctx.d;
  if (ctx.rank == kRoot)
    ctx.report.payload_bytes_sent = result_bytes * static_cast<std::uint64_t>(ctx.size - 1);
  else
    ctx.report.payload_bytes_received = result_bytes;
}

}  // namespace dme::detail
