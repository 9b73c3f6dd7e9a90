// Compressor::solve_levels: the level solvers with their O(d) passes on the device and the small
// dynamic programmes on the host, returning exactly the levels of dme::solve_levels.
#include <algorithm>
#include <cmath>
#include <string>

#include "dme/core/error.h"
#include "dme/core/timer.h"
#include "dme/cuda/check.cuh"
#include "dme/cuda/compressor_impl.cuh"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/asq_dp.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/compensated_sum.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/quiver_approx.h"
#include "dme/quantization/uniform.h"
#include "dme/quantization/zipml.h"

namespace dme::cuda {
namespace detail {

Extrema<float> scan_device(Compressor::Impl& im, std::span<const float> x, const char* what,
                           SolveTimes* times) {
  DME_CHECK(!x.empty(), what << ": x is empty");
  check_device_memory(x.data(), x.size_bytes(), what);
  Timer timer;
  const ScanWords init{0xFFFFFFFFu, 0u, kNoIndex};
  copy_to_device(im.scan.data(), &init, sizeof init);
  scan_range(x.data(), x.size(), im.scan.data(), nullptr);
  ScanWords r{};
  copy_to_host(&r, im.scan.data(), sizeof r);
  if (r.first_bad != kNoIndex) {
    float v = 0;
    copy_to_host(&v, x.data() + r.first_bad, sizeof v);
    DME_THROW(what << ": x[" << r.first_bad << "] = " << v << " is not finite (NaN or Inf)");
  }
  // The keys order -0 before +0: the extremes detail::scan_input gives on the CPU.
  const Extrema<float> range{key_to_float(r.min_key), key_to_float(r.max_key)};
  if (times) times->scan_ms += timer.elapsed_ms();
  return range;
}

}  // namespace detail

namespace {

/// The fixed-point unit of the bin sums: a power of two with every offset level[t] - x below
/// 2^32 units, so that a bin of up to 2^31 values sums exactly in 64 bits.
double offset_unit(const std::vector<float>& level) {
  double widest = 0;
  for (std::size_t t = 1; t < level.size(); ++t)
    widest = std::max(widest, static_cast<double>(level[t]) - level[t - 1]);
  int exponent = 0;
  std::frexp(widest, &exponent);  // widest < 2^exponent
  return std::ldexp(1.0, exponent - 32);
}

std::span<const float> host_copy(Compressor::Impl& im, std::span<const float> x,
                                 SolveTimes* times) {
  Timer timer;
  im.host_values.resize(x.size());
  detail::copy_to_host(im.host_values.data(), x.data(), x.size_bytes());
  if (times) times->transfer_ms += timer.elapsed_ms();
  return im.host_values;
}

// Apx. QUIVER (quiver_approx.cpp) with the histogram on the device. The bins are the CPU's; the
// per-bin sums are exact integer sums of fixed-point offsets, so they differ from the CPU's double
// sums only by rounding, which moves a DP argmin only at an exact tie of the costs.
std::vector<float> quiver_apx(Compressor::Impl& im, std::span<const float> x, std::size_t s,
                              std::size_t m, SolveTimes* times) {
  dme::detail::check_apx_arguments(s, m);
  const Extrema<float> range = detail::scan_device(im, x, "quiver-apx", times);
  if (range.min == range.max) return {range.min};
  if (x.size() <= s) {  // the distinct values (quiver_approx.h), a sort of at most s on the host
    const std::span<const float> host = host_copy(im, x, times);
    Timer timer;
    std::vector<float> levels = dme::quiver_approx(host, s, m);
    if (times) times->host_ms += timer.elapsed_ms();
    return levels;
  }

  Timer timer;
  const std::size_t bins = m + 1;
  const std::vector<float> level = dme::detail::grid_levels(range.min, range.max, m);
  const double unit = offset_unit(level);
  detail::ensure_size(im.grid, bins);
  detail::ensure_size(im.counts, bins);
  detail::ensure_size(im.sums, bins);
  detail::copy_to_device(im.grid.data(), level.data(), bins * sizeof(float));
  DME_CUDA_CHECK(cudaMemsetAsync(im.counts.data(), 0, bins * sizeof(unsigned)));
  DME_CUDA_CHECK(cudaMemsetAsync(im.sums.data(), 0, bins * sizeof(unsigned long long)));
  detail::HistogramArgs args{};
  args.x = x.data();
  args.n = x.size();
  args.lo = range.min;
  args.scale =
      static_cast<float>(static_cast<double>(m) / (static_cast<double>(range.max) - range.min));
  args.m = static_cast<unsigned>(m);
  args.level = im.grid.data();
  args.inv_unit = 1.0 / unit;
  args.count = im.counts.data();
  args.offset_sum = im.sums.data();
  detail::grid_histogram(args, nullptr);
  im.host_counts.resize(bins);
  im.host_sums.resize(bins);
  detail::copy_to_host(im.host_counts.data(), im.counts.data(), bins * sizeof(unsigned));
  detail::copy_to_host(im.host_sums.data(), im.sums.data(), bins * sizeof(unsigned long long));
  if (times) times->histogram_ms += timer.elapsed_ms();

  timer.reset();
  // GridStatistics as the CPU builds it (candidates.cpp): centred grid values and chord
  // coordinates u = α·x - β from the cumulative counts α and sums β.
  dme::detail::GridStatistics grid;
  grid.level = level;
  grid.shift = 0.5 * (static_cast<double>(range.min) + range.max);
  grid.points.resize(bins);
  double alpha = 0;
  dme::detail::CompensatedSum beta;
  for (std::size_t t = 0; t < bins; ++t) {
    const double n = static_cast<double>(im.host_counts[t]);
    const double v = static_cast<double>(level[t]) - grid.shift;
    alpha += n;
    beta.add(n * v - static_cast<double>(im.host_sums[t]) * unit);  // Σ (x - shift) over bin t
    grid.points[t] = {v, alpha * v - beta.value()};
    if (n > 0) dme::detail::note_nonempty_bin(grid.bordering, static_cast<std::uint32_t>(t));
  }
  std::vector<float> levels = dme::detail::apx_levels_on_grid(grid, s, m);
  if (times) times->host_ms += timer.elapsed_ms();
  return levels;
}

// Solvers of sorted input: CUB sort on the device, then the CPU solver on the sorted copy. The
// device sort orders -0 before +0 like the CPU's radix sort, so the CPU solver sees the same
// array it would have sorted itself and returns the same levels.
std::vector<float> sorted_solve(Compressor::Impl& im, std::span<const float> x, std::size_t s,
                                Solver solver, const SolverOptions& options, SolveTimes* times) {
  const std::string name(solver_name(solver));
  if (solver == Solver::kZipml)
    DME_CHECK(x.size() <= kMaxZipmlD,
              "zipml: the exact O(s·d²) DP accepts d <= " << kMaxZipmlD << ", got d = " << x.size()
                                                          << " (use quiver for large inputs)");
  const Extrema<float> range = detail::scan_device(im, x, name.c_str(), times);
  if (range.min == range.max) return {range.min};
  SolverOptions sorted_options = options;
  if (!options.input_is_sorted) {
    Timer timer;
    detail::ensure_size(im.sorted, x.size());
    const std::size_t temp = detail::sort_temp_bytes(x.size());
    detail::ensure_size(im.sort_temp, temp);
    detail::sort_floats(x.data(), im.sorted.data(), x.size(), im.sort_temp.data(),
                        im.sort_temp.size(), nullptr);
    DME_CUDA_CHECK(cudaStreamSynchronize(nullptr));
    if (times) times->sort_ms += timer.elapsed_ms();
    x = std::span<const float>(im.sorted.data(), x.size());
    sorted_options.input_is_sorted = true;
  }
  const std::span<const float> host = host_copy(im, x, times);
  Timer timer;
  std::vector<float> levels = dme::solve_levels(host, s, solver, sorted_options);
  if (times) times->host_ms += timer.elapsed_ms();
  return levels;
}

}  // namespace

void Compressor::sort(std::span<const float> x, std::span<float> sorted) {
  DME_CHECK(sorted.size() == x.size(),
            "cuda sort: output of " << sorted.size() << " values for an input of " << x.size());
  detail::check_device_memory(x.data(), x.size_bytes(), "cuda sort input");
  detail::check_device_memory(sorted.data(), sorted.size_bytes(), "cuda sort output");
  const std::size_t temp = detail::sort_temp_bytes(x.size());
  detail::ensure_size(impl_->sort_temp, temp);
  detail::sort_floats(x.data(), sorted.data(), x.size(), impl_->sort_temp.data(),
                      impl_->sort_temp.size(), nullptr);
}

std::vector<float> Compressor::solve_levels(std::span<const float> x, std::size_t s, Solver solver,
                                            const SolverOptions& options, SolveTimes* times) {
  const std::string name(solver_name(solver));
  DME_CHECK(s >= 2, name << ": s must be at least 2, got " << s);
  DME_CHECK(s <= kMaxLevels, name << ": s = " << s << " exceeds " << kMaxLevels
                                  << ", the most levels 16-bit codes can index");
  Impl& im = *impl_;
  switch (solver) {
    case Solver::kQuiverApx:
      return quiver_apx(im, x, s, options.m, times);
    case Solver::kUniform:
    case Solver::kRtn: {
      const Extrema<float> range = detail::scan_device(im, x, name.c_str(), times);
      return uniform_levels(range.min, range.max, s);
    }
    default:
      break;
  }
  if (solver_needs_sorted_input(solver)) return sorted_solve(im, x, s, solver, options, times);
  // alq, amq, zipml-cp-unif: host solvers after a copy (their own checks and messages apply).
  detail::check_device_memory(x.data(), x.size_bytes(), name.c_str());
  const std::span<const float> host = host_copy(im, x, times);
  Timer timer;
  std::vector<float> levels = dme::solve_levels(host, s, solver, options);
  if (times) times->host_ms += timer.elapsed_ms();
  return levels;
}

}  // namespace dme::cuda
