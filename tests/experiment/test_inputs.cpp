// Experiment inputs: distributions (Kolmogorov-Smirnov and moments), reproducibility, modes
// across ranks, file inputs, and bad parameters.
//
// Tolerances. At n = 2^16 draws with fixed seeds:
// - KS: sqrt(n) * D_n is below 1.95 with probability 0.999 for a correct sampler (Kolmogorov
//   distribution), so the bound D_n < 1.95 / sqrt(n) = 0.0076 fails a correct sampler with
//   probability 1e-3 per check, and catches any CDF error of 1% or more.
// - Mean, variance and lag-1 correlation within 5 standard errors, the standard errors
//   estimated from the sample (s / sqrt(n) for the mean, sqrt((m4 - s^4) / n) for the variance,
//   1 / sqrt(n) for the correlation); a correct sampler fails with probability below 1e-5 per
//   check (CLT), a parameter wrong by a few percent or a repeated draw fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../io/temp_dir.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/experiment/inputs.h"
#include "dme/io/hdf5.h"

namespace {

using dme::Distribution;
using dme::DistributionParams;
using dme::InputMode;

constexpr std::size_t kN = std::size_t{1} << 16;
constexpr std::uint64_t kSeed = 20250131;

double phi(double x) {
  return std::exp(-x * x / 2) / std::sqrt(2 * std::numbers::pi);
}
/// Upper tail Q(x) = 1 - Phi(x), accurate for large x.
double upper_tail(double x) {
  return 0.5 * std::erfc(x / std::numbers::sqrt2);
}
double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}

std::vector<float> draws(Distribution dist, const DistributionParams& p, std::size_t n = kN,
                         std::uint32_t trial = 0, std::uint32_t stream = 0,
                         std::uint64_t seed = kSeed) {
  std::vector<float> x(n);
  dme::generate(dist, p, seed, trial, stream, x);
  return x;
}

double ks_statistic(std::vector<float> x, const std::function<double(double)>& cdf) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  double d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double f = cdf(x[i]);
    d = std::max({d, static_cast<double>(i + 1) / n - f, f - static_cast<double>(i) / n});
  }
  return d;
}

struct Moments {
  double mean, var, m4;
};

Moments moments(const std::vector<float>& x) {
  const double n = static_cast<double>(x.size());
  double sum = 0;
  for (float v : x) sum += v;
  const double mean = sum / n;
  double s2 = 0, s4 = 0;
  for (float v : x) {
    const double c = (v - mean) * (v - mean);
    s2 += c;
    s4 += c * c;
  }
  return {mean, s2 / n, s4 / n};
}

double lag1_correlation(const std::vector<float>& x, const Moments& m) {
  double sum = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) sum += (x[i] - m.mean) * (x[i + 1] - m.mean);
  return sum / static_cast<double>(x.size() - 1) / m.var;
}

struct Case {
  std::string label;
  Distribution dist;
  DistributionParams params;
  double mean, var;
  std::function<double(double)> cdf;
};

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::vector<Case> continuous_cases() {
  std::vector<Case> cases;
  {
    DistributionParams p;
    p.mu = 0.5;
    p.sigma = 2;
    cases.push_back({"normal(0.5, 2)", Distribution::kNormal, p, 0.5, 4,
                     [](double x) { return normal_cdf((x - 0.5) / 2); }});
  }
  {
    DistributionParams p;
    p.mu = 0.1;
    p.sigma = 0.5;
    const double m = std::exp(0.1 + 0.125), v = (std::exp(0.25) - 1) * std::exp(0.2 + 0.25);
    cases.push_back({"lognormal(0.1, 0.5)", Distribution::kLogNormal, p, m, v, [](double x) {
                       return x <= 0 ? 0.0 : normal_cdf((std::log(x) - 0.1) / 0.5);
                     }});
  }
  {
    DistributionParams p;
    p.lambda = 2;
    cases.push_back({"exponential(2)", Distribution::kExponential, p, 0.5, 0.25,
                     [](double x) { return x <= 0 ? 0.0 : -std::expm1(-2 * x); }});
  }
  for (auto [a, b] : {std::pair{-1.0, 1.0}, {0.5, 3.0}, {4.0, 6.0}, {-6.0, -4.5}}) {
    DistributionParams p;
    p.lower = a;
    p.upper = b;
    // Moments of N(0,1) truncated to [a, b], Z = Phi(b) - Phi(a) in tail-accurate form.
    const double z = a >= 0 ? upper_tail(a) - upper_tail(b) : normal_cdf(b) - normal_cdf(a);
    const double mean = (phi(a) - phi(b)) / z;
    const double var = 1 + (a * phi(a) - b * phi(b)) / z - mean * mean;
    auto cdf = [a, b, z](double x) {
      x = std::clamp(x, a, b);
      return a >= 0 ? (upper_tail(a) - upper_tail(x)) / z : (normal_cdf(x) - normal_cdf(a)) / z;
    };
    cases.push_back(
        {"truncnorm[" + fmt(a) + ", " + fmt(b) + "]", Distribution::kTruncNorm, p, mean, var, cdf});
  }
  for (auto [k, lambda] : {std::pair{1.5, 2.0}, {0.7, 1.0}}) {
    DistributionParams p;
    p.shape = k;
    p.scale = lambda;
    const double g1 = std::tgamma(1 + 1 / k), g2 = std::tgamma(1 + 2 / k);
    cases.push_back({"weibull(" + fmt(k) + ", " + fmt(lambda) + ")", Distribution::kWeibull, p,
                     lambda * g1, lambda * lambda * (g2 - g1 * g1), [k, lambda](double x) {
                       return x <= 0 ? 0.0 : -std::expm1(-std::pow(x / lambda, k));
                     }});
  }
  return cases;
}

