#include "dme/collective/detail/round.h"

#include <algorithm>
#include <climits>

#include "dme/collective/detail/agreement.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/timer.h"

namespace dme::detail {

const ExchangeAlgorithm& exchange_algorithm(Exchange e) {
  static const ExchangeAlgorithm allgather{reduce_allgather, nullptr};
  static const ExchangeAlgorithm gather_bcast{reduce_gather_bcast, distribute_gather_bcast};
  static const ExchangeAlgorithm reduce_scatter{reduce_reduce_scatter, nullptr};
  static const ExchangeAlgorithm reduce_scatter_int{reduce_reduce_scatter_int, nullptr};
  switch (e) {
    case Exchange::kAllgather:
      return allgather;
    case Exchange::kGatherBcast:
      return gather_bcast;
    case Exchange::kReduceScatter:
      return reduce_scatter;
    case Exchange::kReduceScatterInt:
      return reduce_scatter_int;
  }
  DME_ASSERT(false);
  return allgather;
}

void finish_round(RoundContext& ctx, const RoundSum& sum, std::span<float> mean_out) {
  Timer t;
  Compression& c = ctx.compression;
  const std::span<float> acc = sum.in_output ? mean_out : c.vector(RoundVector::kSum, ctx.padded);
  if (sum.divisor != 1.0f) c.divide(acc, sum.divisor);
  if (sum.rotated) c.inverse(ctx.rotation, acc);
  if (!sum.in_output) c.to_host(acc.first(ctx.d), mean_out.first(ctx.d));
  ctx.report.times.inverse_ms += t.elapsed_ms();
}

void recheck_if_asked(const std::vector<std::int64_t>& sizes) {
  if (std::find(sizes.begin(), sizes.end(), kRecheckSize) != sizes.end()) throw RecheckRound{};
}

// Sizes travel as int64; kFailedSize from any rank makes every rank raise that rank's error.
void raise_if_failed(const std::vector<std::int64_t>& sizes,
                     const std::optional<std::string>& my_error, MPI_Comm comm) {
  for (std::size_t r = 0; r < sizes.size(); ++r)
    if (sizes[r] == kFailedSize)
      raise_everywhere(static_cast<int>(r), my_error.value_or(std::string()), comm);
}

std::vector<int> to_int_counts(const std::vector<std::int64_t>& sizes, std::vector<int>& displs) {
  std::vector<int> counts(sizes.size());
  displs.assign(sizes.size(), 0);
  std::int64_t total = 0;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    DME_CHECK(total + sizes[r] <= INT_MAX,
              "payloads of this round total more than 2^31-1 bytes, the limit of one MPI "
              "collective call; use fewer coordinates per call or the reduce-scatter exchange");
    displs[r] = static_cast<int>(total);
    counts[r] = static_cast<int>(sizes[r]);
    total += sizes[r];
  }
  return counts;
}

std::vector<std::int64_t> allgather_sizes(RoundContext& ctx, std::size_t my_bytes,
                                          const std::optional<std::string>& error) {
  const std::int64_t mine = error ? kFailedSize : static_cast<std::int64_t>(my_bytes);
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(ctx.size));
  DME_MPI_CHECK(MPI_Allgather(&mine, 1, MPI_INT64_T, sizes.data(), 1, MPI_INT64_T, ctx.comm));
  ctx.report.metadata_bytes_sent += 8 * (ctx.size - 1);
  ctx.report.metadata_bytes_received += 8 * (ctx.size - 1);
  raise_if_failed(sizes, error, ctx.comm);
  return sizes;
}

Received alltoall_payloads(RoundContext& ctx, const std::vector<std::byte>& send,
                           const std::vector<std::int64_t>& sizes,
                           const std::optional<std::string>& error) {
  Timer t;
  std::vector<std::int64_t> recv_sizes(static_cast<std::size_t>(ctx.size));
  DME_MPI_CHECK(
      MPI_Alltoall(sizes.data(), 1, MPI_INT64_T, recv_sizes.data(), 1, MPI_INT64_T, ctx.comm));
  ctx.report.metadata_bytes_sent += 8 * (ctx.size - 1);
  ctx.report.metadata_bytes_received += 8 * (ctx.size - 1);
  raise_if_failed(recv_sizes, error, ctx.comm);
  std::vector<int> sdispls;
  const std::vector<int> scounts = to_int_counts(sizes, sdispls);
  Received r;
  r.counts = to_int_counts(recv_sizes, r.displs);
  r.data = ctx.compression.take_bytes();
  r.data.resize(static_cast<std::size_t>(r.displs.back()) + r.counts.back());
  DME_MPI_CHECK(MPI_Alltoallv(send.data(), scounts.data(), sdispls.data(), MPI_BYTE, r.data.data(),
                              r.counts.data(), r.displs.data(), MPI_BYTE, ctx.comm));
  ctx.report.times.exchange_ms += t.elapsed_ms();
  ctx.report.payload_bytes_sent += send.size() - static_cast<std::uint64_t>(scounts[ctx.rank]);
  ctx.report.payload_bytes_received +=
      r.data.size() - static_cast<std::uint64_t>(r.counts[ctx.rank]);
  return r;
}

