// The Lloyd-Max quantizer of the standard normal as fixed float32 tables: what a kind-4 payload
// (codec/payload.h, the eden scheme at a fractional bit budget) scales by its one float, so that
// sender and receiver use the same levels on every machine without sending them.
#pragma once

#include <span>

namespace dme {

/// The 2^b Lloyd-Max centroids of N(0, 1), ascending, rounded to float32 (b = 1..8; else
/// dme::Error). They equal detail::normal_lloyd_max(b) rounded to float.
std::span<const float> lloyd_max_table(unsigned b);

}  // namespace dme
