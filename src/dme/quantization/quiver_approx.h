// Approximate QUIVER (docs/algorithms.md §5): candidate levels on the uniform grid
// of m + 1 points over [min, max], per-bin counts and sums from one pass over the UNSORTED input,
// then the exact SMAWK DP over the grid: O(d + s·m) time, O(m) extra memory, no sort.
// Guarantee: with 2s - 2 levels its error is within d·(max - min)²/(4m²) of the exact optimum
// with s levels (each optimal level is bracketed by two grid points). Empty bins are kept as
// candidates (the candidate set is the full grid, as analysed).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dme {

/// Default grid size, by measurement (`dme-bench solvers --m ...`, d = 2^20): on normal input (what
/// a rotated vector looks like) m = 400 is within 0.1% of the optimal vNMSE for s = 4, 16, 64; on
/// LogNormal(0, 1), whose range is long against its bulk, m = 400 is 4% above the optimum at
/// s = 16 (m = 800: 0.5%) and 2x at s = 64 (m = 1600: 1%). The grid pass costs the same for any
/// m; the DP adds O(s·m), about 0.1 ms at s = 16, m = 400. Skewed inputs at large s want m ~ 25·s.
inline constexpr std::size_t kDefaultApxGrid = 400;
/// Largest accepted grid (m + 1 candidates, 24 bytes each).
inline constexpr std::size_t kMaxApxGrid = std::size_t(1) << 24;

/// @param x  the input, any order, size d >= 1 (NaN/Inf -> dme::Error)
/// @param s  2 <= s <= kMaxLevels
/// @param m  grid intervals, s <= m <= kMaxApxGrid
/// @return   sorted levels with levels.front() = min(x), levels.back() = max(x): for d > s, s
///           grid levels; for d <= s, the distinct values of x (the optimum: rounding is exact,
///           and a bucket of 16 values at s = 256 sends 16 levels, not 256); one level when x
///           is constant
std::vector<float> quiver_approx(std::span<const float> x, std::size_t s, std::size_t m);

/// The same when the caller already knows the range of x (a rotation finds it while writing x:
/// Rotation::forward with y_min, y_max), which saves the pass that finds it. [lo, hi] must hold
/// every x[i]; with lo = min(x) and hi = max(x) the result equals quiver_approx(x, s, m).
/// A value outside [lo, hi], NaN or Inf -> dme::Error naming it; empty x -> dme::Error.
std::vector<float> quiver_approx(std::span<const float> x, std::size_t s, std::size_t m, float lo,
                                 float hi);

/// The optimum among levels on the grid of m + 1 points over [lo, hi] (which must hold every
/// x[i], as above), for every d: the reduce-scatter-int exchange needs grid points even when a
/// chunk has fewer values than levels, where quiver_approx returns the values themselves.
/// Equals quiver_approx(x, s, m, lo, hi) for d > s.
std::vector<float> quiver_approx_on_grid(std::span<const float> x, std::size_t s, std::size_t m,
                                         float lo, float hi);

namespace detail {
/// quiver-apx's argument checks (s in 2..kMaxLevels, s <= m <= kMaxApxGrid), shared with the
/// CUDA backend's.
void check_apx_arguments(std::size_t s, std::size_t m);
}  // namespace detail

}  // namespace dme
