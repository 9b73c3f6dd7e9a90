// The allgather exchange: every rank gathers every payload (MPI_Allgatherv) and decodes them all.
#include "dme/collective/detail/round.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/timer.h"

namespace dme::detail {

RoundSum reduce_allgather(RoundContext& ctx, std::span<const float> y) {
  std::vector<std::byte> mine;
  const auto error = try_compress(ctx, y, 0, Purpose::kRounding, mine, ctx.rotated_range);
  Timer t;
  std::vector<int> displs;
  const std::vector<int> counts = to_int_counts(allgather_sizes(ctx, mine.size(), error), displs);
  std::vector<std::byte> all(static_cast<std::size_t>(displs.back()) + counts.back());
  DME_MPI_CHECK(MPI_Allgatherv(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.data(),
                               counts.data(), displs.data(), MPI_BYTE, ctx.comm));
  ctx.report.times.exchange_ms += t.elapsed_ms();
  ctx.report.payload_bytes = mine.size();
  ctx.report.payload_bytes_sent = mine.size() * static_cast<std::uint64_t>(ctx.size - 1);
  ctx.report.payload_bytes_received = all.size() - mine.size();
  t.reset();
  const RoundSum sum = decode_all(ctx, all, counts, displs);
  ctx.report.times.decode_ms += t.elapsed_ms();
  return sum;
}

}  // namespace dme::detail
