// The reduce-scatter-int exchange (docs/algorithms.md §10.6): reduce-scatter traffic, but the
// owners add integers instead of re-quantising averages, so the mean is the exact average of
// the ranks' rounded vectors and its error falls as 1/n.
//
//   1. ranges     MPI_Allreduce(MIN) of every chunk's min and -max: all ranks know [lo_j, hi_j]
//   2. levels     chunk j's owner picks at most s of the 2s grid points lo_j + g·(hi_j - lo_j)/m,
//                 m = 2s - 1, from its own coordinates (the optimum on that grid for quiver-apx
//                 and the exact solvers; another solver's levels snapped to it), always g = 0
//                 and g = m; MPI_Allgather of the bitmasks
//   3. uplink     each rank rounds chunk j to its levels (stochastic, or nearest when asked) and
//                 sends the level codes to the owner: a kind-2 payload, s = the level count
//   4. sums       the owner adds the grid indices of the n codes of each coordinate: an integer
//                 S <= n·m, exact
//   5. downlink   MPI_Allgatherv of the sums (kind-2 payloads, s = n·m + 1); coordinate i of
//                 chunk j decodes to lo_j + S_i·(hi_j - lo_j)/(n·m), the average of the ranks'
//                 rounded values
//
// A chunk whose range is one value (lo_j = hi_j) has one level and sends nothing.
//
// The thc scheme takes all of a grid of s points (m = s - 1): no choice, no mask exchange, and
// sums below n·(s - 1) + 1.
//
// With Options::correlated_rounding, rank r rounds coordinate i up with the draw
// u = frac(w_i + (r + g_ri) / n): w_i is shared by all ranks (kCorrelated stream), g_ri is the
// rank's own (kRounding stream). Each u is uniform, so each rank's rounding stays unbiased, and
// the n draws of a coordinate fall one in each of n strata of [0, 1), so the ranks' rounding
// errors partly cancel in the sum.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "dme/codec/payload.h"
#include "dme/collective/detail/round.h"
#include "dme/core/agree.h"
#include "dme/core/detail/philox_words.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/timer.h"
#include "dme/quantization/quiver_approx.h"
#include "dme/quantization/rounding.h"

