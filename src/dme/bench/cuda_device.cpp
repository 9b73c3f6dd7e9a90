// The CUDA device of the benchmarks (device.h): inputs start in device memory (the case the
// backend is for), host copies are not timed, and each row adds the device's copy bandwidth
// measured in the same run and each kernel's achieved fraction of it.
//
// Bandwidths count bytes read plus bytes written: copy_gbps = 2·4n / (cudaMemcpy device-to-device
// time of n floats), and a kernel that makes p read-write passes over n floats achieves
// p·2·4n / time. A fraction of 1 means the kernel streams memory as fast as the copy does.
// In a build without CUDA the factories throw dme::Error saying so.
#include "dme/bench/device.h"
#include "dme/core/error.h"

#if defined(DME_HAVE_CUDA)

#include <algorithm>
#include <cmath>

#include "dme/core/rng.h"
#include "dme/core/timer.h"
#include "dme/cuda/cuda_backend.h"
#include "dme/experiment/timing.h"
#include "dme/quantization/detail/radix_sort.h"

namespace dme {
namespace {

/// Median of reps device times of f (after one untimed warm-up run).
template <class F>
double device_median_ms(int reps, F&& f) {
  f();
  cuda::DeviceTimer timer;
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    timer.start();
    f();
    t.push_back(timer.stop());
  }
  return median(std::move(t));
}

/// GB/s of `passes` read-write sweeps over n floats in ms milliseconds.
double sweep_gbps(double passes, std::size_t n, double ms) {
  return passes * 8.0 * static_cast<double>(n) / (ms * 1e6);
}

std::string device_banner() {
  DME_CHECK(cuda::available(), "--backend cuda: " << cuda::device_summary());
  return "# device: " + cuda::device_summary();
}

class CudaRotationDevice final : public RotationDevice {
 public:
  CudaRotationDevice() : banner_(device_banner()) {}
  std::string banner() const override { return banner_; }

  // Times are medians of device (event) times; memcpy is cudaMemcpy device to device.
  RotationTimes run(std::span<const float> x, int rotations, std::uint64_t seed, int reps,
                    std::size_t block, std::vector<float>& roundtrip) override {
    DME_CHECK(block == 0, "the CUDA backend rotates whole vectors, not blocks of " << block);
    const std::size_t n = x.size();
    cuda::DeviceBuffer<float> x_dev{x}, y(n), back(n);
    cuda::copy(y.span(), x_dev.span());
    RotationTimes t;
    t.fwht_ms = device_median_ms(reps, [&] { cuda::fwht(y.span()); });
    t.copy_ms = device_median_ms(reps, [&] { cuda::copy(back.span(), y.span()); });
    const cuda::CudaRotation rot(seed, 0, rotations, n);
    t.forward_ms = device_median_ms(reps, [&] { rot.forward(x_dev.span(), y.span()); });
    t.inverse_ms = device_median_ms(reps, [&] { rot.inverse(y.span(), back.span()); });
    rot.forward(x_dev.span(), y.span());
    rot.inverse(y.span(), back.span());
    roundtrip = back.to_host();
    rht_passes_ = rot.passes();
    return t;
  }
  std::vector<std::string> extra_columns() const override {
    return {"copy_gbps",  "fwht_passes",          "fwht_gbps",           "fwht_fraction",
            "rht_passes", "rht_forward_fraction", "rht_inverse_fraction"};
  }
  std::vector<Table::Cell> extra_cells(std::size_t n, int, const RotationTimes& t) const override {
    const double copy_gbps = sweep_gbps(1, n, t.copy_ms);
    const int passes = cuda::fwht_passes(n);
    const double fwht_gbps = sweep_gbps(passes, n, t.fwht_ms);
    return {copy_gbps,
            static_cast<long long>(passes),
            fwht_gbps,
            fwht_gbps / copy_gbps,
            static_cast<long long>(rht_passes_),
            sweep_gbps(rht_passes_, n, t.forward_ms) / copy_gbps,
            sweep_gbps(rht_passes_, n, t.inverse_ms) / copy_gbps};
  }

