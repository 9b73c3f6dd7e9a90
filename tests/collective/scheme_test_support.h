// What the tests of MeanEstimator's schemes share: inputs across the ranks (iid or identical
// LogNormal(0, 1)), their exact mean, and the NMSE of a scheme's estimates over rounds.
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>

#include <vector>

#include "dme/codec/payload.h"
#include "dme/collective/detail/compress.h"
#include "dme/collective/mean_estimator.h"
#include "support/mpi_test_support.h"

namespace dme::test {

// Σ_i (a_i − b_i)² in double.
inline double sq_dist(const std::vector<float>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return s;
}

struct Setting {
  std::vector<float> x;      // this rank's input
  std::vector<double> mean;  // the exact mean
  double avg_norm2 = 0;      // (1/n) Σ_r ‖x_r‖²
};

inline Setting make_setting(std::size_t d, bool identical) {
  const int n = dme::test::world_size();
  Setting st;
  st.mean.assign(d, 0.0);
  for (int r = 0; r < n; ++r) {
    const auto xr = lognormal_input(d, identical ? 7u : 7u + unsigned(r));
    if (r == dme::test::world_rank()) st.x = xr;
    for (std::size_t i = 0; i < d; ++i) {
      st.mean[i] += double(xr[i]) / n;
      st.avg_norm2 += double(xr[i]) * xr[i] / n;
    }
  }
  return st;
}

// Mean over `rounds` estimates of ‖estimate − mean‖² / avg_norm2, and the average estimate.
inline double mean_nmse(const Setting& st, dme::Options o, int rounds, std::vector<double>* average) {
  dme::MeanEstimator est(MPI_COMM_WORLD, o);
  std::vector<float> out(st.x.size());
  double nmse = 0;
  if (average) average->assign(st.x.size(), 0.0);
  for (int r = 0; r < rounds; ++r) {
    est.estimate(st.x, out);
    nmse += sq_dist(out, st.mean) / st.avg_norm2 / rounds;
    if (average)
      for (std::size_t i = 0; i < out.size(); ++i) (*average)[i] += double(out[i]) / rounds;
  }
  return nmse;
}

// The average of R rounds of an unbiased estimator is off by Var/R in expectation; a bias would
// leave a floor. Bound: 3x Var/R (the ratio concentrates near 1 over d = 4096); and above
// 0.2x, the power control (the rounds' errors must be independent, not shared).
inline void expect_unbiased_over_rounds(const Setting& st, const dme::Options& o, int rounds) {
  std::vector<double> average;
  const double per_round = mean_nmse(st, o, rounds, &average);
  double avg_err = 0;
  for (std::size_t i = 0; i < average.size(); ++i)
    avg_err += (average[i] - st.mean[i]) * (average[i] - st.mean[i]);
  avg_err /= st.avg_norm2;
  EXPECT_LT(avg_err, 3 * per_round / rounds) << "per round " << per_round;
  EXPECT_GT(avg_err, 0.2 * per_round / rounds) << "the rounds' errors are independent";
}

// One vector x (no rotation, one bucket) compressed with `plan` and decoded, `rounds` times with
// the rounding streams of rounds 0, 1, ...: the mean over rounds of Σ_i (x̂_i − x_i)².
inline double monte_carlo_error(const std::vector<float>& x, const dme::CompressionPlan& plan,
                                int rounds) {
  dme::PayloadHeader h;
  h.d = h.padded = h.count = x.size();
  h.s = static_cast<std::uint32_t>(plan.s);
  dme::detail::CompressScratch scratch;
  dme::PhaseTimes times;
  std::vector<std::byte> payload;
  double total = 0;
  for (int r = 0; r < rounds; ++r) {
    h.round = static_cast<std::uint32_t>(r);
    const dme::PhiloxStream stream(h.seed, h.round, h.rank, dme::Purpose::kRounding);
    dme::detail::compress_chunk(x, h, plan, stream, scratch, payload, times);
    std::vector<double> est(x.size(), 0.0);
    dme::decode_accumulate(payload, {}, std::span<double>(est));
    for (std::size_t i = 0; i < x.size(); ++i) total += (est[i] - x[i]) * (est[i] - x[i]);
  }
  return total / rounds;
}

}  // namespace dme::test