TEST(Inputs, ContinuousDistributionsMatchTheirLaw) {
  for (const Case& c : continuous_cases()) {
    const std::vector<float> x = draws(c.dist, c.params);
    EXPECT_LT(ks_statistic(x, c.cdf), 1.95 / std::sqrt(static_cast<double>(kN))) << c.label;
    const Moments m = moments(x);
    const double n = static_cast<double>(kN);
    EXPECT_NEAR(m.mean, c.mean, 5 * std::sqrt(m.var / n)) << c.label;
    EXPECT_NEAR(m.var, c.var, 5 * std::sqrt((m.m4 - m.var * m.var) / n)) << c.label;
    // Neighbours (which share a Philox block) are independent: the lag-1 correlation of n
    // independent draws has standard deviation about 1 / sqrt(n).
    EXPECT_LT(std::abs(lag1_correlation(x, m)), 5 / std::sqrt(n)) << c.label;
  }
}

TEST(Inputs, TruncnormStaysInItsInterval) {
  for (auto [a, b] : {std::pair{-1.0, 1.0}, {4.0, 6.0}, {-0.001, 0.001}, {8.0, 30.0}}) {
    DistributionParams p;
    p.lower = a;
    p.upper = b;
    for (float v : draws(Distribution::kTruncNorm, p, 4096)) {
      ASSERT_GE(v, static_cast<float>(a));
      ASSERT_LE(v, static_cast<float>(b));
    }
  }
}

TEST(Inputs, DrawsFollowTheDocumentedStream) {
  // exponential(1): x_i = -log(1 - u_i), u_i = uniform_double(i) of the kInput stream.
  const dme::PhiloxStream stream(kSeed, 3, 5, dme::Purpose::kInput);
  const std::vector<float> x = draws(Distribution::kExponential, {}, 101, 3, 5);
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(x[i], static_cast<float>(-std::log(1 - stream.uniform_double(i)))) << i;
  // normal(0, 1): Box-Muller on the pairs (u_2k, u_2k+1), cosine then sine.
  const std::vector<float> z = draws(Distribution::kNormal, {}, 101, 3, 5);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const std::size_t k = i / 2;
    const double r = std::sqrt(-2 * std::log(1 - stream.uniform_double(2 * k)));
    const double theta = 2 * std::numbers::pi * stream.uniform_double(2 * k + 1);
    const double want = r * (i % 2 == 0 ? std::cos(theta) : std::sin(theta));
    EXPECT_EQ(z[i], static_cast<float>(want)) << i;
  }
}

