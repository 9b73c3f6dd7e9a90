// What the tests of MeanEstimator's schemes share: inputs across the ranks (iid or identical
// LogNormal(0, 1)), their exact mean, and the NMSE of a scheme's estimates over rounds.
#pragma once

#include <mpi.h>

#include <random>
#include <vector>

#include "dme/collective/mean_estimator.h"
#include "support/mpi_test_support.h"

namespace dme::test {

inline std::vector<float> lognormal_input(std::size_t d, unsigned seed) {
  std::mt19937 gen(seed);
  std::lognormal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(d);
  for (auto& v : x) v = dist(gen);
  return x;
}

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

}  // namespace dme::test
