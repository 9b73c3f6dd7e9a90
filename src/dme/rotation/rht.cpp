#include "dme/rotation/rht.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "dme/core/detail/philox_words.h"
#include "dme/core/error.h"
#include "dme/core/max_magnitude.h"
#include "dme/core/parallel.h"
#include "dme/core/rng.h"
#include "dme/rotation/fwht.h"

namespace dme {

std::size_t padded_length(std::size_t d) {
  DME_CHECK(d > 0, "vector length must be positive, got 0");
  DME_CHECK(d <= kMaxRotationLength,
            "vector length " << d << " exceeds the supported maximum " << kMaxRotationLength);
  return std::bit_ceil(d);
}

std::size_t padded_length(std::size_t d, RotationLayout layout) {
  DME_CHECK(layout != RotationLayout::kAuto, "rotation layout 'auto' must be resolved first");
  const std::size_t padded = padded_length(d);  // checks d
  return layout == RotationLayout::kOverlapped ? d : padded;
}

RotationLayout parse_rotation_layout(std::string_view name) {
  if (name == "padded") return RotationLayout::kPadded;
  if (name == "overlapped") return RotationLayout::kOverlapped;
  if (name == "auto") return RotationLayout::kAuto;
  DME_THROW("unknown rotation layout '" << name << "' (valid: auto, padded, overlapped)");
}

void check_rotation_block(std::size_t block) {
  DME_CHECK(block == 0 || (std::has_single_bit(block) && block >= kMinRotationBlock &&
                           block <= kMaxRotationLength),
            "rotation block must be 0 (the whole vector) or a power of two in "
                << kMinRotationBlock << ".." << kMaxRotationLength << ", got " << block);
}

std::string_view rotation_layout_name(RotationLayout layout) {
  switch (layout) {
    case RotationLayout::kPadded:
      return "padded";
    case RotationLayout::kOverlapped:
      return "overlapped";
    case RotationLayout::kAuto:
      return "auto";
  }
  return "?";
}

namespace {

// The extremes of n blocks' extremes (+Inf and -Inf for none).
template <class T>
Extrema<T> fold_extrema(const Extrema<T>* e, std::size_t n) {
  Extrema<T> r{std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity()};
  for (std::size_t b = 0; b < n; ++b) {
    r.min = std::min(r.min, e[b].min);
    r.max = std::max(r.max, e[b].max);
  }
  return r;
}

/// Bits [from, from + count) of mask as a mask of their own.
AlignedVector<std::uint64_t> mask_bits(const AlignedVector<std::uint64_t>& mask, std::size_t from,
                                       std::size_t count) {
  AlignedVector<std::uint64_t> out((count + 63) / 64, 0);
  for (std::size_t i = 0; i < count; ++i)
    if ((mask[(from + i) >> 6] >> ((from + i) & 63)) & 1u)
      out[i >> 6] |= std::uint64_t(1) << (i & 63);
  return out;
}

// Sign vector as a bit mask: one Philox block gives 128 signs (two 64-bit words), drawn by the
// vectorised Philox (philox_hwy-inl.h), which equals PhiloxStream::block bit for bit.
AlignedVector<std::uint64_t> make_mask(const PhiloxStream& stream, std::size_t n) {
  const std::size_t words = (n + 63) / 64;
  const std::size_t blocks = (words + 1) / 2;
  AlignedVector<std::uint64_t> mask(32 * ((blocks + 15) / 16));
  // Block l's words 0,1 and 2,3 form mask words 2l and 2l+1: philox_words64's order. Counter
  // based, so spans of blocks can be drawn on any thread in any order with the same bits (d =
  // 2^24, two RHTs: ~1 ms of one core's time, a twentieth of the transforms' on two threads).
  const detail::PhiloxWords key = detail::philox_words(stream);
  constexpr std::size_t kSpan = std::size_t(1) << 12;  // blocks per task: 64 KiB of mask
  parallel_for((blocks + kSpan - 1) / kSpan, [&](std::size_t t, unsigned) {
    const std::size_t first = t * kSpan;
    detail::philox_words64(key, first, std::min(kSpan, blocks - first), mask.data() + 2 * first);
  });
  mask.resize(words);
  return mask;
}

// True when any element is NaN or ±Inf: all exponent bits set. Integer compares on the raw bits
// vectorise, unlike std::isfinite.
template <class T>
bool any_non_finite(const T* x, std::size_t n) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits kExp = sizeof(T) == 4 ? Bits(0x7f800000u) : Bits(0x7ff0000000000000ull);
  Bits bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Bits b;
    std::memcpy(&b, x + i, sizeof(T));
    bad |= Bits((b & kExp) == kExp);
  }
  return bad != 0;
}

