// Where the levels of an optimal ASQ solution can lie: index ranges that let the exact DPs skip
// most of their columns without giving up exactness.
//
// The candidates (sorted, chord points of asq_cost.h) are cut into G groups of g consecutive
// points. For two levels at points k < j in groups a < b, every point strictly inside the groups
// between them lies in [hi(a), lo(b)] ⊆ [x_k, x_j], and each point's rounding error only shrinks
// when its interval does, so
//   E(k, j) = Σ_{k<t<j} (x_j - x_t)(x_t - x_k)  >=  L(a, b) = Σ_{t in groups a+1..b-1} (lo(b) -
//   x_t)(x_t - hi(a)),
// with L(a, a) = L(a, a + 1) = 0. L is Monge (the cross difference of two overlapping pairs of
// group intervals is a sum of products of non-negative gaps), so the group DPs are column-minima
// problems like the fine ones, on G columns instead of d:
//   forward  FL_l[q]: a lower bound on the error of [0, j] with l levels, the last at j in group q,
//   backward BL_r[q]: a lower bound on the error of [j, d-1] with r more levels, the last at d-1.
// An optimal solution with value OPT <= U (U: the true error of any feasible level set, here the
// group optimum with one point per group) has its l-th level in a group q with
// FL_l[q] + BL_{s-l}[q] <= OPT <= U, so the DP may restrict the l-th level to those groups; its
// result is still an exact optimum (the optimal path survives, and every surviving path is a
// feasible level set). The comparison allows a tolerance above every rounding error of the bounds
// (rounding never hides the optimum), and an empty range (impossible in exact arithmetic) gives
// the whole index range.
#pragma once

#include <cstddef>
#include <vector>

namespace dme::detail {

/// An inclusive range of candidate indices.
struct IndexRange {
  std::size_t lo = 0, hi = 0;
  std::size_t size() const { return hi - lo + 1; }
};

/// The index ranges of the levels of some optimal s-level ASQ solution over n candidates with
/// levels at 0 and n - 1.
/// @param x           the candidates' values (centred, ascending), size n >= 2
/// @param s           levels, 2 <= s
/// @param group_size  points per group; 0 picks one from n (a few thousand groups)
/// @return            size s + 1; element l (1 <= l <= s) holds the l-th level (1-based), with
///                    [0] unused, [1] = {0, 0} and [s] = {n - 1, n - 1}
std::vector<IndexRange> optimal_level_ranges(const double* x, std::size_t n, std::size_t s,
                                             std::size_t group_size = 0);

}  // namespace dme::detail
