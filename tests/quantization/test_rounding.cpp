// Stochastic and nearest rounding: vector kernels equal the scalar definition, stochastic rounding
// is unbiased with the analytic variance, results do not depend on chunking or threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/quantization/detail/rounding_kernels.h"
#include "dme/quantization/metrics.h"
#include "dme/quantization/rounding.h"
#include "../simd_test_support.h"
#include "quant_test_support.h"

namespace {

using dme::PhiloxStream;
using dme::Purpose;

std::vector<float> spread_levels(std::size_t s, float lo, float hi) {
  // Uneven spacing, so interval widths differ.
  std::vector<float> l(s);
  for (std::size_t t = 0; t < s; ++t) {
    const double f = s == 1 ? 0.0 : static_cast<double>(t) / static_cast<double>(s - 1);
    l[t] = static_cast<float>(lo + (hi - lo) * f * f);
  }
  l.front() = lo;
  l.back() = hi;
  return l;
}

std::vector<float> values_in(float lo, float hi, std::size_t d, std::uint64_t seed,
                             const std::vector<float>& levels) {
  const PhiloxStream in(seed, 0, 0, Purpose::kInput);
  std::vector<float> x(d);
  for (std::size_t i = 0; i < d; ++i) x[i] = lo + (hi - lo) * in.uniform_float(i);
  // Exact level values and the end points occur too.
  for (std::size_t i = 0; i < d; i += 7) x[i] = levels[(i / 7) % levels.size()];
  if (d > 1) x[d - 1] = hi;
  return x;
}

TEST(Rounding, VectorKernelsEqualScalarDefinition) {
  dme::test::for_each_simd_target([](const std::string&) {
  const std::size_t sizes[] = {0, 1, 7, 63, 64, 65, 127, 1000, 4099};
  const std::uint64_t firsts[] = {0, 1, 2, 3, 5, (std::uint64_t(1) << 34) - 5};
  const std::size_t level_counts[] = {1,  2,  3,  5,  8,  9,  15,  16,   17,
                                      31, 32, 33, 63, 64, 65, 100, 65536};
  const PhiloxStream stream(42, 3, 9, Purpose::kRounding);
  for (std::size_t s : level_counts) {
    const std::vector<float> levels =
        s == 1 ? std::vector<float>{0.25f} : spread_levels(s, -3.0f, 5.0f);
    for (std::size_t d : sizes) {
      std::vector<float> x = values_in(levels.front(), levels.back(), d, s * 1000 + d, levels);
      for (std::uint64_t first : firsts) {
        std::vector<std::uint16_t> fast(d, 0xFFFF), ref(d, 0xFFFF);
        ASSERT_EQ(
            dme::detail::stochastic_round_kernel(x.data(), d, levels, stream, first, fast.data()),
            d);
        ASSERT_EQ(
            dme::detail::stochastic_round_scalar(x.data(), d, levels, stream, first, ref.data()),
            d);
        ASSERT_EQ(fast, ref) << "s=" << s << " d=" << d << " first=" << first;
      }
      // Nearest rounding also sees values outside the range (clamped).
      for (std::size_t i = 0; i < d; i += 5) x[i] = (i % 2 ? 1 : -1) * 9.0f;
      std::vector<std::uint16_t> fast(d), ref(d);
      ASSERT_EQ(dme::detail::nearest_round_kernel(x.data(), d, levels, fast.data()), d);
      ASSERT_EQ(dme::detail::nearest_round_scalar(x.data(), d, levels, ref.data()), d);
      ASSERT_EQ(fast, ref) << "nearest s=" << s << " d=" << d;
      // The first value outside the levels (or NaN) is found at the same index.
      if (d >= 100 && s >= 2) {
        for (std::size_t bad : {d - 1, d / 2, std::size_t{70}, std::size_t{3}}) {
          std::vector<float> y = values_in(levels.front(), levels.back(), d, s + d, levels);
          y[bad] = bad % 2 ? std::numeric_limits<float>::quiet_NaN() : levels.back() * 2 + 1;
          ASSERT_EQ(dme::detail::stochastic_round_kernel(y.data(), d, levels, stream, 1,
                                                         fast.data()),
                    bad);
          if (bad % 2) {
            ASSERT_EQ(dme::detail::nearest_round_kernel(y.data(), d, levels, fast.data()), bad);
          }
        }
      }
    }
  }
  });
}

TEST(Rounding, CodesPointToTheNeighbouringLevels) {
  const std::vector<float> levels = spread_levels(9, -1.0f, 2.0f);
  const std::vector<float> x = values_in(-1.0f, 2.0f, 5000, 1, levels);
  std::vector<std::uint16_t> codes(x.size());
  dme::stochastic_round(x, levels, PhiloxStream(1, 0, 0, Purpose::kRounding), 0, codes);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_LT(codes[i], levels.size());
    const float q = levels[codes[i]];
    // q is the largest level <= x or the smallest level >= x.
    for (float l : levels) ASSERT_FALSE(l > std::min(q, x[i]) && l < std::max(q, x[i])) << i;
  }
}