template <class T>
void check_finite_impl(std::span<const T> x, const char* what) {
  if (!any_non_finite(x.data(), x.size())) [[likely]]
    return;
  for (std::size_t i = 0; i < x.size(); ++i)
    DME_CHECK(std::isfinite(x[i]),
              what << ": non-finite value " << x[i] << " at index " << i << " of " << x.size());
}

}  // namespace

void check_finite(std::span<const float> x, const char* what) {
  check_finite_impl(x, what);
}

float finite_max_abs(std::span<const float> x, const char* what) {
  const std::uint32_t top = max_magnitude_bits(x);        // one SIMD pass
  if (top >= kNonFiniteBits) check_finite_impl(x, what);  // names the first offender
  return std::bit_cast<float>(top);
}
void check_finite(std::span<const double> x, const char* what) {
  check_finite_impl(x, what);
}

Rotation::Rotation(std::uint64_t seed, std::uint32_t round, int k, std::size_t d,
                   std::uint32_t stream, RotationLayout layout, std::size_t max_block)
    : d_(d), k_(k) {
  DME_CHECK(k >= 0 && k <= kMaxRotations,
            "rotation count must be in 0.." << kMaxRotations << ", got " << k);
  check_rotation_block(max_block);
  DME_CHECK(max_block == 0 || layout == RotationLayout::kOverlapped,
            "rotation blocks need the overlapped layout, got layout '"
                << rotation_layout_name(layout) << "' with block " << max_block);
  padded_ = padded_length(d, layout);
  if (k == 0) padded_ = d;
  if (k > 0 && layout == RotationLayout::kOverlapped) {
    if (max_block != 0 && d > max_block)
      block_ = max_block;
    else if (!std::has_single_bit(d))
      block_ = std::bit_floor(d);
  }
  DME_CHECK(stream < (1u << 29), "rotation stream id too large: " << stream);
  // Blocks draw m·B signs per RHT for the m whole blocks, then B more for the tail block
  // [d - B, d) when there is one (for the two-block overlapped layout: 2K, which an unpadded
  // d's padded mask would hold too).
  const std::size_t head = block_ ? d / block_ * block_ : 0;
  const std::size_t bits = block_ ? head + (head < d ? block_ : 0) : padded_;
  for (int j = 0; j < k; ++j) {
    masks_.push_back(make_mask(
        PhiloxStream(seed, round, sign_stream_key(stream, j), Purpose::kRotationSigns), bits));
    if (block_ && head < d) tail_masks_.push_back(mask_bits(masks_.back(), head, block_));
  }
}

float Rotation::sign(int j, std::size_t i) const {
  DME_CHECK(j >= 0 && j < k_, "sign vector index " << j << " out of range 0.." << k_ - 1);
  DME_CHECK(i < padded_, "coordinate " << i << " out of range (D = " << padded_ << ")");
  return (masks_[j][i >> 6] >> (i & 63)) & 1u ? -1.0f : 1.0f;
}

std::span<const std::uint64_t> Rotation::sign_mask(int j) const {
  DME_CHECK(j >= 0 && j < k_, "sign vector index " << j << " out of range 0.." << k_ - 1);
  return masks_[j];
}

void Rotation::check_forward_lengths(std::size_t x_size, std::size_t y_size) const {
  DME_CHECK(x_size == d_, "rotation input has length " << x_size << ", expected " << d_);
  DME_CHECK(y_size == padded_, "rotation output has length " << y_size << ", expected " << padded_);
}

template <class T>
bool Rotation::blocked_forward_from(const T* x, T* y, std::size_t done, Extrema<T>* ext,
                                    std::size_t y_first) const {
  const std::size_t m = d_ / block_, head = m * block_;
  bool bad = done < m && whole_blocks(y, false, done, m, x, ext, y_first);
  std::copy(x + head, x + d_, y + (head - y_first));
  bad = bad || any_non_finite(x + head, d_ - head);
  tail_block(y, false, y_first);
  return bad;
}

