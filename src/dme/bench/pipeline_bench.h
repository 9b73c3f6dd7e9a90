// `dme-bench pipeline`: the whole per-rank compression (rotate, solve, round, pack) on one rank,
// with one thread or several (Options::threads).
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

#include "dme/collective/options.h"

namespace dme {

struct PipelineBenchConfig {
  std::vector<int> log2d = {20, 24};
  Options options;  ///< s, solver, rotations (fixed count), seed, bucket size
  int reps = 5;     ///< timed repetitions (median reported)
  /// Thread counts (Options::threads) timed one after another for each length; the rows
  /// report the speed-up over the first count and whether the payload is bit-identical to it.
  std::vector<int> threads = {1};
  bool csv = false;
};

/// Rows: log2d, threads, rotations, scheme, solver ('-' for the schemes whose levels are fixed),
/// s, rotate_ms, solve_ms, round_pack_ms, total_ms, memcpy_ms, gb_per_s (float32 input bytes
/// per second of total), speedup (total time of the first thread count over this one),
/// identical (1 when the payload equals the first count's byte for byte), bits_per_coord,
/// roundtrip_vnmse, rotation_block, then the device's columns (options.backend picks the
/// device, bench/device.h; CUDA: copy_gbps, rotate_fraction, solve_fraction,
/// round_pack_fraction). Checks its own output: the payload
/// decodes and the decoded, inverse-rotated vector has an error within 4x the analytic
/// stochastic-rounding bound; returns 1 otherwise.
int run_pipeline_bench(const PipelineBenchConfig& config, std::ostream& os);

}  // namespace dme
