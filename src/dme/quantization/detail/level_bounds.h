// Where the levels of an optimal ASQ solution can lie: index ranges that let the exact DPs skip
// most of their columns without giving up exactness.
//
// The candidates (sorted, centred values x_t) are cut into G groups of consecutive points, at
// most g points and at most (range / (n/g)) wide each, so sparse tails get narrow groups. For two
// levels at points k < j in groups a < b, every point strictly inside the groups between them
// lies in [hi(a), lo(b)] ⊆ [x_k, x_j], and a point's rounding error only shrinks with its
// interval, so
//   E(k, j) = Σ_{k<t<j} (x_j - x_t)(x_t - x_k)
//          >= L(a, b) = Σ_{t from end(a) to start(b)} (lo(b) - x_t)(x_t - hi(a)),
// a signed range: L(a, a + 1) = 0, and L(a, a) is minus group a's own spread error (<= 0, so
// still a lower bound for two levels in one group). L is Monge on a <= b (the cross difference
// of two overlapping pairs is a sum of products of non-negative gaps, including a' = b), and
// bilinear in per-group terms, so the group DPs are column-minima problems like the fine ones
// (accel_minima.h), on G columns instead of d:
//   forward  FL_l[q]: a lower bound on the error of [0, j] with l levels, the last at j in group q,
//   backward BL_r[q]: a lower bound on the error of [j, d-1] with r more levels, the last at d-1.
// An optimal solution with value OPT <= U (U: the true error of a feasible level set, here the
// group optimum with one point per group) has its l-th level in a group q with
// FL_l[q] + BL_{s-l}[q] <= OPT <= U, so the DP may restrict the l-th level to those groups; its
// result is still an exact optimum (the optimal path survives, and every surviving path is a
// feasible level set). The comparison allows a tolerance above every rounding error of the bounds
// (rounding never hides the optimum), and an empty range (impossible in exact arithmetic) gives
// the whole index range. About 4·sqrt(n·s) groups, after a pass on ~16·s coarse groups whose
// ranges confine these group DPs too. LogNormal, n = 2^20, s = 16: the bounds cost ~4 ms and
// leave each level at most 10% of the candidates (a quarter of n over the accelerated layers).
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
/// @param group_size  points per group; 0 picks both sizes from n and s
/// @param coarse_size points per group of a first, coarse pass that confines the fine group DPs
///                    (0: none; ignored when group_size is 0)
/// @return            size s + 1; element l (1 <= l <= s) holds the l-th level (1-based), with
///                    [0] unused, [1] = {0, 0} and [s] = {n - 1, n - 1}
std::vector<IndexRange> optimal_level_ranges(const double* x, std::size_t n, std::size_t s,
                                             std::size_t group_size = 0,
                                             std::size_t coarse_size = 0);

}  // namespace dme::detail