Received allgather_payloads(RoundContext& ctx, const std::vector<std::byte>& mine,
                            const std::optional<std::string>& error) {
  Timer t;
  Received r;
  r.counts = to_int_counts(allgather_sizes(ctx, mine.size(), error), r.displs);
  r.data = ctx.compression.take_bytes();
  r.data.resize(static_cast<std::size_t>(r.displs.back()) + r.counts.back());
  DME_MPI_CHECK(MPI_Allgatherv(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, r.data.data(),
                               r.counts.data(), r.displs.data(), MPI_BYTE, ctx.comm));
  ctx.report.times.exchange_ms += t.elapsed_ms();
  ctx.report.payload_bytes_sent += mine.size() * static_cast<std::uint64_t>(ctx.size - 1);
  ctx.report.payload_bytes_received += r.data.size() - mine.size();
  return r;
}

PayloadHeader payload_header(const RoundContext& ctx, std::uint64_t first, std::uint64_t count) {
  PayloadHeader h;
  h.d = ctx.d;
  h.padded = ctx.padded;
  h.bucket_size = ctx.options.bucket_size;
  h.s = static_cast<std::uint32_t>(ctx.options.s);
  h.rotations = static_cast<std::uint8_t>(ctx.rotations);
  h.biased = ctx.plan.nearest;
  h.independent_rotation = !ctx.options.shared_rotation;
  h.seed = ctx.options.seed;
  h.round = ctx.round;
  h.rank = static_cast<std::uint32_t>(ctx.rank);
  h.first = first;
  h.count = count;
  return h;
}

DecodeExpectations expectations(const RoundContext& ctx, int sender, std::uint64_t first,
                                std::uint64_t count) {
  const PayloadHeader h = payload_header(ctx, first, count);
  DecodeExpectations e;
  e.d = h.d;
  e.padded = h.padded;
  e.bucket_size = h.bucket_size;
  e.s = h.s;
  e.rotations = h.rotations;
  e.biased = h.biased;
  e.independent_rotation = h.independent_rotation;
  e.seed = h.seed;
  e.round = h.round;
  e.rank = static_cast<std::uint32_t>(sender);
  e.first = first;
  e.count = count;
  return e;
}

std::optional<std::string> try_compress(RoundContext& ctx, std::span<const float> chunk,
                                        std::uint64_t first, Purpose purpose,
                                        std::vector<std::byte>& out, const KnownRange* range) {
  auto error = mpi::capture_error([&] {
    const PhiloxStream stream(ctx.options.seed, ctx.round, static_cast<std::uint32_t>(ctx.rank),
                              purpose);
    ctx.compression.encode(chunk, payload_header(ctx, first, chunk.size()), ctx.plan, stream, out,
                           ctx.report.times, range);
  });
  if (error) out.clear();
  return error;
}

RoundSum decode_all(RoundContext& ctx, const Received& all, std::span<const float> own) {
  Compression& c = ctx.compression;
  const std::span<float> acc = c.vector(RoundVector::kSum, ctx.padded);
  c.fill_zero(acc);
  for (int r = 0; r < ctx.size; ++r) {
    const bool exact = r == ctx.rank && !own.empty();
    const std::span<const std::byte> buf = all.from(r);
    const DecodeExpectations e = expectations(ctx, r, 0, ctx.padded);
    if (ctx.options.shared_rotation) {
      if (exact)
        c.add(acc, own);
      else
        c.decode_accumulate(buf, e, acc);
    } else {
      const std::span<float> term = c.vector(RoundVector::kScratch, ctx.padded);
      c.fill_zero(term);
      if (exact)
        c.add(term, own);
      else
        c.decode_accumulate(buf, e, term);
      RotationKey sender = ctx.rotation;
      sender.stream = rotation_stream(false, r);
      c.inverse(sender, term);
      c.add(acc, term);
    }
  }
  return {true, static_cast<float>(ctx.size), ctx.options.shared_rotation};
}

}  // namespace dme::detail
