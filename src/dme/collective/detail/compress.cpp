#include "dme/collective/detail/compress.h"

#include <algorithm>
#include <cmath>

#include "dme/core/error.h"
#include "dme/core/timer.h"
#include "dme/quantization/quiver_approx.h"
#include "dme/quantization/rounding.h"

namespace dme::detail {
namespace {

// Codes rounded and packed per step: 16 KiB of codes, in L1 with the packed bytes.
constexpr std::size_t kRoundBlock = 8192;

}  // namespace

void compress_chunk(std::span<const float> chunk, const PayloadHeader& header,
                    const CompressPlan& plan, const PhiloxStream& stream, CompressScratch& scratch,
                    std::vector<std::byte>& out, PhaseTimes& times, const KnownRange* range) {
  DME_ASSERT(chunk.size() == header.count);
  DME_ASSERT(header.bucket_size == plan.bucket_size && header.s == plan.s);
  const std::size_t count = chunk.size();
  const std::size_t bucket = bucket_length(header);
  const std::size_t buckets = num_buckets(header);
  scratch.levels.values.clear();
  scratch.levels.offsets.assign(1, 0);

  // A one-bucket quiver-apx given the rotation's extremes skips the solver's pass that finds
  // them (non-finite extremes, from an overflowing rotation, go the checked way and get named).
  const bool use_range = range && buckets == 1 && plan.solver == Solver::kQuiverApx &&
                         std::isfinite(range->min) && std::isfinite(range->max);
  Timer solve_timer;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t lo = b * bucket, hi = std::min(count, lo + bucket);
    const std::vector<float> levels =
        use_range
            ? quiver_approx(chunk, plan.s, plan.solver_options.m, range->min, range->max)
            : solve_levels(chunk.subspan(lo, hi - lo), plan.s, plan.solver, plan.solver_options);
    scratch.levels.values.insert(scratch.levels.values.end(), levels.begin(), levels.end());
    scratch.levels.offsets.push_back(static_cast<std::uint32_t>(scratch.levels.values.size()));
  }
  times.solve_ms += solve_timer.elapsed_ms();

  // Rounding and packing fused: a block of codes at a time, in L1, straight into the payload.
  Timer round_timer;
  PayloadWriter writer(header, scratch.levels, out);
  const std::size_t block =
      std::max<std::size_t>(1, kRoundBlock / writer.alignment()) * writer.alignment();
  scratch.codes.resize(std::min(block, count));
  for (std::size_t start = 0; start < count; start += block) {
    const std::size_t n = std::min(block, count - start);
    for (std::size_t i = start; i < start + n;) {
      const std::size_t b = i / bucket;
      const std::size_t end = std::min(start + n, (b + 1) * bucket);
      const std::span<const float> levels(
          scratch.levels.values.data() + scratch.levels.offsets[b],
          scratch.levels.offsets[b + 1] - scratch.levels.offsets[b]);
      const auto part = chunk.subspan(i, end - i);
      const auto codes = std::span<std::uint16_t>(scratch.codes).subspan(i - start, end - i);
      if (plan.nearest)
        nearest_round(part, levels, codes);
      else
        stochastic_round(part, levels, stream, header.first + i, codes);
      i = end;
    }
    writer.pack(start, std::span<const std::uint16_t>(scratch.codes).first(n));
  }
  writer.finish();
  times.round_pack_ms += round_timer.elapsed_ms();
}

}  // namespace dme::detail
