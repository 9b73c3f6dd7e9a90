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

template <class Cost, class Minima>
void check_layers(const std::vector<float>& sorted, Minima&& minima, const char* what) {
  const std::size_t n = sorted.size();
  std::vector<dd::ChordPoint> p(n);
  dd::chord_points(sorted, dd::compensated_mean(sorted), p.data());
  std::vector<double> xs(n), us(n);
  for (std::size_t t = 0; t < n; ++t) xs[t] = p[t].x, us[t] = p[t].u;
  const Cost cost{p.data()};
  const dd::AsqCost unit{p.data()};
  std::vector<double> f(n), want(n), got(n);
  std::vector<std::uint32_t> want_arg(n), got_arg(n);
  for (std::size_t j = 0; j < n; ++j) f[j] = unit(0, j);
  dd::Smawk smawk;
  for (int layer = 0; layer < 4; ++layer) {
    auto value = [&](std::size_t k, std::size_t j) {
      return k > j ? std::numeric_limits<double>::infinity() : f[k] + cost(k, j);
    };
    smawk.column_minima(n, n, value, want_arg.data(), want.data());
    minima(f.data(), xs.data(), us.data(), n, got_arg.data(), got.data());
    for (std::size_t j = 0; j < n; ++j) {
      ASSERT_NEAR(got[j], want[j], 1e-12 * (std::fabs(want[j]) + 1))
          << what << " layer " << layer << " column " << j;
      // The argmin found gives the minimum (among rows tied to rounding, any one of them: such
      // ties can make argmins step back by a row, which the DP's backtracking does not mind).
      ASSERT_LE(got_arg[j], j);
      ASSERT_NEAR(value(got_arg[j], j), want[j], 1e-12 * (std::fabs(want[j]) + 1))
          << what << " layer " << layer << " column " << j;
    }
    f = got;
  }
}

// The k-means layers: columns are prefix positions 0..d (n = d + 1), KmeansCost.
void check_kmeans_layers(const std::vector<float>& sorted) {
  const std::vector<double> prefix =
      dd::centred_exclusive_prefix(sorted, dd::compensated_mean(sorted));
  const std::size_t n = prefix.size();
  const dd::KmeansCost cost{prefix.data()};
  std::vector<double> f(n), want(n), got(n);
  std::vector<std::uint32_t> want_arg(n), got_arg(n);
  for (std::size_t j = 0; j < n; ++j) f[j] = cost(0, j);
  dd::Smawk smawk;
  for (int layer = 0; layer < 4; ++layer) {
    auto value = [&](std::size_t k, std::size_t j) {
      return k > j ? std::numeric_limits<double>::infinity() : f[k] + cost(k, j);
    };
    smawk.column_minima(n, n, value, want_arg.data(), want.data());
    dd::kmeans_column_minima(f.data(), prefix.data(), n, got_arg.data(), got.data());
    for (std::size_t j = 0; j < n; ++j) {
      ASSERT_NEAR(got[j], want[j], 1e-12 * (std::fabs(want[j]) + 1))
          << "kmeans layer " << layer << " column " << j;
      ASSERT_LE(got_arg[j], j);
      ASSERT_NEAR(value(got_arg[j], j), want[j], 1e-12 * (std::fabs(want[j]) + 1))
          << "kmeans layer " << layer << " column " << j;
    }
    f = got;
  }
}

TEST(AccelMinima, EqualSmawkOnQuiverAndKmeansLayers) {
  for (Dist dist : {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kTwoValues})
    for (std::size_t n : {1u, 2u, 7u, 9u, 33u, 1000u, 20000u}) {
      const std::vector<float> sorted = dme::test::sorted_copy(dme::test::make_input(dist, n, n));
      check_layers<dd::AccelAsqCost>(sorted, dd::accel_column_minima, "accel");
      check_layers<dd::AsqCost>(sorted, dd::asq_column_minima, "plain");
      check_kmeans_layers(sorted);
    }
}

}  // namespace

#endif  // DME_HAVE_AVX512
