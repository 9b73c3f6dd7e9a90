// The reduce-scatter exchange: chunks of the rotated vector are summed by their owners, the
// averages re-quantised unbiasedly and gathered by all.
#include <algorithm>
#include <climits>

#include "dme/codec/payload.h"
#include "dme/collective/detail/agreement.h"
#include "dme/collective/detail/round.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/timer.h"

namespace dme::detail {
namespace {

// Chunk j of the padded vector: [bound(j), bound(j + 1)); empty chunks when padded < n.
std::uint64_t bound(const RoundContext& ctx, int j) {
  return ctx.padded * static_cast<std::uint64_t>(j) / static_cast<std::uint64_t>(ctx.size);
}

// Step 1: quantise every chunk of y with its own levels, one payload per owner. On a failure
// every size is kFailedSize, so each owner learns of it from the sizes.
std::optional<std::string> compress_chunks(RoundContext& ctx, std::span<const float> y,
                                           std::vector<std::byte>& send,
                                           std::vector<std::int64_t>& sizes) {
  sizes.assign(static_cast<std::size_t>(ctx.size), 0);
  send.clear();
  std::vector<std::byte> one;
  for (int j = 0; j < ctx.size; ++j) {
    const std::uint64_t lo = bound(ctx, j), hi = bound(ctx, j + 1);
    if (hi == lo) continue;
    if (auto error = try_compress(ctx, y.subspan(lo, hi - lo), lo, Purpose::kRounding, one)) {
      sizes.assign(static_cast<std::size_t>(ctx.size), kFailedSize);
      send.clear();
      return error;
    }
    sizes[static_cast<std::size_t>(j)] = static_cast<std::int64_t>(one.size());
    send.insert(send.end(), one.begin(), one.end());
  }
  return std::nullopt;
}

}  // namespace

RoundSum reduce_reduce_scatter(RoundContext& ctx, std::span<const float> y) {
  auto& rep = ctx.report;
  std::vector<std::byte> send;
  std::vector<std::int64_t> send_sizes, recv_sizes(static_cast<std::size_t>(ctx.size));
  std::optional<std::string> error = compress_chunks(ctx, y, send, send_sizes);
  std::uint64_t own_bytes = 0;
  for (auto s : send_sizes) own_bytes += s > 0 ? static_cast<std::uint64_t>(s) : 0;
  rep.payload_bytes = own_bytes;

  Timer t;
  DME_MPI_CHECK(
      MPI_Alltoall(send_sizes.data(), 1, MPI_INT64_T, recv_sizes.data(), 1, MPI_INT64_T, ctx.comm));
  rep.metadata_bytes_sent += 8 * (ctx.size - 1);
  rep.metadata_bytes_received += 8 * (ctx.size - 1);
  raise_if_failed(recv_sizes, error, ctx.comm);
  std::vector<int> sdispls, rdispls;
  const std::vector<int> scounts = to_int_counts(send_sizes, sdispls);
  const std::vector<int> rcounts = to_int_counts(recv_sizes, rdispls);
  std::vector<std::byte> recv(static_cast<std::size_t>(rdispls.back()) + rcounts.back());
  DME_MPI_CHECK(MPI_Alltoallv(send.data(), scounts.data(), sdispls.data(), MPI_BYTE, recv.data(),
                              rcounts.data(), rdispls.data(), MPI_BYTE, ctx.comm));
  rep.times.exchange_ms += t.elapsed_ms();
  rep.payload_bytes_sent += own_bytes - static_cast<std::uint64_t>(scounts[ctx.rank]);
  rep.payload_bytes_received += recv.size() - static_cast<std::uint64_t>(rcounts[ctx.rank]);

  // Step 2: the owner sums its chunk over the ranks, averages and re-quantises it.
  const std::uint64_t lo = bound(ctx, ctx.rank), hi = bound(ctx, ctx.rank + 1);
  std::vector<std::byte> mine;
  t.reset();
  Compression& c = ctx.compression;
  const std::span<float> avg = c.vector(RoundVector::kScratch, hi - lo);
  error = mpi::capture_error([&] {
    c.fill_zero(avg);
    for (int r = 0; r < ctx.size && hi > lo; ++r)
      c.decode_accumulate(std::span<const std::byte>(recv.data() + rdispls[r],
                                                     static_cast<std::size_t>(rcounts[r])),
                          expectations(ctx, r, lo, hi - lo), avg);
    c.divide(avg, static_cast<float>(ctx.size));
  });
  rep.times.decode_ms += t.elapsed_ms();
  if (!error && hi > lo) error = try_compress(ctx, avg, lo, Purpose::kRequantize, mine);

  // Step 3: everyone gathers the averaged chunks.
  t.reset();
  std::vector<int> displs;
  const std::vector<int> counts = to_int_counts(allgather_sizes(ctx, mine.size(), error), displs);
  std::vector<std::byte> all(static_cast<std::size_t>(displs.back()) + counts.back());
  DME_MPI_CHECK(MPI_Allgatherv(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data(),
                               counts.data(), displs.data(), MPI_BYTE, ctx.comm));
  rep.times.exchange_ms += t.elapsed_ms();
  rep.payload_bytes_sent += mine.size() * static_cast<std::uint64_t>(ctx.size - 1);
  rep.payload_bytes_received += all.size() - mine.size();

  t.reset();
  const std::span<float> acc = c.vector(RoundVector::kSum, ctx.padded);
  c.fill_zero(acc);
  for (int j = 0; j < ctx.size; ++j) {
    const std::uint64_t a = bound(ctx, j), b = bound(ctx, j + 1);
    if (a == b) continue;
    c.decode_accumulate(
        std::span<const std::byte>(all.data() + displs[j], static_cast<std::size_t>(counts[j])),
        expectations(ctx, j, a, b - a), acc.subspan(a, b - a));
  }
  rep.times.decode_ms += t.elapsed_ms();
  return {true, 1.0f, true};  // the chunks are averages already, in the rotated domain
}

}  // namespace dme::detail
