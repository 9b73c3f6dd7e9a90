#include "dme/collective/detail/exchange.h"

#include <algorithm>
#include <climits>
#include <limits>

#include "dme/collective/detail/agreement.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/timer.h"

namespace dme::detail {
namespace {

PhiloxStream rounding_stream(const RoundContext& ctx, Purpose purpose) {
  return PhiloxStream(ctx.options.seed, ctx.round, static_cast<std::uint32_t>(ctx.rank), purpose);
}

// Compresses y[first, first + count) as this rank; on a local error returns false and stores
// its message, so the failure travels with the sizes instead of leaving the others blocked.
bool try_compress(RoundContext& ctx, std::span<const float> chunk, std::uint64_t first,
                  Purpose purpose, std::vector<std::byte>& out, std::string& error) {
  try {
    PayloadHeader h = base_header(ctx);
    h.first = first;
    h.count = chunk.size();
    // The rotation's extremes describe the whole rotated vector only.
    const KnownRange* range = chunk.size() == ctx.padded ? ctx.rotated_range : nullptr;
    compress_chunk(chunk, h, ctx.plan, rounding_stream(ctx, purpose), ctx.scratch, out,
                   ctx.report.times, range);
    return true;
  } catch (const Error& e) {
    error = e.message();
    out.clear();
    return false;
  }
}

// Every rank: sizes of everybody's payload, then the payloads themselves.
std::vector<std::byte> allgather_payloads(RoundContext& ctx, const std::vector<std::byte>& mine,
                                          bool ok, const std::string& error,
                                          std::vector<int>& counts, std::vector<int>& displs) {
  counts = to_int_counts(allgather_sizes(ctx, mine.size(), ok, error), displs);
  std::vector<std::byte> all(static_cast<std::size_t>(displs.back()) + counts.back());
  DME_MPI_CHECK(MPI_Allgatherv(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data(),
                               counts.data(), displs.data(), MPI_BYTE, ctx.comm));
  return all;
}

DecodeExpectations expect_from(const RoundContext& ctx, int sender, std::uint64_t first,
                               std::uint64_t count) {
  DecodeExpectations e = base_expectations(ctx);
  e.rank = static_cast<std::uint32_t>(sender);
  e.first = first;
  e.count = count;
  return e;
}

// Sum of the decoded payloads of all ranks (each covering the whole rotated vector), in rank
// order, into ctx.accumulator; per-rank rotations are undone one payload at a time.
void decode_all(RoundContext& ctx, const std::vector<std::byte>& all,
                const std::vector<int>& counts, const std::vector<int>& displs) {
  auto& acc = ctx.accumulator;
  acc.assign(ctx.padded, 0.0f);
  AlignedVector<float> own;
  for (int r = 0; r < ctx.size; ++r) {
    std::span<const std::byte> buf(all.data() + displs[r], static_cast<std::size_t>(counts[r]));
    const DecodeExpectations e = expect_from(ctx, r, 0, ctx.padded);
    if (ctx.options.shared_rotation) {
      decode_accumulate(buf, e, std::span<float>(acc));
    } else {
      own.assign(ctx.padded, 0.0f);
      decode_accumulate(buf, e, std::span<float>(own));
      Rotation(ctx.options.seed, ctx.round, ctx.rotations, ctx.d, rotation_stream(false, r))
          .inverse_inplace(std::span<float>(own));
      for (std::size_t i = 0; i < ctx.padded; ++i) acc[i] += own[i];
    }
  }
}

// mean_out <- first d of R⁻¹(acc / n) (shared rotation), or of acc / n (already unrotated).
void finish_mean(RoundContext& ctx, std::span<float> mean_out) {
  Timer t;
  auto& acc = ctx.accumulator;
  const float n = static_cast<float>(ctx.size);
  for (auto& v : acc) v /= n;
  if (ctx.options.shared_rotation) ctx.rotation.inverse_inplace(std::span<float>(acc));
  std::copy_n(acc.begin(), ctx.d, mean_out.begin());
  ctx.report.times.inverse_ms += t.elapsed_ms();
}

}  // namespace

// Sizes travel as int64; kFailedSize from any rank makes every rank raise that rank's error.
void raise_if_failed(const std::vector<std::int64_t>& sizes, const std::string& my_error,
                     MPI_Comm comm) {
  for (std::size_t r = 0; r < sizes.size(); ++r)
    if (sizes[r] == kFailedSize) raise_everywhere(static_cast<int>(r), my_error, comm);
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

std::vector<std::int64_t> allgather_sizes(RoundContext& ctx, std::size_t my_bytes, bool ok,
                                          const std::string& error) {
  const std::int64_t mine = ok ? static_cast<std::int64_t>(my_bytes) : kFailedSize;
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(ctx.size));
  DME_MPI_CHECK(MPI_Allgather(&mine, 1, MPI_INT64_T, sizes.data(), 1, MPI_INT64_T, ctx.comm));
  ctx.report.metadata_bytes_sent += 8 * (ctx.size - 1);
  ctx.report.metadata_bytes_received += 8 * (ctx.size - 1);
  raise_if_failed(sizes, error, ctx.comm);
  return sizes;
}

PayloadHeader base_header(const RoundContext& ctx) {
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
  return h;
}

DecodeExpectations base_expectations(const RoundContext& ctx) {
  const PayloadHeader h = base_header(ctx);
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
  return e;
}

void exchange_allgather(RoundContext& ctx, std::span<const float> y, std::span<float> mean_out) {
  std::vector<std::byte> mine;
  std::string error;
  const bool ok = try_compress(ctx, y, 0, Purpose::kRounding, mine, error);
  Timer t;
  std::vector<int> counts, displs;
  const auto all = allgather_payloads(ctx, mine, ok, error, counts, displs);
  ctx.report.times.exchange_ms += t.elapsed_ms();
  ctx.report.payload_bytes = mine.size();
  ctx.report.payload_bytes_sent = mine.size() * static_cast<std::uint64_t>(ctx.size - 1);
  ctx.report.payload_bytes_received = all.size() - mine.size();
  t.reset();
  decode_all(ctx, all, counts, displs);
  ctx.report.times.decode_ms += t.elapsed_ms();
  finish_mean(ctx, mean_out);
}

void exchange_gather_bcast(RoundContext& ctx, std::span<const float> y, std::span<float> mean_out) {
  constexpr int kRoot = 0;
  std::vector<std::byte> mine;
  std::string error;
  const bool ok = try_compress(ctx, y, 0, Purpose::kRounding, mine, error);
  Timer t;
  // Sizes go to every rank (not only the root), so a failure is known everywhere.
  std::vector<int> displs;
  const std::vector<int> counts =
      to_int_counts(allgather_sizes(ctx, mine.size(), ok, error), displs);
  std::vector<std::byte> all;
  if (ctx.rank == kRoot) all.resize(static_cast<std::size_t>(displs.back()) + counts.back());
  DME_MPI_CHECK(MPI_Gatherv(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data(),
                            counts.data(), displs.data(), MPI_BYTE, kRoot, ctx.comm));
  ctx.report.times.exchange_ms += t.elapsed_ms();

  // The root decodes; a corrupt payload there must reach every rank before the broadcast.
  std::string decode_error;
  if (ctx.rank == kRoot) {
    t.reset();
    try {
      decode_all(ctx, all, counts, displs);
      ctx.report.times.decode_ms += t.elapsed_ms();
      finish_mean(ctx, mean_out);
    } catch (const Error& e) {
      decode_error = e.message();
    }
  }
  t.reset();
  int root_failed = decode_error.empty() ? 0 : 1;
  DME_MPI_CHECK(MPI_Bcast(&root_failed, 1, MPI_INT, kRoot, ctx.comm));
  if (root_failed) raise_everywhere(kRoot, decode_error, ctx.comm);
  DME_MPI_CHECK(MPI_Bcast(mean_out.data(), static_cast<int>(ctx.d), MPI_FLOAT, kRoot, ctx.comm));
  ctx.report.times.exchange_ms += t.elapsed_ms();
  const std::uint64_t result_bytes = 4 * ctx.d;
  ctx.report.payload_bytes = mine.size();
  if (ctx.rank == kRoot) {
    ctx.report.payload_bytes_received = all.size() - mine.size();
    ctx.report.payload_bytes_sent = result_bytes * static_cast<std::uint64_t>(ctx.size - 1);
  } else {
    ctx.report.payload_bytes_sent = mine.size();
    ctx.report.payload_bytes_received = result_bytes;
  }
}

}  // namespace dme::detail
