// QUIC-FL as an implementation of the compression seam (quantization/quic_fl.h has the
// quantizer, codec/payload.h the kind-3 payload it writes, docs/schemes.md the account).
#include "dme/collective/detail/quic_fl.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "dme/core/detail/philox_words.h"
#include "dme/core/error.h"
#include "dme/core/parallel.h"
#include "dme/core/ordered_sum.h"
#include "dme/core/timer.h"
#include "dme/quantization/detail/quic_fl_grid.h"
#include "dme/quantization/quic_fl.h"

namespace dme::detail {
namespace {

// Coordinates per step of the encoder: their draws stay in L1. Steps per task on the threads.
constexpr std::size_t kStep = 1024;
constexpr std::size_t kTaskSteps = 32;

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
    float inv = sigma > 0 ? 1.0f / sigma : 0.0f;
    // A chunk of RMS below 1/FLT_MAX (about 3e-39): 1/σ overflows float32, and every
    // coordinate went out as exact (68 bits each at s = 16). The grid sees y·2^64 and
    // 1/(σ·2^64) instead: the power of two scales exactly, and the product is the same y/σ.
    const float* y = chunk.data();
    if (!std::isfinite(inv)) {
      scaled_.resize(n);
      for (std::size_t i = 0; i < n; ++i) scaled_[i] = chunk[i] * 0x1p64f;
      inv = static_cast<float>(1.0 / (double(sigma) * 0x1p64));
      y = scaled_.data();
    }
    // Coordinate g = first + i: its shared draw h from byte g of the shared stream
    // (QuicFlQuantizer::h_of), its private draws bits32(g) (grid) and bits32(kSplitDraws + g)
    // (split) of the sender's stream. Tasks of kTaskSteps steps on the threads
    // (dme/core/parallel.h), each with its own list of exact coordinates, joined in task order:
    // the payload is the same for every thread count.
    const std::size_t tasks = (n + kTaskSteps * kStep - 1) / (kTaskSteps * kStep);
    exact_.resize(tasks);
    parallel_for(tasks, [&](std::size_t task, unsigned) {
      std::uint32_t grid[kStep], grid_draws[kStep], split_draws[kStep];
      std::uint8_t shared_bytes[kStep];
      Exact& exact = exact_[task];
      exact.index.clear();
      exact.value.clear();
      const std::size_t stop = std::min(n, (task + 1) * kTaskSteps * kStep);
      for (std::size_t start = task * kTaskSteps * kStep; start < stop; start += kStep) {
        const std::size_t len = std::min(kStep, n - start);
        const std::uint64_t g0 = header.first + start;
        philox_bytes(shared, g0, len, shared_bytes);
        philox_bits32(own, g0, len, grid_draws);
        philox_bits32(own, QuicFlQuantizer::kSplitDraws + g0, len, split_draws);
        quic_fl_grid(q, y + start, grid_draws, len, inv, grid);
        for (std::size_t i = 0; i < len; ++i) {
          if (grid[i] == QuicFlQuantizer::kExact) [[unlikely]] {  // 1 in 512: sent exactly
            codes_[start + i] = 0;
            exact.value.push_back(chunk[start + i]);
            exact.index.push_back(static_cast<std::uint32_t>(start + i));
            continue;
          }
          codes_[start + i] = static_cast<std::uint16_t>(
              q.grid_message(grid[i], q.h_of(shared_bytes[i]), split_draws[i]));
        }
      }
    });
    for (const Exact& e : exact_) {
      table.values.insert(table.values.end(), e.value.begin(), e.value.end());
      table.exact.insert(table.exact.end(), e.index.begin(), e.index.end());
    }
    PayloadWriter writer(h, table, out);
    writer.pack(0, codes_);
    writer.finish();
    times.round_pack_ms += round_timer.elapsed_ms();
  }


 private:
  struct Exact {
    std::vector<std::uint32_t> index;
    std::vector<float> value;
  };
  std::vector<std::uint16_t> codes_;
  std::vector<Exact> exact_;   // per task
  std::vector<float> scaled_;  // the chunk times 2^64, when 1/σ overflows
};

}  // namespace

std::unique_ptr<Compression> make_quic_fl_compression() {
  return std::make_unique<QuicFlCompression>();
}

}  // namespace dme::detail
