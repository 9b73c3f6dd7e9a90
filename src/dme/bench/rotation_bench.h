// `dme-bench rotation`: FWHT and RHT speed against memcpy of the same vector, in one run.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

#include "dme/collective/options.h"

namespace dme {

struct RotationBenchConfig {
  std::vector<int> log2d = {16, 20, 24};
  int reps = 10;      ///< timed repetitions per size (the median is reported)
  int rotations = 1;  ///< RHTs composed in rht_forward / rht_inverse
  std::size_t block = 0;  ///< rht_*: independent blocks of this length (0: whole vectors)
  std::uint64_t seed = 1;
  bool csv = false;
  Backend backend = Backend::kCpu;  ///< where it runs (bench/device.h)
};

/// Prints one row per size: log2d, fwht_ms, memcpy_ms, fwht_over_memcpy, rht_forward_ms,
/// rht_inverse_ms, max_roundtrip_err, then the device's columns (CUDA: copy_gbps, fwht_passes,
/// fwht_gbps, fwht_fraction, rht_passes, rht_forward_fraction, rht_inverse_fraction; memcpy is
/// then cudaMemcpy device to device and times are device event times). Returns 0, or 1 when a
/// round trip error exceeds float precision (the benchmark checks its own output).
int run_rotation_bench(const RotationBenchConfig& config, std::ostream& os);

}  // namespace dme
