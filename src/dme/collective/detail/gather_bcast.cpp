// The gather-bcast exchange: rank 0 gathers the payloads (MPI_Gatherv) and decodes them, then
// broadcasts the finished float32 mean (MPI_Bcast).
#include "dme/collective/detail/agreement.h"
#include "dme/collective/detail/round.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/timer.h"

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
  Timer t;
  if (ctx.rank == kRoot && !error) {
    error = mpi::capture_error([&] {
      if (sum.divisor != 1.0f) c.divide(acc, sum.divisor);
      const PhiloxStream stream(ctx.options.seed, ctx.round, kRoot, Purpose::kDownlink);
      PayloadHeader h = payload_header(ctx, 0, ctx.padded);
      c.encode(acc, h, ctx.plan, stream, payload, ctx.report.times);
    });
  }
  ctx.report.times.round_pack_ms += t.elapsed_ms();
  t.reset();
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
  if (ctx.rank == kRoot)
    ctx.report.payload_bytes_sent = bytes * static_cast<std::uint64_t>(ctx.size - 1);
  else
    ctx.report.payload_bytes_received = bytes;
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

}  // namespace

RoundSum reduce_gather_bcast(RoundContext& ctx, std::span<const float> y) {
  std::vector<std::byte> mine;
  const auto error = try_compress(ctx, y, 0, Purpose::kRounding, mine, ctx.rotated_range);
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
    decode_error = mpi::capture_error([&] { sum = decode_all(ctx, all); });
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
