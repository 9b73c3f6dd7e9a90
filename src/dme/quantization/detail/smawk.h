// SMAWK (Aggarwal, Klawe, Moran, Shor and Wilber, 1987): the minimum of every column of a totally
// monotone matrix in O(rows + cols) evaluations of its entries.
//
// The matrix is given by a callable value(row, col) -> double. It must be totally monotone for
// column minima: for rows r1 < r2 and columns c1 < c2, value(r1, c1) > value(r2, c1) implies
// value(r1, c2) > value(r2, c2). Monge matrices qualify, and so do Monge matrices whose lower-left
// staircase (row > col in the layered DPs) is +inf. Ties go to the smallest row, which keeps the
// minimising rows non-decreasing across columns.
//
// Columns are handled implicitly: recursion level L works on columns t·2^L, so only the row lists
// are stored, in buffers that persist across calls (a DP calls this once per layer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "dme/core/error.h"

namespace dme::detail {

class Smawk {
 public:
  /// Column minima of an n_rows × n_cols matrix.
  /// @param argmin   out, size n_cols: the smallest minimising row of each column
  /// @param minimum  out, size n_cols: the minimum of each column
  template <class Value>
  void column_minima(std::size_t n_rows, std::size_t n_cols, Value&& value, std::uint32_t* argmin,
                     double* minimum) {
    if (n_cols == 0) return;
    DME_ASSERT(n_rows >= 1 && n_rows <= std::numeric_limits<std::uint32_t>::max());
    std::size_t top = 0;  // deepest level: one column
    while (level_cols(n_cols, top) > 1) ++top;
    if (rows_.size() < top + 1) rows_.resize(top + 1);

    auto& first = rows_[0];
    first.resize(n_rows);
    for (std::size_t r = 0; r < n_rows; ++r) first[r] = static_cast<std::uint32_t>(r);
    for (std::size_t level = 0;; ++level) {
      auto& rows = rows_[level];
      reduce(rows, level, level_cols(n_cols, level), value);
      if (level == top) break;
      rows_[level + 1].assign(rows.begin(), rows.end());
    }
    // The single column of the deepest level is column 0.
    scan(rows_[top], 0, rows_[top].back(), 0, value, argmin, minimum);
    for (std::size_t level = top; level-- > 0;)
      interpolate(rows_[level], level, level_cols(n_cols, level), value, argmin, minimum);
  }

 private:
  static std::size_t level_cols(std::size_t n_cols, std::size_t level) {
    return ((n_cols - 1) >> level) + 1;
  }

  /// Drops rows that cannot hold a column minimum until at most n_cols remain (REDUCE).
  /// Works in place: the survivors form a stack at the front of rows.
  template <class Value>
  void reduce(std::vector<std::uint32_t>& rows, std::size_t level, std::size_t n_cols,
              Value& value) {
    if (rows.size() <= n_cols) return;
    if (top_value_.size() < n_cols) top_value_.resize(n_cols);
    std::size_t k = 0;  // stack size
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::uint32_t r = rows[i];
      while (k > 0) {
        const std::size_t col = (k - 1) << level;
        double& vt = top_value_[k - 1];
        if (vt != vt) vt = value(rows[k - 1], col);  // NaN marks "not evaluated yet"
        if (vt <= value(r, col)) break;
        --k;
      }
      if (k < n_cols) {
        rows[k] = r;
        top_value_[k] = std::numeric_limits<double>::quiet_NaN();
        ++k;
      }
    }
    rows.resize(k);
  }

  /// Minimum of column col over the rows of the list from position *pos up to row hi.
  template <class Value>
  static void scan(const std::vector<std::uint32_t>& rows, std::size_t pos, std::uint32_t hi,
                   std::size_t col, Value& value, std::uint32_t* argmin, double* minimum) {
    std::uint32_t best_row = rows[pos];
    double best = value(best_row, col);
    while (rows[pos] < hi) {
      ++pos;
      const double v = value(rows[pos], col);
      if (v < best) {
        best = v;
        best_row = rows[pos];
      }
    }
    argmin[col] = best_row;
    minimum[col] = best;
  }

  /// Fills the odd columns of a level from the minima of its even columns.
  template <class Value>
  static void interpolate(const std::vector<std::uint32_t>& rows, std::size_t level,
                          std::size_t n_cols, Value& value, std::uint32_t* argmin,
                          double* minimum) {
    std::size_t pos = 0;
    for (std::size_t t = 1; t < n_cols; t += 2) {
      const std::uint32_t lo = argmin[(t - 1) << level];
      const std::uint32_t hi = t + 1 < n_cols ? argmin[(t + 1) << level] : rows.back();
      while (rows[pos] < lo) ++pos;
      scan(rows, pos, hi, t << level, value, argmin, minimum);
    }
  }

  std::vector<std::vector<std::uint32_t>> rows_;  // surviving rows per recursion level
  std::vector<double> top_value_;                 // REDUCE stack: value at the entry's column
};

}  // namespace dme::detail
