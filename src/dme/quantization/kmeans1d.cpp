#include "dme/quantization/kmeans1d.h"

#include <algorithm>

#include "dme/core/detail/simd.h"
#include "dme/core/error.h"
#include "dme/quantization/detail/accel_minima.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/layered_dp.h"
#include "dme/quantization/detail/level_set.h"

namespace dme {
namespace detail {
namespace {

// Mean and squared deviation of sorted[begin, end), in long double straight from the data.
void cluster_moments(std::span<const float> sorted, std::size_t begin, std::size_t end,
                     long double& mean, long double& ss) {
  long double sum = 0;
  for (std::size_t i = begin; i < end; ++i) sum += sorted[i];
  mean = sum / static_cast<long double>(end - begin);
  ss = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const long double e = sorted[i] - mean;
    ss += e * e;
  }
}

}  // namespace

KmeansPartition kmeans_partition(std::span<const float> sorted, std::size_t s) {
  const std::size_t d = sorted.size();
  DME_ASSERT(d >= 1 && s >= 1);
  KmeansPartition part;
  if (s == 1) {
    part.ends = {d};
  } else {
    // Columns are prefix positions 0..d; F_1[j] = cost of one cluster [0, j).
    const std::vector<double> prefix = centred_exclusive_prefix(sorted, compensated_mean(sorted));
    const KmeansCost cost{prefix.data()};
    LayeredDp dp(d + 1, s - 2);
    dp.init(cost);
#if DME_HAVE_AVX512
    for (std::size_t c = 2; c < s; ++c)
      dp.step_with([&](const double* f, std::uint32_t* argmin, double* out) {
        kmeans_column_minima(f, prefix.data(), d + 1, argmin, out);
      });
#else
    for (std::size_t c = 2; c < s; ++c) dp.step(cost);
#endif
    std::size_t k = dp.last(cost);
    part.ends = {d, k};
    for (std::size_t pass = s - 2; pass-- > 0;) {
      k = dp.argmin(pass, k);
      part.ends.push_back(k);
    }
    std::reverse(part.ends.begin(), part.ends.end());
    // Empty clusters (a DP tie) carry no data: drop them.
    part.ends.erase(std::unique(part.ends.begin(), part.ends.end()), part.ends.end());
    if (part.ends.front() == 0) part.ends.erase(part.ends.begin());
  }
  long double total = 0;
  std::size_t begin = 0;
  for (std::size_t end : part.ends) {
    long double mean, ss;
    cluster_moments(sorted, begin, end, mean, ss);
    total += ss;
    begin = end;
  }
  part.cost = static_cast<double>(total);
  return part;
}

}  // namespace detail

std::vector<float> kmeans_levels(std::span<const float> sorted, std::size_t s) {
  DME_ASSERT(!sorted.empty() && s >= 1);
  if (detail::count_distinct_sorted(sorted) <= s) return detail::distinct_sorted(sorted);
  const detail::KmeansPartition part = detail::kmeans_partition(sorted, s);
  std::vector<float> centroids;
  std::size_t begin = 0;
  for (std::size_t end : part.ends) {
    long double sum = 0;
    for (std::size_t i = begin; i < end; ++i) sum += sorted[i];
    centroids.push_back(static_cast<float>(sum / static_cast<long double>(end - begin)));
    begin = end;
  }
  std::vector<float> levels = detail::unique_levels(std::move(centroids));
  detail::top_up_levels(levels, sorted, s);
  return levels;
}

}  // namespace dme
