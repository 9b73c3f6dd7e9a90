// The vector kernel of quic-fl's first rounding (quic_fl_grid.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace dme {
class QuicFlQuantizer;
}

namespace dme::detail {

/// grid[i] = q.grid_index(y[i] * inv, w[i]) for i < n, on the current SIMD target; returns
/// whether any is QuicFlQuantizer::kExact (a coordinate beyond the support, to send exactly).
bool quic_fl_grid(const QuicFlQuantizer& q, const float* y, const std::uint32_t* w, std::size_t n,
                  float inv, std::uint32_t* grid);
/// The same, one coordinate at a time (the definition, for tests).
bool quic_fl_grid_scalar(const QuicFlQuantizer& q, const float* y, const std::uint32_t* w,
                         std::size_t n, float inv, std::uint32_t* grid);

}  // namespace dme::detail
