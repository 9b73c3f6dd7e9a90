// The optimal biased quantizer: exact 1-D k-means (docs/algorithms.md §6.2). Clusters of
// sorted data are contiguous, the within-cluster cost satisfies the quadrangle inequality, and the
// same layered DP finds the optimum: each layer by the vectorised monotone minima of
// detail/accel_minima.h (the same partition on every SIMD target), confined to the positions its
// boundary can take in an optimal partition (group bounds, kmeans1d.cpp; d = 2^20, s = 16,
// LogNormal: ~50 ms instead of ~400 ms of full layers on AVX-512). Used with nearest rounding.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dme {

/// Centroids of the optimal s-clustering of sorted (ascending, finite, size d >= 1), ascending
/// and distinct; all distinct values when there are at most s.
std::vector<float> kmeans_levels(std::span<const float> sorted, std::size_t s);

namespace detail {

/// The optimal partition: cluster c is sorted[ends[c-1] .. ends[c]) (ends[-1] = 0), and its
/// sum of squared distances to the cluster means, computed in long double from the data.
struct KmeansPartition {
  std::vector<std::size_t> ends;
  double cost = 0;
};

/// @param sorted   ascending, size d >= 1; 1 <= s
/// @param bounded  confine each DP layer to the positions its boundary can take (the default);
///                 false runs full layers (the reference the bounded DP is tested against)
KmeansPartition kmeans_partition(std::span<const float> sorted, std::size_t s, bool bounded = true);

}  // namespace detail
}  // namespace dme
