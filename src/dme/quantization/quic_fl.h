// QUIC-FL's quantizer (Ben Basat, Vargaftik, Portnoy, Einziger, Ben-Itzhak, Mitzenmacher,
// "Accelerating Federated Learning with Quick Distributed Mean Estimation", ICML 2024):
// bounded support plus stochastic quantization with randomness shared by sender and receiver.
//
// A rotated vector y of length n is normalised, z = y / σ with σ = ‖y‖₂ / √n, so that its
// coordinates are close to N(0, 1). A coordinate with |z| > T is sent exactly. Any other is
// rounded unbiasedly to a fine grid over [-T, T] (the sender's private draw), and then sent as a
// b-bit message X chosen from its grid point j and a draw h in 0..H-1 that the receiver
// regenerates, who estimates σ·R[h][X]. The receiver table R is optimised offline for the
// truncated normal (scripts/quic_fl_tables.py, docs/schemes.md); the sender's choice for each
// (j, h) is derived here from R so that mean_h E[R[h][X]] equals the grid point exactly.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace dme {

namespace detail {
/// One generated receiver table (src/dme/quantization/quic_fl_tables.cpp).
struct QuicFlTableSpec {
  unsigned bits;      ///< b: 2^b messages
  unsigned h_values;  ///< H, a power of two: shared draws 0..H-1
  double support;     ///< T of the bounded support
  const float* receiver;  ///< R[h][x] at [h · 2^b + x], each row strictly increasing
  double vnmse;           ///< the optimiser's E[(R - z)²]·P(|z| ≤ T) for z ~ N(0, 1)
};
std::span<const QuicFlTableSpec> quic_fl_specs();
}  // namespace detail

class QuicFlQuantizer {
 public:
  /// Grid points of the sender's first rounding over [-T, T].
  static constexpr std::size_t kGridPoints = 4097;

  /// The quantizer of b bits (1..4); dme::Error for others. Built once, shared, immutable.
  static const QuicFlQuantizer& get(unsigned bits);
  /// Whether b bits have a table.
  static bool has_bits(unsigned bits);

  unsigned bits() const noexcept { return bits_; }
  unsigned messages() const noexcept { return 1u << bits_; }
  unsigned h_values() const noexcept { return h_values_; }
  /// The shared draw of a coordinate from its 32 random bits: the top log2(H) bits.
  unsigned h_of(std::uint32_t bits32) const noexcept { return bits32 >> h_shift_; }
  /// T: |z| above it is sent exactly (no larger than the table can reach unbiasedly).
  double support() const noexcept { return support_; }
  double grid_step() const noexcept { return step_; }
  /// R[h][x], what the receiver adds (times σ).
  float receive(unsigned h, unsigned x) const noexcept { return receiver_[h * messages() + x]; }
  std::span<const float> receiver() const noexcept { return receiver_; }
  /// The optimiser's E[(R - z)²]·P(|z| ≤ T) for z ~ N(0, 1) (the vNMSE of one vector at large d).
  double design_vnmse() const noexcept { return vnmse_; }

  /// The message of z (|z| ≤ support()) under shared draw h and the sender's private uniform
  /// draws u_grid, u_split in [0, 1).
  unsigned message(double z, unsigned h, float u_grid, float u_split) const noexcept {
    return grid_message(grid_index(z, u_grid), h, u_split);
  }
  /// The grid point z goes to (|z| ≤ support()): floor or ceiling of its position, the ceiling
  /// with probability its fractional part (unbiased). Branch-free, for loops the compiler
  /// vectorises.
  std::size_t grid_index(double z, float u_grid) const noexcept {
    const double pos = (z + support_) * inv_step_;
    const auto j = static_cast<std::int64_t>(pos);
    const std::int64_t up = u_grid < static_cast<float>(pos - double(j)) ? 1 : 0;
    return static_cast<std::size_t>(std::min<std::int64_t>(j + up, kGridPoints - 1));
  }
  /// The message of grid point j (z_j = -T + j·step) under draw h.
  unsigned grid_message(std::size_t j, unsigned h, float u_split) const noexcept {
    return message_[j * h_values_ + h] + ((h == split_h_[j]) & (u_split < split_p_[j]));
  }
  /// For tests: mean_h E[R[h][X]] and mean_h E[(R[h][X] - z_j)²] of grid point j, in double.
  double grid_mean(std::size_t j) const;
  double grid_variance(std::size_t j) const;
  double grid_point(std::size_t j) const noexcept { return -support_ + double(j) * step_; }

 private:
  explicit QuicFlQuantizer(const detail::QuicFlTableSpec& spec);

  unsigned bits_, h_values_, h_shift_;
  double support_, step_, inv_step_, vnmse_;
  std::vector<float> receiver_;
  std::vector<std::uint8_t> message_;  ///< [j · H + h]: the message before the split
  std::vector<std::uint32_t> split_h_;  ///< the one h of grid point j that may move up (H: none)
  std::vector<float> split_p_;          ///< ... with this probability
};

}  // namespace dme
