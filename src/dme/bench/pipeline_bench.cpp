#include "dme/bench/pipeline_bench.h"

#include <algorithm>
#include <cmath>
#include <iostream>

#include "dme/bench/device.h"
#include "dme/codec/payload.h"
#include "dme/core/aligned_buffer.h"
#include "dme/core/error.h"
#include "dme/core/parallel.h"
#include "dme/core/rng.h"
#include "dme/experiment/table.h"
#include "dme/quantization/metrics.h"
#include "dme/quantization/norm_grid.h"
#include "dme/quantization/quic_fl.h"

namespace dme {

int run_pipeline_bench(const PipelineBenchConfig& cfg, std::ostream& os) {
  // The estimator's options minus the backend, which here picks the device.
  Options o = cfg.options;
  o.backend = Backend::kCpu;
  validate(o);
  DME_CHECK(o.rotations != kAutoRotations, "--rotations must be a number for pipeline");
  DME_CHECK(cfg.reps >= 1, "--reps must be at least 1, got " << cfg.reps);
  const std::unique_ptr<PipelineDevice> device = make_pipeline_device(cfg.options.backend);
  DME_CHECK(!cfg.threads.empty(), "--threads needs at least one count");
  for (int n : cfg.threads)
    DME_CHECK(n >= 1 && n <= kMaxThreads,
              "--threads values must be in 1.." << kMaxThreads << ", got " << n);
  for (int l : cfg.log2d)
    DME_CHECK(l >= 1 && l <= 30, "--log2d values must be in 1..30, got " << l);
  const bool solves = scheme_solves_levels(o.scheme);
  std::vector<std::string> columns = {
      "log2d",     "threads",   "rotations",      "scheme",          "solver",        "s",
      "rotate_ms", "solve_ms",  "round_pack_ms",  "total_ms",        "memcpy_ms",     "gb_per_s",
      "speedup",   "identical", "bits_per_coord", "roundtrip_vnmse", "rotation_block"};
  for (auto& c : device->extra_columns()) columns.push_back(c);
  Table table(columns, cfg.csv);
  if (!cfg.csv && !device->banner().empty()) os << device->banner() << "\n";
  table.print_header(os);
  const bool nearest = uses_nearest_rounding(o);
  int status = 0;
  for (int l : cfg.log2d) {
    const std::size_t d = std::size_t(1) << l;
    AlignedVector<float> x(d);
    const PhiloxStream input(o.seed, 0, 0, Purpose::kInput);
    for (std::size_t i = 0; i < d; ++i) x[i] = std::exp(2.0f * input.uniform_float(i) - 1.0f);
    std::vector<std::byte> first_payload;
    double first_ms = 0;
    for (std::size_t k = 0; k < cfg.threads.size(); ++k) {
      o.threads = cfg.threads[k];
      std::vector<std::byte> payload;
      std::vector<float> rotated, out;
      PipelineTimes t;
      {
        const ThreadScope scope(o.threads);
        t = device->run(x, o, cfg.reps, payload, rotated, out);
      }
      if (k == 0) {
        first_payload = payload;
        first_ms = t.total_ms;
      }
      const bool identical = payload == first_payload;
      if (!identical) {
        std::cerr << "dme-bench pipeline: the payload with " << o.threads
                  << " threads differs from the one with " << cfg.threads[0] << " at log2d " << l
                  << "\n";
        status = 1;
      }
      // Self-check on the last round: decoded and rotated back, against the analytic variance
      // of stochastic rounding to the levels that were sent.
      const double err = vnmse(x, out);
      if (!nearest && o.bucket_size == 0) {
        // quic-fl (kind 3): its tables' designed vNMSE; else stochastic rounding's variance, for
        // qsgd (kind 5) to the grid of the norm that was sent.
        const Payload p = decode(payload);
        const double bound =
            p.header.kind == PayloadKind::kSharedTable
                ? QuicFlQuantizer::get(std::countr_zero(p.header.s)).design_vnmse()
            : p.header.kind == PayloadKind::kNormGrid
                ? analytic_vnmse(rotated, norm_grid(p.levels.values[0],
                                                    norm_grid_unit(p.header.s)).levels)
                : analytic_vnmse(rotated, p.levels.values);
        if (err > 4 * bound + 1e-12) {
          std::cerr << "dme-bench pipeline (" << backend_name(cfg.options.backend)
                    << "): round trip vNMSE " << err << " exceeds 4x the analytic " << bound
                    << " at log2d " << l << "\n";
          status = 1;
        }
      }
      std::vector<Table::Cell> row = {static_cast<long long>(l),
                                      static_cast<long long>(o.threads),
                                      static_cast<long long>(o.rotations),
                                      std::string(scheme_name(o.scheme)),
                                      solves ? std::string(solver_name(o.solver)) : "-",
                                      static_cast<long long>(o.s),
                                      t.rotate_ms,
                                      t.solve_ms,
                                      t.round_pack_ms,
                                      t.total_ms,
                                      t.copy_ms,
                                      4.0 * double(d) / (t.total_ms * 1e6),
                                      first_ms / t.total_ms,
                                      static_cast<long long>(identical),
                                      8.0 * double(payload.size()) / double(d),
                                      err,
                                      static_cast<long long>(o.rotation_block)};
      for (auto& c : device->extra_cells(d, o, payload.size(), t)) row.push_back(c);
      table.print_row(os, row);
    }
  }
  return status;
}

}  // namespace dme
