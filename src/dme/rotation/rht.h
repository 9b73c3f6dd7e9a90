// Randomized Hadamard rotations: R(x) = H·diag(ε)·x / sqrt(D), composed k times with
// independent sign vectors. Two layouts for a length d that is not a power of two: zero padding
// to D = 2^ceil(log2 d), or two overlapping blocks of K = 2^floor(log2 d) that rotate all of x
// in place, with nothing added (docs/algorithms.md §8.6). The overlapped layout can also cut a
// long vector into blocks of a chosen power-of-two length B, each rotated on its own in cache
// (docs/algorithms.md §8.7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dme/core/aligned_buffer.h"
#include "dme/core/extrema.h"

namespace dme {

/// Largest supported padded length D (2^31 coordinates).
inline constexpr std::size_t kMaxRotationLength = std::size_t(1) << 31;
/// Largest number of composed RHTs.
inline constexpr int kMaxRotations = 3;
/// Shortest block of a blocked rotation (Rotation's max_block, Options::rotation_block).
inline constexpr std::size_t kMinRotationBlock = 256;

/// How a length that is not a power of two is rotated.
enum class RotationLayout {
  /// Zero padding to D = 2^ceil(log2 d): up to twice the coordinates to send.
  kPadded,
  /// No padding (D = d): the k RHTs of K = 2^floor(log2 d) on [0, K), then k RHTs of K on
  /// [d - K, d), which overlaps the first block and covers the rest. Orthogonal on R^d.
  kOverlapped,
  /// For Options: overlapped where the backend has it (cpu), else padded (resolved_layout in
  /// collective/options.h). A Rotation takes kPadded or kOverlapped only.
  kAuto,
};

/// Smallest power of two ≥ d (d ≥ 1).
std::size_t padded_length(std::size_t d);
/// The rotated length D of layout: padded_length(d), or d itself when overlapped.
std::size_t padded_length(std::size_t d, RotationLayout layout);
/// "padded", "overlapped", "auto"
RotationLayout parse_rotation_layout(std::string_view name);
/// Throws dme::Error naming block unless it is 0 (the whole vector) or a power of two in
/// [kMinRotationBlock, kMaxRotationLength]: the one place of the rule (Rotation, validate).
void check_rotation_block(std::size_t block);

/// A blocked rotation of d > block coordinates (blocks of `block`, then a tail block where block
/// does not divide d): its whole blocks that the tail block does not overlap.
constexpr std::size_t independent_block_count(std::size_t d, std::size_t block) {
  return d / block - (d % block != 0 ? 1 : 0);
}
std::string_view rotation_layout_name(RotationLayout layout);

/// The rotation stream of `rank`: 0 when all ranks share one rotation, rank + 1 when each rank
/// rotates independently. The one place this rule lives (MeanEstimator, the exchanges and the
/// experiments call it).
constexpr std::uint32_t rotation_stream(bool shared, int rank) {
  return shared ? 0u : static_cast<std::uint32_t>(rank) + 1u;
}

/// The Philox stream of the signs of RHT j (0-based) of rotation stream `stream`, under
/// Purpose::kRotationSigns: 4·stream + j + 1. The one place this key lives (the CPU Rotation and
/// the CUDA rotation use it). stream must be below 2^29.
constexpr std::uint32_t sign_stream_key(std::uint32_t stream, int j) {
  return 4u * stream + static_cast<std::uint32_t>(j) + 1u;
}

/// The k-fold composition R_k ∘ … ∘ R_1 of RHTs for vectors of length d.
/// Sign vector j (1-based) is drawn from PhiloxStream(seed, round, 4·stream + j,
/// Purpose::kRotationSigns): every rank that constructs a Rotation with the same (seed, round,
/// stream) rotates identically. The stream of a rank is rotation_stream(shared, rank): 0 for the
/// shared rotation of the collectives, rank + 1 for independent per-rank rotations.
/// With k = 0 the rotation is the identity and padded() == d (nothing is padded). With the
/// overlapped layout and d not a power of two, sign vector j covers 2K coordinates: bits
/// [0, K) are block [0, K)'s and bits [K, 2K) block [d - K, d)'s.
///
/// Blocks (max_block = B, a power of two in [kMinRotationBlock, kMaxRotationLength], overlapped
/// layout only): when d > B, x is rotated as m = floor(d / B) independent blocks [iB, (i+1)B),
/// each by the k RHTs of length B with bits [iB, (i+1)B) of each sign vector, and, when B does
/// not divide d, then the block [d - B, d) (which overlaps block m - 1) with bits [mB, (m+1)B).
/// With B = 2^floor(log2 d) this is the overlapped layout above. Every block is orthogonal, so
/// R is; each block stays in cache, and the blocks run on Options::threads threads (the result
/// does not depend on the count). When d <= B the rotation is the unblocked one.
class Rotation {
 public:
  Rotation(std::uint64_t seed, std::uint32_t round, int k, std::size_t d, std::uint32_t stream = 0,
           RotationLayout layout = RotationLayout::kPadded, std::size_t max_block = 0);

