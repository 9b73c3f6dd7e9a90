// The allgather exchange: every rank gathers every payload (MPI_Allgatherv) and decodes them all.
#include "dme/collective/detail/round.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/timer.h"

namespace dme::detail {

RoundSum reduce_allgather(RoundContext& ctx, std::span<const float> y) {
  std::vector<std::byte> mine;
  const auto error = try_compress(ctx, y, 0, Purpose::kRounding, mine, ctx.rotated_range);
  const Received all = allgather_payloads(ctx, mine, error);
  ctx.report.payload_bytes = mine.size();
  Timer t;
  const RoundSum sum = decode_all(ctx, all);
  ctx.report.times.decode_ms += t.elapsed_ms();
  return sum;
}

}  // namespace dme::detail
