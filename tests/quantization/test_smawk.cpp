// SMAWK against brute-force column minima on totally monotone matrices.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "dme/core/rng.h"
#include "dme/quantization/detail/smawk.h"

namespace {

// A Monge matrix: h(x_r - y_c) with h convex and x, y sorted, plus row and column offsets. With
// `staircase`, entries with row > col are +inf, as in the layered DPs. Entries are tabulated so
// that every evaluation of an entry gives the same double (inlined arithmetic may be contracted
// into fused multiply-adds differently at different call sites).
struct Matrix {
  std::vector<double> x, y, row_off, col_off, table;
  bool staircase;
  std::size_t cols = 0;
  void tabulate() {
    cols = y.size();
    table.resize(x.size() * cols);
    for (std::size_t r = 0; r < x.size(); ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        const double z = x[r] - y[c];
        table[r * cols + c] = std::pow(std::fabs(z), 1.5) + 0.3 * z * z + row_off[r] + col_off[c];
      }
  }
  double operator()(std::size_t r, std::size_t c) const {
    if (staircase && r > c) return std::numeric_limits<double>::infinity();
    return table[r * cols + c];
  }
};

Matrix random_matrix(std::size_t rows, std::size_t cols, bool staircase, std::uint64_t seed) {
  const dme::PhiloxStream in(seed, 0, 0, dme::Purpose::kInput);
  Matrix m{{}, {}, {}, {}, {}, staircase};
  double acc = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    acc += in.uniform_double(r);
    m.x.push_back(acc);
    m.row_off.push_back(10 * in.uniform_double(1000000 + r));
  }
  acc = 0;
  const double stretch = static_cast<double>(rows) / static_cast<double>(cols);
  for (std::size_t c = 0; c < cols; ++c) {
    acc += stretch * in.uniform_double(2000000 + c);
    m.y.push_back(acc);
    m.col_off.push_back(10 * in.uniform_double(3000000 + c));
  }
  m.tabulate();
  return m;
}

TEST(Smawk, MatchesBruteForceColumnMinima) {
  dme::detail::Smawk smawk;  // reused across calls, as the DPs do
  const std::size_t sizes[][2] = {{1, 1},   {1, 9},   {9, 1},   {2, 3},     {7, 7},
                                  {31, 17}, {17, 31}, {64, 64}, {100, 333}, {513, 200}};
  std::uint64_t seed = 0;
  for (bool staircase : {false, true}) {
    for (const auto& size : sizes) {
      const std::size_t rows = size[0], cols = size[1];
      if (staircase && rows > cols) continue;  // every column needs a finite row
      const Matrix m = random_matrix(rows, cols, staircase, ++seed);
      std::vector<std::uint32_t> arg(cols);
      std::vector<double> min(cols);
      smawk.column_minima(rows, cols, m, arg.data(), min.data());
      for (std::size_t c = 0; c < cols; ++c) {
        double best = std::numeric_limits<double>::infinity();
        std::size_t best_r = 0;
        for (std::size_t r = 0; r < rows; ++r)
          if (m(r, c) < best) best = m(r, c), best_r = r;
        ASSERT_EQ(min[c], best) << rows << "x" << cols << " column " << c;
        ASSERT_EQ(arg[c], best_r) << rows << "x" << cols << " column " << c;
      }
    }
  }
}

TEST(Smawk, TiesGoToTheSmallestRow) {
  // A constant matrix: every row ties, so every column must report row 0.
  dme::detail::Smawk smawk;
  const auto constant = [](std::size_t, std::size_t) { return 1.0; };
  std::vector<std::uint32_t> arg(50);
  std::vector<double> min(50);
  smawk.column_minima(40, 50, constant, arg.data(), min.data());
  for (std::size_t c = 0; c < 50; ++c) EXPECT_EQ(arg[c], 0u);
}

}  // namespace