  std::size_t d() const noexcept { return d_; }
  std::size_t padded() const noexcept { return padded_; }
  int count() const noexcept { return k_; }
  /// Length of the blocks rotated on their own: 0 when the whole (padded) vector is one.
  std::size_t block() const noexcept { return block_; }

  /// y <- R(x padded with zeros). Throws dme::Error on NaN or Inf in x (naming the index).
  /// @param x input, size d
  /// @param y output, size padded()
  void forward(std::span<const float> x, std::span<float> y) const;
  void forward(std::span<const double> x, std::span<double> y) const;
  /// The same, also giving the smallest and largest coordinate of y, found in the sweep that
  /// writes y (what a level solver needs first, without another pass over memory).
  void forward(std::span<const float> x, std::span<float> y, float& y_min, float& y_max) const;

  /// In place on a padded vector: y <- R(y). @param y size padded()
  void forward_inplace(std::span<float> y) const;
  void forward_inplace(std::span<double> y) const;

  /// x <- the first d coordinates of R⁻¹(y); y is overwritten with R⁻¹(y).
  /// @param y rotated vector, size padded()
  /// @param x output, size d
  void inverse(std::span<float> y, std::span<float> x) const;
  void inverse(std::span<double> y, std::span<double> x) const;

  /// In place: y <- R⁻¹(y). @param y size padded()
  void inverse_inplace(std::span<float> y) const;
  void inverse_inplace(std::span<double> y) const;

  /// Blocks: the whole blocks that the tail block does not overlap (0 when unblocked, or with
  /// one whole block and a tail). They can be rotated back on their own, in any order and
  /// before the rest, with the same result as inverse_inplace.
  std::size_t independent_blocks() const noexcept;
  /// In place on whole blocks [begin, end) of a rotated vector y (size padded(); end <=
  /// independent_blocks()): those blocks <- their inverse rotation, the rest untouched.
  void inverse_blocks(std::span<float> y, std::size_t begin, std::size_t end) const;
  /// In place: y <- R⁻¹(y) where blocks [0, done) are rotated back already (inverse_blocks).
  void inverse_rest(std::span<float> y, std::size_t done) const;
  /// Whole blocks [begin, end) of y (size padded(); end <= independent_blocks()) <- their
  /// forward rotation of the same coordinates of x (size d), the rest of y untouched: a vector
  /// rotated a few blocks at a time, then forward_rest, equals forward(x, y) bit for bit.
  /// Throws dme::Error on NaN or Inf in x. range, when not null, gets the extremes of the
  /// rotated blocks, found in the sweep that writes them.
  void forward_blocks(std::span<const float> x, std::span<float> y, std::size_t begin,
                      std::size_t end, Extrema<float>* range = nullptr) const;
  /// y <- R(x) where blocks [0, done) of y hold their forward_blocks already.
  void forward_rest(std::span<const float> x, std::span<float> y, std::size_t done) const;
  /// forward_blocks and forward_rest into a buffer of their coordinates only: out (size
  /// (end - begin)·block()) <- coordinates [begin·block(), end·block()) of R(x), and out (size
  /// padded() - done·block()) <- coordinates [done·block(), padded()) of R(x), the same bits. A
  /// pipeline rotates each chunk into one buffer that stays in cache for its encoding, instead of
  /// writing the whole rotated vector to memory. Blocked rotations only (block() != 0, count() >
  /// 0).
  void forward_blocks_to(std::span<const float> x, std::size_t begin, std::size_t end,
                         std::span<float> out, Extrema<float>* range = nullptr) const;
  void forward_rest_to(std::span<const float> x, std::size_t done, std::span<float> out) const;

