// qsgd's grid: s points evenly spaced on [-ν, ν], ν a bucket's norm, in the float32 values that a
// kind-5 payload (codec/payload.h) defines, so that sender and receiver agree to the bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace dme {

/// qsgd's grid (payload kind 5, codec/payload.h) in units of the norm: u[t] = fl((2t - (s - 1)) /
/// (s - 1)) computed in double, t = 0..s-1, so u[0] = -1, u[s-1] = 1 and u[s-1-t] = -u[t].
/// @param s 2..65536
std::vector<float> norm_grid_unit(std::size_t s);

/// u[t] of norm_grid_unit(s), alone.
inline float norm_grid_point(std::size_t t, std::size_t s) {
  const double last = static_cast<double>(s - 1);
  return static_cast<float>((2.0 * static_cast<double>(t) - last) / last);
}

/// The levels of a bucket of norm `norm` on the grid of s points: level t is fl(norm · u[t]),
/// u = norm_grid_unit(s) (what a receiver of payload kind 5 computes). For every norm above about
/// 2^-133 the s levels are strictly increasing; for tinier norms (and 0) some coincide, and
/// `levels` holds the distinct ones, increasing, with `code_of[j]` the first t of levels[j]
/// (empty when no two coincide: the code of level j is j).
struct NormGrid {
  std::vector<float> levels;
  std::vector<std::uint16_t> code_of;
};
NormGrid norm_grid(float norm, std::span<const float> unit);

}  // namespace dme