template <class T>
void Rotation::forward_impl(std::span<const T> x, std::span<T> y, T* y_min, T* y_max) const {
  check_forward_lengths(x.size(), y.size());
  if (k_ == 0) {
    check_finite(x, "rotation input");
    std::copy(x.begin(), x.end(), y.begin());
    if (y_min) {
      const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
      *y_min = *lo;
      *y_max = *hi;
    }
    return;
  }
  if (block_) {  // the whole blocks read x, then the tail block (if any) rotates in place
    const std::size_t m = d_ / block_, head = m * block_;
    // With a tail block, the last whole block's extremes change: it and the tail are scanned.
    const std::size_t tracked = head < d_ ? m - 1 : m;
    std::vector<Extrema<T>> ext(y_min ? m : 0);
    if (blocked_forward_from(x.data(), y.data(), 0, y_min ? ext.data() : nullptr))
      check_finite(x, "rotation input");
    if (y_min) {
      const Extrema<T> whole = fold_extrema(ext.data(), tracked);
      *y_min = whole.min;
      *y_max = whole.max;
      for (std::size_t i = tracked * block_; i < d_; ++i) {  // empty without a tail block
        *y_min = std::min(*y_min, y[i]);
        *y_max = std::max(*y_max, y[i]);
      }
    }
    return;
  }
  // The first RHT reads x directly (copy, zero padding and the finiteness check fused into its
  // first sweep); on a non-finite input it reports, and the error names the first offender.
  const T scale = T(1.0 / std::sqrt(double(padded_)));
  const std::uint64_t* mid[kMaxRotations];
  for (int j = 1; j < k_; ++j) mid[j - 1] = masks_[j].data();
  Extrema<T> range{};
  if (detail::fwht_chain(y.data(), padded_, k_, masks_[0].data(), mid, nullptr, scale, x.data(), d_,
                         y_min ? &range : nullptr))
    check_finite(x, "rotation input");
  if (y_min) {
    *y_min = range.min;
    *y_max = range.max;
  }
}

template <class T>
bool Rotation::block_chain(const std::vector<AlignedVector<std::uint64_t>>& masks,
                           std::size_t first, T* y, bool inverse, const T* src,
                           Extrema<T>* extrema) const {
  const T scale = T(1.0 / std::sqrt(double(block_)));
  const std::size_t w = first / 64;
  const std::uint64_t* mid[kMaxRotations];
  if (!inverse) {
    for (int j = 1; j < k_; ++j) mid[j - 1] = masks[j].data() + w;
    return detail::fwht_chain(y, block_, k_, masks[0].data() + w, mid, nullptr, scale, src,
                              src ? block_ : 0, extrema);
  }
  for (int t = 1; t < k_; ++t) mid[t - 1] = masks[k_ - t].data() + w;
  return detail::fwht_chain(y, block_, k_, nullptr, mid, masks[0].data() + w, scale);
}

template <class T>
bool Rotation::whole_blocks(T* y, bool inverse, std::size_t begin, std::size_t end, const T* src,
                            Extrema<T>* ext, std::size_t y_first) const {
  DME_ASSERT(y_first <= begin * block_);
  if (end == begin + 1) {  // one block: its own sweeps take the threads
    const std::size_t at = begin * block_;
    return block_chain(masks_, at, y + (at - y_first), inverse, src ? src + at : nullptr, ext);
  }
  std::atomic<bool> bad{false};
  parallel_for(end - begin, [&](std::size_t i, unsigned) {
    const std::size_t at = (begin + i) * block_;
    if (block_chain(masks_, at, y + (at - y_first), inverse, src ? src + at : nullptr,
                    ext ? ext + i : nullptr))
      bad.store(true, std::memory_order_relaxed);
  });
  return bad.load();
}

template <class T>
void Rotation::tail_block(T* y, bool inverse, std::size_t y_first) const {
  if (d_ % block_ != 0) block_chain(tail_masks_, 0, y + (d_ - block_ - y_first), inverse);
}

template <class T>
void Rotation::forward_inplace_impl(std::span<T> y) const {
  DME_CHECK(y.size() == padded_,
            "rotated vector has length " << y.size() << ", expected " << padded_);
  if (k_ == 0) return;
  if (block_) {
    whole_blocks(y.data(), false, 0, d_ / block_);
    tail_block(y.data(), false);
    return;
  }
  const T scale = T(1.0 / std::sqrt(double(padded_)));
  const std::uint64_t* mid[kMaxRotations];
  for (int j = 1; j < k_; ++j) mid[j - 1] = masks_[j].data();
  detail::fwht_chain(y.data(), padded_, k_, masks_[0].data(), mid, nullptr, scale);
}

template <class T>
void Rotation::inverse_inplace_impl(std::span<T> y) const {
  DME_CHECK(y.size() == padded_,
            "rotated vector has length " << y.size() << ", expected " << padded_);
  if (k_ == 0) return;
  if (block_) {  // the tail block's chain undone first, then the whole blocks'
    tail_block(y.data(), true);
    whole_blocks(y.data(), true, 0, d_ / block_);
    return;
  }
  const T scale = T(1.0 / std::sqrt(double(padded_)));
  const std::uint64_t* mid[kMaxRotations];
  for (int t = 1; t < k_; ++t) mid[t - 1] = masks_[k_ - t].data();
  detail::fwht_chain(y.data(), padded_, k_, nullptr, mid, masks_[0].data(), scale);
}

