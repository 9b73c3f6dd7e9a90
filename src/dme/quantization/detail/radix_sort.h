// Sorting float inputs for the exact solvers: an LSD radix sort (three 11-bit digits of the
// order-preserving unsigned image of each float). Measured against std::sort by `dme-bench
// solvers` (column radix_sort_ms next to sort_ms): about 10-15x faster at d >= 2^16.
#pragma once

#include <span>

namespace dme::detail {

/// Sorts x ascending (-0.0 before +0.0; no NaN allowed: callers scan their input first).
/// Uses 2·x.size() words of scratch; small inputs go to std::sort.
void radix_sort(std::span<float> x);

}  // namespace dme::detail