 private:
  std::string banner_;
  int rht_passes_ = 0;
};

/// Solver bytes read on the device per input value: the min/max scan, plus the histogram for
/// quiver-apx; other solvers also copy or sort (their fraction is not a streaming figure).
double solver_sweeps(Solver solver) {
  if (solver == Solver::kQuiverApx) return 2;
  if (solver == Solver::kUniform || solver == Solver::kRtn) return 1;
  return NAN;
}

class CudaPipelineDevice final : public PipelineDevice {
 public:
  CudaPipelineDevice() : banner_(device_banner()) {}
  std::string banner() const override { return banner_; }

  // Host wall-clock medians of the synchronous calls; total_ms ends with the payload in host
  // memory.
  PipelineTimes run(std::span<const float> x, const Options& o, int reps,
                    std::vector<std::byte>& payload, std::vector<float>& rotated,
                    std::vector<float>& out) override {
    DME_CHECK(o.rotation_block == 0,
              "the CUDA backend rotates whole vectors, not blocks of " << o.rotation_block);
    const std::size_t d = x.size();
    cuda::DeviceBuffer<float> x_dev{x}, copy_dev(d);
    cuda::CudaRotation rot(o.seed, 0, o.rotations, d);
    cuda::DeviceBuffer<float> y(rot.padded());
    const CompressionPlan plan = compression_plan(o);
    std::vector<double> rot_ms, solve_ms, rp_ms, transfer_ms, total_ms;
    for (int r = 0; r < reps + 1; ++r) {  // run 0 is the warm-up
      const std::uint32_t round = static_cast<std::uint32_t>(r);
      Timer total;
      rot.rekey(o.seed, round);
      rot.forward(x_dev.span(), y.span());
      const double rotate_ms = total.elapsed_ms();
      PhaseTimes t;
      comp_.compress(y.span(), pipeline_header(o, d, rot.padded(), round), plan,
                     PhiloxStream(o.seed, round, 0, Purpose::kRounding), payload, &t);
      if (r == 0) continue;
      rot_ms.push_back(rotate_ms);
      solve_ms.push_back(t.solve_ms);
      rp_ms.push_back(t.round_pack_ms);
      transfer_ms.push_back(t.transfer_ms);
      total_ms.push_back(total.elapsed_ms());
    }
    const double copy_ms =
        device_median_ms(reps, [&] { cuda::copy(copy_dev.span(), x_dev.span()); });
    // The last round decoded on the device and rotated back.
    rotated = y.to_host();
    cuda::DeviceBuffer<float> acc{std::span<const float>(std::vector<float>(rot.padded(), 0.0f))};
    comp_.decode_accumulate(payload, {}, acc.span());
    cuda::DeviceBuffer<float> out_dev(d);
    rot.inverse(acc.span(), out_dev.span());
    out = out_dev.to_host();
    passes_ = rot.passes();
    padded_ = rot.padded();
    return {median(rot_ms), median(solve_ms), median(rp_ms), median(total_ms),
            median(transfer_ms), copy_ms};
  }
  std::vector<std::string> extra_columns() const override {
    return {"copy_gbps",          "rotate_fraction", "solve_fraction",
            "round_pack_fraction", "transfer_ms",     "device_gb_per_s"};
  }
  // solve_fraction: the solver's device passes (scan and histogram read the input once each);
  // round_pack_fraction: reads the input, writes the codes (the copy to the host excluded);
  // device_gb_per_s: input bytes over rotate + solve + round_pack, the compression until the
  // codes are packed in device memory (total_ms adds their copy to the host, transfer_ms).
  std::vector<Table::Cell> extra_cells(std::size_t d, const Options& o, std::size_t payload_bytes,
                                       const PipelineTimes& t) const override {
    const double copy_gbps = sweep_gbps(1, d, t.copy_ms);
    const double padded = static_cast<double>(padded_);
    const double rp_gbps =
        (4.0 * padded + static_cast<double>(payload_bytes)) / (t.round_pack_ms * 1e6);
    return {copy_gbps, sweep_gbps(passes_, padded_, t.rotate_ms) / copy_gbps,
            solver_sweeps(o.solver) * 4.0 * padded / (t.solve_ms * 1e6) / copy_gbps,
            rp_gbps / copy_gbps,
            t.transfer_ms,
            4.0 * double(d) / ((t.rotate_ms + t.solve_ms + t.round_pack_ms) * 1e6)};
  }

