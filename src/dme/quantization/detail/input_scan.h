// One pass over a solver's input: finiteness (naming the first bad value), range, and order.
#pragma once

#include <cstddef>
#include <span>

#include "dme/core/extrema.h"

namespace dme::detail {

/// Min and max of x in the order -0 < +0 (so the same bits on every SIMD target). Throws dme::Error when x is empty or holds NaN/Inf (naming the first such
/// index and value); `what` names the caller in the message.
Extrema<float> scan_input(std::span<const float> x, const char* what);

/// Throws dme::Error naming the first i with x[i] < x[i-1] (for inputs promised sorted).
void check_sorted(std::span<const float> x, const char* what);

/// Number of distinct values of sorted x.
std::size_t count_distinct_sorted(std::span<const float> sorted);

}  // namespace dme::detail
