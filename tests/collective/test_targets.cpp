// The whole estimate, every scheme through its exchanges, is the same bits on every SIMD target
// the machine has (dme/core/simd.h): the kernels' own tests compare each kernel with its scalar
// definition; this checks that nothing between them (levels, codes, payload bytes, decoding,
// the rotation's inverse) depends on the target either. Every rank forces the same target.
#include <gtest/gtest.h>
#include <mpi.h>

#include <string>
#include <vector>

#include "../simd_test_support.h"
#include "dme/collective/mean_estimator.h"
#include "dme/core/simd.h"
#include "support/mpi_test_support.h"

namespace {

using dme::test::same_bits;
using dme::test::world_rank;

struct Case {
  const char* what;
  dme::Options o;
  std::vector<dme::Exchange> exchanges;
};

dme::Options options(dme::Scheme scheme, std::size_t s,
                     dme::Solver solver = dme::Solver::kQuiverApx) {
  dme::Options o;
  o.scheme = scheme;
  o.s = s;
  o.solver = solver;
  o.seed = 41;
  return o;
}

std::vector<Case> cases() {
  using dme::Exchange;
  using dme::Scheme;
  const std::vector<Exchange> all = {Exchange::kAllgather, Exchange::kGatherBcast,
                                     Exchange::kReduceScatter, Exchange::kReduceScatterInt};
  std::vector<Case> out;
  out.push_back({"asq quiver-apx s=16", options(Scheme::kAsq, 16), all});
  out.push_back({"asq quiver-apx s=10 (mixed radix)", options(Scheme::kAsq, 10), all});
  out.push_back({"asq quiver (exact, sorted) s=16",
                 options(Scheme::kAsq, 16, dme::Solver::kQuiver),
                 {Exchange::kAllgather}});
  out.push_back({"asq kmeans s=12 (nearest)",
                 options(Scheme::kAsq, 12, dme::Solver::kKmeans),
                 {Exchange::kAllgather}});
  Case buckets{"asq buckets and rotation blocks s=20",
               options(Scheme::kAsq, 20),
               {Exchange::kAllgather, Exchange::kReduceScatter}};
  buckets.o.bucket_size = 3000;
  buckets.o.rotation_block = 4096;
  out.push_back(buckets);
  out.push_back({"eden s=4", options(Scheme::kEden, 4), {Exchange::kAllgather}});
  out.push_back({"asq-shared s=16", options(Scheme::kAsqShared, 16), {Exchange::kAllgather}});
  out.push_back({"qsgd s=8", options(Scheme::kQsgd, 8), {Exchange::kAllgather}});
  out.push_back({"quic-fl s=4",
                 options(Scheme::kQuicFl, 4),
                 {Exchange::kAllgather, Exchange::kReduceScatter}});
  out.push_back({"thc s=16", options(Scheme::kThc, 16), {Exchange::kReduceScatterInt}});
  Case downlink{
      "gather-bcast, compressed downlink", options(Scheme::kAsq, 16), {Exchange::kGatherBcast}};
  downlink.o.compressed_downlink = true;
  out.push_back(downlink);
  return out;
}

TEST(Targets, EstimateIsBitIdenticalOnEveryTarget) {
  const std::size_t d = 3 * 4096 + 5;  // padded by the rotation, mid-word for mixed radix
  const std::vector<float> x =
      dme::test::lognormal_input(d, 300 + static_cast<unsigned>(world_rank()));
  std::size_t compared = 0;
  for (const Case& c : cases()) {
    for (dme::Exchange ex : c.exchanges) {
      dme::Options o = c.o;
      o.exchange = ex;
      // The reference: the machine's baseline target (scalar on x86-64, neon on aarch64).
      const std::string base = dme::simd_targets_available().back();
      std::vector<float> want(d);
      dme::set_simd_target(base);
      dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, want);
      dme::test::for_each_simd_target([&](const std::string& target) {
        std::vector<float> got(d);
        dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, got);
        ++compared;
        EXPECT_TRUE(same_bits(got, want))
            << c.what << ", " << dme::exchange_name(ex) << ": " << target << " against " << base;
      });
    }
  }
  // 19 estimates per target, the baseline's own included.
  EXPECT_EQ(compared, 19 * dme::simd_targets_available().size());
}

}  // namespace
