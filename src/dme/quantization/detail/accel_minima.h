// Column minima of the QUIVER and 1-D k-means layer matrices, vectorised (one Highway source for
// every SIMD target, chosen at run time: core/simd.h); for accelerated QUIVER:
//   out[j] = min_{k <= j} f[k] + c2(k, j),   argmin[j] = the smallest minimising k,
// with c2 the two-level cost of asq_cost.h (AccelAsqCost). The matrix is totally monotone, so
// the minimising rows are non-decreasing in j; the routine is the divide-and-conquer for
// monotone matrices (the middle column by a scan of its row range, then each half with the
// range cut at that column's argmin) with two changes that make it fast in practice:
//   - a row range is scanned a vector of rows per step (the closed-form middle level b* for
//     eight rows at once on AVX-512, four on AVX2, its points gathered);
//   - once a sub-problem's row range is at most a few rows (16 or 32, by measurement), all its
//     columns are brute-forced against all its rows, a vector of columns per step: the deep
//     levels of the recursion, where ranges are short and plateaus of equal argmins are common,
//     cost one vector per eight (AVX-512) columns and row.
// O(n log n) evaluations against SMAWK's O(n), but each one is a lane of a vector instead of a
// step of a branchy sequential loop: at n = 2^20 a layer takes ~35 ms against SMAWK's ~60 ms
// (accelerated) and ~20 ms against ~42 ms (exact), on AVX-512. The minima are SMAWK's (both are
// exact for totally monotone matrices); argmins may differ from SMAWK's only between rows tied to
// the last bit. Every SIMD target (the scalar one included) returns the same minima and argmins:
// each column's argmin is the smallest row attaining the minimum among the rows the search
// visits, which does not depend on the vector width.
// The window variants run the same search on a block of columns against a block of rows: the
// QUIVER layers confined to their levels' index ranges (level_bounds.h), which also run the
// bilinear variant on their groups, and the k-means layers confined to their boundaries' ranges
// (kmeans1d.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dme::detail {

/// @param f       layer values, size n
/// @param x, u    chord points (asq_cost.h) as separate arrays, size n
/// @param argmin  out, size n
/// @param out     out, size n
void accel_column_minima(const double* f, const double* x, const double* u, std::size_t n,
                         std::uint32_t* argmin, double* out);
/// The same over a window: columns [c_lo, c_hi] against rows [r_lo, r_hi] (r_lo <= c_lo,
/// r_hi <= c_hi), with f[k - r_lo] the value of row k, and argmin[j - c_lo], out[j - c_lo] the
/// results of column j (the layers of a DP whose levels are confined to index ranges).
void accel_window_minima(const double* f, const double* x, const double* u, std::size_t r_lo,
                         std::size_t r_hi, std::size_t c_lo, std::size_t c_hi,
                         std::uint32_t* argmin, double* out);
/// The same for the one-level cost c(k, j) = x_j u_k - x_k u_j (AsqCost): exact QUIVER's layers.
/// lower (size n, or null) bounds each column's smallest argmin from below and must be
/// non-decreasing: pass the previous layer's argmins, which a layered DP over a Monge cost
/// satisfies (docs/algorithms.md §3.5). The search then starts each column there.
void asq_column_minima(const double* f, const double* x, const double* u, std::size_t n,
                       std::uint32_t* argmin, double* out, const std::uint32_t* lower = nullptr);
/// asq_column_minima over a window, as accel_window_minima.
void asq_window_minima(const double* f, const double* x, const double* u, std::size_t r_lo,
                       std::size_t r_hi, std::size_t c_lo, std::size_t c_hi, std::uint32_t* argmin,
                       double* out);
/// The same over a window for a cost with its own row and column coefficients,
///   out[j - c_lo] = min_{r_lo <= k <= min(j, r_hi)} f[k - r_lo] + xc[j]·ur[k] - xr[k]·uc[j],
/// which must be Monge in (k, j) (the group bounds of level_bounds.h).
void bilinear_window_minima(const double* f, const double* xr, const double* ur, const double* xc,
                            const double* uc, std::size_t r_lo, std::size_t r_hi, std::size_t c_lo,
                            std::size_t c_hi, std::uint32_t* argmin, double* out);
/// The same for 1-D k-means (KmeansCost over exclusive prefix sums, size n): the optimal biased
/// quantizer's layers.
void kmeans_column_minima(const double* f, const double* prefix, std::size_t n,
                          std::uint32_t* argmin, double* out);
/// kmeans_column_minima over a window, as accel_window_minima (prefix: size > c_hi).
void kmeans_window_minima(const double* f, const double* prefix, std::size_t r_lo, std::size_t r_hi,
                          std::size_t c_lo, std::size_t c_hi, std::uint32_t* argmin, double* out);

}  // namespace dme::detail
