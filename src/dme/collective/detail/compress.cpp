#include "dme/collective/detail/compress.h"

#include <algorithm>

#include "dme/core/error.h"
#include "dme/core/timer.h"
#include "dme/quantization/rounding.h"

namespace dme::detail {

void compress_chunk(std::span<const float> chunk, const PayloadHeader& header,
                    const CompressPlan& plan, const PhiloxStream& stream, CompressScratch& scratch,
                    std::vector<std::byte>& out, PhaseTimes& times) {
  DME_ASSERT(chunk.size() == header.count);
  DME_ASSERT(header.bucket_size == plan.bucket_size && header.s == plan.s);
  const std::size_t count = chunk.size();
  const std::size_t bucket = plan.bucket_size ? plan.bucket_size : std::max<std::size_t>(count, 1);
  const std::size_t buckets = num_buckets(header);
  scratch.codes.resize(count);
  scratch.levels.values.clear();
  scratch.levels.offsets.assign(1, 0);

  double solve_ms = 0, round_ms = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t lo = b * bucket, hi = std::min(count, lo + bucket);
    const auto part = chunk.subspan(lo, hi - lo);
    Timer solve_timer;
    const std::vector<float> levels = solve_levels(part, plan.s, plan.solver, plan.solver_options);
    solve_ms += solve_timer.elapsed_ms();

    Timer round_timer;
    auto codes = std::span<std::uint16_t>(scratch.codes).subspan(lo, hi - lo);
    if (plan.nearest)
      nearest_round(part, levels, codes);
    else
      stochastic_round(part, levels, stream, header.first + lo, codes);
    scratch.levels.values.insert(scratch.levels.values.end(), levels.begin(), levels.end());
    scratch.levels.offsets.push_back(static_cast<std::uint32_t>(scratch.levels.values.size()));
    round_ms += round_timer.elapsed_ms();
  }
  Timer pack_timer;
  encode(header, scratch.levels, scratch.codes, out);
  times.solve_ms += solve_ms;
  times.round_pack_ms += round_ms + pack_timer.elapsed_ms();
}

}  // namespace dme::detail
