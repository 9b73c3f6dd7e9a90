#include "dme/collective/detail/eden.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <mutex>
#include <numbers>

#include "dme/codec/detail/two_width.h"
#include "dme/core/error.h"
#include "dme/core/normal.h"
#include "dme/core/ordered_sum.h"
#include "dme/core/timer.h"
#include "dme/quantization/lloyd_max.h"

namespace dme::detail {
namespace {

std::vector<double> lloyd_max(unsigned b) {
  const std::size_t k = std::size_t(1) << b;
  std::vector<double> c(k);
  // Start from the asymptotically optimal point density, ∝ φ^(1/3): the quantiles of N(0, 3),
  // then iterate to the fixed point: thresholds at the midpoints, each
  // centroid E[X | cell] = (φ(lo) − φ(hi)) / (Φ(hi) − Φ(lo)).
  for (std::size_t j = 0; j < k; ++j)
    c[j] = std::sqrt(3.0) * normal_quantile((double(j) + 0.5) / double(k));
  // A few Lloyd steps, then Newton on c = g(c), whose Jacobian is tridiagonal: with
  // M = Φ(hi) − Φ(lo), ∂g/∂lo = φ(lo)(g − lo)/M and ∂g/∂hi = φ(hi)(hi − g)/M, and lo, hi the
  // midpoints with the neighbours (Lloyd alone needs ~10^5 steps at b = 8).
  std::vector<double> g(k), dlo(k), dhi(k);
  auto evaluate = [&] {
    for (std::size_t j = 0; j < k; ++j) {
      const double lo = j == 0 ? -INFINITY : 0.5 * (c[j - 1] + c[j]);
      const double hi = j + 1 == k ? INFINITY : 0.5 * (c[j] + c[j + 1]);
      const double mass = normal_cdf(hi) - normal_cdf(lo);
      g[j] = (normal_pdf(lo) - normal_pdf(hi)) / mass;
      dlo[j] = std::isinf(lo) ? 0.0 : normal_pdf(lo) * (g[j] - lo) / mass;
      dhi[j] = std::isinf(hi) ? 0.0 : normal_pdf(hi) * (hi - g[j]) / mass;
    }
  };
  for (int it = 0; it < 200; ++it) {
    evaluate();
    c = g;
  }
  std::vector<double> sub(k), diag(k), sup(k), rhs(k);
  for (int it = 0; it < 100; ++it) {
    evaluate();
    // J = I − ∂g/∂c: row j has −dlo/2 at j−1, 1 − (dlo + dhi)/2 at j, −dhi/2 at j+1.
    double residual = 0;
    for (std::size_t j = 0; j < k; ++j) {
      sub[j] = -0.5 * dlo[j];
      diag[j] = 1 - 0.5 * (dlo[j] + dhi[j]);
      sup[j] = -0.5 * dhi[j];
      rhs[j] = g[j] - c[j];
      residual = std::max(residual, std::fabs(rhs[j]));
    }
    if (residual < 1e-15) break;
    for (std::size_t j = 1; j < k; ++j) {  // Thomas algorithm
      const double f = sub[j] / diag[j - 1];
      diag[j] -= f * sup[j - 1];
      rhs[j] -= f * rhs[j - 1];
    }
    for (std::size_t j = k; j-- > 0;) {
      const double step = (rhs[j] - (j + 1 < k ? sup[j] * rhs[j + 1] : 0.0)) / diag[j];
      rhs[j] = step;
      c[j] += step;
    }
  }
  // Exactly symmetric: average each centroid with its mirror.
  for (std::size_t j = 0; j < k / 2; ++j) {
    const double m = 0.5 * (c[k - 1 - j] - c[j]);
    c[j] = -m;
    c[k - 1 - j] = m;
  }
  return c;
}

// The nearest of the centroids σ·c_j to each value: the number of midpoints below it, in float
// (the thresholds are rounded once; a value on a rounded threshold may go either way, which only
// moves which centroid is "nearest" by a rounding, and the scale stays exact for the codes sent).
class NearestCentroid {
 public:
  template <class C>
  NearestCentroid(double sigma, std::span<const C> c) : k_(c.size()) {
    for (std::size_t j = 0; j + 1 < k_; ++j)
      mid_[j] = static_cast<float>(sigma * 0.5 * (double(c[j]) + double(c[j + 1])));
    if (k_ > 16) build_grid();
  }

