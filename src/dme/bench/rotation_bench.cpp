#include "dme/bench/rotation_bench.h"

#include <algorithm>
#include <cmath>
#include <iostream>

#include "dme/bench/device.h"
#include "dme/core/aligned_buffer.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/core/timer.h"
#include "dme/experiment/table.h"
#include "dme/rotation/rht.h"

namespace dme {

int run_rotation_bench(const RotationBenchConfig& config, std::ostream& os) {
  DME_CHECK(config.reps >= 1, "--reps must be at least 1, got " << config.reps);
  DME_CHECK(config.rotations >= 1 && config.rotations <= kMaxRotations,
            "--rotations must be in 1.." << kMaxRotations << ", got " << config.rotations);
  for (int l : config.log2d)
    DME_CHECK(l >= 0 && l <= 30, "--log2d values must be in 0..30, got " << l);
  check_rotation_block(config.block);  // before any output: an error prints nothing else

  const std::unique_ptr<RotationDevice> device = make_rotation_device(config.backend);
  std::vector<std::string> columns = {
      "log2d",          "fwht_ms",        "memcpy_ms",         "fwht_over_memcpy",
      "rht_forward_ms", "rht_inverse_ms", "max_roundtrip_err", "block"};
  for (auto& c : device->extra_columns()) columns.push_back(c);
  Table table(columns, config.csv);
  if (!config.csv && !device->banner().empty()) os << device->banner() << "\n";
  table.print_header(os);
  int status = 0;
  for (int l : config.log2d) {
    const std::size_t n = std::size_t(1) << l;
    AlignedVector<float> x(n);
    PhiloxStream input(config.seed, 0, 0, Purpose::kInput);
    for (std::size_t i = 0; i < n; ++i) x[i] = input.uniform_float(i) * 2.0f - 1.0f;
    std::vector<float> back;
    const RotationTimes t =
        device->run(x, config.rotations, config.seed, config.reps, config.block, back);

    double max_err = 0, max_abs = 0;
    for (std::size_t i = 0; i < n; ++i) {
      max_err = std::max(max_err, double(std::fabs(back[i] - x[i])));
      max_abs = std::max(max_abs, double(std::fabs(x[i])));
    }
    const double rel_err = max_abs > 0 ? max_err / max_abs : max_err;
    // Float precision after 2·rotations·log2 D butterfly levels: a few ulps per level.
    const double limit = 4 * 0x1p-24 * (2.0 * config.rotations * std::max(1, l) + 1);
    if (rel_err > limit) {
      std::cerr << "dme-bench rotation (" << backend_name(config.backend) << "): round trip error "
                << rel_err << " at log2d " << l << " exceeds float precision (" << limit << ")\n";
      status = 1;
    }
    std::vector<Table::Cell> row = {static_cast<long long>(l),
                                    t.fwht_ms,
                                    t.copy_ms,
                                    t.fwht_ms / t.copy_ms,
                                    t.forward_ms,
                                    t.inverse_ms,
                                    rel_err,
                                    static_cast<long long>(config.block)};
    for (auto& c : device->extra_cells(n, config.rotations, t)) row.push_back(c);
    table.print_row(os, row);
  }
  return status;
}

}  // namespace dme
