// The solve_levels contract for every solver, names, and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/simd.h"
#include "dme/quantization/detail/dp_budget.h"
#include "dme/quantization/detail/radix_sort.h"
#include "dme/quantization/solver.h"
#include "dme/quantization/zipml.h"
#include "quant_test_support.h"
#include "simd_test_support.h"

namespace {

using dme::Solver;
using dme::test::Dist;

std::size_t distinct(std::vector<float> x) {
  std::sort(x.begin(), x.end());
  return static_cast<std::size_t>(std::unique(x.begin(), x.end()) - x.begin());
}

// The message of the dme::Error that f throws, or "no error".
template <class F>
std::string message(F&& f) {
  try {
    f();
  } catch (const dme::Error& e) {
    return std::string(e.what());
  }
  return std::string("no error");
}

TEST(Solver, NamesRoundTripAndUnknownNamesListTheValidOnes) {
  for (Solver s : dme::kAllSolvers) EXPECT_EQ(dme::parse_solver(dme::solver_name(s)), s);
  try {
    dme::parse_solver("quiver-fast");
    FAIL();
  } catch (const dme::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("quiver-fast"), std::string::npos);
    EXPECT_NE(msg.find("zipml-cp-quant"), std::string::npos);
  }
  EXPECT_TRUE(dme::solver_is_biased(Solver::kKmeans));
  EXPECT_TRUE(dme::solver_is_biased(Solver::kRtn));
  EXPECT_FALSE(dme::solver_is_biased(Solver::kQuiverApx));
  EXPECT_TRUE(dme::solver_needs_sorted_input(Solver::kQuiverAccel));
  EXPECT_FALSE(dme::solver_needs_sorted_input(Solver::kQuiverApx));
}

TEST(Solver, EverySolverHonoursTheContract) {
  for (Solver solver : dme::kAllSolvers) {
    const std::string name(dme::solver_name(solver));
    for (Dist dist :
         {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kConstant, Dist::kTwoValues}) {
      for (std::size_t d : {1u, 5u, 300u, 4000u}) {
        if (solver == Solver::kZipml && d > 300) continue;  // O(s·d²): covered at small d
        const std::vector<float> x = dme::test::make_input(dist, d, d + 7);
        const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
        for (std::size_t s : {2u, 3u, 16u, 64u}) {
          const std::string what = name + " " + dme::test::dist_name(dist) +
                                   " d=" + std::to_string(d) + " s=" + std::to_string(s);
          dme::SolverOptions options;
          options.m = std::max<std::size_t>(s, 400);
          const std::vector<float> levels = dme::solve_levels(x, s, solver, options);
          ASSERT_FALSE(levels.empty()) << what;
          ASSERT_LE(levels.size(), s) << what;
          for (std::size_t t = 1; t < levels.size(); ++t)
            ASSERT_LT(levels[t - 1], levels[t]) << what;
          if (!dme::solver_is_biased(solver)) {
            ASSERT_LE(levels.front(), *lo) << what;
            ASSERT_GE(levels.back(), *hi) << what;
          }
          if (distinct(x) >= s) {
            ASSERT_EQ(levels.size(), s) << what;
          }
          if (*lo == *hi) {
            ASSERT_EQ(levels.size(), 1u) << what;
          }
          // Sorted input declared sorted gives the same levels.
          if (dme::solver_needs_sorted_input(solver)) {
            options.input_is_sorted = true;
            ASSERT_EQ(dme::solve_levels(dme::test::sorted_copy(x), s, solver, options), levels)
                << what;
          }
        }
      }
    }
  }
}

TEST(Solver, BadInputGivesClearErrors) {
  std::vector<float> x = dme::test::make_input(Dist::kNormal, 100, 1);
  for (Solver solver : dme::kAllSolvers) {
    std::vector<float> bad = x;
    bad[37] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_NE(message([&] { dme::solve_levels(bad, 4, solver); }).find("x[37]"), std::string::npos)
        << dme::solver_name(solver);
    bad[37] = -std::numeric_limits<float>::infinity();
    EXPECT_NE(message([&] { dme::solve_levels(bad, 4, solver); }).find("x[37]"), std::string::npos);
    EXPECT_THROW(dme::solve_levels(std::vector<float>{}, 4, solver), dme::Error);
    EXPECT_THROW(dme::solve_levels(x, 1, solver), dme::Error);
    EXPECT_THROW(dme::solve_levels(x, dme::kMaxLevels + 1, solver), dme::Error);
  }
  dme::SolverOptions small_grid;
  small_grid.m = 8;
  EXPECT_NE(
      message([&] { dme::solve_levels(x, 16, Solver::kQuiverApx, small_grid); }).find("m >= s"),
      std::string::npos);
  const std::vector<float> big(dme::kMaxZipmlD + 1, 1.0f);
  EXPECT_NE(message([&] { dme::solve_levels(big, 4, Solver::kZipml); }).find("d <= "),
            std::string::npos);
  dme::SolverOptions sorted;
  sorted.input_is_sorted = true;
  EXPECT_NE(message([&] { dme::solve_levels(x, 4, Solver::kQuiver, sorted); }).find("sorted"),
            std::string::npos);
}

