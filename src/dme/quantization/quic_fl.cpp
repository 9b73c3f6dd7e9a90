#include "dme/quantization/quic_fl.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <memory>
#include <mutex>
#include <numeric>

#include "dme/core/error.h"

namespace dme {
namespace {

const detail::QuicFlTableSpec* find_spec(unsigned bits) {
  for (const detail::QuicFlTableSpec& s : detail::quic_fl_specs())
    if (s.bits == bits) return &s;
  return nullptr;
}

}  // namespace

bool QuicFlQuantizer::has_bits(unsigned bits) {
  return find_spec(bits) != nullptr;
}

const QuicFlQuantizer& QuicFlQuantizer::get(unsigned bits) {
  const detail::QuicFlTableSpec* spec = find_spec(bits);
  DME_CHECK(spec != nullptr, "quic-fl: no table for " << bits << " bits per coordinate (it has "
                                                      << "1, 2, 3 and 4: s = 2, 4, 8 or 16)");
  static std::array<std::unique_ptr<QuicFlQuantizer>, 5> built;
  static std::once_flag once[5];
  std::call_once(once[bits], [&] { built[bits].reset(new QuicFlQuantizer(*spec)); });
  return *built[bits];
}

// The sender's tables from R (scripts/quic_fl_tables.py explains the rule). As t grows, row h's
// choice moves from level x to x + 1 at the midpoint m = (R[h][x] + R[h][x+1]) / 2, raising
// F(t) = mean_h R[h][choice] by (R[h][x+1] - R[h][x]) / H. Sweeping the grid points upwards with
// the midpoints in ascending order, grid point z_j takes every move whose F stays ≤ z_j, and the
// next move's row h goes up with the probability that makes the mean exactly z_j.
QuicFlQuantizer::QuicFlQuantizer(const detail::QuicFlTableSpec& spec)
    : bits_(spec.bits), h_values_(spec.h_values) {
  DME_CHECK(std::has_single_bit(h_values_) && h_values_ >= 2 && h_values_ <= 256,
            "quic-fl table: H = " << h_values_ << " is not a power of two in 2..256");
  h_shift_ = 8u - static_cast<unsigned>(std::countr_zero(h_values_));
  const unsigned k = messages();
  receiver_.assign(spec.receiver, spec.receiver + std::size_t(h_values_) * k);
  vnmse_ = spec.vnmse;
  struct Move {
    double at, rise;
    unsigned h;
  };
  std::vector<Move> moves;
  double low = 0, high = 0;
  for (unsigned h = 0; h < h_values_; ++h) {
    for (unsigned x = 0; x + 1 < k; ++x) {
      const double a = receive(h, x), b = receive(h, x + 1);
      DME_CHECK(a < b, "quic-fl table of " << bits_ << " bits: row " << h << " not increasing");
      moves.push_back({0.5 * (a + b), (b - a) / h_values_, h});
    }
    low += receive(h, 0);
    high += receive(h, k - 1);
  }
  low /= h_values_;
  high /= h_values_;
  // The support: what the table reaches (the optimiser keeps the outer means at ±T; float32
  // rounding of the levels may take a hair off).
  // float32 grid arithmetic (grid_index): T rounded down, so that |z| <= T in float keeps z
  // inside what the table reaches, and the grid step is the one 1/step gives in float.
  support_f_ = std::nextafter(static_cast<float>(std::min({spec.support, high, -low})), 0.0f);
  DME_CHECK(support_f_ > 0, "quic-fl table of " << bits_ << " bits reaches no support");
  // 1/step rounded up: the last grid point, -T + (kGridPoints - 1)·step, stays at or below T.
  inv_step_f_ = std::nextafter(static_cast<float>(double(kGridPoints - 1) / (2.0 * support_f_)),
                               INFINITY);
  support_ = support_f_;
  step_ = 1.0 / double(inv_step_f_);
  // Ascending midpoints, rows in order on ties: a strict total order (a row's midpoints
  // increase), so std::sort gives the one result (no stable_sort: its temporary buffer trips
  // GCC 12's libstdc++ under AddressSanitizer as an alloc-dealloc mismatch).
  std::sort(moves.begin(), moves.end(), [](const Move& a, const Move& b) {
    return a.at < b.at || (a.at == b.at && a.h < b.h);
  });

  message_.resize(kGridPoints * h_values_);
  split_.resize(kGridPoints);
  std::vector<std::uint8_t> choice(h_values_, 0);
  double mean = low;
  std::size_t next = 0;
  for (std::size_t j = 0; j < kGridPoints; ++j) {
    const double z = grid_point(j);
    while (next < moves.size() && mean + moves[next].rise <= z) {
      mean += moves[next].rise;
      ++choice[moves[next].h];
      ++next;
    }
    std::copy(choice.begin(), choice.end(), message_.begin() + j * h_values_);
    if (next < moves.size()) {
      const double p = std::clamp((z - mean) / moves[next].rise, 0.0, 1.0);
      split_[j] = (moves[next].h << kSplitShift) |
                  static_cast<std::uint32_t>(std::llround(p * 0x1p24));
    } else {
      split_[j] = h_values_ << kSplitShift;  // at the top: every row at its highest level
    }
  }
}

double QuicFlQuantizer::grid_mean(std::size_t j) const {
  double sum = 0;
  for (unsigned h = 0; h < h_values_; ++h) {
    const unsigned x = message_[j * h_values_ + h];
    if (h == split_[j] >> kSplitShift) {
      const double p = double(split_[j] & kThresholdMask) * 0x1p-24;
      sum += (1 - p) * receive(h, x) + p * receive(h, x + 1);
    } else {
      sum += receive(h, x);
    }
  }
  return sum / h_values_;
}

double QuicFlQuantizer::grid_variance(std::size_t j) const {
  const double z = grid_point(j);
  double sum = 0;
  for (unsigned h = 0; h < h_values_; ++h) {
    const unsigned x = message_[j * h_values_ + h];
    const double e0 = receive(h, x) - z;
    if (h == split_[j] >> kSplitShift) {
      const double p = double(split_[j] & kThresholdMask) * 0x1p-24, e1 = receive(h, x + 1) - z;
      sum += (1 - p) * e0 * e0 + p * e1 * e1;
    } else {
      sum += e0 * e0;
    }
  }
  return sum / h_values_;
}

}  // namespace dme
