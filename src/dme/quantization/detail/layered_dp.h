// The layered dynamic programme shared by the exact solvers (docs/algorithms.md §3.3, Monge: §3.4):
//   F_1[j] = cost(0, j),   F_i[j] = min_{k<=j} F_{i-1}[k] + cost(k, j),
// one SMAWK pass per layer (O(n) each), the argmins of every pass kept for backtracking in a
// compact table of uint32 (passes·n·4 bytes: 4 GiB at n = 2^24 with 64 passes, the most any
// solver here needs). The last layer is only needed at column n-1, so it is a plain O(n) scan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "dme/core/error.h"
#include "dme/quantization/detail/dp_budget.h"
#include "dme/quantization/detail/smawk.h"
#include "dme/quantization/solver_progress.h"

namespace dme::detail {

class LayeredDp {
 public:
  /// @param n       columns (candidates), at most 2^32 - 1
  /// @param passes  full layers to run with step()
  /// @param levels  the levels solved for (for the message of the memory check, dp_budget.h)
  LayeredDp(std::size_t n, std::size_t passes, std::size_t levels)
      : n_(n), passes_(passes), f_(n), g_(n), table_(allocate_table(n, passes, levels)) {
    DME_ASSERT(n >= 1 && n <= std::numeric_limits<std::uint32_t>::max());
  }

  /// F[j] = cost(0, j).
  template <class Cost>
  void init(const Cost& cost) {
    for (std::size_t j = 0; j < n_; ++j) f_[j] = cost(0, j);
  }

  /// One layer: F[j] <- min_{k<=j} F[k] + cost(k, j); cost must satisfy the quadrangle inequality.
  template <class Cost>
  void step(const Cost& cost) {
    DME_ASSERT(done_ < passes_);
    const double* f = f_.data();
    auto value = [f, &cost](std::size_t k, std::size_t j) {
      return k > j ? std::numeric_limits<double>::infinity() : f[k] + cost(k, j);
    };
    smawk_.column_minima(n_, n_, value, table_.get() + done_ * n_, g_.data());
    std::swap(f_, g_);
    report_solver_layer(++done_, passes_);
  }

  /// One layer by a caller's column-minima routine, minima(f, argmin, out): for every j,
  /// out[j] = min_{k<=j} f[k] + cost(k, j) and argmin[j] the smallest minimising k.
  template <class Minima>
  void step_with(Minima&& minima) {
    DME_ASSERT(done_ < passes_);
    minima(f_.data(), table_.get() + done_ * n_, g_.data());
    std::swap(f_, g_);
    report_solver_layer(++done_, passes_);
  }

  /// The best predecessor of column n-1 under cost: argmin_k F[k] + cost(k, n-1).
  template <class Cost>
  std::size_t last(const Cost& cost) const {
    const std::size_t j = n_ - 1;
    std::size_t best_k = 0;
    double best = f_[0] + cost(0, j);
    for (std::size_t k = 1; k <= j; ++k) {
      const double v = f_[k] + cost(k, j);
      if (v < best) {
        best = v;
        best_k = k;
      }
    }
    return best_k;
  }

  /// The predecessor of column j recorded by pass `pass` (0-based).
  std::size_t argmin(std::size_t pass, std::size_t j) const {
    DME_ASSERT(pass < done_ && j < n_);
    return table_[pass * n_ + j];
  }

  /// F after the passes so far.
  const std::vector<double>& values() const { return f_; }

 private:
  static std::unique_ptr<std::uint32_t[]> allocate_table(std::size_t n, std::size_t passes,
                                                         std::size_t levels) {
    DpBudget(levels, n).add(std::uint64_t(passes) * n * sizeof(std::uint32_t));
    return std::make_unique_for_overwrite<std::uint32_t[]>(passes * n);
  }

  std::size_t n_, passes_, done_ = 0;
  std::vector<double> f_, g_;
  std::unique_ptr<std::uint32_t[]> table_;
  Smawk smawk_;
};

}  // namespace dme::detail
