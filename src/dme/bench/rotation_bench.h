// `dme-bench rotation`: FWHT and RHT speed against memcpy of the same vector, in one run.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

namespace dme {

struct RotationBenchConfig {
  std::vector<int> log2d = {16, 20, 24};
  int reps = 10;      ///< timed repetitions per size (the median is reported)
  int rotations = 1;  ///< RHTs composed in rht_forward / rht_inverse
  std::uint64_t seed = 1;
  bool csv = false;
};

/// Prints one row per size: log2d, fwht_ms, memcpy_ms, fwht_over_memcpy, rht_forward_ms,
/// rht_inverse_ms, max_roundtrip_err. Returns 0, or 1 when a round trip error exceeds float
/// precision (the benchmark checks its own output).
int run_rotation_bench(const RotationBenchConfig& config, std::ostream& os);

}  // namespace dme
