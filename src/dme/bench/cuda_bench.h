// The CUDA versions of `dme-bench rotation`, `pipeline` and `solvers` (--backend cuda): the same
// configurations and columns as the CPU runners, plus the device's copy bandwidth measured in the
// same run and each kernel's achieved fraction of it.
//
// Bandwidths count bytes read plus bytes written: copy_gbps = 2·4n / (cudaMemcpy device-to-device
// time of n floats), and a kernel that makes p read-write passes over n floats achieves
// p·2·4n / time. A fraction of 1 means the kernel streams memory as fast as the copy does.
// Inputs start in device memory (the case the backend is for); host copies are not timed.
// Every runner checks its own output like its CPU twin and returns 1 when a check fails.
// In a build without CUDA every runner throws dme::Error saying so.
#pragma once

#include <ostream>

#include "dme/bench/pipeline_bench.h"
#include "dme/bench/rotation_bench.h"
#include "dme/bench/solver_bench.h"

namespace dme {

/// Rows: the CPU columns (log2d, fwht_ms, memcpy_ms, fwht_over_memcpy, rht_forward_ms,
/// rht_inverse_ms, max_roundtrip_err; memcpy is cudaMemcpy device to device) then copy_gbps,
/// fwht_passes, fwht_gbps, fwht_fraction, rht_passes, rht_forward_fraction, rht_inverse_fraction.
/// Times are medians of device (event) times.
int run_cuda_rotation_bench(const RotationBenchConfig& config, std::ostream& os);

/// Rows: the CPU columns (log2d, rotations, solver, s, rotate_ms, solve_ms, round_pack_ms,
/// total_ms, memcpy_ms, gb_per_s, bits_per_coord, roundtrip_vnmse) then copy_gbps,
/// rotate_fraction, solve_fraction (the solver's device passes: scan and histogram read the
/// input once each), round_pack_fraction (reads the input, writes the codes). Host wall-clock
/// medians of the synchronous calls; total_ms ends with the payload in host memory.
int run_cuda_pipeline_bench(const PipelineBenchConfig& config, std::ostream& os);

/// Rows: the CPU columns (solver, dist, log2d, s, m, ms, sort_ms, ms_over_sort, vnmse,
/// opt_vnmse, radix_sort_ms) then scan_ms, histogram_ms, transfer_ms, host_ms, copy_gbps,
/// scan_fraction. Here `ms` is Compressor::solve_levels on the unsorted device vector, all in;
/// sort_ms is the CUB sort inside it for the sorted-input solvers (for the others a CUB sort of
/// the same vector, timed apart), host_ms the DP on the host, so sort and solve time are
/// reported apart. radix_sort_ms is the CPU library's sort of the same input, for scale.
int run_cuda_solver_bench(const SolverBenchConfig& config, std::ostream& os);

}  // namespace dme
