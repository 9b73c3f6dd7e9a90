// Shared by the rotation tests: inputs, the textbook definition of a rotation made of block
// chains (the overlapped layout, rotation blocks), and the checks a Rotation must pass against it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "dme/rotation/fwht.h"
#include "dme/rotation/rht.h"

namespace dme::test {

inline std::vector<float> lognormal_vector(std::size_t n, unsigned seed) {
  std::mt19937_64 g(seed);
  std::lognormal_distribution<float> ln(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = ln(g);
  return v;
}

/// x after k textbook RHTs of length B on each block (start, first) in order: coordinates
/// [start, start + B), sign bits [first, first + B) of each of signs' sign vectors.
inline std::vector<double> block_chains(
    const std::vector<float>& x, std::size_t B, int k, const dme::Rotation& signs,
    const std::vector<std::pair<std::size_t, std::size_t>>& blocks) {
  std::vector<double> y(x.begin(), x.end());
  for (auto [start, first] : blocks) {
    double* b = y.data() + start;
    for (int j = 0; j < k; ++j) {
      for (std::size_t i = 0; i < B; ++i) b[i] *= signs.sign(j, first + i);
      dme::detail::fwht_reference(b, B);
      for (std::size_t i = 0; i < B; ++i) b[i] /= std::sqrt(double(B));
    }
  }
  return y;
}

/// rot against its definition `expect` (of input x): the forward within 1e-5 of the largest
/// |expect|, the norm kept, the extremes exact, in place the same, and the inverse back to x
/// (to float precision; doubles to rounding).
inline void expect_rotation_matches(const dme::Rotation& rot, const std::vector<float>& x,
                                    const std::vector<double>& expect, const std::string& at) {
  const std::size_t d = x.size();
  double top = 0, xnorm2 = 0, ynorm2 = 0;
  for (std::size_t i = 0; i < d; ++i) {
    top = std::max(top, std::fabs(expect[i]));
    xnorm2 += double(x[i]) * x[i];
  }
  std::vector<float> y(d);
  float lo = 0, hi = 0;
  rot.forward(x, y, lo, hi);
  double err = 0;
  for (std::size_t i = 0; i < d; ++i) {
    err = std::max(err, std::fabs(double(y[i]) - expect[i]) / top);
    ynorm2 += double(y[i]) * y[i];
  }
  EXPECT_LT(err, 1e-5) << at;
  EXPECT_NEAR(ynorm2 / xnorm2, 1.0, 1e-5) << at;
  EXPECT_EQ(lo, *std::min_element(y.begin(), y.end())) << at;
  EXPECT_EQ(hi, *std::max_element(y.begin(), y.end())) << at;
  std::vector<float> z(x);
  rot.forward_inplace(z);
  EXPECT_EQ(z, y) << at;
  std::vector<float> back(d);
  rot.inverse(y, back);
  double inv = 0;
  for (std::size_t i = 0; i < d; ++i)
    inv = std::max(inv, std::fabs(double(back[i]) - x[i]) / std::sqrt(xnorm2 / double(d)));
  EXPECT_LT(inv, 1e-4) << at;
  std::vector<double> xd(x.begin(), x.end()), yd(d), bd(d);
  rot.forward(xd, yd);
  rot.inverse(yd, bd);
  for (std::size_t i = 0; i < d; ++i)
    ASSERT_NEAR(bd[i], xd[i], 1e-9 * (1 + std::fabs(xd[i]))) << at << " i=" << i;
}

}  // namespace dme::test