void Rotation::forward(std::span<const float> x, std::span<float> y) const {
  forward_impl(x, y);
}
void Rotation::forward(std::span<const double> x, std::span<double> y) const {
  forward_impl(x, y);
}
void Rotation::forward(std::span<const float> x, std::span<float> y, float& y_min,
                       float& y_max) const {
  forward_impl(x, y, &y_min, &y_max);
}
void Rotation::forward_inplace(std::span<float> y) const {
  forward_inplace_impl(y);
}
void Rotation::forward_inplace(std::span<double> y) const {
  forward_inplace_impl(y);
}
void Rotation::inverse_inplace(std::span<float> y) const {
  inverse_inplace_impl(y);
}
void Rotation::inverse_inplace(std::span<double> y) const {
  inverse_inplace_impl(y);
}

std::size_t Rotation::independent_blocks() const noexcept {
  return block_ ? independent_block_count(d_, block_) : 0;
}

void Rotation::inverse_blocks(std::span<float> y, std::size_t begin, std::size_t end) const {
  DME_CHECK(y.size() == padded_,
            "rotated vector has length " << y.size() << ", expected " << padded_);
  check_blocks(begin, end);
  if (k_ == 0 || begin == end) return;
  whole_blocks(y.data(), true, begin, end);
}

void Rotation::inverse_rest(std::span<float> y, std::size_t done) const {
  DME_CHECK(y.size() == padded_,
            "rotated vector has length " << y.size() << ", expected " << padded_);
  check_blocks(0, done);
  if (k_ == 0) return;
  if (!block_) return inverse_inplace_impl(y);
  tail_block(y.data(), true);
  if (done < d_ / block_) whole_blocks(y.data(), true, done, d_ / block_);
}

void Rotation::check_blocks(std::size_t begin, std::size_t end) const {
  DME_CHECK(begin <= end && end <= independent_blocks(),
            "blocks [" << begin << ", " << end << ") are not independent blocks of this rotation ("
                       << independent_blocks() << ")");
}

void Rotation::forward_blocks(std::span<const float> x, std::span<float> y, std::size_t begin,
                              std::size_t end, Extrema<float>* range) const {
  check_forward_lengths(x.size(), y.size());
  check_blocks(begin, end);
  forward_blocks_to(x, begin, end, y.subspan(begin * block_, (end - begin) * block_), range);
}

void Rotation::forward_rest(std::span<const float> x, std::span<float> y, std::size_t done) const {
  check_forward_lengths(x.size(), y.size());
  check_blocks(0, done);
  if (k_ == 0 || !block_) return forward_impl(x, y);
  if (blocked_forward_from(x.data(), y.data(), done)) check_finite(x, "rotation input");
}

void Rotation::inverse(std::span<float> y, std::span<float> x) const {
  DME_CHECK(x.size() == d_,
            "inverse rotation output has length " << x.size() << ", expected " << d_);
  inverse_inplace_impl(y);
  std::copy_n(y.begin(), d_, x.begin());
}

void Rotation::inverse(std::span<double> y, std::span<double> x) const {
  DME_CHECK(x.size() == d_,
            "inverse rotation output has length " << x.size() << ", expected " << d_);
  inverse_inplace_impl(y);
  std::copy_n(y.begin(), d_, x.begin());
}

void Rotation::forward_blocks_to(std::span<const float> x, std::size_t begin, std::size_t end,
                                 std::span<float> out, Extrema<float>* range) const {
  DME_CHECK(x.size() == d_, "rotation input has length " << x.size() << ", expected " << d_);
  check_blocks(begin, end);
  DME_CHECK(begin < end, "blocks [" << begin << ", " << end << "): no blocks");
  DME_CHECK(out.size() == (end - begin) * block_,
            "rotation output has length " << out.size() << ", expected " << (end - begin) * block_);
  std::vector<Extrema<float>> ext(range ? end - begin : 0);
  if (whole_blocks(out.data(), false, begin, end, x.data(), range ? ext.data() : nullptr,
                   begin * block_))
    check_finite(x, "rotation input");
  if (range) *range = fold_extrema(ext.data(), ext.size());
}

void Rotation::forward_rest_to(std::span<const float> x, std::size_t done,
                               std::span<float> out) const {
  DME_CHECK(x.size() == d_, "rotation input has length " << x.size() << ", expected " << d_);
  DME_CHECK(k_ > 0 && block_ != 0, "forward_rest_to needs a blocked rotation");
  check_blocks(0, done);
  DME_CHECK(out.size() == padded_ - done * block_, "rotation output has length "
                                                       << out.size() << ", expected "
                                                       << padded_ - done * block_);
  if (blocked_forward_from(x.data(), out.data(), done, static_cast<Extrema<float>*>(nullptr),
                           done * block_))
    check_finite(x, "rotation input");
}

}  // namespace dme