 private:
  std::string banner_;
  cuda::Compressor comp_;
  int passes_ = 0;
  std::size_t padded_ = 0;
};

// `ms` is Compressor::solve_levels on the unsorted device vector, all in; its parts are
// {scan, histogram, sort, transfer, host} (cuda::SolveTimes), so sort and solve time are
// reported apart. radix_sort_ms is the CPU library's sort of the same input, for scale.
class CudaSolverDevice final : public SolverDevice {
 public:
  CudaSolverDevice() : banner_(device_banner()) {}
  std::string banner() const override { return banner_; }
  bool warm_up() const override { return true; }

  void load(std::span<const float> x, int reps) override {
    n_ = x.size();
    x_dev_ = cuda::DeviceBuffer<float>(x);
    cuda::DeviceBuffer<float> sorted(n_), copy_dev(n_);
    sort_ms_ = device_median_ms(reps, [&] { comp_.sort(x_dev_.span(), sorted.span()); });
    const double copy_ms =
        device_median_ms(reps, [&] { cuda::copy(copy_dev.span(), x_dev_.span()); });
    copy_gbps_ = sweep_gbps(1, n_, copy_ms);
    std::vector<double> radix_t;
    for (int r = 0; r < reps; ++r) {
      std::vector<float> work(x.begin(), x.end());
      Timer t;
      detail::radix_sort(work);
      radix_t.push_back(t.elapsed_ms());
    }
    radix_ms_ = median(std::move(radix_t));
  }
  SolveRun solve(std::size_t s, Solver solver, std::size_t m) override {
    SolverOptions options;
    options.m = m;
    cuda::SolveTimes t;
    SolveRun run;
    Timer timer;
    run.levels = comp_.solve_levels(x_dev_.span(), s, solver, options, &t);
    run.ms = timer.elapsed_ms();
    run.parts = {t.scan_ms, t.histogram_ms, t.sort_ms, t.transfer_ms, t.host_ms};
    return run;
  }
  // The solver's own sort when it has one, else the separately timed sort of the input.
  double sort_ms(const SolveRun& run) const override {
    return !run.parts.empty() && run.parts[2] > 0 ? run.parts[2] : sort_ms_;
  }
  std::vector<std::string> extra_columns() const override {
    return {"radix_sort_ms", "scan_ms",   "histogram_ms", "transfer_ms",
            "host_ms",       "copy_gbps", "scan_fraction"};
  }
  std::vector<Table::Cell> extra_cells(const SolveRun& run) const override {
    const std::vector<double> p = run.parts.empty() ? std::vector<double>(5, NAN) : run.parts;
    return {radix_ms_,
            p[0],
            p[1],
            p[3],
            p[4],
            copy_gbps_,
            p[0] > 0 ? sweep_gbps(0.5, n_, p[0]) / copy_gbps_ : NAN};
  }

 private:
  std::string banner_;
  cuda::Compressor comp_;
  cuda::DeviceBuffer<float> x_dev_;
  std::size_t n_ = 0;
  double sort_ms_ = 0, radix_ms_ = 0, copy_gbps_ = 0;
};

}  // namespace

namespace detail {
std::unique_ptr<RotationDevice> make_cuda_rotation_device() {
  return std::make_unique<CudaRotationDevice>();
}
std::unique_ptr<PipelineDevice> make_cuda_pipeline_device() {
  return std::make_unique<CudaPipelineDevice>();
}
std::unique_ptr<SolverDevice> make_cuda_solver_device() {
  return std::make_unique<CudaSolverDevice>();
}
}  // namespace detail

}  // namespace dme

#else  // a build without the CUDA backend

namespace dme::detail {
namespace {
[[noreturn]] void no_cuda(const char* bench) {
  DME_THROW("dme-bench " << bench
                         << " --backend cuda: this build of dme has no CUDA backend "
                            "(configure with -DDME_ENABLE_CUDA=ON on a machine with nvcc)");
}
}  // namespace

std::unique_ptr<RotationDevice> make_cuda_rotation_device() {
  no_cuda("rotation");
}
std::unique_ptr<PipelineDevice> make_cuda_pipeline_device() {
  no_cuda("pipeline");
}
std::unique_ptr<SolverDevice> make_cuda_solver_device() {
  no_cuda("solvers");
}
}  // namespace dme::detail

#endif
