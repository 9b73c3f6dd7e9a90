#include "dme/collective/detail/compress.h"

#include <algorithm>
#include <cmath>

#include "dme/core/error.h"
#include "dme/core/parallel.h"
#include "dme/core/timer.h"
#include "dme/quantization/norm_grid.h"
#include "dme/quantization/quiver_approx.h"
#include "dme/quantization/rounding.h"
#include "dme/quantization/uniform.h"

namespace dme::detail {
namespace {

// Codes rounded and packed per step: 16 KiB of codes, in L1 with the packed bytes.
constexpr std::size_t kRoundBlock = 8192;

// Blocks between calls of the progress callback (dme/core/parallel.h), about 0.1 ms of work.
constexpr std::size_t kProgressBlocks = 8;

// Coordinates that estimate the dither scale (a deterministic subsample of longer chunks).
constexpr std::size_t kDitherSample = 16384;

}  // namespace

float bucket_norm(std::span<const float> bucket) {
  // Eight partial sums (coordinate i into sum i mod 8), added in a fixed order at the end: the
  // same value on every machine, without one long chain of dependent additions.
  constexpr std::size_t kLanes = 8;
  double part[kLanes] = {};
  const std::size_t n = bucket.size(), whole = n / kLanes * kLanes;
  for (std::size_t i = 0; i < whole; i += kLanes)
    for (std::size_t j = 0; j < kLanes; ++j) part[j] += double(bucket[i + j]) * bucket[i + j];
  for (std::size_t i = whole; i < n; ++i) part[i - whole] += double(bucket[i]) * bucket[i];
  const double sum =
      ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  DME_CHECK(std::isfinite(sum), "qsgd: the bucket's norm is not finite (NaN or Inf in the input?)");
  // Rounded to float, the norm stays >= every |x_i| (each is a float <= the exact norm), and
  // fl(norm · ±1) = ±norm are the grid's ends: every coordinate lies on the grid.
  const auto norm = static_cast<float>(std::sqrt(sum));
  DME_CHECK(std::isfinite(norm), "qsgd: the bucket's norm " << std::sqrt(sum)
                                                            << " overflows float32");
  return norm;
}

std::vector<float> norm_grid_levels(std::span<const float> bucket, std::size_t s) {
  return norm_grid(bucket_norm(bucket), norm_grid_unit(s)).levels;
}

void norm_grid_tables(std::span<const float> chunk, const PayloadHeader& header, std::size_t s,
                      CompressScratch& scratch) {
  const std::vector<float> unit = norm_grid_unit(s);
  std::vector<float> norms;
  scratch.grid_codes.clear();
  scratch.levels = bucket_levels(header, [&](std::uint64_t lo, std::uint64_t hi) {
    norms.push_back(bucket_norm(chunk.subspan(lo, hi - lo)));
    NormGrid grid = norm_grid(norms.back(), unit);
    scratch.grid_codes.push_back(std::move(grid.code_of));
    return std::move(grid.levels);
  });
  scratch.norms = norm_grid_table(std::move(norms), static_cast<std::uint32_t>(s));
}

float dither_scale(std::span<const float> chunk, const PayloadHeader& header,
                   const LevelTable& levels) {
  // c = 6 · mean of Δ·f·(1 - f) = 6 · mean of (x - a)(b - x)/Δ over the coordinates, x in
  // [a, b] between adjacent levels (docs/schemes.md); any c keeps the estimate unbiased,
  // so a subsample serves.
  const std::size_t count = chunk.size();
  if (count == 0) return 0.0f;
  const std::size_t bucket = bucket_length(header);
  const std::size_t step = std::max<std::size_t>(1, count / kDitherSample);
  double sum = 0;
  std::size_t used = 0;
  for (std::size_t i = 0; i < count; i += step, ++used) {
    const std::size_t b = i / bucket;
    const float* lo = levels.values.data() + levels.offsets[b];
    const float* hi = levels.values.data() + levels.offsets[b + 1];
    if (hi - lo < 2) continue;
    const float x = chunk[i];
    const float* up = std::upper_bound(lo + 1, hi - 1, x);  // first level above x, or the last
    const double a = up[-1], c = up[0];
    sum += (double(x) - a) * (c - double(x)) / (c - a);
  }
  return static_cast<float>(6.0 * sum / static_cast<double>(used));
}

LevelTable chunk_levels(std::span<const float> chunk, const PayloadHeader& header,
                        const CompressionPlan& plan, const KnownRange* range) {
  // A one-bucket quiver-apx given the rotation's extremes skips the solver's pass that finds
  // them (non-finite extremes, from an overflowing rotation, go the checked way and get named).
  DME_ASSERT(!plan.norm_grid && "qsgd's tables come from norm_grid_tables");
  const bool use_range = range && num_buckets(header) == 1 && plan.solver == Solver::kQuiverApx &&
                         std::isfinite(range->min) && std::isfinite(range->max) &&
                         range->min != 0.0f && range->max != 0.0f;  // a zero's sign: the scan's
  return bucket_levels(header, [&](std::uint64_t lo, std::uint64_t hi) {
    return use_range
               ? quiver_approx(chunk, plan.s, plan.solver_options.m, range->min, range->max)
               : solve_levels(chunk.subspan(lo, hi - lo), plan.s, plan.solver, plan.solver_options);
  });
}

void compress_chunk(std::span<const float> chunk, const PayloadHeader& header,
                    const CompressionPlan& plan, const PhiloxStream& stream,
                    CompressScratch& scratch, std::vector<std::byte>& out, PhaseTimes& times,
                    const KnownRange* range) {
  check_plan(header, plan, chunk.size());
  const std::size_t count = chunk.size();
  const std::size_t bucket = bucket_length(header);

  Timer solve_timer;
  scratch.grid_codes.clear();
  if (plan.levels) {
    scratch.levels.values = *plan.levels;
    scratch.levels.offsets = {0, static_cast<std::uint32_t>(plan.levels->size())};
  } else if (plan.norm_grid) {
    norm_grid_tables(chunk, header, plan.s, scratch);
  } else {
    scratch.levels = chunk_levels(chunk, header, plan, range);
  }
  times.solve_ms += solve_timer.elapsed_ms();

  Timer round_timer;
  PayloadHeader h = header;
  if (plan.shared_dither) {
    DME_CHECK(!plan.nearest, "a shared dither needs stochastic rounding");
    h.kind = PayloadKind::kDitheredLevels;
    h.dither_purpose = static_cast<std::uint8_t>(stream.purpose());
    h.dither = dither_scale(chunk, header, scratch.levels);
  }
  if (plan.norm_grid) h.kind = PayloadKind::kNormGrid;  // the norms go, the grids follow
  PayloadWriter writer(h, plan.norm_grid ? scratch.norms : scratch.levels, out);
  const std::size_t block =
      std::max<std::size_t>(1, kRoundBlock / writer.alignment()) * writer.alignment();
  // Codes [start, start + codes.size()) of the chunk, each bucket rounded to its own levels.
  const auto round_block = [&](std::size_t start, std::span<std::uint16_t> codes) {
    for (std::size_t i = start; i < start + codes.size();) {
      const std::size_t b = i / bucket;
      const std::size_t end = std::min(start + codes.size(), (b + 1) * bucket);
      const std::span<const float> levels(
          scratch.levels.values.data() + scratch.levels.offsets[b],
          scratch.levels.offsets[b + 1] - scratch.levels.offsets[b]);
      const auto part = chunk.subspan(i, end - i);
      const auto out_codes = codes.subspan(i - start, end - i);
      if (plan.nearest)
        nearest_round(part, levels, out_codes);
      else
        stochastic_round(part, levels, stream, header.first + i, out_codes);
      if (b < scratch.grid_codes.size() && !scratch.grid_codes[b].empty())
        for (std::uint16_t& c : out_codes) c = scratch.grid_codes[b][c];  // merged grid levels
      i = end;
    }
  };
  const std::size_t blocks = (count + block - 1) / block;
  if (current_threads() > 1 && blocks > 1) {
    // Blocks in any order on the threads (a code depends only on its coordinate and its draw),
    // then the checksum over the whole payload.
    scratch.worker_codes.resize(parallel_workers(blocks));
    parallel_for(blocks, [&](std::size_t k, unsigned worker) {
      std::vector<std::uint16_t>& codes = scratch.worker_codes[worker];
      codes.resize(block);
      const std::size_t start = k * block, n = std::min(block, count - start);
      round_block(start, std::span<std::uint16_t>(codes).first(n));
      writer.pack_unordered(start, std::span<const std::uint16_t>(codes).first(n));
      if (k % kProgressBlocks == kProgressBlocks - 1) poll_progress();  // the caller's thread
    });
    writer.finish_unordered();
  } else {
    // Rounding and packing fused: a block of codes at a time, in L1, straight into the payload.
    scratch.codes.resize(std::min(block, count));
    for (std::size_t start = 0; start < count; start += block) {
      const std::size_t n = std::min(block, count - start);
      round_block(start, std::span<std::uint16_t>(scratch.codes).first(n));
      writer.pack(start, std::span<const std::uint16_t>(scratch.codes).first(n));
      if ((start / block) % kProgressBlocks == kProgressBlocks - 1) poll_progress();
    }
    writer.finish();
  }
  times.round_pack_ms += round_timer.elapsed_ms();
}

namespace {

class CpuCompression final : public Compression {
 public:
  std::string_view name() const override { return "cpu"; }
  void encode(std::span<const float> chunk, const PayloadHeader& h, const CompressionPlan& plan,
              const PhiloxStream& stream, std::vector<std::byte>& out, PhaseTimes& times,
              const Extrema<float>* range) override {
    compress_chunk(chunk, h, plan, stream, scratch_, out, times, range);
  }

 private:
  CompressScratch scratch_;
};

}  // namespace

std::unique_ptr<Compression> make_cpu_compression() {
  return std::make_unique<CpuCompression>();
}

}  // namespace dme::detail
