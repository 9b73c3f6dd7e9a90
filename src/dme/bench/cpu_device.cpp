// The CPU device of the benchmarks (device.h), and the choice of device by backend.
#include <algorithm>
#include <cstring>
#include <optional>

#include "dme/bench/device.h"
#include "dme/collective/detail/compress.h"
#include "dme/core/aligned_buffer.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/core/timer.h"
#include "dme/experiment/timing.h"
#include "dme/quantization/detail/radix_sort.h"
#include "dme/rotation/fwht.h"
#include "dme/rotation/rht.h"

namespace dme {

PayloadHeader pipeline_header(const Options& o, std::size_t d, std::size_t padded,
                              std::uint32_t round) {
  PayloadHeader h;
  h.d = d;
  h.padded = padded;
  h.count = padded;
  h.bucket_size = o.bucket_size;
  h.s = static_cast<std::uint32_t>(o.s);
  h.rotations = static_cast<std::uint8_t>(o.rotations);
  h.biased = uses_nearest_rounding(o);
  h.seed = o.seed;
  h.round = round;
  return h;
}

namespace {

class CpuRotation final : public RotationDevice {
 public:
  RotationTimes run(std::span<const float> x, int rotations, std::uint64_t seed, int reps,
                    std::size_t block, std::vector<float>& roundtrip) override {
    const std::size_t n = x.size();
    TransformVector<float> y(x.begin(), x.end()), back(n);
    RotationTimes t;
    t.fwht_ms = median_ms(reps, [&] { fwht(std::span<float>(y)); });
    {
      // The same transform in a buffer advised huge pages (from 2 MiB; aligned_buffer.h).
      AlignedVector<float> huge(x.begin(), x.end());
      huge_pages_ms_ = median_ms(reps, [&] { fwht(std::span<float>(huge)); });
    }
    panel_copy_ms_.reset();
    const std::size_t c = std::size_t(1) << detail::kFwhtRowLog;
    const std::size_t bytes = detail::kFwhtPanelBytes, w = bytes / sizeof(float);
    if (n > c) {
      // The column sweep's memory traffic without its arithmetic: every panel of w columns of
      // the n / c rows copied to a contiguous buffer and back.
      const std::size_t r = n / c;
      AlignedVector<float> panel(r * w);
      panel_copy_ms_ = median_ms(reps, [&] {
        for (std::size_t c0 = 0; c0 < c; c0 += w) {
          for (std::size_t u = 0; u < r; ++u)
            std::memcpy(panel.data() + u * w, y.data() + u * c + c0, bytes);
          for (std::size_t u = 0; u < r; ++u)
            std::memcpy(y.data() + u * c + c0, panel.data() + u * w, bytes);
        }
      });
    }
    t.copy_ms = median_ms(reps, [&] { std::memcpy(back.data(), y.data(), n * sizeof(float)); });
    const Rotation rot(seed, 0, rotations, n, 0,
                       block ? RotationLayout::kOverlapped : RotationLayout::kPadded, block);
    t.forward_ms = median_ms(reps, [&] { rot.forward(x, y); });
    // Repeated inverses of an orthogonal map keep y bounded, so no copy is timed with them.
    t.inverse_ms = median_ms(reps, [&] { rot.inverse(y, back); });
    rot.forward(x, y);
    rot.inverse(y, back);
    roundtrip.assign(back.begin(), back.end());
    return t;
  }
  std::vector<std::string> extra_columns() const override {
    return {"fwht_huge_pages_ms", "panel_copy_ms"};
  }
  std::vector<Table::Cell> extra_cells(std::size_t, int, const RotationTimes&) const override {
    if (!panel_copy_ms_) return {huge_pages_ms_, std::string("-")};  // one row: no columns
    return {huge_pages_ms_, *panel_copy_ms_};
  }

