// Sorting float inputs for the exact solvers. Two sorts give the same order, the total order of
// the keys below (-0.0 before +0.0, which std::sort leaves unspecified):
//   - radix_sort: an LSD radix sort (three 11-bit digits of the order-preserving unsigned image
//     of each float), in x's storage and d words of scratch;
//   - Highway's vqsort (vectorised quicksort on the current SIMD target) of the same unsigned
//     images, in place.
// sort_floats uses the faster one on the SIMD target in use; `dme-bench solvers` times both in
// one run (columns radix_sort_ms, vqsort_ms) and names the one used (sort_used).
// The README (Performance) has the figures behind the rule.
#pragma once

#include <span>

namespace dme::detail {

/// Sorts x ascending (-0.0 before +0.0; no NaN allowed: callers scan their input first).
/// Uses x.size() words of scratch; small inputs go to std::sort.
void radix_sort(std::span<float> x);

/// Sorts x ascending in radix_sort's order with Highway's vqsort on the current SIMD target.
void vqsort_floats(std::span<float> x);

/// "vqsort" or "radix": the sort that sort_floats uses on the current SIMD target and CPU, or
/// the one the environment variable DME_SORT (radix, vqsort, auto) forces. Throws dme::Error on
/// another DME_SORT value.
const char* sort_method();

/// Sorts x ascending in radix_sort's order with the faster sort of this target (sort_method()).
/// The result is bit-identical whichever sort runs.
void sort_floats(std::span<float> x);

}  // namespace dme::detail