TEST(Inputs, ReproducibleAndIndexPure) {
  for (Distribution dist : {Distribution::kLogNormal, Distribution::kTruncNorm,
                            Distribution::kWeibull, Distribution::kOneHot}) {
    const std::vector<float> a = draws(dist, {}, 1000, 2, 1);
    EXPECT_EQ(draws(dist, {}, 1000, 2, 1), a) << "same key, same vector";
    if (dist != Distribution::kOneHot) {  // hot positions depend on d by design
      for (std::size_t n : {1u, 7u, 999u}) {
        const std::vector<float> prefix = draws(dist, {}, n, 2, 1);
        EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), a.begin())) << "n = " << n;
      }
    }
    for (auto [trial, stream, seed] :
         {std::tuple{3u, 1u, kSeed}, {2u, 2u, kSeed}, {2u, 1u, kSeed + 1}}) {
      const std::vector<float> b = draws(dist, {}, 1000, trial, stream, seed);
      std::size_t equal = 0;
      for (std::size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i];
      // Continuous draws collide only by float rounding; two one-hots share all zeros.
      EXPECT_LT(equal, dist == Distribution::kOneHot ? 1000u : 5u)
          << dme::distribution_name(dist) << " trial " << trial << " stream " << stream;
    }
  }
}

TEST(Inputs, OneHotAndTwoHot) {
  constexpr std::size_t kD = 10, kTrials = 4000;
  std::vector<int> first(kD), second(kD);
  for (std::uint32_t t = 0; t < kTrials; ++t) {
    const std::vector<float> one = draws(Distribution::kOneHot, {}, kD, t);
    ASSERT_EQ(std::count(one.begin(), one.end(), 1.0f), 1);
    ASSERT_EQ(std::count(one.begin(), one.end(), 0.0f), static_cast<long>(kD - 1));
    ++first[std::find(one.begin(), one.end(), 1.0f) - one.begin()];
    const std::vector<float> two = draws(Distribution::kTwoHot, {}, kD, t);
    ASSERT_EQ(std::count(two.begin(), two.end(), 1.0f), 1);
    ASSERT_EQ(std::count(two.begin(), two.end(), -1.0f), 1);
    ++second[std::find(two.begin(), two.end(), -1.0f) - two.begin()];
  }
  // Uniform positions: each count is Binomial(4000, 1/10), mean 400, sd 19; 5 sd = 95.
  for (std::size_t i = 0; i < kD; ++i) {
    EXPECT_NEAR(first[i], 400, 95) << i;
    EXPECT_NEAR(second[i], 400, 95) << i;
  }
  EXPECT_EQ(draws(Distribution::kOneHot, {}, 1), std::vector<float>{1.0f});
  EXPECT_THROW(draws(Distribution::kTwoHot, {}, 1), dme::Error);
  const std::vector<float> pair = draws(Distribution::kTwoHot, {}, 2);
  EXPECT_EQ(pair[0] + pair[1], 0.0f);
}

TEST(Inputs, ModesAcrossRanks) {
  DistributionParams p;
  p.mu = 0;
  p.sigma = 0.5;
  constexpr std::size_t kD = 4099;  // not a power of two
  const auto make = [&](InputMode mode, int rank) {
    return dme::make_input(Distribution::kLogNormal, p, mode, kD, rank, kSeed, 4);
  };
  const std::vector<float> identical0 = make(InputMode::kIdentical, 0);
  EXPECT_EQ(identical0, draws(Distribution::kLogNormal, p, kD, 4, 0));
  for (int r = 1; r < 4; ++r) EXPECT_EQ(make(InputMode::kIdentical, r), identical0) << r;

  std::vector<std::vector<float>> iid;
  for (int r = 0; r < 4; ++r) {
    iid.push_back(make(InputMode::kIid, r));
    EXPECT_EQ(iid.back(), draws(Distribution::kLogNormal, p, kD, 4, r + 1)) << r;
    for (int q = 0; q < r; ++q) EXPECT_NE(iid[q], iid[r]) << q << " vs " << r;
    EXPECT_NE(iid[r], identical0);
  }

  double previous_mean = -1;
  for (int r = 0; r < 4; ++r) {
    const std::vector<float> shifted = make(InputMode::kShifted, r);
    const Moments m = moments(iid[r]);
    const double offset = r * std::sqrt(m.var) / 2;
    for (std::size_t i = 0; i < kD; ++i) {  // one float rounding of x + offset
      ASSERT_NEAR(shifted[i], iid[r][i] + offset, 1e-6 * (iid[r][i] + offset)) << r << ", " << i;
    }
    const double mean = moments(shifted).mean;
    EXPECT_GT(mean, previous_mean + 0.2 * std::sqrt(m.var)) << "means increase with the rank";
    previous_mean = mean;
  }
}