namespace dme::detail {
namespace {

/// One chunk's agreed grid and levels.
struct ChunkGrid {
  std::uint64_t first = 0, count = 0;
  float lo = 0, hi = 0;
  std::vector<float> levels;         ///< the level values, strictly increasing
  std::vector<std::uint16_t> index;  ///< grid index of each level
};

/// Grid point g of [lo, hi] with m intervals; the ends exactly.
float grid_point(float lo, float hi, std::uint32_t g, std::uint32_t m) {
  if (g == 0) return lo;
  if (g == m) return hi;
  return static_cast<float>(static_cast<double>(lo) +
                            (static_cast<double>(hi) - static_cast<double>(lo)) * g / m);
}

/// Bitmask words of a grid of m + 1 points.
std::size_t mask_words(std::uint32_t m) {
  return (m + 1 + 63) / 64;
}

/// The owner's choice for its chunk x within [lo, hi] (lo < hi): grid indices as a bitmask,
/// with both ends, at most s of them.
std::vector<std::uint64_t> choose_levels(std::span<const float> x, float lo, float hi,
                                         const CompressionPlan& plan, std::uint32_t m) {
  // The levels must be grid points. The exact solvers' optimum under that constraint is the DP
  // on the grid (docs/algorithms.md §5.2), which quiver-apx runs: their own levels, snapped,
  // can be far worse (with more levels than values the levels are the values, and each snapped
  // one leaves its value a fraction of a grid step away, rounded against the next value's
  // level: s = 256 on 16-value chunks erred 1.7x more than s = 64).
  const bool grid_optimum = plan.solver == Solver::kQuiverApx || plan.solver == Solver::kQuiver ||
                            plan.solver == Solver::kQuiverAccel || plan.solver == Solver::kZipml;
  std::vector<float> levels = grid_optimum
                                  ? quiver_approx_on_grid(x, plan.s, m, lo, hi)
                                  : solve_levels(x, plan.s, plan.solver, plan.solver_options);
  std::vector<std::uint32_t> picked;
  const double scale = m / (static_cast<double>(hi) - static_cast<double>(lo));
  for (float v : levels) {
    const double g = std::nearbyint((static_cast<double>(v) - lo) * scale);
    picked.push_back(static_cast<std::uint32_t>(std::clamp(g, 0.0, double(m))));
  }
  picked.push_back(0);
  picked.push_back(m);
  std::sort(picked.begin(), picked.end());
  picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
  // Forcing the ends can exceed s (a solver whose ends snapped inside): drop the interior
  // points next to the ends, alternately, until s remain.
  for (bool low = true; picked.size() > plan.s; low = !low)
    picked.erase(low ? picked.begin() + 1 : picked.end() - 2);
  std::vector<std::uint64_t> mask(mask_words(m), 0);
  for (std::uint32_t g : picked) mask[g / 64] |= std::uint64_t(1) << (g % 64);
  return mask;
}

/// Chunk j's levels from its agreed range and its owner's mask; throws when the mask is not
/// one that choose_levels can produce.
void apply_mask(ChunkGrid& c, std::span<const std::uint64_t> mask, std::uint32_t m, std::size_t s,
                int owner) {
  c.levels.clear();
  c.index.clear();
  if (c.count == 0) return;
  if (c.lo == c.hi) {  // one value: one level, nothing on the wire
    c.levels = {c.lo};
    c.index = {0};
    return;
  }
  std::size_t bits = 0;
  for (std::uint64_t w : mask) bits += static_cast<std::size_t>(std::popcount(w));
  const bool ends = (mask[0] & 1) && ((mask[m / 64] >> (m % 64)) & 1);
  const bool beyond = (m + 1) % 64 != 0 && (mask.back() >> ((m + 1) % 64)) != 0;
  DME_CHECK(ends && !beyond && bits <= s, "reduce-scatter-int: rank "
                                              << owner << " announced " << bits
                                              << " levels for its chunk (expected 2.." << s
                                              << " grid points including both ends)");
  for (std::uint32_t g = 0; g <= m; ++g) {
    if (!((mask[g / 64] >> (g % 64)) & 1)) continue;
    const float v = grid_point(c.lo, c.hi, g, m);
    if (!c.levels.empty() && v <= c.levels.back()) continue;  // a range of a few ulps
    c.levels.push_back(v);
    c.index.push_back(static_cast<std::uint16_t>(g));
  }
}

/// out[k] = stream.uniform_float(first + k) for k < n, drawn on the SIMD target.
void stream_uniforms(const PhiloxStream& stream, std::uint64_t first, std::size_t n,
                     std::vector<float>& buf, float*& out) {
  const std::uint64_t block = first / 4, end = (first + n + 3) / 4;
  buf.resize(4 * (end - block));
  if (end > block)
    detail::philox_uniforms(detail::philox_words(stream), block, end - block, buf.data());
  out = buf.data() + (first - 4 * block);
}

/// Stochastic rounding of x to levels with the correlated draws of rank r of n (see the top of
/// this file): up with probability (x - a) / (b - a) for each rank alone.
void correlated_round(std::span<const float> x, std::span<const float> levels, const float* w,
                      const float* g, int r, int n, std::span<std::uint16_t> codes) {
  const double inv_n = 1.0 / n;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto hi = static_cast<std::size_t>(std::upper_bound(levels.begin(), levels.end(), x[i]) -
                                             levels.begin());
    if (hi == levels.size()) {  // x is the top level
      codes[i] = static_cast<std::uint16_t>(hi - 1);
      continue;
    }
    double u = double(w[i]) + (r + double(g[i])) * inv_n;
    if (u >= 1.0) u -= 1.0;
    const double a = levels[hi - 1], b = levels[hi];
    codes[i] = static_cast<std::uint16_t>(u * (b - a) < double(x[i]) - a ? hi : hi - 1);
  }
}

PayloadHeader codes_header(const RoundContext& ctx, const ChunkGrid& c, std::uint32_t s) {
  PayloadHeader h = payload_header(ctx, c.first, c.count);
  h.kind = PayloadKind::kCodes;
  h.s = s;
  h.bucket_size = 0;
  return h;
}

DecodeExpectations codes_expectations(const RoundContext& ctx, int sender, const ChunkGrid& c,
                                      std::uint32_t s) {
  DecodeExpectations e = expectations(ctx, sender, c.first, c.count);
  e.kind = PayloadKind::kCodes;
  e.s = s;
  e.bucket_size = 0;
  return e;
}

// A round's code vectors (this rank's codes of a chunk, the owner's sums, a decoded payload),
// kept by the calling thread for its next round: made per round, glibc gave them back to the
// system and the next round faulted them in again (~16000 page faults per mean at d = 2^24 on
// 2 ranks). One round runs at a time on a thread.
struct CodeScratch {
  std::vector<std::uint16_t> codes, sums;
  Payload payload;
  std::vector<float> shared_draws, own_draws;  // correlated rounding's uniforms
};
CodeScratch& code_scratch() {
  thread_local CodeScratch scratch;
  return scratch;
}

}  // namespace