  /// Sign of coordinate i in the j-th RHT (0-based j < count()): +1 or -1.
  float sign(int j, std::size_t i) const;
  /// Bit mask of the j-th sign vector (bit set = -1), padded()/64 words rounded up.
  std::span<const std::uint64_t> sign_mask(int j) const;

 private:
  template <class T>
  void forward_impl(std::span<const T> x, std::span<T> y, T* y_min = nullptr,
                    T* y_max = nullptr) const;
  template <class T>
  void forward_inplace_impl(std::span<T> y) const;
  template <class T>
  void inverse_inplace_impl(std::span<T> y) const;
  /// The k RHTs (or their inverse) on the block of block_ coordinates at y, with bits [first,
  /// first + block_) of each of `masks` (first a multiple of 64); src: the forward's input, read
  /// in the first sweep. Returns true when src held a NaN or Inf.
  template <class T>
  bool block_chain(const std::vector<AlignedVector<std::uint64_t>>& masks, std::size_t first, T* y,
                   bool inverse, const T* src = nullptr, Extrema<T>* extrema = nullptr) const;
  /// block_chain on whole blocks [begin, end) (of floor(d / block_)), on the scope's threads;
  /// ext: one per block from `begin`, or null. y points at coordinate y_first (<= begin·block_)
  /// of the rotated vector, src (when not null) at coordinate 0 of x.
  template <class T>
  bool whole_blocks(T* y, bool inverse, std::size_t begin, std::size_t end, const T* src = nullptr,
                    Extrema<T>* ext = nullptr, std::size_t y_first = 0) const;
  /// The blocked forward from whole block `done` on: blocks [done, floor(d / block_)) from x
  /// (ext: one per block from `done`, or null), the rest of x copied, then the tail block; y
  /// points at coordinate y_first (<= done·block_). Returns true when x held a NaN or Inf there.
  template <class T>
  bool blocked_forward_from(const T* x, T* y, std::size_t done, Extrema<T>* ext = nullptr,
                            std::size_t y_first = 0) const;
  /// Checks the lengths of a forward's x and y.
  void check_forward_lengths(std::size_t x_size, std::size_t y_size) const;
  /// Checks that [begin, end) are independent blocks (begin <= end).
  void check_blocks(std::size_t begin, std::size_t end) const;
  /// block_chain on the tail block [d - block_, d), when block_ does not divide d.
  template <class T>
  void tail_block(T* y, bool inverse, std::size_t y_first = 0) const;

  /// The overlapped layout with d not a power of two, or longer than max_block: the length of
  /// its blocks (else 0).
  std::size_t block_ = 0;
  std::size_t d_;
  std::size_t padded_;
  int k_;
  std::vector<AlignedVector<std::uint64_t>> masks_;
  std::vector<AlignedVector<std::uint64_t>> tail_masks_;  ///< block [d - block_, d)'s signs
};

/// Throws dme::Error naming the first NaN or Inf of x (index and value), if any.
void check_finite(std::span<const float> x, const char* what);
void check_finite(std::span<const double> x, const char* what);
/// The largest |x[i]| (0 for an empty x), in the same single pass as check_finite's check.
float finite_max_abs(std::span<const float> x, const char* what);

}  // namespace dme
