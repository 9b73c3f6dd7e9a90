// Candidate levels and the sums the level DPs need: prefix sums of sorted data (exact solvers),
// and per-bin statistics on a uniform grid from one pass over unsorted data (Apx. QUIVER,
// ZipML-CP Unif). Sums are centred on a shift and compensated (compensated_sum.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dme/core/aligned_buffer.h"
#include "dme/quantization/detail/asq_cost.h"

namespace dme::detail {

/// Mean of x, compensated.
double compensated_mean(std::span<const float> x);

/// Inclusive prefix sums B_t = Σ_{i<=t} (x_i - shift), size d.
std::vector<double> centred_prefix(std::span<const float> sorted, double shift);

/// Chord points of sorted data (asq_cost.h): x = x_t - shift, u = t·x - B_t.
/// @param sorted  size d
/// @param out     out, size d
void chord_points(std::span<const float> sorted, double shift, ChordPoint* out);

/// chord_points as two arrays: x[t] = x_t - shift, u[t] = t·x[t] - B_t (each of size d).
void chord_arrays(std::span<const float> sorted, double shift, double* x, double* u);

/// Exclusive prefix sums of x_i - shift: size d + 1, element t = Σ_{i<t}.
std::vector<double> centred_exclusive_prefix(std::span<const float> sorted, double shift);

/// Σ_{i<=t} (x_i - shift)² for every t (the γ prefix, for solvers that need true costs).
std::vector<double> centred_square_prefix(std::span<const float> sorted, double shift);

/// A uniform grid of m + 1 float levels on [lo, hi] with the statistics of the data per bin: α_t
/// and β_t count and sum (centred) the values at or below level t (a value belongs to the first
/// grid level at or above it, compared in float, so the DP's cost model is exact for these float
/// levels).
struct GridStatistics {
  std::vector<float> level;        ///< size m + 1, level[0] = lo, level[m] = hi
  std::vector<ChordPoint> points;  ///< size m + 1: level - shift, u = α·x - β (cumulative)
  double shift = 0;
  bool contained = true;  ///< false when some value was outside [lo, hi] or NaN (then unusable)
  /// Grid levels that border a bin holding values (level t when bin t, the values in
  /// (level[t-1], level[t]], is not empty, and level t - 1 when t >= 1): with all of them as
  /// levels every value rounds within its own bin, the least error any grid level set gives.
  std::vector<std::uint32_t> bordering;
};

/// Records that bin t (values in (level[t-1], level[t]]) is not empty: levels t - 1 and t
/// border it. Call in increasing t.
inline void note_nonempty_bin(std::vector<std::uint32_t>& bordering, std::uint32_t t) {
  if (t > 0 && (bordering.empty() || bordering.back() != t - 1)) bordering.push_back(t - 1);
  bordering.push_back(t);
}

/// quiver-apx's levels from the statistics of its grid (m intervals): the SMAWK DP over the grid
/// points, or every bordering level when s has room for them all (optimal over the grid then);
/// deduplicated and topped up to s. Shared by the CPU and the CUDA histograms.
std::vector<float> apx_levels_on_grid(const GridStatistics& grid, std::size_t s, std::size_t m);

/// The m + 1 levels of the grid on [lo, hi] (lo < hi): level[t] = min(lo + t·δ, hi) in float,
/// δ = float((hi - lo) / m), level[m] = hi. The one definition of the quiver-apx grid (the CUDA
/// histogram bins against these same levels).
std::vector<float> grid_levels(float lo, float hi, std::size_t m);

/// @param x   unsorted data, size d, all in [lo, hi] (else the result says !contained); lo < hi;
///            m >= 1
GridStatistics grid_statistics(std::span<const float> x, float lo, float hi, std::size_t m);

/// The bin grid_statistics puts each value in (the first level at or above it), by the same
/// kernels: for tests of the binning at bin edges, which the chord points cannot show (a value
/// on a level contributes nothing to that level's point).
std::vector<std::uint32_t> grid_bins(std::span<const float> x, float lo, float hi, std::size_t m);

}  // namespace dme::detail
