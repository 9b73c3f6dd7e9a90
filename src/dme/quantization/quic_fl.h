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
#include <cmath>
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
  /// The shared draw h of a coordinate from its byte of the shared stream (coordinate g has
  /// byte g, detail::philox_bytes: one Philox word serves four coordinates): its top log2(H) bits.
  unsigned h_of(std::uint8_t byte) const noexcept { return byte >> h_shift_; }
  /// The first private draw index of the split decisions: coordinate g's is bits32(kSplitDraws +
  /// g) of the sender's stream, its grid draw bits32(g).
  static constexpr std::uint64_t kSplitDraws = std::uint64_t(1) << 57;
  /// T: |z| above it is sent exactly (no larger than the table can reach unbiasedly).
  double support() const noexcept { return support_; }
  double grid_step() const noexcept { return step_; }
  /// R[h][x], what the receiver adds (times σ).
  float receive(unsigned h, unsigned x) const noexcept { return receiver_[h * messages() + x]; }
  std::span<const float> receiver() const noexcept { return receiver_; }
  /// The optimiser's E[(R - z)²]·P(|z| ≤ T) for z ~ N(0, 1) (the vNMSE of one vector at large d).
  double design_vnmse() const noexcept { return vnmse_; }

  /// Marks a coordinate beyond the support in grid_index's output (quic_fl_grid).
  static constexpr std::uint32_t kExact = 0xFFFFFFFFu;

  /// The message of z (|z| ≤ support()) under the shared draw h and the sender's private 32-bit
  /// draws w_grid and w_split.
  unsigned message(float z, unsigned h, std::uint32_t w_grid, std::uint32_t w_split) const noexcept {
    return grid_message(grid_index(z, w_grid), h, w_split);
  }
  /// The grid point of z, in float arithmetic (the definition that every SIMD kernel of
  /// detail::quic_fl_grid reproduces bit for bit): with p = (z + T)·(1/step) and j = floor(p),
  /// j + 1 when (w_grid >> 8) < (p - j)·2^24, else j (unbiased to 2^-24 of a step), at most the
  /// last point; kExact when |z| > T or z is NaN.
  std::uint32_t grid_index(float z, std::uint32_t w_grid) const noexcept {
    if (!(std::fabs(z) <= support_f_)) return kExact;
    const float pos = (z + support_f_) * inv_step_f_;
    const auto j = static_cast<std::int32_t>(pos);
    const float frac = pos - static_cast<float>(j);
    const std::int32_t up = static_cast<float>(w_grid >> 8) < frac * 0x1p24f ? 1 : 0;
    return static_cast<std::uint32_t>(std::min<std::int32_t>(j + up, kGridPoints - 1));
  }
  /// The message of grid point j under shared draw h: row h's level for j, moved one up when h
  /// is the grid point's split row and (w_split >> 8) is below its threshold (probability
  /// threshold / 2^24).
  unsigned grid_message(std::size_t j, unsigned h, std::uint32_t w_split) const noexcept {
    const std::uint32_t split = split_[j];
    return message_[j * h_values_ + h] +
           ((h == (split >> kSplitShift)) & ((w_split >> 8) < (split & kThresholdMask)));
  }
  /// float32 forms of support() and 1 / grid_step() that grid_index computes with.
  float support_f() const noexcept { return support_f_; }
  float inv_step_f() const noexcept { return inv_step_f_; }
  /// For tests: mean_h E[R[h][X]] and mean_h E[(R[h][X] - z_j)²] of grid point j, in double.
  double grid_mean(std::size_t j) const;
  double grid_variance(std::size_t j) const;
  double grid_point(std::size_t j) const noexcept { return -support_ + double(j) * step_; }

 private:
  explicit QuicFlQuantizer(const detail::QuicFlTableSpec& spec);

  unsigned bits_, h_values_, h_shift_;
  double support_, step_, vnmse_;
  float support_f_, inv_step_f_;
  std::vector<float> receiver_;
  std::vector<std::uint8_t> message_;  ///< [j · H + h]: the message before the split
  /// Of grid point j, in one word (one load): the one row h that may move up (H: none) in the
  /// bits from kSplitShift, and below them its threshold t in 0..2^24 (probability t / 2^24).
  static constexpr unsigned kSplitShift = 25;
  static constexpr std::uint32_t kThresholdMask = (1u << kSplitShift) - 1;
  std::vector<std::uint32_t> split_;
};

}  // namespace dme
