// The vectorised monotone minima of the QUIVER and k-means layers (accel_minima.h) against SMAWK on
// the same layer matrices, at sizes where the divide-and-conquer recurses deep and mixes scans with
// brute-forced leaves; inputs with many repeated values give long plateaus and exact ties.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "dme/core/detail/simd.h"
#include "dme/quantization/detail/accel_minima.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/smawk.h"
#include "quant_test_support.h"

#if DME_HAVE_AVX512

namespace {

using dme::test::Dist;
namespace dd = dme::detail;

// Four layers f <- column minima of f[k] + cost(k, j) (k <= j), by SMAWK and by `minima`
// (called as minima(f, argmin, out)): the same minima, and each argmin found attains it.
template <class Cost, class Minima>
void compare_layers(std::vector<double> f, const Cost& cost, Minima&& minima, const char* what) {
  const std::size_t n = f.size();
  std::vector<double> want(n), got(n);
  std::vector<std::uint32_t> want_arg(n), got_arg(n);
  dd::Smawk smawk;
  for (int layer = 0; layer < 4; ++layer) {
    auto value = [&](std::size_t k, std::size_t j) {
      return k > j ? std::numeric_limits<double>::infinity() : f[k] + cost(k, j);
    };
    smawk.column_minima(n, n, value, want_arg.data(), want.data());
    minima(f.data(), got_arg.data(), got.data());
    for (std::size_t j = 0; j < n; ++j) {
      const double tol = 1e-12 * (std::fabs(want[j]) + 1);
      ASSERT_NEAR(got[j], want[j], tol) << what << " layer " << layer << " column " << j;
      // Among rows tied to rounding any one may be found: such ties can make argmins step back
      // by a row, which the DP's backtracking does not mind.
      ASSERT_LE(got_arg[j], j);
      ASSERT_NEAR(value(got_arg[j], j), want[j], tol)
          << what << " layer " << layer << " column " << j;
    }
    f = got;
  }
}

void check_all_layers(const std::vector<float>& sorted) {
  const std::size_t n = sorted.size();
  std::vector<dd::ChordPoint> p(n);
  dd::chord_points(sorted, dd::compensated_mean(sorted), p.data());
  std::vector<double> xs(n), us(n), first(n);
  for (std::size_t t = 0; t < n; ++t) xs[t] = p[t].x, us[t] = p[t].u;
  const dd::AsqCost unit{p.data()};
  for (std::size_t j = 0; j < n; ++j) first[j] = unit(0, j);
  compare_layers(
      first, dd::AccelAsqCost{p.data()},
      [&](const double* f, std::uint32_t* a, double* o) {
        dd::accel_column_minima(f, xs.data(), us.data(), n, a, o);
      },
      "accel");
  compare_layers(
      first, unit,
      [&](const double* f, std::uint32_t* a, double* o) {
        dd::asq_column_minima(f, xs.data(), us.data(), n, a, o);
      },
      "plain");
  // k-means: columns are prefix positions 0..d.
  const std::vector<double> prefix =
      dd::centred_exclusive_prefix(sorted, dd::compensated_mean(sorted));
  const dd::KmeansCost kmeans{prefix.data()};
  std::vector<double> kfirst(prefix.size());
  for (std::size_t j = 0; j < prefix.size(); ++j) kfirst[j] = kmeans(0, j);
  compare_layers(
      kfirst, kmeans,
      [&](const double* f, std::uint32_t* a, double* o) {
        dd::kmeans_column_minima(f, prefix.data(), prefix.size(), a, o);
      },
      "kmeans");
}

TEST(AccelMinima, EqualSmawkOnQuiverAndKmeansLayers) {
  for (Dist dist : {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kTwoValues})
    for (std::size_t n : {1u, 2u, 7u, 9u, 33u, 1000u, 20000u}) {
      const std::vector<float> sorted = dme::test::sorted_copy(dme::test::make_input(dist, n, n));
      check_all_layers(sorted);
    }
}

}  // namespace

#endif  // DME_HAVE_AVX512
