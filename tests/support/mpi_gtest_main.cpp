// GoogleTest main for dme tests, serial or under mpiexec.
// Only rank 0 prints the usual output. After every test the ranks combine their results, so a
// failure on any rank fails the test (and the run), and rank 0 names the ranks that failed.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>
#include <string>

#include "dme/core/mpi_helpers.h"

namespace {

class RankResultListener : public testing::EmptyTestEventListener {
 public:
  explicit RankResultListener(int rank, int size) : rank_(rank), size_(size) {}

  void OnTestEnd(const testing::TestInfo& info) override {
    int failed = info.result()->Failed() ? 1 : 0;
    std::string failed_ranks;
    if (size_ > 1) {
      std::vector<int> all(static_cast<size_t>(size_));
      MPI_Gather(&failed, 1, MPI_INT, all.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
      if (rank_ == 0) {
        for (int r = 0; r < size_; ++r)
          if (all[static_cast<size_t>(r)]) failed_ranks += " " + std::to_string(r);
      }
    } else if (failed) {
      failed_ranks = " 0";
    }
    if (rank_ == 0 && !failed_ranks.empty()) {
      std::fprintf(stderr, "[  RANKS   ] %s.%s failed on rank(s):%s\n", info.test_suite_name(),
                   info.name(), failed_ranks.c_str());
      any_failed_ = true;
    }
  }

  bool any_failed() const { return any_failed_; }

 private:
  int rank_;
  int size_;
  bool any_failed_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  dme::mpi::Environment env(&argc, &argv);
  const int rank = dme::mpi::comm_rank(MPI_COMM_WORLD);
  const int size = dme::mpi::comm_size(MPI_COMM_WORLD);

  auto& listeners = testing::UnitTest::GetInstance()->listeners();
  if (rank != 0) delete listeners.Release(listeners.default_result_printer());
  auto* rank_listener = new RankResultListener(rank, size);
  listeners.Append(rank_listener);

  int local = RUN_ALL_TESTS();
  int global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0 && global != 0 && local == 0)
    std::fprintf(stderr, "[  FAILED  ] a test failed on another rank (see above)\n");
  return global;
}
