// The training client on the digits data (data/digits.h5): a short run trains (the loss falls)
// with every rank's model replica bit-identical at the end; exact averaging equals one process
// training on the whole training split, up to float rounding; bad configurations and files are
// the same error on every rank.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "dme/experiment/train_experiment.h"
#include "dme/experiment/train_model.h"
#include "experiment_test_support.h"

namespace {

using dme::testing::world_rank;

const std::string kData = std::string(DME_SOURCE_DIR) + "/data/digits.h5";

dme::TrainExperimentConfig small_config() {
  dme::TrainExperimentConfig cfg;
  cfg.data = kData;
  cfg.model = "softmax";
  cfg.steps = 30;
  cfg.lr = 0.5;
  cfg.output.quiet = true;
  return cfg;
}

double mean_of(const std::vector<double>& v, std::size_t from, std::size_t to) {
  return std::accumulate(v.begin() + from, v.begin() + to, 0.0) / double(to - from);
}

TEST(TrainExperiment, ShortRunTrainsAndReplicasStayIdentical) {
  auto cfg = small_config();
  cfg.estimators = {"exact", "asq", "asq-shared", "kmeans", "asq:per-rank"};
  cfg.bits = {2, 4};
  const auto curves = dme::run_train_sweep(cfg, MPI_COMM_WORLD);
  ASSERT_EQ(curves.size(), 9u);
  EXPECT_EQ(curves[8].name, "asq-per-rank_b4");
  for (const auto& c : curves) {
    EXPECT_TRUE(c.replicas_identical) << c.name;
    ASSERT_EQ(c.loss.size(), 30u);
    EXPECT_LT(mean_of(c.loss, 25, 30), 0.7 * mean_of(c.loss, 0, 5)) << c.name;
    EXPECT_GT(c.test_accuracy.back(), 0.8) << c.name;  // 10 classes: chance is 0.1
    EXPECT_EQ(c.eval_step.front(), 0.0);
    EXPECT_EQ(c.eval_step.back(), 30.0);
  }
  // Bytes: exact 4·d per step; asq at 4 bits half a byte per rotated coordinate (d = 650, not
  // padded: 328 bytes with the section's padding) plus the 112-byte frame, 16 levels and the
  // checksum: 512 bytes a step.
  EXPECT_EQ(curves[0].bytes.back(), 4.0 * 650 * 30);
  EXPECT_EQ(curves[2].name, "asq_b4");
  EXPECT_EQ(curves[2].bytes.back(), 512.0 * 30);
}

TEST(TrainExperiment, ExactAveragingEqualsOneProcessOnTheWholeSplit) {
  // Every rank's whole shard as its batch: the mean of the shards' mean gradients is the whole
  // split's mean gradient (the shards are equal: 1440 images over 1..6 ranks), so 3 steps of the
  // run equal 3 full-batch steps of one process, up to float rounding in the sums.
  auto cfg = small_config();
  cfg.estimators = {"exact"};
  cfg.batch = 0;
  cfg.steps = 3;
  const auto curves = dme::run_train_sweep(cfg, MPI_COMM_WORLD);
  const dme::LabelledData train = dme::load_split(kData, "train", 10);
  ASSERT_EQ(train.n % static_cast<std::size_t>(dme::testing::world_size()), 0u);
  const dme::Mlp model({64, 10});
  std::vector<float> theta(model.parameters()), grad(model.parameters());
  model.init(theta, cfg.options.seed);
  for (int step = 0; step < 3; ++step) {
    model.loss_and_gradient(theta, train.x.data(), train.y.data(), train.n, grad);
    for (std::size_t i = 0; i < theta.size(); ++i) theta[i] -= float(cfg.lr) * grad[i];
  }
  const auto& got = curves[0].params;
  double scale = 0, worst = 0;
  for (std::size_t i = 0; i < theta.size(); ++i) {
    scale = std::max(scale, std::fabs(double(theta[i])));
    worst = std::max(worst, std::fabs(double(got[i]) - double(theta[i])));
  }
  EXPECT_LT(worst, 1e-5 * scale) << "largest difference " << worst << " of " << scale;
}

TEST(TrainExperiment, BadConfigurationsAndFilesAreTheSameErrorEverywhere) {
  auto cfg = small_config();
  cfg.estimators = {"exact", "sgd"};
  dme::testing::expect_error_everywhere([&] { dme::run_train_sweep(cfg, MPI_COMM_WORLD); },
                                        "unknown estimator 'sgd'");
  cfg = small_config();
  cfg.data = std::string(DME_SOURCE_DIR) + "/data/digits_mlp.h5";  // no x_train
  dme::testing::expect_error_everywhere([&] { dme::run_train_sweep(cfg, MPI_COMM_WORLD); },
                                        "no datasets 'x_train' and 'y_train'");
  cfg = small_config();
  cfg.model = "cnn";
  dme::testing::expect_error_everywhere([&] { dme::run_train_sweep(cfg, MPI_COMM_WORLD); },
                                        "unknown model 'cnn'");
}

}  // namespace
