// ScopedSolverProgress: every layered DP reports each layer once, in order, with its total;
// scopes nest and restore; a thread without a hook pays nothing and sees nothing.
#include <gtest/gtest.h>

#include <thread>
#include <utility>
#include <vector>

#include "dme/quantization/solver.h"
#include "dme/quantization/solver_progress.h"
#include "quant_test_support.h"

namespace {

using Calls = std::vector<std::pair<std::size_t, std::size_t>>;

// The layers reported while solving: 1..total in order, one total throughout.
void expect_counting_up(const Calls& calls, const char* what) {
  ASSERT_FALSE(calls.empty()) << what;
  const std::size_t total = calls.front().second;
  ASSERT_EQ(calls.size(), total) << what;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].first, i + 1) << what;
    EXPECT_EQ(calls[i].second, total) << what;
  }
}

TEST(SolverProgress, EveryLayeredSolverReportsEachLayer) {
  const std::vector<float> x = dme::test::make_input(dme::test::Dist::kLogNormal, 5000, 3);
  const std::size_t s = 12;
  for (dme::Solver solver : {dme::Solver::kQuiver, dme::Solver::kQuiverAccel,
                             dme::Solver::kQuiverApx, dme::Solver::kKmeans}) {
    Calls calls;
    {
      dme::ScopedSolverProgress hook(
          [&](std::size_t done, std::size_t total) { calls.emplace_back(done, total); });
      dme::solve_levels(x, s, solver);
    }
    expect_counting_up(calls, std::string(dme::solver_name(solver)).c_str());
  }
}

TEST(SolverProgress, ScopesNestAndStayOnTheirThread) {
  const std::vector<float> x = dme::test::make_input(dme::test::Dist::kNormal, 2000, 4);
  Calls outer, inner, other;
  dme::ScopedSolverProgress a([&](std::size_t d, std::size_t t) { outer.emplace_back(d, t); });
  {
    dme::ScopedSolverProgress b([&](std::size_t d, std::size_t t) { inner.emplace_back(d, t); });
    dme::solve_levels(x, 8, dme::Solver::kQuiver);
  }
  const std::size_t inner_calls = inner.size();
  EXPECT_GT(inner_calls, 0u);
  EXPECT_TRUE(outer.empty());
  // Another thread has no hook: its solve reports nowhere.
  std::thread([&] { dme::solve_levels(x, 8, dme::Solver::kQuiver); }).join();
  EXPECT_TRUE(outer.empty());
  dme::solve_levels(x, 8, dme::Solver::kQuiver);  // the outer hook is back
  EXPECT_EQ(outer.size(), inner_calls);
  EXPECT_EQ(inner.size(), inner_calls);
}

}  // namespace