  void codes(std::span<const float> y, std::uint16_t* out) const {
    const std::size_t n = y.size();
    switch (k_) {  // 2^b centroids; up to 16, a fixed count of thresholds: branch-free and
                   // vectorised by the compiler
      case 2: return small<2>(y, out);
      case 4: return small<4>(y, out);
      case 8: return small<8>(y, out);
      case 16: return small<16>(y, out);
      default: break;
    }
    const unsigned top = static_cast<unsigned>(k_ - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const float v = y[i];
      unsigned code;
      if (first_.empty()) {
        code = static_cast<unsigned>(std::lower_bound(mid_.begin(), mid_.begin() + top, v) -
                                     mid_.begin());
      } else if (!(v > mid_[0])) {
        code = 0;
      } else if (v > mid_[top - 1]) {
        code = top;
      } else {
        // The grid's guess, then the exact count: rounding may have moved the cell by one.
        const auto cell = std::min<std::size_t>(
            static_cast<std::size_t>((v - mid_[0]) * inv_width_), first_.size() - 1);
        code = first_[cell];
        while (code < top && v > mid_[code]) ++code;
        while (code > 0 && !(v > mid_[code - 1])) --code;
      }
      out[i] = static_cast<std::uint16_t>(code);
    }
  }

 private:
  template <std::size_t K>
  void small(std::span<const float> y, std::uint16_t* out) const {
    std::array<float, K - 1> mid;
    std::copy(mid_.begin(), mid_.begin() + (K - 1), mid.begin());
    const float* in = y.data();
    for (std::size_t i = 0; i < y.size(); ++i) {
      unsigned code = 0;
      for (std::size_t j = 0; j + 1 < K; ++j) code += in[i] > mid[j] ? 1u : 0u;
      out[i] = static_cast<std::uint16_t>(code);
    }
  }

  // More than 16 centroids (k = 2^b): a uniform grid over [mid_0, mid_(k-2)] with cells
  // narrower than the closest two midpoints, so that each holds at most one; first_[cell]
  // counts the midpoints below its left edge. (Midpoints that rounding made equal, or a grid that would exceed 2^16
  // cells, leave first_ empty: binary search.)
  void build_grid() {
    const float lo = mid_[0], hi = mid_[k_ - 2];
    float gap = INFINITY;
    for (std::size_t j = 0; j + 2 < k_; ++j) gap = std::min(gap, mid_[j + 1] - mid_[j]);
    if (!(gap > 0) || !(hi > lo)) return;
    const double cells = std::ceil(2.0 * (double(hi) - lo) / gap);
    if (!(cells < 65536)) return;
    const auto count = static_cast<std::size_t>(cells);
    inv_width_ = static_cast<float>(cells / (double(hi) - lo));
    first_.resize(count + 1);
    std::size_t j = 0;
    for (std::size_t cell = 0; cell <= count; ++cell) {
      const double edge = lo + (double(hi) - lo) * double(cell) / cells;
      while (j + 1 < k_ && double(mid_[j]) < edge) ++j;
      first_[cell] = static_cast<std::uint16_t>(j);
    }
  }

  std::size_t k_;
  std::array<float, 255> mid_{};
  float inv_width_ = 0;
  std::vector<std::uint16_t> first_;
};

class EdenCompression final : public Compression {
 public:
  std::string_view name() const override { return "eden"; }