TEST(Rounding, UnbiasedWithinStandardErrors) {
  // T independent roundings (stream round t) of d values: each coordinate's mean must lie
  // within 6 standard errors of x (a Bernoulli between a and b has variance (b-x)(x-a)); with
  // 1000 coordinates a false alarm has probability about 2e-6. The pooled z-score of all
  // coordinates together must be below 5.
  const std::size_t d = 1000, trials = 2000;
  const std::vector<float> levels = spread_levels(16, -2.0f, 3.0f);
  const std::vector<float> x = values_in(-2.0f, 3.0f, d, 7, levels);
  std::vector<double> mean(d, 0.0);
  std::vector<std::uint16_t> codes(d);
  for (std::size_t t = 0; t < trials; ++t) {
    dme::stochastic_round(x, levels,
                          PhiloxStream(99, static_cast<std::uint32_t>(t), 4, Purpose::kRounding), 0,
                          codes);
    for (std::size_t i = 0; i < d; ++i) mean[i] += levels[codes[i]];
  }
  double pooled_err = 0, pooled_var = 0;
  for (std::size_t i = 0; i < d; ++i) {
    mean[i] /= trials;
    const std::size_t c = dme::detail::level_interval(x[i], levels.data(), levels.size());
    const double var =
        (static_cast<double>(levels[c + 1]) - x[i]) * (x[i] - static_cast<double>(levels[c]));
    const double se = std::sqrt(var / trials);
    // Float rounding of the probability biases by at most 2^-24 of the interval.
    const double slack = 0x1p-22 * (static_cast<double>(levels[c + 1]) - levels[c]);
    ASSERT_LE(std::fabs(mean[i] - x[i]), 6 * se + slack) << "coordinate " << i;
    pooled_err += mean[i] - x[i];
    pooled_var += var / trials;
  }
  EXPECT_LE(std::fabs(pooled_err) / std::sqrt(pooled_var), 5.0);
}

TEST(Rounding, SampledVnmseMatchesAnalytic) {
  // The sampled vNMSE averages T trials of Σ e_i²/‖x‖². Each e_i² is (x-a)² or (b-x)², so its
  // variance is known exactly; the sample mean must lie within 6 of its standard deviations.
  const std::size_t d = 4096;
  const int trials = 200;
  const std::vector<float> x = dme::test::make_input(dme::test::Dist::kNormal, d, 21);
  float lo = x[0], hi = x[0];
  for (float v : x) lo = std::min(lo, v), hi = std::max(hi, v);
  const std::vector<float> levels = spread_levels(8, lo, hi);
  const double analytic = dme::analytic_vnmse(x, levels);
  double var_sum = 0, norm2 = 0;
  for (float v : x) {
    norm2 += static_cast<double>(v) * v;
    const std::size_t c = dme::detail::level_interval(v, levels.data(), levels.size());
    const double a = levels[c], b = levels[c + 1], p = (v - a) / (b - a);
    const double e2 = (b - v) * (v - a);
    const double e4 = (1 - p) * std::pow(v - a, 4) + p * std::pow(b - v, 4);
    var_sum += e4 - e2 * e2;
  }
  const double sd = std::sqrt(var_sum / trials) / norm2;
  const double sampled = dme::sampled_vnmse(x, levels, 5, trials);
  EXPECT_NEAR(sampled, analytic, 6 * sd) << "analytic " << analytic << " sd " << sd;
  EXPECT_GT(analytic, 0.0);
}

