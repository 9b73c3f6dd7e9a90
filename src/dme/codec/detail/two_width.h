// The code stream of a kind-4 (Lloyd-Max) payload, payload.h: periods of kTwoWidthPeriod codes,
// each a run of wide codes (b + 1 bits) then a run of narrow ones (b bits), every run a
// fixed-width stream (bitpack.h) that starts at a byte. Runs inside a period are whole bytes
// (both run lengths are multiples of 8); only the stream's last run may end inside a byte.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "dme/codec/detail/checked.h"
#include "dme/codec/payload.h"

namespace dme::detail::codec {

struct TwoWidthStream {
  unsigned bits = 1;       ///< narrow width b; the wide codes take b + 1
  std::uint64_t wide = 8;  ///< wide codes per period, 8·G (0: every code narrow)

  /// The stream of a validated kind-4 header (s = 2^b).
  static TwoWidthStream of(const PayloadHeader& h) {
    return {static_cast<unsigned>(std::countr_zero(h.s)), 8 * std::uint64_t(h.wide_groups)};
  }

  /// Whether code i of the stream is wide.
  bool is_wide(std::uint64_t i) const { return i % kTwoWidthPeriod < wide; }

  /// Bytes of one whole period.
  std::uint64_t period_bytes() const {
    return (wide * (bits + 1) + (kTwoWidthPeriod - wide) * bits) / 8;
  }

  /// Bytes of count packed codes; a size overflowing 64 bits -> dme::Error.
  std::uint64_t bytes(std::uint64_t count) const {
    const std::uint64_t rem = count % kTwoWidthPeriod;
    const std::uint64_t w = std::min(rem, wide), r = rem - w;
    return checked_add(checked_mul(count / kTwoWidthPeriod, period_bytes(), "packed codes"),
                       ceil_div(w * (bits + 1), 8) + ceil_div(r * bits, 8), "packed codes");
  }

  /// Calls run(start, n, width, offset) for the runs of codes [first, first + n), in order:
  /// codes [start, start + n) of width `width` packed from byte `offset` of the stream.
  /// first must be a multiple of kTwoWidthPeriod.
  template <class Run>
  void for_each_run(std::uint64_t first, std::uint64_t n, Run&& run) const {
    const std::uint64_t end = first + n;
    for (std::uint64_t p = first; p < end; p += kTwoWidthPeriod) {
      const std::uint64_t base = p / kTwoWidthPeriod * period_bytes();
      const std::uint64_t len = std::min<std::uint64_t>(kTwoWidthPeriod, end - p);
      const std::uint64_t w = std::min(len, wide);
      if (w > 0) run(p, w, bits + 1, base);
      if (len > w) run(p + w, len - w, bits, base + wide * (bits + 1) / 8);
    }
  }
};

}  // namespace dme::detail::codec