// A DP whose tables would pass the memory budget stops with an error naming s and the points,
// before it allocates them (the LayeredDp of quiver-apx's grid, the k-means group DP), or as
// the ranged layers reach it (dp_budget.h); it used to run the machine out of memory.
TEST(Solver, DpTablesBeyondTheBudgetAreAnError) {
  // Uniform values: the grid's cells are nearly all occupied, so the DP runs on ~2^18 points
  // with 65533 layers (~64 GiB of argmins).
  std::vector<float> x(std::size_t(1) << 20);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 2654435761u) % 1000003u);
  dme::SolverOptions grid;
  grid.m = std::size_t(1) << 18;
  const std::string apx =
      message([&] { dme::solve_levels(x, dme::kMaxLevels, Solver::kQuiverApx, grid); });
  EXPECT_NE(apx.find("level DP for s = 65536 levels over"), std::string::npos) << apx;
  EXPECT_NE(apx.find("GiB of tables"), std::string::npos) << apx;
  x.resize(std::size_t(1) << 17);
  const std::string kmeans =
      message([&] { dme::solve_levels(x, dme::kMaxLevels, Solver::kKmeans); });
  EXPECT_NE(kmeans.find("levels over 131072 points needs more than 4 GiB"), std::string::npos)
      << kmeans;
  // The budget itself: the sum of what is added, checked at every addition.
  dme::detail::DpBudget budget(16, 100);
  EXPECT_NO_THROW(budget.add(dme::detail::kMaxDpTableBytes - 8));
  EXPECT_NO_THROW(budget.add(8));
  EXPECT_THROW(budget.add(1), dme::Error);
}

TEST(Solver, DeterministicAcrossCalls) {
  const std::vector<float> x = dme::test::make_input(Dist::kLogNormal, 10000, 5);
  for (Solver solver : dme::kAllSolvers) {
    if (solver == Solver::kZipml) continue;  // d too large for the O(s·d²) DP, covered above
    EXPECT_EQ(dme::solve_levels(x, 8, solver), dme::solve_levels(x, 8, solver))
        << dme::solver_name(solver);
  }
}

// A zero extreme keeps its sign in the order -0 < +0 whatever lane of which SIMD target saw it
// first: the uniform levels of s = 2 are exactly the extremes, so their bits show it.
TEST(Solver, ZeroExtremesHaveTheSameSignOnEveryTarget) {
  std::vector<std::vector<float>> cases;
  for (std::size_t n : {5u, 37u, 40u, 1000u}) {
    std::vector<float> pos(n, 1.0f), neg(n, -1.0f), zeros(n, 0.0f);
    pos[n / 3] = 0.0f;
    pos[n - 1] = -0.0f;  // min -0 (seen after a +0)
    neg[1] = 0.0f;
    neg[n - 2] = -0.0f;  // max +0 (seen after... or before a -0, by lane)
    zeros[n / 2] = -0.0f;  // min -0, max +0
    cases.insert(cases.end(), {pos, neg, zeros, std::vector<float>(n, -0.0f)});
  }
  for (const auto& x : cases) {
    // The reference: min and max of the order-preserving integer keys.
    const auto key = [](float v) {
      const auto u = std::bit_cast<std::uint32_t>(v);
      return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    };
    float lo = x[0], hi = x[0];
    for (float v : x) {
      if (key(v) < key(lo)) lo = v;
      if (key(v) > key(hi)) hi = v;
    }
    dme::test::for_each_simd_target([&](const std::string&) {
      const std::vector<float> levels = dme::solve_levels(x, 2, Solver::kUniform);
      ASSERT_EQ(levels.size(), lo == hi ? 1u : 2u);  // -0 == +0: one level, the minimum
      EXPECT_EQ(std::bit_cast<std::uint32_t>(levels.front()), std::bit_cast<std::uint32_t>(lo))
          << "n=" << x.size();
      if (lo != hi) {
        EXPECT_EQ(std::bit_cast<std::uint32_t>(levels.back()), std::bit_cast<std::uint32_t>(hi))
            << "n=" << x.size();
      }
    });
  }
}

