// CPU/GPU parity of the level solvers: Compressor::solve_levels must return the very levels
// (bit for bit) that dme::solve_levels returns for the same input.
//  - Exact solvers sort on the device; the sorted array equals the CPU's, so the host DP sees
//    the same input: equality is exact.
//  - quiver-apx bins on the device exactly as the CPU does (same float grid, same rule); only
//    the per-bin sums differ, by rounding (fixed-point integers on the device, doubles on the
//    CPU), which could move a DP argmin only at an exact tie of two costs. Continuous inputs
//    under fixed seeds have none, so equality is asserted.
#include <limits>

#include "cuda/cuda_test_util.h"
#include "dme/quantization/solver.h"
#include "dme/quantization/zipml.h"

namespace dme::test {
namespace {

using CudaSolvers = CudaTest;

std::vector<float> gpu_levels(cuda::Compressor& comp, std::span<const float> x, std::size_t s,
                              Solver solver, const SolverOptions& options = {}) {
  cuda::DeviceBuffer<float> dev(x);
  return comp.solve_levels(dev.span(), s, solver, options);
}

void expect_same_levels(cuda::Compressor& comp, std::span<const float> x, std::size_t s,
                        Solver solver, const SolverOptions& options, const std::string& what) {
  const std::vector<float> cpu = solve_levels(x, s, solver, options);
  const std::vector<float> gpu = gpu_levels(comp, x, s, solver, options);
  EXPECT_EQ(bits_of(gpu), bits_of(cpu)) << solver_name(solver) << " s=" << s << " " << what;
}

// Rounded to a coarse grid: many repeated values, empty grid bins, ties among candidates.
std::vector<float> repeated_values(std::size_t n, std::uint64_t seed) {
  std::vector<float> x = normal_vector(n, seed);
  for (float& v : x) v = std::round(v * 4.0f) / 4.0f;
  return x;
}

TEST_F(CudaSolvers, QuiverApxMatchesCpu) {
  cuda::Compressor comp;
  for (std::size_t d : {std::size_t(1), std::size_t(2), std::size_t(7), std::size_t(1000),
                        std::size_t(4097), std::size_t(1) << 20})
    for (std::size_t s : {2, 3, 16, 64})
      for (std::size_t m : {s, std::size_t(400), std::size_t(5000)}) {
        if (m < s) continue;
        // m = 5000 takes the global-memory histogram (the grid does not fit shared memory).
        const SolverOptions opt{m};
        const std::string what = "d=" + std::to_string(d) + " m=" + std::to_string(m);
        expect_same_levels(comp, lognormal_vector(d, d + s), s, Solver::kQuiverApx, opt,
                           "lognormal " + what);
        expect_same_levels(comp, normal_vector(d, 2 * d + s, -3.0f), s, Solver::kQuiverApx, opt,
                           "normal " + what);
        expect_same_levels(comp, repeated_values(d, d), s, Solver::kQuiverApx, opt,
                           "repeated " + what);
      }
}

TEST_F(CudaSolvers, SortedSolversMatchCpu) {
  cuda::Compressor comp;
  const Solver solvers[] = {Solver::kQuiver, Solver::kQuiverAccel, Solver::kKmeans,
                            Solver::kZipmlCpQuant, Solver::kZipml2Apx};
  for (Solver solver : solvers)
    for (std::size_t d : {std::size_t(3), std::size_t(1000), std::size_t(1) << 16})
      for (std::size_t s : {2, 5, 16}) {
        expect_same_levels(comp, lognormal_vector(d, d * s), s, solver, {},
                           "d=" + std::to_string(d));
        expect_same_levels(comp, repeated_values(d, d + 1), s, solver, {},
                           "repeated d=" + std::to_string(d));
      }
  // The O(s·d²) ZipML DP on a small input.
  expect_same_levels(comp, lognormal_vector(300, 1), 8, Solver::kZipml, {}, "d=300");
  // A caller-sorted input skips the device sort.
  std::vector<float> sorted = lognormal_vector(5000, 2);
  std::sort(sorted.begin(), sorted.end());
  SolverOptions presorted;
  presorted.input_is_sorted = true;
  expect_same_levels(comp, sorted, 16, Solver::kQuiver, presorted, "presorted");
}

TEST_F(CudaSolvers, RangeAndHostSolversMatchCpu) {
  cuda::Compressor comp;
  for (Solver solver :
       {Solver::kUniform, Solver::kRtn, Solver::kAlq, Solver::kAmq, Solver::kZipmlCpUnif})
    for (std::size_t d : {std::size_t(1), std::size_t(999), std::size_t(1) << 18})
      expect_same_levels(comp, normal_vector(d, d + 11, 0.5f), 16, solver, {},
                         "d=" + std::to_string(d));
}

// The CPU's scan keeps, among values that tie with the minimum (or maximum), the first it
// visits in its 16-lane order; for zeros this decides between +0 and -0 in the level bits.
TEST_F(CudaSolvers, SignedZeroExtremesMatchCpu) {
  std::vector<std::vector<float>> cases;
  cases.push_back(std::vector<float>(40, 0.0f));  // all +0
  cases.push_back(std::vector<float>(40, 0.0f));
  cases.back()[0] = -0.0f;  // x[0] seeds every lane
  cases.push_back(std::vector<float>(40, 1.0f));
  cases.back()[1] = 0.0f;   // lane 1 sees +0 first ...
  cases.back()[3] = -0.0f;  // ... before lane 3 sees -0
  cases.push_back(std::vector<float>(40, 1.0f));
  cases.back()[17] = 0.0f;                         // lane 1, second visit
  cases.back()[1] = -0.0f;                         // lane 1, first visit
  cases.push_back(std::vector<float>(37, -1.0f));  // zero maximum, in the tail (lane 0)
  cases.back()[35] = -0.0f;
  cases.back()[36] = 0.0f;
  cases.push_back(std::vector<float>(5, 0.0f));  // shorter than one lane group
  cases.back()[2] = -0.0f;
  cases.back()[0] = 2.0f;
  cuda::Compressor comp;
  for (std::size_t c = 0; c < cases.size(); ++c)
    for (Solver solver : {Solver::kQuiverApx, Solver::kUniform, Solver::kQuiver})
      expect_same_levels(comp, cases[c], 4, solver, {}, "zero case " + std::to_string(c));
}

TEST_F(CudaSolvers, ErrorsMatchCpu) {
  cuda::Compressor comp;
  std::vector<float> x = normal_vector(5000, 3);
  x[4321] = std::numeric_limits<float>::quiet_NaN();
  x[4500] = -std::numeric_limits<float>::infinity();
  cuda::DeviceBuffer<float> dev{std::span<const float>(x)};
  for (Solver solver : {Solver::kQuiverApx, Solver::kUniform, Solver::kQuiver, Solver::kAlq}) {
    const std::string want = error_of([&] { solve_levels(x, 8, solver); });
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(error_of([&] { comp.solve_levels(dev.span(), 8, solver); }), want)
        << solver_name(solver);
  }
  const std::vector<float> ok = normal_vector(100, 4);
  cuda::DeviceBuffer<float> ok_dev{std::span<const float>(ok)};
  const auto same = [&](std::size_t s, Solver solver, std::size_t m) {
    const SolverOptions opt{m};
    EXPECT_EQ(error_of([&] { comp.solve_levels(ok_dev.span(), s, solver, opt); }),
              error_of([&] { solve_levels(ok, s, solver, opt); }))
        << solver_name(solver) << " s=" << s << " m=" << m;
  };
  same(1, Solver::kQuiverApx, 400);            // s too small
  same(kMaxLevels + 1, Solver::kQuiver, 400);  // s too large
  same(16, Solver::kQuiverApx, 8);             // m < s
  same(16, Solver::kQuiverApx, kMaxApxGrid + 1);
  EXPECT_EQ(error_of([&] { comp.solve_levels({}, 4, Solver::kQuiverApx); }),
            error_of([&] { solve_levels({}, 4, Solver::kQuiverApx); }));
  EXPECT_NE(error_of([&] {
              comp.solve_levels(ok, 4, Solver::kQuiverApx);
            }).find("expected device memory"),
            std::string::npos);
}

TEST_F(CudaSolvers, ReportsWhereTheTimeWent) {
  cuda::Compressor comp;
  const std::vector<float> x = lognormal_vector(std::size_t(1) << 20, 5);
  cuda::DeviceBuffer<float> dev{std::span<const float>(x)};
  cuda::SolveTimes apx, exact;
  comp.solve_levels(dev.span(), 16, Solver::kQuiverApx, {}, &apx);
  comp.solve_levels(dev.span(), 16, Solver::kQuiverAccel, {}, &exact);
  EXPECT_GT(apx.scan_ms, 0);
  EXPECT_GT(apx.histogram_ms, 0);
  EXPECT_EQ(apx.sort_ms, 0);
  EXPECT_GT(exact.sort_ms, 0);
  EXPECT_GT(exact.transfer_ms, 0);
  EXPECT_GT(exact.host_ms, 0);
  EXPECT_EQ(exact.histogram_ms, 0);
}

}  // namespace
}  // namespace dme::test
