// Inputs near the float32 limit: every exchange, rotation count and rotation mode gives a finite
// mean, equal bit for bit to the same round run on the input scaled down by a power of two, and
// within the variance bound of stochastic rounding of a float64 reference mean.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "dme/collective/mean_estimator.h"
#include "dme/rotation/rht.h"
#include "support/mpi_test_support.h"

namespace {

using dme::test::world_rank;
using dme::test::world_size;

constexpr float kFloatMax = std::numeric_limits<float>::max();

// Rank r's vector: magnitudes in [1e38, FLT_MAX] with random signs, and a head of coordinates
// that are +FLT_MAX on every rank (their float32 sum overflows at any rank count).
std::vector<float> huge_input(int rank, std::size_t d) {
  std::mt19937_64 gen(1000 + static_cast<std::uint64_t>(rank));
  std::uniform_real_distribution<float> mag(1e38f, kFloatMax);
  std::vector<float> x(d);
  for (auto& v : x) v = (gen() & 1 ? -1.0f : 1.0f) * mag(gen);
  for (std::size_t i = 0; i < 8; ++i) x[i] = kFloatMax;
  return x;
}

struct Case {
  dme::Exchange exchange;
  int rotations;
  bool shared;
};

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (auto ex : {dme::Exchange::kAllgather, dme::Exchange::kGatherBcast,
                  dme::Exchange::kReduceScatter, dme::Exchange::kReduceScatterInt})
    for (int k = 0; k <= 3; ++k)
      for (bool shared : {true, false}) {
        const bool chunked =
            ex == dme::Exchange::kReduceScatter || ex == dme::Exchange::kReduceScatterInt;
        if (chunked && !shared) continue;  // the reduce-scatters need a shared rotation
        cases.push_back({ex, k, shared});
      }
  return cases;
}

std::string describe(const Case& c) {
  return std::string(dme::exchange_name(c.exchange)) + ", rotations " +
         std::to_string(c.rotations) + (c.shared ? ", shared" : ", per rank");
}

TEST(CollectiveOverflow, NearFloatMaxIsFiniteAndEqualsTheScaledRound) {
  const std::size_t d = 1000;
  const std::vector<float> x = huge_input(world_rank(), d);
  // 2^-100 brings every value far below the scaling threshold.
  std::vector<float> small(d);
  for (std::size_t i = 0; i < d; ++i) small[i] = std::ldexp(x[i], -100);
  for (const Case& c : all_cases()) {
    dme::Options o;
    o.exchange = c.exchange;
    o.rotations = c.rotations;
    o.shared_rotation = c.shared;
    o.seed = 7;
    std::vector<float> out(d), out_small(d);
    o.first_round = 3;
    const dme::Report rep = dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, out);
    const dme::Report rep_small = dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(small, out_small);
    EXPECT_GT(rep.scale_exponent, 0) << describe(c);
    EXPECT_EQ(rep_small.scale_exponent, 0) << describe(c);
    std::size_t mismatches = 0, non_finite = 0;
    for (std::size_t i = 0; i < d; ++i) {
      if (!std::isfinite(out[i])) ++non_finite;
      // The scaled round, scaled back; what float32 cannot hold saturates at ±FLT_MAX.
      const double back = std::ldexp(double(out_small[i]), 100);
      const float expect =
          static_cast<float>(std::clamp(back, -double(kFloatMax), double(kFloatMax)));
      if (std::memcmp(&expect, &out[i], 4) != 0) ++mismatches;
    }
    EXPECT_EQ(non_finite, 0u) << describe(c);
    EXPECT_EQ(mismatches, 0u) << describe(c);
    EXPECT_TRUE(dme::test::identical_on_all_ranks(out)) << describe(c);
  }
}

// Sum over the ranks of the bound D·Δ²/4 on one rank's rounding error, Δ = (max y - min y)/(s-1)
// with y that rank's rotated vector (exact QUIVER levels do at least as well as uniform ones).
double rounding_bound(const std::vector<std::vector<float>>& xs, const dme::Options& o,
                      std::uint32_t round, double& joint_range) {
  double total = 0, lo = INFINITY, hi = -INFINITY;
  const std::size_t d = xs[0].size();
  for (std::size_t r = 0; r < xs.size(); ++r) {
    const dme::Rotation rot(o.seed, round, o.rotations, d,
                            dme::rotation_stream(o.shared_rotation, static_cast<int>(r)),
                            dme::resolved_layout(o));
    std::vector<double> x(xs[r].begin(), xs[r].end()), y(rot.padded());
    rot.forward(std::span<const double>(x), std::span<double>(y));
    const auto [mn, mx] = std::minmax_element(y.begin(), y.end());
    lo = std::min(lo, *mn);
    hi = std::max(hi, *mx);
    const double delta = (*mx - *mn) / double(o.s - 1);
    total += double(rot.padded()) * delta * delta / 4;
  }
  joint_range = hi - lo;
  return total;
}

TEST(CollectiveOverflow, NearFloatMaxIsWithinTheRoundingBound) {
  const std::size_t d = 1000;
  const int n = world_size();
  std::vector<std::vector<float>> xs;
  for (int r = 0; r < n; ++r) xs.push_back(huge_input(r, d));
  std::vector<double> ref(d, 0.0);
  for (const auto& x : xs)
    for (std::size_t i = 0; i < d; ++i) ref[i] += double(x[i]) / n;
  for (const Case& c : all_cases()) {
    dme::Options o;
    o.exchange = c.exchange;
    o.rotations = c.rotations;
    o.shared_rotation = c.shared;
    o.solver = dme::Solver::kQuiver;  // exact: at least as good as uniform levels
    o.seed = 11;
    dme::MeanEstimator est(MPI_COMM_WORLD, o);
    const std::uint32_t round = est.next_round();
    std::vector<float> out(d);
    est.estimate(xs[static_cast<std::size_t>(world_rank())], out);
    double err = 0;
    for (std::size_t i = 0; i < d; ++i) {
      ASSERT_TRUE(std::isfinite(out[i])) << describe(c) << " index " << i;
      err += (double(out[i]) - ref[i]) * (double(out[i]) - ref[i]);
    }
    // E|est - mean|² <= Σ_r D Δ_r²/4 / n²; the reduce-scatter re-quantises the average once more,
    // within the joint range of all rotated vectors. Twice the bound: a margin for one draw.
    double joint = 0;
    double bound = rounding_bound(xs, o, round, joint) / (double(n) * n);
    const double delta = joint / double(o.s - 1);
    const std::size_t padded =
        o.rotations == 0 ? d : dme::padded_length(d, dme::resolved_layout(o));
    if (c.exchange == dme::Exchange::kReduceScatter) bound += double(padded) * delta * delta / 4;
    // reduce-scatter-int: one rounding per rank to levels its chunk's owner chose on the joint
    // range's grid, whose gaps may exceed the rank's own uniform step: allow twice the joint
    // step (algorithms.md §10.6).
    if (c.exchange == dme::Exchange::kReduceScatterInt)
      bound = double(n) * double(padded) * (2 * delta) * (2 * delta) / 4 / (double(n) * n);
    EXPECT_LE(err, 2 * bound) << describe(c);
    EXPECT_GT(err, 0.0) << describe(c);
  }
}

}  // namespace
