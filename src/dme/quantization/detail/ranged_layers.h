// The layers of a level DP confined to index ranges (level_bounds.h for QUIVER, the k-means
// boundary ranges of kmeans1d.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "dme/core/error.h"
#include "dme/quantization/detail/dp_budget.h"
#include "dme/quantization/detail/level_bounds.h"
#include "dme/quantization/solver_progress.h"

namespace dme::detail {

// The layers of a level DP confined to index ranges (level_bounds.h): each layer covers the range
// that can hold its level in an optimal solution and takes its rows from the previous layer's
// range. The optimum is the unrestricted DP's (the optimal path survives, and every surviving
// path is a feasible level set), at a fraction of the columns.
class RangedLayers {
 public:
  /// The first layer: f[j - cols.lo] for j in cols; `passes` steps will follow (for progress);
  /// the tables count against `budget` (dp_budget.h).
  RangedLayers(IndexRange cols, std::vector<double> f, std::size_t passes, DpBudget budget)
      : cols_(cols), f_(std::move(f)), passes_(passes), budget_(budget) {}

  /// One layer over the columns of `want`:
  ///   F'[j] = min_{k in the current range, k <= j} F[k] + cost(k, j),
  /// by minima(f, rows, cols, argmin, out) with f, argmin and out relative to the ranges' starts.
  template <class Minima>
  void step(IndexRange want, Minima&& minima) {
    const IndexRange rows = cols_;
    // A column needs a row at or before it; rows after the last column are never used.
    const IndexRange cols = {std::max(want.lo, rows.lo), want.hi};
    DME_ASSERT(cols.lo <= cols.hi);  // the optimal path lies in both ranges
    const IndexRange used = {rows.lo, std::min(rows.hi, cols.hi)};
    budget_.add(cols.size() * sizeof(std::uint32_t));
    std::vector<double> g(cols.size());
    table_.emplace_back(cols.size());
    layer_cols_.push_back(cols);
    minima(f_.data(), used, cols, table_.back().data(), g.data());
    f_ = std::move(g);
    cols_ = cols;
    report_solver_layer(table_.size(), passes_);
  }

  /// The best k of the last layer for column j under cost (ties to the smallest k).
  template <class Cost>
  std::size_t last(Cost&& cost, std::size_t j) const {
    std::size_t k = cols_.lo;
    double best = f_[0] + cost(cols_.lo, j);
    for (std::size_t t = cols_.lo + 1; t <= cols_.hi; ++t) {
      const double v = f_[t - cols_.lo] + cost(t, j);
      if (v < best) {
        best = v;
        k = t;
      }
    }
    return k;
  }

  /// The predecessor of column j recorded by step `pass` (0-based).
  std::size_t argmin(std::size_t pass, std::size_t j) const {
    DME_ASSERT(pass < table_.size() && j >= layer_cols_[pass].lo && j <= layer_cols_[pass].hi);
    return table_[pass][j - layer_cols_[pass].lo];
  }

 private:
  IndexRange cols_;
  std::vector<double> f_;
  std::size_t passes_;
  DpBudget budget_;
  std::vector<IndexRange> layer_cols_;
  std::vector<std::vector<std::uint32_t>> table_;
};

}  // namespace dme::detail
