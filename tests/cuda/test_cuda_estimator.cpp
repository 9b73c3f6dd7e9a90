// MeanEstimator through the CUDA implementation of the compression seam
// (cuda::make_compression()): the same means and the same bytes as the CPU implementation, for
// every exchange, on any rank count. Skips without a GPU, on every rank alike.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstring>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "dme/collective/mean_estimator.h"
#include "support/mpi_test_support.h"

namespace {

using dme::test::world_rank;

TEST(CudaEstimator, SameMeanAndBytesAsTheCpuCompression) {
  if (!dme::cuda::available()) GTEST_SKIP() << "no GPU: " << dme::cuda::device_summary();
  const std::size_t d = (std::size_t(1) << 18) + 5;
  const std::vector<float> x =
      dme::test::normal_vector(d, 40 + static_cast<std::uint64_t>(world_rank()), 1.0f, 2.0f);
  for (auto ex :
       {dme::Exchange::kAllgather, dme::Exchange::kGatherBcast, dme::Exchange::kReduceScatter})
    for (std::size_t bucket : {std::size_t(0), std::size_t(50000)}) {
      dme::Options o;
      o.exchange = ex;
      o.bucket_size = bucket;
      o.seed = 9;
      o.rotation_layout = dme::RotationLayout::kPadded;  // CUDA's only layout, on both sides
      dme::MeanEstimator cpu(MPI_COMM_WORLD, o);
      dme::MeanEstimator gpu(MPI_COMM_WORLD, o, dme::cuda::make_compression());
      dme::Options oc = o;
      oc.backend = dme::Backend::kCuda;  // the public route: Options::backend
      dme::MeanEstimator by_option(MPI_COMM_WORLD, oc);
      std::vector<float> a(d), b(d), c(d);
      for (int round = 0; round < 2; ++round) {
        const dme::Report ra = cpu.estimate(x, a), rb = gpu.estimate(x, b);
        const dme::Report rc = by_option.estimate(x, c);
        EXPECT_EQ(0, std::memcmp(a.data(), b.data(), 4 * d))
            << dme::exchange_name(ex) << " bucket " << bucket << " round " << round;
        EXPECT_EQ(0, std::memcmp(a.data(), c.data(), 4 * d))
            << dme::exchange_name(ex) << " bucket " << bucket << " round " << round;
        EXPECT_EQ(ra.payload_bytes, rc.payload_bytes);
        EXPECT_EQ(ra.payload_bytes, rb.payload_bytes);
        EXPECT_EQ(ra.payload_bytes_received, rb.payload_bytes_received);
      }
    }
}

TEST(CudaEstimator, NoGpuIsTheSameClearErrorOnEveryRank) {
  if (dme::cuda::available()) GTEST_SKIP() << "a GPU is present";
  dme::Options o;
  o.backend = dme::Backend::kCuda;
  try {
    dme::MeanEstimator est(MPI_COMM_WORLD, o);
    FAIL() << "no error";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
}

}  // namespace
