#include "dme/bench/pipeline_bench.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>

#include "dme/codec/payload.h"
#include "dme/collective/detail/compress.h"
#include "dme/core/aligned_buffer.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/core/timer.h"
#include "dme/experiment/table.h"
#include "dme/experiment/timing.h"
#include "dme/quantization/metrics.h"
#include "dme/rotation/rht.h"

namespace dme {

int run_pipeline_bench(const PipelineBenchConfig& cfg, std::ostream& os) {
  validate(cfg.options);
  DME_CHECK(cfg.options.rotations != kAutoRotations, "--rotations must be a number for pipeline");
  DME_CHECK(cfg.reps >= 1, "--reps must be at least 1, got " << cfg.reps);
  const Options& o = cfg.options;
  Table table({"log2d", "rotations", "solver", "s", "rotate_ms", "solve_ms", "round_pack_ms",
               "total_ms", "memcpy_ms", "gb_per_s", "bits_per_coord", "roundtrip_vnmse"},
              cfg.csv);
  table.print_header(os);
  int status = 0;
  for (int l : cfg.log2d) {
    DME_CHECK(l >= 1 && l <= 30, "--log2d values must be in 1..30, got " << l);
    const std::size_t d = std::size_t(1) << l;
    AlignedVector<float> x(d), copy(d);
    const PhiloxStream input(o.seed, 0, 0, Purpose::kInput);
    for (std::size_t i = 0; i < d; ++i) x[i] = std::exp(2.0f * input.uniform_float(i) - 1.0f);
    std::vector<double> rot_ms, solve_ms, rp_ms, total_ms, memcpy_ms;
    std::vector<std::byte> payload;
    AlignedVector<float> y;
    detail::CompressScratch scratch;
    const CompressionPlan plan = compression_plan(o);
    for (int r = 0; r < cfg.reps + 1; ++r) {
      const std::uint32_t round = static_cast<std::uint32_t>(r);
      Timer total;
      const Rotation rot(o.seed, round, o.rotations, d);
      y.resize(rot.padded());
      detail::KnownRange range{};
      rot.forward(x, y, range.min, range.max);
      const double rms = total.elapsed_ms();
      PayloadHeader h;
      h.d = d;
      h.padded = rot.padded();
      h.count = rot.padded();
      h.bucket_size = o.bucket_size;
      h.s = static_cast<std::uint32_t>(o.s);
      h.rotations = static_cast<std::uint8_t>(o.rotations);
      h.biased = plan.nearest;
      h.seed = o.seed;
      h.round = round;
      PhaseTimes t;
      detail::compress_chunk(y, h, plan, PhiloxStream(o.seed, round, 0, Purpose::kRounding),
                             scratch, payload, t, &range);
      const double tms = total.elapsed_ms();
      Timer mc;
      std::memcpy(copy.data(), x.data(), 4 * d);
      const double mms = mc.elapsed_ms();
      if (r == 0) continue;  // warm-up
      rot_ms.push_back(rms);
      solve_ms.push_back(t.solve_ms);
      rp_ms.push_back(t.round_pack_ms);
      total_ms.push_back(tms);
      memcpy_ms.push_back(mms);
    }
    // Self-check: decode, rotate back, compare with the analytic variance of the last round.
    AlignedVector<float> back(y.size(), 0.0f), out(d);
    const PayloadHeader h = decode_accumulate(payload, {}, std::span<float>(back));
    const Rotation rot(o.seed, h.round, o.rotations, d);
    const Payload p = decode(payload);
    double bound = 0;
    if (o.bucket_size == 0 && !plan.nearest) bound = analytic_vnmse(y, p.levels.values);
    rot.inverse(back, out);
    const double err = vnmse(x, out);
    if (!plan.nearest && o.bucket_size == 0 && err > 4 * bound + 1e-12) {
      std::cerr << "dme-bench pipeline: round trip vNMSE " << err << " exceeds 4x the analytic "
                << bound << " at log2d " << l << "\n";
      status = 1;
    }
    const double tot = median(total_ms);
    table.print_row(
        os, {static_cast<long long>(l), static_cast<long long>(o.rotations),
             std::string(solver_name(o.solver)), static_cast<long long>(o.s), median(rot_ms),
             median(solve_ms), median(rp_ms), tot, median(memcpy_ms), 4.0 * double(d) / (tot * 1e6),
             8.0 * double(payload.size()) / double(d), err});
  }
  return status;
}

}  // namespace dme
