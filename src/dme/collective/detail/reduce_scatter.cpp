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

// Step 1: quantise every chunk of y with its own levels, one payload per owner. On a failure
// every size is kFailedSize, so each owner learns of it from the sizes.
std::optional<std::string> compress_chunks(RoundContext& ctx, std::span<const float> y,
                                           std::vector<std::byte>& send,
                                           std::vector<std::int64_t>& sizes) {
  sizes.assign(static_cast<std::size_t>(ctx.size), 0);
  send.clear();
  std::vector<std::byte> one = ctx.compression.take_bytes();
  const GiveBackBytes keep_one(ctx.compression, one);
  for (int j = 0; j < ctx.size; ++j) {
    const std::uint64_t lo = chunk_bound(ctx, j), hi = chunk_bound(ctx, j + 1);
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
  std::vector<std::byte> send = ctx.compression.take_bytes();
  const GiveBackBytes keep_send(ctx.compression, send);
  std::vector<std::int64_t> send_sizes;
  std::optional<std::string> error = compress_chunks(ctx, y, send, send_sizes);
  std::uint64_t own_bytes = 0;
  for (auto s : send_sizes) own_bytes += s > 0 ? static_cast<std::uint64_t>(s) : 0;
  rep.payload_bytes = own_bytes;

  Received recv = alltoall_payloads(ctx, send, send_sizes, error);
  const GiveBackBytes keep_recv(ctx.compression, recv.data);
  rep.reduce_bytes_received = rep.payload_bytes_received;

  // Step 2: the owner sums its chunk over the ranks, averages and re-quantises it.
  const std::uint64_t lo = chunk_bound(ctx, ctx.rank), hi = chunk_bound(ctx, ctx.rank + 1);
  std::vector<std::byte> mine = ctx.compression.take_bytes();
  const GiveBackBytes keep_mine(ctx.compression, mine);
  Timer t;
  Compression& c = ctx.compression;
  const std::span<float> avg = c.vector(RoundVector::kScratch, hi - lo);
  error = mpi::capture_error([&] {
    c.fill_zero(avg);
    for (int r = 0; r < ctx.size && hi > lo; ++r)
      c.decode_accumulate(recv.from(r), expectations(ctx, r, lo, hi - lo), avg);
    c.divide(avg, static_cast<float>(ctx.size));
  });
  rep.times.decode_ms += t.elapsed_ms();
  if (!error && hi > lo) error = try_compress(ctx, avg, lo, Purpose::kRequantize, mine);

  // Step 3: everyone gathers the averaged chunks.
  Received all = allgather_payloads(ctx, mine, error);
  const GiveBackBytes keep_all(ctx.compression, all.data);

  t.reset();
  const std::span<float> acc = c.vector(RoundVector::kSum, ctx.padded);
  c.fill_zero(acc);
  for (int j = 0; j < ctx.size; ++j) {
    const std::uint64_t a = chunk_bound(ctx, j), b = chunk_bound(ctx, j + 1);
    if (a == b) continue;
    c.decode_accumulate(all.from(j), expectations(ctx, j, a, b - a), acc.subspan(a, b - a));
  }
  rep.times.decode_ms += t.elapsed_ms();
  return {true, 1.0f, true};  // the chunks are averages already, in the rotated domain
}

}  // namespace dme::detail
