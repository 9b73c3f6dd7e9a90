#include "dme/bench/rotation_bench.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>

#include "dme/core/aligned_buffer.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/core/timer.h"
#include "dme/experiment/table.h"
#include "dme/experiment/timing.h"
#include "dme/rotation/fwht.h"
#include "dme/rotation/rht.h"

namespace dme {

int run_rotation_bench(const RotationBenchConfig& config, std::ostream& os) {
  DME_CHECK(config.reps >= 1, "--reps must be at least 1, got " << config.reps);
  DME_CHECK(config.rotations >= 1 && config.rotations <= kMaxRotations,
            "--rotations must be in 1.." << kMaxRotations << ", got " << config.rotations);
  for (int l : config.log2d)
    DME_CHECK(l >= 0 && l <= 30, "--log2d values must be in 0..30, got " << l);

  Table table({"log2d", "fwht_ms", "memcpy_ms", "fwht_over_memcpy", "rht_forward_ms",
               "rht_inverse_ms", "max_roundtrip_err"},
              config.csv);
  table.print_header(os);
  int status = 0;
  for (int l : config.log2d) {
    const std::size_t n = std::size_t(1) << l;
    AlignedVector<float> x(n), y(n), back(n);
    PhiloxStream input(config.seed, 0, 0, Purpose::kInput);
    for (std::size_t i = 0; i < n; ++i) x[i] = input.uniform_float(i) * 2.0f - 1.0f;
    std::copy(x.begin(), x.end(), y.begin());

    const double fwht_ms = median_ms(config.reps, [&] { fwht(std::span<float>(y)); });
    const double memcpy_ms =
        median_ms(config.reps, [&] { std::memcpy(back.data(), y.data(), n * sizeof(float)); });

    Rotation rot(config.seed, 0, config.rotations, n);
    const double fwd_ms = median_ms(config.reps, [&] { rot.forward(x, y); });
    // Repeated inverses of an orthogonal map keep y bounded, so no copy is timed with them.
    const double inv_ms = median_ms(config.reps, [&] { rot.inverse(y, back); });
    rot.forward(x, y);
    rot.inverse(y, back);

    double max_err = 0, max_abs = 0;
    for (std::size_t i = 0; i < n; ++i) {
      max_err = std::max(max_err, double(std::fabs(back[i] - x[i])));
      max_abs = std::max(max_abs, double(std::fabs(x[i])));
    }
    const double rel_err = max_abs > 0 ? max_err / max_abs : max_err;
    // Float precision after 2·rotations·log2 D butterfly levels: a few ulps per level.
    const double limit = 4 * 0x1p-24 * (2.0 * config.rotations * std::max(1, l) + 1);
    if (rel_err > limit) {
      std::cerr << "dme-bench rotation: round trip error " << rel_err << " at log2d " << l
                << " exceeds float precision (" << limit << ")\n";
      status = 1;
    }
    table.print_row(os, {static_cast<long long>(l), fwht_ms, memcpy_ms, fwht_ms / memcpy_ms, fwd_ms,
                         inv_ms, rel_err});
  }
  return status;
}

}  // namespace dme