TEST(Rounding, SameSeedSameCodesWhateverTheChunkingAndThreads) {
  const std::size_t d = 100003;
  const std::vector<float> levels = spread_levels(16, -1.0f, 1.0f);
  const std::vector<float> x = values_in(-1.0f, 1.0f, d, 3, levels);
  const PhiloxStream stream(2024, 5, 1, Purpose::kRounding);
  std::vector<std::uint16_t> whole(d);
  dme::stochastic_round(x, levels, stream, 0, whole);
  for (unsigned threads : {2u, 3u, 7u}) {
    std::vector<std::uint16_t> parts(d);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      // Awkward boundaries: not multiples of 4, 16 or 64.
      const std::size_t begin = d * t / threads + (t ? 1 : 0),
                        end = d * (t + 1) / threads + (t + 1 < threads ? 1 : 0);
      pool.emplace_back([&, begin, end] {
        dme::stochastic_round(std::span(x).subspan(begin, end - begin), levels, stream, begin,
                              std::span(parts).subspan(begin, end - begin));
      });
    }
    for (auto& th : pool) th.join();
    EXPECT_EQ(parts, whole) << threads << " threads";
  }
  // Another rank or round draws differently.
  std::vector<std::uint16_t> other(d);
  dme::stochastic_round(x, levels, PhiloxStream(2024, 5, 2, Purpose::kRounding), 0, other);
  EXPECT_NE(other, whole);
}

TEST(Rounding, NearestPicksTheClosestLevelTiesLowAndClamps) {
  const std::vector<float> levels = {-1.0f, 0.0f, 0.5f, 2.0f};
  const std::vector<float> x = {-5.0f, -1.0f, -0.5f, -0.4f, 0.25f, 0.3f, 1.25f, 1.3f, 2.0f, 7.0f};
  const std::vector<std::uint16_t> expect = {0, 0, 0, 1, 1, 2, 2, 3, 3, 3};
  std::vector<std::uint16_t> codes(x.size());
  dme::nearest_round(x, levels, codes);
  EXPECT_EQ(codes, expect);
}

TEST(Rounding, ConstantLevelSet) {
  const std::vector<float> levels = {1.5f};
  const std::vector<float> x(100, 1.5f);
  std::vector<std::uint16_t> codes(x.size(), 7);
  dme::stochastic_round(x, levels, PhiloxStream(1, 0, 0, Purpose::kRounding), 0, codes);
  for (auto c : codes) EXPECT_EQ(c, 0);
  std::vector<float> out(x.size());
  dme::dequantize(codes, levels, out);
  EXPECT_EQ(out, x);
}

TEST(Rounding, DequantizeMapsCodesToLevels) {
  const std::vector<float> levels = {-2.0f, 0.5f, 4.0f};
  const std::vector<std::uint16_t> codes = {2, 0, 1, 1, 2};
  std::vector<float> out(codes.size());
  dme::dequantize(codes, levels, out);
  EXPECT_EQ(out, (std::vector<float>{4.0f, -2.0f, 0.5f, 0.5f, 4.0f}));
}

TEST(Rounding, BadInputThrows) {
  const PhiloxStream st(1, 0, 0, Purpose::kRounding);
  const std::vector<float> levels = {0.0f, 1.0f, 2.0f};
  std::vector<std::uint16_t> codes(200);
  std::vector<float> x(200, 0.5f);
  x[150] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(dme::stochastic_round(x, levels, st, 0, codes), dme::Error);
  EXPECT_THROW(dme::nearest_round(x, levels, codes), dme::Error);
  x[150] = 2.5f;  // outside the range
  try {
    dme::stochastic_round(x, levels, st, 0, codes);
    FAIL() << "no error for a value outside the levels";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("x[150]"), std::string::npos) << e.what();
  }
  x[150] = 0.5f;
  std::vector<std::uint16_t> short_codes(10);
  EXPECT_THROW(dme::stochastic_round(x, levels, st, 0, short_codes), dme::Error);
  EXPECT_THROW(dme::stochastic_round(x, std::vector<float>{}, st, 0, codes), dme::Error);
  EXPECT_THROW(dme::stochastic_round(x, std::vector<float>{0.0f, 2.0f, 1.0f}, st, 0, codes),
               dme::Error);
  EXPECT_THROW(dme::stochastic_round(x, std::vector<float>{0.0f, 1.0f, 1.0f}, st, 0, codes),
               dme::Error);
  EXPECT_THROW(dme::stochastic_round(x, std::vector<float>(65537, 0.0f), st, 0, codes), dme::Error);
  std::vector<float> out(3);
  EXPECT_THROW(dme::dequantize(std::vector<std::uint16_t>{0, 3, 1}, levels, out), dme::Error);
  EXPECT_THROW(dme::dequantize(std::vector<std::uint16_t>{0, 1}, levels, out), dme::Error);
}

}  // namespace
