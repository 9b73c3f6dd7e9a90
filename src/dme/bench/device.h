// Where a benchmark runs. Each of `dme-bench rotation`, `pipeline` and `solvers` has one body
// (rotation_bench.cpp, pipeline_bench.cpp, solver_bench.cpp) that makes the input, checks the
// output and prints the table; the work it times runs on a device behind one of these
// interfaces: the CPU (cpu_device.cpp) or CUDA (cuda_device.cpp, in CUDA builds). A device adds
// its own columns after the common ones (for a GPU: the copy bandwidth and each kernel's
// fraction of it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dme/codec/payload.h"
#include "dme/collective/compression.h"
#include "dme/collective/options.h"
#include "dme/experiment/table.h"

namespace dme {

/// Medians of reps timed runs, in milliseconds.
struct RotationTimes {
  double fwht_ms = 0;     ///< the FWHT alone, in place
  double copy_ms = 0;     ///< a copy of the same vector (memcpy; cudaMemcpy on a GPU)
  double forward_ms = 0;  ///< k RHTs forward
  double inverse_ms = 0;  ///< k RHTs inverse
};

class RotationDevice {
 public:
  virtual ~RotationDevice() = default;
  /// A line for the table's preamble ("" for none).
  virtual std::string banner() const { return {}; }
  /// Times the FWHT of x, a copy of x, and k RHTs of (seed, round 0) forward and inverse (in
  /// independent blocks of `block` when not 0: Rotation's max_block); then roundtrip <- R⁻¹(R x)
  /// in host memory. x: host, n = 2^l values.
  virtual RotationTimes run(std::span<const float> x, int rotations, std::uint64_t seed, int reps,
                            std::size_t block, std::vector<float>& roundtrip) = 0;
  virtual std::vector<std::string> extra_columns() const { return {}; }
  virtual std::vector<Table::Cell> extra_cells(std::size_t n, int rotations,
                                               const RotationTimes& t) const {
    (void)n, (void)rotations, (void)t;
    return {};
  }
};

/// Medians over the timed rounds, in milliseconds.
struct PipelineTimes {
  double rotate_ms = 0, solve_ms = 0, round_pack_ms = 0, total_ms = 0;
  double transfer_ms = 0;  ///< GPU: the payload's codes copied to the host (in total_ms)
  double copy_ms = 0;      ///< a copy of the input (memcpy; cudaMemcpy on a GPU)
};

/// The header of round `round`'s payload of the whole rotated vector (rank 0).
PayloadHeader pipeline_header(const Options& o, std::size_t d, std::size_t padded,
                              std::uint32_t round);

class PipelineDevice {
 public:
  virtual ~PipelineDevice() = default;
  virtual std::string banner() const { return {}; }
  /// reps + 1 rounds (the first a warm-up): round r rotates x with round r's signs and
  /// compresses the rotated vector with the plan of o. Returns the medians; payload, rotated
  /// (host, padded) and out (host, d: R⁻¹ of the decoded payload) are the last round's.
  virtual PipelineTimes run(std::span<const float> x, const Options& o, int reps,
                            std::vector<std::byte>& payload, std::vector<float>& rotated,
                            std::vector<float>& out) = 0;
  virtual std::vector<std::string> extra_columns() const { return {}; }
  virtual std::vector<Table::Cell> extra_cells(std::size_t d, const Options& o,
                                               std::size_t payload_bytes,
                                               const PipelineTimes& t) const {
    (void)d, (void)o, (void)payload_bytes, (void)t;
    return {};
  }
};

/// One timed solve: its levels, its time and the device's own breakdown of it.
struct SolveRun {
  std::vector<float> levels;
  double ms = 0;
  std::vector<double> parts;  ///< device-defined (CUDA: scan, histogram, sort, transfer, host)
};

class SolverDevice {
 public:
  virtual ~SolverDevice() = default;
  virtual std::string banner() const { return {}; }
  /// Takes the input (host) and times the reference sorts of it (reps runs each).
  virtual void load(std::span<const float> x, int reps) = 0;
  /// Whether the body runs one untimed solve before the timed ones.
  virtual bool warm_up() const { return false; }
  /// One solve of the loaded input, timed by the device.
  virtual SolveRun solve(std::size_t s, Solver solver, std::size_t m) = 0;
  /// The sort_ms column of a cell: the reference sort, or the solve's own sort where it has one.
  virtual double sort_ms(const SolveRun& run) const = 0;
  virtual std::vector<std::string> extra_columns() const { return {}; }
  virtual std::vector<Table::Cell> extra_cells(const SolveRun& run) const {
    (void)run;
    return {};
  }
};

/// The device of `backend`: kCpu always; kCuda in CUDA builds with a GPU (dme::Error naming
/// what is missing otherwise).
std::unique_ptr<RotationDevice> make_rotation_device(Backend backend);
std::unique_ptr<PipelineDevice> make_pipeline_device(Backend backend);
std::unique_ptr<SolverDevice> make_solver_device(Backend backend);

namespace detail {
std::unique_ptr<RotationDevice> make_cuda_rotation_device();
std::unique_ptr<PipelineDevice> make_cuda_pipeline_device();
std::unique_ptr<SolverDevice> make_cuda_solver_device();
}  // namespace detail

}  // namespace dme