class FileInputs : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace h5 = dme::h5;
    h5::File file = h5::File::create(path_);
    {
      h5::Group root = h5::Group::root(file);
      const hsize_t rows[2] = {3, 5}, one[1] = {5}, cube[3] = {1, 1, 5};
      std::vector<float> matrix(15);
      for (std::size_t i = 0; i < matrix.size(); ++i) matrix[i] = static_cast<float>(i) + 0.5f;
      h5::Dataset::create(root, "per_rank", rows, std::span<const float>(matrix));
      const std::vector<double> shared = {1, -2, 3.25, 4, 5e-3};
      h5::Group inputs = h5::Group::create(root, "inputs");
      h5::Dataset::create(inputs, "shared", one, std::span<const double>(shared));
      h5::Dataset::create(root, "cube", cube, std::span<const double>(shared));
      for (int r = 0; r < 3; ++r) {
        const std::vector<float> own = {float(r), 1, 2, 3, 4};
        h5::Dataset::create(inputs, "rank_" + std::to_string(r), one, std::span<const float>(own));
      }
      const std::vector<double> with_nan = {1, 2, std::nan(""), 4, 5};
      h5::Dataset::create(root, "nan", one, std::span<const double>(with_nan));
      const std::vector<double> huge = {1, 2, 3, -1e300, 5},
                                edge = {3.4028234663852886e38, 0, 0, 0, -3.4028234663852886e38};
      h5::Dataset::create(root, "huge", one, std::span<const double>(huge));
      h5::Dataset::create(root, "edge", one, std::span<const double>(edge));
    }
    file.close();
  }

  std::vector<float> input(const std::string& dataset, InputMode mode, std::size_t d, int rank) {
    DistributionParams p;
    p.file = path_;
    p.dataset = dataset;
    return dme::make_input(Distribution::kFile, p, mode, d, rank, kSeed, 0);
  }

  std::string error(const std::string& file, const std::string& dataset, std::size_t d,
                    int rank = 0) {
    DistributionParams p;
    p.file = file;
    p.dataset = dataset;
    try {
      dme::make_input(Distribution::kFile, p, InputMode::kIid, d, rank, kSeed, 0);
    } catch (const dme::Error& e) {
      return e.what();
    }
    return "";
  }

  dme::testing::TempDir dir_{"inputs_file"};
  std::string path_ = dir_.file("inputs.h5");
};

TEST_F(FileInputs, RowsPerRankOrShared) {
  for (int rank : {0, 1, 2, 4, 7}) {
    if (rank < 3) {  // 3 rows: one per rank, never reused
      const std::vector<float> row = input("per_rank", InputMode::kIid, 5, rank);
      const float first = static_cast<float>(rank * 5) + 0.5f;
      EXPECT_EQ(row, (std::vector<float>{first, first + 1, first + 2, first + 3, first + 4}));
    }
    EXPECT_EQ(input("per_rank", InputMode::kIdentical, 5, rank),
              (std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f, 4.5f}));
    EXPECT_EQ(input("inputs/shared", InputMode::kIid, 5, rank),
              (std::vector<float>{1, -2, 3.25f, 4, 5e-3f}));
  }
  // One dataset per rank through the {rank} placeholder; identical mode reads rank 0's.
  EXPECT_EQ(input("inputs/rank_{rank}", InputMode::kIid, 5, 2),
            (std::vector<float>{2, 1, 2, 3, 4}));
  EXPECT_EQ(input("inputs/rank_{rank}", InputMode::kIdentical, 5, 2),
            (std::vector<float>{0, 1, 2, 3, 4}));
  // shifted: the row plus rank * s / 2 (row 1 = 5.5 .. 9.5, population sd sqrt(2)).
  const std::vector<float> shifted = input("per_rank", InputMode::kShifted, 5, 1);
  EXPECT_NEAR(shifted[0], 5.5 + std::sqrt(2.0) / 2, 1e-6);
}