  void encode(std::span<const float> chunk, const PayloadHeader& h, const CompressionPlan& plan,
              const PhiloxStream&, std::vector<std::byte>& out, PhaseTimes& times,
              const Extrema<float>*) override {
    check_plan(h, plan, chunk.size(), /*takes_two_widths=*/true);
    DME_CHECK(!plan.levels, "eden: its levels are the scaled Lloyd-Max centroids; it takes no "
                            "given levels (the pipelined allgather is for asq)");
    DME_CHECK(std::has_single_bit(plan.s) && plan.s >= 2 && plan.s <= 256,
              "eden: s must be 2^b levels, b = 1..8, got " << plan.s);
    DME_CHECK(plan.wide_groups == 0 || (plan.bucket_size == 0 && plan.s <= 128),
              "eden: a fractional bit budget takes one bucket and s <= 128 (its wide codes have "
              "one bit more), got bucket size "
                  << plan.bucket_size << ", s = " << plan.s);
    if (plan.bucket_size == 0) {
      encode_scaled(chunk, h, plan, out, times);
      return;
    }
    // Buckets, each with its own σ and scale: a level table per bucket (payload kind 0).
    const std::span<const double> c = normal_lloyd_max(std::countr_zero(plan.s));
    Timer solve_timer;
    const std::size_t bucket = bucket_length(h);
    codes_.resize(chunk.size());
    LevelTable table;
    table.offsets.assign(1, 0);
    for (std::size_t lo = 0; lo < chunk.size(); lo += bucket) {
      const std::size_t hi = std::min(chunk.size(), lo + bucket);
      encode_bucket(chunk.subspan(lo, hi - lo), c, codes_.data() + lo, table);
    }
    times.solve_ms += solve_timer.elapsed_ms();
    write(h, table, out, times);
  }

 private:
  // One bucket (payload kind 4): every coordinate to the nearest of the 2^b Lloyd-Max centroids
  // of N(0, 1) scaled by σ (the RMS of the chunk); at a fractional budget the first 8·G of
  // every period of kTwoWidthPeriod coordinates to the nearest of the 2^(b+1) ones instead. The
  // payload carries one scale S = ‖y‖² / Σ y_i·C(i) and no levels: the receiver scales the same
  // float32 tables (quantization/lloyd_max.h). EDEN's unbiasedness holds for any deterministic
  // quantizer of the rotated vector with that scale (docs/schemes.md), so mixing two tables
  // keeps it.
  void encode_scaled(std::span<const float> y, const PayloadHeader& header,
                     const CompressionPlan& plan, std::vector<std::byte>& out, PhaseTimes& times) {
    Timer solve_timer;
    PayloadHeader h = header;
    h.kind = PayloadKind::kLloydMax;
    h.wide_groups = plan.wide_groups;
    const unsigned b = std::countr_zero(plan.s);
    const std::span<const float> narrow = lloyd_max_table(b);
    const std::span<const float> wide = plan.wide_groups ? lloyd_max_table(b + 1) : narrow;
    const double norm2 = ordered_sum(y.size(), [&](std::size_t i) { return double(y[i]) * y[i]; });
    DME_CHECK(std::isfinite(norm2), "eden: the norm of the rotated chunk is not finite");
    codes_.assign(y.size(), 0);
    double scale = 0;  // all zero: every code 0, scale 0
    if (norm2 > 0) {
      const double sigma = std::sqrt(norm2 / double(y.size()));
      const codec::TwoWidthStream stream = codec::TwoWidthStream::of(h);
      const NearestCentroid to_wide(sigma, wide), to_narrow(sigma, narrow);
      stream.for_each_run(0, y.size(), [&](std::uint64_t start, std::uint64_t n, unsigned width,
                                           std::uint64_t) {
        (width > b ? to_wide : to_narrow).codes(y.subspan(start, n), codes_.data() + start);
      });
      const double dot = ordered_sum(y.size(), [&](std::size_t i) {
        return double(y[i]) * (stream.is_wide(i) ? wide : narrow)[codes_[i]];
      });
      DME_CHECK(dot > 0, "eden: the quantized chunk is orthogonal to the input (norm " << norm2
                                                                                       << ")");
      scale = norm2 / dot;
    }
    h.dither = static_cast<float>(scale);
    DME_CHECK(std::isfinite(h.dither),
              "eden: the scale " << scale << " of the rotated chunk overflows float32");
    times.solve_ms += solve_timer.elapsed_ms();
    write(h, codes_only_levels(h.s), out, times);
  }

