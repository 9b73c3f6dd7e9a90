#include <gtest/gtest.h>

#include <vector>

#include "dme/core/error.h"
#include "dme/quantization/metrics.h"

namespace {

TEST(Metrics, AnalyticVnmseByHand) {
  // x = {0, 1, 3} between levels {0, 2, 4}: (2-1)(1-0) + (4-3)(3-2) = 2 over ‖x‖² = 10.
  const std::vector<float> x = {0.0f, 1.0f, 3.0f}, levels = {0.0f, 2.0f, 4.0f};
  EXPECT_DOUBLE_EQ(dme::analytic_sse(x, levels), 2.0);
  EXPECT_DOUBLE_EQ(dme::analytic_vnmse(x, levels), 0.2);
  EXPECT_DOUBLE_EQ(dme::analytic_vnmse(std::vector<float>{0.0f, 0.0f}, std::vector<float>{0.0f}),
                   0.0);
  EXPECT_THROW(dme::analytic_vnmse(std::vector<float>{5.0f}, levels), dme::Error);
  EXPECT_THROW(dme::analytic_vnmse(std::vector<float>{}, levels), dme::Error);
}

TEST(Metrics, ErrorsOfAReconstruction) {
  const std::vector<float> x = {1.0f, -2.0f, 2.0f}, xhat = {1.0f, -1.0f, 4.0f};
  EXPECT_DOUBLE_EQ(dme::sum_squared_error(x, xhat), 5.0);
  EXPECT_DOUBLE_EQ(dme::mse(x, xhat), 5.0 / 3);
  EXPECT_DOUBLE_EQ(dme::vnmse(x, xhat), 5.0 / 9);
  EXPECT_DOUBLE_EQ(dme::squared_norm(x), 9.0);
  EXPECT_THROW(dme::vnmse(x, std::vector<float>{1.0f}), dme::Error);
  EXPECT_DOUBLE_EQ(dme::vnmse(std::vector<float>{0.0f}, std::vector<float>{0.0f}), 0.0);
}

}  // namespace