RoundSum reduce_reduce_scatter_int(RoundContext& ctx, std::span<const float> y) {
  auto& rep = ctx.report;
  const int n = ctx.size;
  const auto un = static_cast<std::size_t>(n);
  const bool uniform = ctx.options.scheme == Scheme::kThc;  // every grid point is a level
  const std::uint32_t m = static_cast<std::uint32_t>((uniform ? 1 : 2) * ctx.plan.s - 1);
  const std::uint64_t sum_radix = static_cast<std::uint64_t>(n) * m + 1;
  DME_CHECK(sum_radix <= kMaxRadix, "reduce-scatter-int: sums of "
                                        << n << " grid indices below " << m + 1 << " need "
                                        << sum_radix << " values, more than the " << kMaxRadix
                                        << " of a code; use fewer levels (s)");
  Compression& comp = ctx.compression;

  // 1. ranges (exact: min and max are inputs, -0 made +0 so that every rank sees one bit
  //    pattern).
  Timer t;
  std::vector<ChunkGrid> chunks(un);
  std::vector<float> ext(2 * un, std::numeric_limits<float>::infinity());
  for (int j = 0; j < n; ++j) {
    ChunkGrid& c = chunks[static_cast<std::size_t>(j)];
    c.first = chunk_bound(ctx, j);
    c.count = chunk_bound(ctx, j + 1) - c.first;
    if (c.count == 0) continue;
    const auto [lo, hi] = std::minmax_element(y.begin() + c.first, y.begin() + c.first + c.count);
    ext[static_cast<std::size_t>(j)] = *lo;
    ext[un + static_cast<std::size_t>(j)] = -*hi;
  }
  rep.times.solve_ms += t.elapsed_ms();
  t.reset();
  DME_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, ext.data(), 2 * n, MPI_FLOAT, MPI_MIN, ctx.comm));
  rep.times.exchange_ms += t.elapsed_ms();
  rep.metadata_bytes_sent += 2 * 8 * static_cast<std::uint64_t>(n - 1);  // a ring's volume
  rep.metadata_bytes_received += 2 * 8 * static_cast<std::uint64_t>(n - 1);
  for (std::size_t j = 0; j < un; ++j) {
    chunks[j].lo = ext[j] + 0.0f;
    chunks[j].hi = -ext[un + j] + 0.0f;
  }

  // 2. levels: the owner's mask, and a status word (1: it failed); thc: all of the grid.
  t.reset();
  const std::size_t words = mask_words(m);
  std::vector<std::uint64_t> record(words + 1, 0);
  ChunkGrid& own = chunks[static_cast<std::size_t>(ctx.rank)];
  std::optional<std::string> error;
  if (uniform) {
    std::vector<std::uint64_t> all(words, ~std::uint64_t(0));
    if ((m + 1) % 64) all.back() = (std::uint64_t(1) << ((m + 1) % 64)) - 1;
    for (std::size_t j = 0; j < un; ++j) apply_mask(chunks[j], all, m, ctx.plan.s, int(j));
  } else {
    error = mpi::capture_error([&] {
      if (own.count > 0 && own.lo < own.hi) {
        const auto mask =
            choose_levels(y.subspan(own.first, own.count), own.lo, own.hi, ctx.plan, m);
        std::copy(mask.begin(), mask.end(), record.begin());
      }
    });
    if (error) record.back() = 1;
    rep.times.solve_ms += t.elapsed_ms();
    t.reset();
    std::vector<std::uint64_t> masks((words + 1) * un);
    DME_MPI_CHECK(MPI_Allgather(record.data(), static_cast<int>(words + 1), MPI_UINT64_T,
                                masks.data(), static_cast<int>(words + 1), MPI_UINT64_T, ctx.comm));
    rep.times.exchange_ms += t.elapsed_ms();
    rep.metadata_bytes_sent += 8 * (words + 1) * static_cast<std::uint64_t>(n - 1);
    rep.metadata_bytes_received += 8 * (words + 1) * static_cast<std::uint64_t>(n - 1);
    std::vector<std::int64_t> status(un);
    for (std::size_t r = 0; r < un; ++r)
      status[r] = masks[r * (words + 1) + words] ? kFailedSize : 0;
    raise_if_failed(status, error, ctx.comm);
    for (std::size_t j = 0; j < un; ++j)
      apply_mask(chunks[j], std::span(masks).subspan(j * (words + 1), words), m, ctx.plan.s,
                 static_cast<int>(j));
  }

  // 3. uplink: this rank's codes of every chunk, to its owner.
  t.reset();
  std::vector<std::byte> send = comp.take_bytes(), one = comp.take_bytes();
  const GiveBackBytes keep_send(comp, send), keep_one(comp, one);
  std::vector<std::int64_t> sizes(un, 0);
  std::vector<std::uint16_t>& codes = code_scratch().codes;
  error = mpi::capture_error([&] {
    const PhiloxStream stream(ctx.options.seed, ctx.round, static_cast<std::uint32_t>(ctx.rank),
                              Purpose::kRounding);
    const PhiloxStream shared(ctx.options.seed, ctx.round, 0, Purpose::kCorrelated);
    std::vector<float>& w_buf = code_scratch().shared_draws;
    std::vector<float>& g_buf = code_scratch().own_draws;
    for (std::size_t j = 0; j < un; ++j) {
      const ChunkGrid& c = chunks[j];
      if (c.levels.size() < 2) continue;
      codes.resize(c.count);
      const auto x = y.subspan(c.first, c.count);
      if (ctx.plan.nearest) {
        nearest_round(x, c.levels, codes);
      } else if (ctx.options.correlated_rounding) {
        float *w = nullptr, *g = nullptr;
        stream_uniforms(shared, c.first, c.count, w_buf, w);
        stream_uniforms(stream, c.first, c.count, g_buf, g);
        correlated_round(x, c.levels, w, g, ctx.rank, n, codes);
      } else {
        stochastic_round(x, c.levels, stream, c.first, codes);
      }
      encode(codes_header(ctx, c, static_cast<std::uint32_t>(c.levels.size())),
             codes_only_levels(static_cast<std::uint32_t>(c.levels.size())), codes, one);
      sizes[j] = static_cast<std::int64_t>(one.size());
      send.insert(send.end(), one.begin(), one.end());
    }
  });
  if (error) {
    sizes.assign(un, kFailedSize);
    send.clear();
  }
  rep.times.round_pack_ms += t.elapsed_ms();
  rep.payload_bytes = send.size();  // as reduce-scatter: the uplink payloads
  Received recv = alltoall_payloads(ctx, send, sizes, error);
  const GiveBackBytes keep_recv(comp, recv.data);
  rep.reduce_bytes_received = rep.payload_bytes_received;

  // 4. the owner's exact sums of grid indices.
  t.reset();
  std::vector<std::byte> mine = comp.take_bytes();
  const GiveBackBytes keep_mine(comp, mine);
  error = mpi::capture_error([&] {
    if (own.levels.size() < 2) return;
    std::vector<std::uint16_t>& sums = code_scratch().sums;
    sums.assign(own.count, 0);
    Payload& p = code_scratch().payload;
    for (int r = 0; r < n; ++r) {
      decode(recv.from(r),
             codes_expectations(ctx, r, own, static_cast<std::uint32_t>(own.levels.size())), p);
      for (std::size_t i = 0; i < own.count; ++i)
        sums[i] = static_cast<std::uint16_t>(sums[i] + own.index[p.codes[i]]);
    }
    encode(codes_header(ctx, own, static_cast<std::uint32_t>(sum_radix)),
           codes_only_levels(static_cast<std::uint32_t>(sum_radix)), sums, mine);
  });
  rep.times.decode_ms += t.elapsed_ms();

  // 5. downlink: every chunk's sums, decoded into place.
  Received all = allgather_payloads(ctx, mine, error);
  const GiveBackBytes keep_all(comp, all.data);
  t.reset();
  const std::span<float> acc = comp.vector(RoundVector::kSum, ctx.padded);
  for (int j = 0; j < n; ++j) {
    const ChunkGrid& c = chunks[static_cast<std::size_t>(j)];
    if (c.count == 0) continue;
    float* out = acc.data() + c.first;
    if (c.levels.size() < 2) {
      std::fill_n(out, c.count, c.lo);
      continue;
    }
    Payload& p = code_scratch().payload;
    decode(all.from(j), codes_expectations(ctx, j, c, static_cast<std::uint32_t>(sum_radix)), p);
    const double lo = c.lo;
    const double step = (static_cast<double>(c.hi) - lo) / static_cast<double>(sum_radix - 1);
    for (std::size_t i = 0; i < c.count; ++i)
      out[i] = static_cast<float>(lo + step * static_cast<double>(p.codes[i]));
  }
  rep.times.decode_ms += t.elapsed_ms();
  return {true, 1.0f, true};  // averages, in the rotated domain
}

}  // namespace dme::detail
