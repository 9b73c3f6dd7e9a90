// QUIC-FL as an implementation of the compression seam (quantization/quic_fl.h has the
// quantizer, codec/payload.h the kind-3 payload it writes, docs/schemes.md the account).
#include "dme/collective/detail/quic_fl.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "dme/core/detail/philox_words.h"
#include "dme/core/error.h"
#include "dme/core/ordered_sum.h"
#include "dme/core/timer.h"
#include "dme/quantization/quic_fl.h"

namespace dme::detail {
namespace {

// Coordinates per step of the encoder: their draws stay in L1.
constexpr std::size_t kStep = 1024;

// The shared draws' Purpose for a payload rounded with the sender's stream of `rounding`.
Purpose shared_purpose(Purpose rounding) {
  switch (rounding) {
    case Purpose::kRounding:
      return Purpose::kSharedDraw;
    case Purpose::kRequantize:
      return Purpose::kSharedDrawRequantize;
    case Purpose::kDownlink:
      return Purpose::kSharedDrawDownlink;
    default:
      break;
  }
  DME_THROW("quic-fl: no shared draws for a rounding stream of purpose "
            << static_cast<int>(rounding));
}

class QuicFlCompression final : public Compression {
 public:
  std::string_view name() const override { return "quic-fl"; }

  void encode(std::span<const float> chunk, const PayloadHeader& header,
              const CompressionPlan& plan, const PhiloxStream& stream,
              std::vector<std::byte>& out, PhaseTimes& times, const Extrema<float>*) override {
    check_plan(header, plan, chunk.size());
    DME_CHECK(!plan.levels && plan.bucket_size == 0,
              "quic-fl: one scale per payload; it takes no buckets (bucket_size = "
                  << plan.bucket_size << ") and no given levels");
    DME_CHECK(!plan.nearest, "quic-fl rounds unbiasedly; nearest rounding is not an option");
    DME_CHECK(std::has_single_bit(plan.s) && QuicFlQuantizer::has_bits(std::countr_zero(plan.s)),
              "quic-fl: s must be 2, 4, 8 or 16 (1..4 bits per coordinate), got " << plan.s);
    const QuicFlQuantizer& q = QuicFlQuantizer::get(std::countr_zero(plan.s));
    const std::size_t n = chunk.size();

    Timer solve_timer;  // the "solve" of quic-fl: the scale σ = ‖y‖₂ / √n
    const double norm2 = ordered_sum(n, [&](std::size_t i) { return double(chunk[i]) * chunk[i]; });
    DME_CHECK(std::isfinite(norm2), "quic-fl: the norm of the rotated chunk is not finite");
    const auto sigma = n ? static_cast<float>(std::sqrt(norm2 / double(n))) : 0.0f;
    DME_CHECK(std::isfinite(sigma), "quic-fl: the scale of the rotated chunk overflows float32");
    times.solve_ms += solve_timer.elapsed_ms();

    Timer round_timer;
    PayloadHeader h = header;
    h.kind = PayloadKind::kSharedTable;
    h.biased = false;
    h.dither_purpose = static_cast<std::uint8_t>(shared_purpose(stream.purpose()));
    h.dither = sigma;
    const PhiloxWords shared =
        philox_words(PhiloxStream(h.seed, h.round, h.rank, static_cast<Purpose>(h.dither_purpose)));
    const PhiloxWords own = philox_words(stream);
    codes_.resize(n);
    LevelTable table = codes_only_levels(h.s);
    const double inv = sigma > 0 ? 1.0 / double(sigma) : 0.0;
    const double support = q.support();
    // Coordinate g = first + i: shared draw bits32(g) of the shared stream, private draws
    // uniform_float(2g) (grid) and uniform_float(2g + 1) (split) of the sender's stream.
    std::uint64_t words[2 * (kStep / 4 + 2)];
    float u[2 * kStep + 8];
    for (std::size_t start = 0; start < n; start += kStep) {
      const std::size_t len = std::min(kStep, n - start);
      const std::uint64_t g0 = header.first + start, block0 = g0 >> 2;
      philox_words64(shared, block0, ((g0 + len + 3) >> 2) - block0, words);
      const std::uint64_t ublock0 = (2 * g0) >> 2;
      philox_uniforms(own, ublock0, ((2 * (g0 + len) + 3) >> 2) - ublock0, u);
      const float* ug = u + (2 * g0 - 4 * ublock0);
      // First the grid points, branch-free (vectorised); a coordinate beyond the support (or
      // NaN, which the rotation has already refused) is marked for sending exactly.
      bool any_exact = false;
      for (std::size_t i = 0; i < len; ++i) {
        const double z = double(chunk[start + i]) * inv;
        const bool inside = std::fabs(z) <= support;
        any_exact |= !inside;
        grid_[i] = inside ? static_cast<std::uint32_t>(q.grid_index(z, ug[2 * i])) : kExact;
      }
      const std::size_t skip = g0 - 4 * block0;
      for (std::size_t i = 0; i < len; ++i) {
        const std::size_t d = skip + i;
        const auto bits = static_cast<std::uint32_t>(words[d >> 1] >> (32 * (d & 1)));
        const std::uint32_t j = grid_[i] == kExact ? 0 : grid_[i];
        codes_[start + i] =
            static_cast<std::uint16_t>(q.grid_message(j, q.h_of(bits), ug[2 * i + 1]));
      }
      if (any_exact) {
        for (std::size_t i = 0; i < len; ++i) {
          if (grid_[i] != kExact) continue;
          codes_[start + i] = 0;
          table.values.push_back(chunk[start + i]);
          table.exact.push_back(static_cast<std::uint32_t>(start + i));
        }
      }
    }
    PayloadWriter writer(h, table, out);
    writer.pack(0, codes_);
    writer.finish();
    times.round_pack_ms += round_timer.elapsed_ms();
  }

  void decode_accumulate(std::span<const std::byte> payload, const DecodeExpectations& expect,
                         std::span<float> acc) override {
    dme::decode_accumulate(payload, expect, acc);
  }

 private:
  static constexpr std::uint32_t kExact = 0xFFFFFFFFu;
  std::vector<std::uint16_t> codes_;
  std::uint32_t grid_[kStep];
};

}  // namespace

std::unique_ptr<Compression> make_quic_fl_compression() {
  return std::make_unique<QuicFlCompression>();
}

}  // namespace dme::detail