TEST(RadixSort, MatchesStdSort) {
  for (std::size_t d : {0u, 1u, 100u, 1023u, 1024u, 100000u}) {
    std::vector<float> x = dme::test::make_input(Dist::kNormal, d, d);
    for (std::size_t i = 0; i < d; i += 97) x[i] = (i % 2) ? 0.0f : -0.0f;
    for (std::size_t i = 5; i < d; i += 101)
      x[i] = std::numeric_limits<float>::denorm_min() * ((i % 3) - 1.0f);
    std::vector<float> expect = x;
    std::sort(expect.begin(), expect.end());
    dme::detail::radix_sort(x);
    ASSERT_TRUE(std::is_sorted(x.begin(), x.end())) << d;
    for (std::size_t i = 0; i < d; ++i) ASSERT_EQ(x[i], expect[i]) << d << " " << i;
    // The total order of the keys: every -0.0 before every +0.0.
    for (std::size_t i = 1; i < d; ++i)
      ASSERT_FALSE(x[i] == 0 && x[i - 1] == 0 && !std::signbit(x[i - 1]) && std::signbit(x[i]))
          << d << " " << i;
  }
  // Digits shared by every key skip their pass, so the keys end in either buffer: values in
  // [1, 1.5) share the top digit (two passes), a constant vector every digit (none).
  for (const float hi : {1.5f, 1.0f}) {
    std::vector<float> x(5000);
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = 1.0f + (hi - 1.0f) * static_cast<float>((i * 7919) % 5000) / 5000.0f;
    std::vector<float> expect = x;
    std::sort(expect.begin(), expect.end());
    dme::detail::radix_sort(x);
    ASSERT_EQ(x, expect) << hi;
  }
}

// sort_floats (vqsort or radix, whichever the target's rule picks) and vqsort_floats give the
// radix sort's bytes on every SIMD target, at sizes around the small-input cut and the vector
// widths, with signed zeros, denormals, infinities and many ties.
TEST(SortFloats, BitIdenticalToRadixSortOnEveryTarget) {
  dme::test::for_each_simd_target([](const std::string& target) {
    SCOPED_TRACE(std::string("sort used: ") + dme::detail::sort_method());
    for (std::size_t d : {0u, 1u, 2u, 17u, 1023u, 1024u, 1025u, 4099u, 65536u, 300001u}) {
      std::vector<float> x = dme::test::make_input(Dist::kNormal, d, d + 7);
      for (std::size_t i = 0; i < d; i += 97) x[i] = (i % 2) ? 0.0f : -0.0f;
      for (std::size_t i = 5; i < d; i += 101)
        x[i] = std::numeric_limits<float>::denorm_min() * ((i % 3) - 1.0f);
      for (std::size_t i = 11; i < d; i += 1009)
        x[i] = (i % 2 ? 1 : -1) * std::numeric_limits<float>::infinity();
      for (std::size_t i = 3; i < d; i += 13) x[i] = std::round(x[i] * 4) / 4;  // ties
      std::vector<float> expect = x, sorted = x, vq = x;
      dme::detail::radix_sort(expect);
      dme::detail::sort_floats(sorted);
      dme::detail::vqsort_floats(vq);
      for (std::size_t i = 0; i < d; ++i) {
        ASSERT_EQ(std::bit_cast<std::uint32_t>(sorted[i]), std::bit_cast<std::uint32_t>(expect[i]))
            << target << " d=" << d << " i=" << i;
        ASSERT_EQ(std::bit_cast<std::uint32_t>(vq[i]), std::bit_cast<std::uint32_t>(expect[i]))
            << target << " d=" << d << " i=" << i;
      }
    }
  });
}

TEST(SortFloats, MethodFollowsTheTargetRule) {
  dme::test::for_each_simd_target([](const std::string& target) {
    const std::string method = dme::detail::sort_method();
    if (std::getenv("DME_SORT")) return;  // forced by the user
    if (target == "avx2") {
      EXPECT_EQ(method, "vqsort");
    } else if (target == "avx512") {
#if defined(__x86_64__) || defined(__i386__)
      // Zen 4 and older AMD cores microcode vqsort's compress to memory: the radix sort there.
      __builtin_cpu_init();
      const bool slow_compress = __builtin_cpu_is("amd") && dme::cpu_family_model().family < 26;
      EXPECT_EQ(method, slow_compress ? "radix" : "vqsort") << dme::cpu_model();
#endif
    } else {
      EXPECT_EQ(method, "radix");
    }
  });
}

}  // namespace
