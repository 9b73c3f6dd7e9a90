// The vectorised monotone minima of the QUIVER and k-means layers (accel_minima.h) against SMAWK on
// the same layer matrices, at sizes where the divide-and-conquer recurses deep and mixes scans with
// brute-forced leaves; inputs with many repeated values give long plateaus and exact ties. Under
// every SIMD target, and every target against the reference one (scalar on x86) bit for bit
// (minima and argmins), over whole layers and windows.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../simd_test_support.h"
#include "dme/quantization/detail/accel_minima.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/smawk.h"
#include "quant_test_support.h"

namespace {

using dme::test::Dist;
namespace dd = dme::detail;

// The reference every target is compared with: the last one available, Highway's scalar target
// where the build has it (x86; aarch64 builds start at NEON).
std::string reference_target() {
  return dme::simd_targets_available().back();
}

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
  // The same layers, each search starting every column at the previous layer's argmin (the
  // layered DP's bound across layers, docs/algorithms.md §3.5; the first layer's predecessor
  // C(0, .) has argmin 0, so it runs without one).
  std::vector<std::uint32_t> previous;
  compare_layers(
      first, unit,
      [&](const double* f, std::uint32_t* a, double* o) {
        dd::asq_column_minima(f, xs.data(), us.data(), n, a, o,
                              previous.empty() ? nullptr : previous.data());
        previous.assign(a, a + n);
      },
      "plain from the previous layer's argmins");
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
  dme::test::for_each_simd_target([](const std::string&) {
    for (Dist dist : {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kTwoValues})
      for (std::size_t n : {1u, 2u, 7u, 9u, 33u, 1000u, 20000u}) {
        const std::vector<float> sorted = dme::test::sorted_copy(dme::test::make_input(dist, n, n));
        check_all_layers(sorted);
      }
  });
}

// Every kernel's minima and argmins on one input, concatenated: four layers of each whole-layer
// kernel, then windows of each window kernel at random positions.
struct Results {
  std::vector<double> out;
  std::vector<std::uint32_t> argmin;
};

Results all_kernels(const std::vector<float>& sorted, std::uint64_t seed) {
  const std::size_t n = sorted.size();
  std::vector<double> xs(n), us(n);
  dd::chord_arrays(sorted, dd::compensated_mean(sorted), xs.data(), us.data());
  const std::vector<double> prefix =
      dd::centred_exclusive_prefix(sorted, dd::compensated_mean(sorted));
  Results r;
  std::vector<double> out(n + 1);
  std::vector<std::uint32_t> arg(n + 1);
  const auto keep = [&](std::size_t count) {
    r.out.insert(r.out.end(), out.begin(), out.begin() + count);
    r.argmin.insert(r.argmin.end(), arg.begin(), arg.begin() + count);
  };
  std::vector<double> f(n);
  for (std::size_t j = 0; j < n; ++j) f[j] = xs[j] * us[0] - xs[0] * us[j];
  for (int layer = 0; layer < 4; ++layer) {
    dd::accel_column_minima(f.data(), xs.data(), us.data(), n, arg.data(), out.data());
    keep(n);
    f.assign(out.begin(), out.begin() + n);
  }
  for (const bool bounded : {false, true}) {  // bounded: from the previous layer's argmins
    for (std::size_t j = 0; j < n; ++j) f[j] = xs[j] * us[0] - xs[0] * us[j];
    std::vector<std::uint32_t> previous;
    for (int layer = 0; layer < 4; ++layer) {
      dd::asq_column_minima(f.data(), xs.data(), us.data(), n, arg.data(), out.data(),
                            previous.empty() ? nullptr : previous.data());
      keep(n);
      f.assign(out.begin(), out.begin() + n);
      if (bounded) previous.assign(arg.begin(), arg.begin() + n);
    }
  }
  std::vector<double> kf(n + 1);
  for (std::size_t j = 1; j <= n; ++j)
    kf[j] = -((prefix[j] - prefix[0]) * (prefix[j] - prefix[0])) / static_cast<double>(j);
  for (int layer = 0; layer < 4; ++layer) {
    dd::kmeans_column_minima(kf.data(), prefix.data(), n + 1, arg.data(), out.data());
    keep(n + 1);
    kf = out;
  }
  // Windows r_lo <= c_lo, r_hi <= c_hi, with row values from the first layer's; the bilinear one
  // with column coefficients of its own (a Monge matrix: the ASQ cost on the reversed points).
  std::mt19937_64 rng(seed);
  std::vector<double> xr(n), ur(n);
  for (std::size_t t = 0; t < n; ++t) xr[t] = -xs[n - 1 - t], ur[t] = us[n - 1 - t];
  for (int w = 0; w < 12; ++w) {
    std::size_t a = rng() % n, b = rng() % n, c = rng() % n, e = rng() % n;
    std::size_t q[4] = {a, b, c, e};
    std::sort(q, q + 4);
    // rows [q0, q1 or q2], columns [q1, q3]
    const std::size_t r_lo = q[0], c_lo = q[1], r_hi = w % 2 ? q[2] : q[1], c_hi = q[3];
    const std::size_t cols = c_hi - c_lo + 1;
    for (std::size_t k = r_lo; k <= r_hi; ++k) f[k - r_lo] = xs[k] * us[0] - xs[0] * us[k];
    dd::accel_window_minima(f.data(), xs.data(), us.data(), r_lo, r_hi, c_lo, c_hi, arg.data(),
                            out.data());
    keep(cols);
    dd::asq_window_minima(f.data(), xs.data(), us.data(), r_lo, r_hi, c_lo, c_hi, arg.data(),
                          out.data());
    keep(cols);
    dd::bilinear_window_minima(f.data(), xs.data(), us.data(), xr.data(), ur.data(), r_lo, r_hi,
                               c_lo, c_hi, arg.data(), out.data());
    keep(cols);
  }
  return r;
}

TEST(AccelMinima, EveryTargetEqualsTheReferenceBitForBit) {
  for (Dist dist : {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kTwoValues})
    for (std::size_t n : {1u, 3u, 8u, 17u, 100u, 1001u, 30011u}) {
      const std::vector<float> sorted = dme::test::sorted_copy(dme::test::make_input(dist, n, n));
      dme::set_simd_target(reference_target());
      const Results want = all_kernels(sorted, n);
      dme::test::for_each_simd_target([&](const std::string&) {
        const Results got = all_kernels(sorted, n);
        ASSERT_EQ(got.argmin, want.argmin) << dme::test::dist_name(dist) << " n = " << n;
        ASSERT_EQ(got.out.size(), want.out.size());
        for (std::size_t i = 0; i < got.out.size(); ++i)
          ASSERT_EQ(std::bit_cast<std::uint64_t>(got.out[i]),
                    std::bit_cast<std::uint64_t>(want.out[i]))
              << dme::test::dist_name(dist) << " n = " << n << " result " << i;
      });
    }
}

}  // namespace