 private:
  double huge_pages_ms_ = 0;
  std::optional<double> panel_copy_ms_;  // none for a vector of one row
};

class CpuPipeline final : public PipelineDevice {
 public:
  PipelineTimes run(std::span<const float> x, const Options& o, int reps,
                    std::vector<std::byte>& payload, std::vector<float>& rotated,
                    std::vector<float>& out) override {
    const std::size_t d = x.size();
    AlignedVector<float> copy(d);
    TransformVector<float> y;
    std::vector<double> rot_ms, solve_ms, rp_ms, total_ms, memcpy_ms;
    const std::unique_ptr<Compression> compression = make_compression(Backend::kCpu, o.scheme);
    const CompressionPlan plan = compression_plan(o);
    for (int r = 0; r < reps + 1; ++r) {
      const std::uint32_t round = static_cast<std::uint32_t>(r);
      Timer total;
      const Rotation rot(o.seed, round, o.rotations, d, 0, resolved_layout(o), o.rotation_block);
      y.resize(rot.padded());
      detail::KnownRange range{};
      rot.forward(x, y, range.min, range.max);
      const double rms = total.elapsed_ms();
      PhaseTimes t;
      compression->encode(y, pipeline_header(o, d, rot.padded(), round), plan,
                          PhiloxStream(o.seed, round, 0, Purpose::kRounding), payload, t, &range);
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
    // The last round's payload decoded and rotated back.
    AlignedVector<float> back(y.size(), 0.0f), inv(d);
    const PayloadHeader h = decode_accumulate(payload, {}, std::span<float>(back));
    Rotation(o.seed, h.round, o.rotations, d, 0, resolved_layout(o), o.rotation_block)
        .inverse(back, inv);
    rotated.assign(y.begin(), y.end());
    out.assign(inv.begin(), inv.end());
    return {median(rot_ms), median(solve_ms), median(rp_ms), median(total_ms), 0.0,
            median(memcpy_ms)};
  }
};

class CpuSolver final : public SolverDevice {
 public:
  void load(std::span<const float> x, int reps) override {
    x_.assign(x.begin(), x.end());
    // The three sorts work on fresh copies; the copies are not timed.
    std::vector<float> work;
    std::vector<double> sort_t, radix_t, vq_t;
    for (int r = 0; r < std::max(1, reps); ++r) {
      work = x_;
      Timer t;
      std::sort(work.begin(), work.end());
      sort_t.push_back(t.elapsed_ms());
      work = x_;
      t.reset();
      detail::radix_sort(work);
      radix_t.push_back(t.elapsed_ms());
      work = x_;
      t.reset();
      detail::vqsort_floats(work);  // Highway's vqsort on the current target, radix order
      vq_t.push_back(t.elapsed_ms());
    }
    sort_ms_ = median(sort_t);
    radix_ms_ = median(radix_t);
    vqsort_ms_ = median(vq_t);
    sorted_ = x_;
    detail::radix_sort(sorted_);  // the same floats in the same order as std::sort
  }

  // The solvers that need sorted input get the sorted vector: `ms` excludes sorting.
  SolveRun solve(std::size_t s, Solver solver, std::size_t m) override {
    SolverOptions options;
    options.m = m;
    options.input_is_sorted = solver_needs_sorted_input(solver);
    const std::span<const float> input = options.input_is_sorted ? sorted_ : x_;
    SolveRun run;
    Timer timer;
    run.levels = solve_levels(input, s, solver, options);
    run.ms = timer.elapsed_ms();
    return run;
  }
  double sort_ms(const SolveRun&) const override { return sort_ms_; }
  std::vector<std::string> extra_columns() const override {
    return {"radix_sort_ms", "vqsort_ms", "sort_used"};
  }
  std::vector<Table::Cell> extra_cells(const SolveRun&) const override {
    return {radix_ms_, vqsort_ms_, std::string(detail::sort_method())};
  }

 private:
  std::vector<float> x_, sorted_;
  double sort_ms_ = 0, radix_ms_ = 0, vqsort_ms_ = 0;
};

}  // namespace

std::unique_ptr<RotationDevice> make_rotation_device(Backend backend) {
  if (backend == Backend::kCuda) return detail::make_cuda_rotation_device();
  return std::make_unique<CpuRotation>();
}
std::unique_ptr<PipelineDevice> make_pipeline_device(Backend backend) {
  if (backend == Backend::kCuda) return detail::make_cuda_pipeline_device();
  return std::make_unique<CpuPipeline>();
}
std::unique_ptr<SolverDevice> make_solver_device(Backend backend) {
  if (backend == Backend::kCuda) return detail::make_cuda_solver_device();
  return std::make_unique<CpuSolver>();
}

}  // namespace dme