TEST_F(FileInputs, ErrorsNameFileDatasetAndSizes) {
  auto has = [](const std::string& text, std::initializer_list<std::string> parts) {
    for (const std::string& part : parts)
      if (text.find(part) == std::string::npos) return false;
    return true;
  };
  std::string what = error(path_, "per_rank", 6);
  EXPECT_TRUE(has(what, {path_, "per_rank", "length 5", "d = 6", "3 x 5"})) << what;
  what = error(path_, "inputs/shared", 4);
  EXPECT_TRUE(has(what, {path_, "inputs/shared", "length 5", "d = 4"})) << what;
  what = error(path_, "absent", 5);
  EXPECT_TRUE(has(what, {path_, "'absent'"})) << what;
  what = error(dir_.file("missing.h5"), "x", 5);
  EXPECT_TRUE(has(what, {dir_.file("missing.h5")})) << what;
  what = error(path_, "inputs/rank_{rank}", 5, 3);  // ranks 0..2 have datasets
  EXPECT_TRUE(has(what, {path_, "'inputs/rank_3'"})) << what;
  what = error(path_, "per_rank", 5, 3);  // 3 rows: ranks 0..2
  EXPECT_TRUE(has(what, {path_, "per_rank", "3 rows", "rank 3", "--inputs identical"})) << what;
  what = error(path_, "cube", 5);
  EXPECT_TRUE(has(what, {"cube", "3 dimensions"})) << what;
  what = error(path_, "nan", 5);
  EXPECT_TRUE(has(what, {"nan", "non-finite", "index 2"})) << what;
  what = error(path_, "", 5);
  EXPECT_TRUE(has(what, {"dataset name"})) << what;
  // float64 beyond float32: named as such, never as "inf".
  what = error(path_, "huge", 5);
  EXPECT_TRUE(has(what, {"huge", "-1e+300", "index 3", "float32 range"})) << what;
  const std::vector<float> edge = input("edge", InputMode::kIid, 5, 0);
  EXPECT_EQ(edge[0], std::numeric_limits<float>::max());
  EXPECT_EQ(edge[4], -std::numeric_limits<float>::max());
}

TEST(Inputs, NamesRoundTripAndUnknownNamesAreListed) {
  for (const char* name :
       {"lognormal", "normal", "exponential", "truncnorm", "weibull", "onehot", "twohot", "file"})
    EXPECT_EQ(dme::distribution_name(dme::parse_distribution(name)), name);
  for (const char* name : {"identical", "iid", "shifted"})
    EXPECT_EQ(dme::input_mode_name(dme::parse_input_mode(name)), name);
  try {
    dme::parse_distribution("gauss");
    FAIL();
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'gauss'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("weibull"), std::string::npos);
  }
  EXPECT_THROW(dme::parse_input_mode("same"), dme::Error);
}

TEST(Inputs, BadParametersThrow) {
  auto bad = [](Distribution dist, const std::function<void(DistributionParams&)>& change,
                std::size_t n = 16) {
    DistributionParams p;
    change(p);
    std::vector<float> x(n);
    EXPECT_THROW(dme::generate(dist, p, kSeed, 0, 0, x), dme::Error)
        << dme::distribution_name(dist);
  };
  bad(Distribution::kNormal, [](auto& p) { p.sigma = -1; });
  bad(Distribution::kLogNormal, [](auto& p) { p.mu = std::nan(""); });
  bad(Distribution::kLogNormal, [](auto& p) { p.mu = 100; });  // e^100 overflows float
  bad(Distribution::kExponential, [](auto& p) { p.lambda = 0; });
  bad(Distribution::kTruncNorm, [](auto& p) { p.lower = p.upper = 0.5; });
  bad(Distribution::kTruncNorm, [](auto& p) { p.lower = 40, p.upper = 41; });
  bad(Distribution::kWeibull, [](auto& p) { p.shape = 0; });
  bad(Distribution::kWeibull, [](auto& p) { p.scale = -2; });
  bad(Distribution::kFile, [](auto&) {});
  bad(
      Distribution::kNormal, [](auto&) {}, 0);
  EXPECT_THROW(dme::make_input(Distribution::kNormal, {}, InputMode::kIid, 0, 0, kSeed, 0),
               dme::Error);
  EXPECT_THROW(dme::make_input(Distribution::kNormal, {}, InputMode::kIid, 4, -1, kSeed, 0),
               dme::Error);
  DistributionParams zero_sigma;
  zero_sigma.sigma = 0;
  EXPECT_EQ(draws(Distribution::kLogNormal, zero_sigma, 3), (std::vector<float>{1, 1, 1}));
}

TEST(Inputs, DescribeInputNamesTheUsedParameters) {
  DistributionParams p;
  p.shape = 2;
  const auto weibull = dme::describe_input(Distribution::kWeibull, p, InputMode::kShifted);
  EXPECT_EQ(std::get<std::string>(weibull.at("distribution")), "weibull");
  EXPECT_EQ(std::get<std::string>(weibull.at("input_mode")), "shifted");
  EXPECT_EQ(std::get<double>(weibull.at("shape")), 2.0);
  EXPECT_EQ(weibull.count("mu"), 0u);
  EXPECT_EQ(dme::describe_input(Distribution::kOneHot, p, InputMode::kIid).size(), 2u);
}

}  // namespace