  void write(const PayloadHeader& h, const LevelTable& table, std::vector<std::byte>& out,
             PhaseTimes& times) {
    Timer pack_timer;
    PayloadWriter writer(h, table, out);
    writer.pack(0, codes_);
    writer.finish();
    times.round_pack_ms += pack_timer.elapsed_ms();
  }

  // Appends the levels scale·c_j that codes[0 .. n) use, in float32, and renumbers the codes to
  // them: a bucket shorter than s sends at most its length in levels (eden at --bucket 16 --s 256
  // sent all 256, 522 bits per coordinate; now at most 16). Below the normal range (a bucket of
  // RMS near 1e-45) neighbouring levels can round to the same float32: they become one level, as
  // any float32 arithmetic on such values would merge them. Decoded values are unchanged.
  static void add_levels(LevelTable& table, double scale, std::span<const double> c, double sigma,
                         std::uint16_t* codes, std::size_t n) {
    std::array<bool, 256> used{};
    for (std::size_t i = 0; i < n; ++i) used[codes[i]] = true;
    std::array<std::uint16_t, 256> index{};
    const std::size_t first = table.values.size();
    for (std::size_t j = 0; j < c.size(); ++j) {
      if (!used[j]) continue;
      const float level = static_cast<float>(scale * c[j]);
      DME_CHECK(std::isfinite(level), "eden: the levels of a bucket with RMS "
                                          << sigma << " overflow float32 (scale " << scale << ")");
      if (table.values.size() == first || level > table.values.back())
        table.values.push_back(level);
      index[j] = static_cast<std::uint16_t>(table.values.size() - 1 - first);
    }
    if (table.values.size() - first < c.size())
      for (std::size_t i = 0; i < n; ++i) codes[i] = index[codes[i]];
  }

  // One bucket: codes by the nearest centroid of y / σ (σ the bucket's RMS), then the level
  // table S·σ·c with S = ‖y‖² / Σ y_i·σ·c_code(i), which makes E[⟨estimate, y⟩] exact.
  static void encode_bucket(std::span<const float> y, std::span<const double> c,
                            std::uint16_t* codes, LevelTable& table) {
    const double norm2 = ordered_sum(y.size(), [&](std::size_t i) { return double(y[i]) * y[i]; });
    if (norm2 == 0) {  // all zero: one level, 0
      std::fill(codes, codes + y.size(), std::uint16_t(0));
      table.values.push_back(0.0f);
      table.offsets.push_back(static_cast<std::uint32_t>(table.values.size()));
      return;
    }
    const double sigma = std::sqrt(norm2 / double(y.size()));
    const std::size_t k = c.size();
    NearestCentroid(sigma, c).codes(y, codes);
    std::array<double, 256> level{};
    for (std::size_t j = 0; j < k; ++j) level[j] = sigma * c[j];
    const double dot =
        ordered_sum(y.size(), [&](std::size_t i) { return double(y[i]) * level[codes[i]]; });
    DME_CHECK(dot > 0,
              "eden: the quantized bucket is orthogonal to the input (norm " << norm2 << ")");
    add_levels(table, norm2 / dot * sigma, c, sigma, codes, y.size());
    table.offsets.push_back(static_cast<std::uint32_t>(table.values.size()));
  }

  std::vector<std::uint16_t> codes_;
};

}  // namespace

std::span<const double> normal_lloyd_max(unsigned b) {
  DME_CHECK(b >= 1 && b <= 8, "Lloyd-Max centroids: b must be in 1..8, got " << b);
  static std::array<std::vector<double>, 9> tables;
  static std::once_flag once[9];
  std::call_once(once[b], [b] { tables[b] = lloyd_max(b); });
  return tables[b];
}

std::unique_ptr<Compression> make_eden_compression() {
  return std::make_unique<EdenCompression>();
}

}  // namespace dme::detail
