// Non-adaptive baselines: s evenly spaced levels on [min, max]. Used unbiased (stochastic
// rounding, "uniform", QSGD-like) or biased (nearest rounding, "rtn").
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dme {

/// Levels lo + (hi - lo)·t/(s - 1), t = 0..s-1, in float with the end points exact; one level
/// when lo == hi. Levels that coincide in float (a range of a few ulps) are merged.
/// @param lo, hi  finite, lo <= hi;  s >= 2
std::vector<float> uniform_levels(float lo, float hi, std::size_t s);

}  // namespace dme
