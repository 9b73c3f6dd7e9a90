#include "dme/collective/mean_estimator.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "dme/collective/detail/agreement.h"
#include "dme/collective/detail/round.h"
#include "dme/core/error.h"
#include "dme/core/max_magnitude.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/parallel.h"
#include "dme/core/timer.h"
#include "dme/rotation/adaptive_count.h"
#include "dme/rotation/rht.h"

namespace dme {

struct MeanEstimator::Impl {
  mpi::Comm comm;
  Options options;
  std::uint32_t next_round;
  /// Options::backend's (collective/compression.h); holds the round's vectors.
  std::unique_ptr<Compression> compression;
  std::vector<float> scaled;  ///< the input times 2^-scale_exponent, when that is not 0
};

MeanEstimator::MeanEstimator(MPI_Comm comm, Options options)
    : MeanEstimator(comm, options, nullptr) {}

MeanEstimator::MeanEstimator(MPI_Comm comm, Options options,
                             std::unique_ptr<Compression> compression)
    : impl_(std::make_unique<Impl>(Impl{mpi::Comm(comm), options, options.first_round, {}, {}})) {
  // Agree on the validity of the options now, so that no rank is left waiting.
  detail::LocalStatus status;
  try {
    validate(impl_->options);
    impl_->compression = compression
                             ? std::move(compression)
                             : make_compression(impl_->options.backend, impl_->options.scheme);
  } catch (const Error& e) {
    status.ok = false;
    status.message = e.message();
  }
  std::uint64_t meta = 0;
  status.fingerprint = options_fingerprint(impl_->options);
  status.options = &impl_->options;
  status.round = impl_->options.first_round;
  detail::agree(status, impl_->comm.get(), meta);
}

MeanEstimator::~MeanEstimator() = default;
MeanEstimator::MeanEstimator(MeanEstimator&&) noexcept = default;
MeanEstimator& MeanEstimator::operator=(MeanEstimator&&) noexcept = default;

const Options& MeanEstimator::options() const noexcept {
  return impl_->options;
}
int MeanEstimator::rank() const noexcept {
  return impl_->comm.rank();
}
int MeanEstimator::size() const noexcept {
  return impl_->comm.size();
}
std::uint32_t MeanEstimator::next_round() const noexcept {
  return impl_->next_round;
}

namespace {

// deferred: the round checks the values chunk by chunk as it rotates them (RoundContext::
// Streamed::check_below), so the first pass over the input is skipped (max_abs stays 0).
detail::LocalStatus check_local(std::span<const float> local, std::span<float> mean_out,
                                const Options& options, bool deferred) {
  detail::LocalStatus status;
  status.d = local.size();
  status.fingerprint = options_fingerprint(options);
  status.options = &options;
  try {
    DME_CHECK(!local.empty(), "empty input vector");
    DME_CHECK(mean_out.size() == local.size(), "output has length " << mean_out.size()
                                                                    << " but the input has length "
                                                                    << local.size());
    padded_length(local.size());  // throws beyond the supported length
    if (!deferred) status.max_abs = finite_max_abs(local, "input vector");
    status.rotations =
        options.rotations == kAutoRotations ? adaptive_rotation_count(local) : options.rotations;
  } catch (const Error& e) {
    status.ok = false;
    status.message = e.message();
  }
  return status;
}

// Every intermediate of a round is bounded by max|x| times D (a rotation's butterflies before
// its 1/sqrt(D)) times n (the sum over ranks); the margin 2^5 covers the quantization's
// spread. Inputs whose bound would reach 2^127 are scaled down by a power of two, which is
// exact, so ordinary inputs (below 2^71 at the largest D and 2^20 ranks) keep every bit.
int scale_budget(std::uint64_t padded, int ranks) {
  return 122 - std::bit_width(padded - 1) - std::bit_width(static_cast<std::uint32_t>(ranks) - 1);
}
int scale_exponent(float max_abs, std::uint64_t padded, int ranks) {
  if (max_abs == 0.0f) return 0;
  int top = 0;
  std::frexp(max_abs, &top);  // max_abs < 2^top
  return std::max(0, top - scale_budget(padded, ranks));
}
// The deferred check's bound (max_magnitude_bits below it): finite and scale exponent 0, i.e.
// max |x| < 2^budget.
std::uint32_t unscaled_bits_bound(std::uint64_t padded, int ranks) {
  const int budget = scale_budget(padded, ranks);
  if (budget >= 128) return kNonFiniteBits;
  return std::bit_cast<std::uint32_t>(std::ldexp(1.0f, budget));
}

// mean_out *= 2^k, saturating at ±FLT_MAX what float32 cannot hold; returns how many did not fit.
std::uint64_t scale_back(std::span<float> mean_out, int k) {
  std::uint64_t saturated = 0;
  constexpr double kMax = std::numeric_limits<float>::max();
  for (float& v : mean_out) {
    const double w = std::ldexp(double(v), k);
    if (std::fabs(w) > kMax) {
      ++saturated;
      v = static_cast<float>(std::copysign(kMax, w));
    } else {
      v = static_cast<float>(w);
    }
  }
  return saturated;
}

}  // namespace

Report MeanEstimator::estimate(std::span<const float> local, std::span<float> mean_out) {
  DME_CHECK(impl_ != nullptr,
            "MeanEstimator::estimate on an estimator that was moved from (it holds no "
            "communicator; estimate with the one it was moved to)");
  Impl& im = *impl_;
  const ThreadScope threads(im.options.threads);
  const Timer total;
  const std::uint32_t round = im.next_round++;
  // A round whose rotation streams checks its input chunk by chunk as it rotates it, instead of
  // in a pass of its own first (3.6 ms of a 2-rank mean at d = 2^24, Intel Xeon family 6 model
  // 207: the whole vector read from memory once more). A rank whose chunk holds a NaN, an Inf or
  // a value that needs scaling makes every rank start the round again with the check first
  // (RecheckRound), which then raises the same error, or scales, as a round that checked first.
  const Options& o = im.options;
  if (o.rotations != kAutoRotations && detail::streams_rotation(o, o.rotations, local.size())) {
    try {
      return run_round(round, local, mean_out, /*deferred=*/true, total);
    } catch (const detail::RecheckRound&) {
    }
  }
  return run_round(round, local, mean_out, /*deferred=*/false, total);
}

Report MeanEstimator::run_round(std::uint32_t round, std::span<const float> local,
                                std::span<float> mean_out, bool deferred, const Timer& total) {
  Impl& im = *impl_;
  Report report;
  report.round = round;

  Timer phase;
  detail::LocalStatus status = check_local(local, mean_out, im.options, deferred);
  status.round = round;
  report.times.rotate_ms += phase.elapsed_ms();
  phase.reset();
  const detail::AgreedStatus agreed =
      detail::agree(status, im.comm.get(), report.metadata_bytes_sent);
  report.metadata_bytes_received = report.metadata_bytes_sent;
  report.times.exchange_ms += phase.elapsed_ms();

  phase.reset();
  const Options& o = im.options;
  const RotationKey key{o.seed,
                        report.round,
                        agreed.rotations,
                        agreed.d,
                        rotation_stream(o.shared_rotation, rank()),
                        resolved_layout(o),
                        o.rotation_block};
  const std::uint64_t padded =
      agreed.rotations == 0 ? agreed.d : padded_length(agreed.d, resolved_layout(o));
  report.scale_exponent = scale_exponent(agreed.max_abs, padded, size());
  std::span<const float> input = local;
  if (report.scale_exponent != 0) {
    const float down = std::ldexp(1.0f, -report.scale_exponent);
    im.scaled.resize(local.size());
    for (std::size_t i = 0; i < local.size(); ++i) im.scaled[i] = local[i] * down;
    input = im.scaled;
  }
  detail::KnownRange range{};
  const std::span<float> rotated = im.compression->vector(RoundVector::kRotated, padded);
  // A streamed rotation is the exchange's: it rotates a chunk at a time (round.h).
  const bool streamed = detail::streams_rotation(o, agreed.rotations, agreed.d);
  DME_ASSERT(!deferred || streamed);  // a deferred check runs in the streamed rotation only
  const bool range_known = !streamed && im.compression->rotate(key, input, rotated, range);
  report.times.rotate_ms += phase.elapsed_ms();

  report.rotations = agreed.rotations;
  report.float_bytes = 4 * agreed.d;
  const CompressionPlan plan = compression_plan(o);
  detail::RoundContext ctx{im.comm.get(),
                           rank(),
                           size(),
                           o,
                           plan,
                           report.round,
                           agreed.d,
                           padded,
                           agreed.rotations,
                           key,
                           report,
                           *im.compression,
                           range_known ? &range : nullptr,
                           {},
                           {}};
  // The exchange may accumulate into the output only where that cannot touch the input: an
  // estimate in place keeps its input until the estimate is complete (or has failed).
  const bool apart = mean_out.data() + mean_out.size() <= local.data() ||
                     local.data() + local.size() <= mean_out.data();
  if (apart) ctx.mean_out = mean_out;
  if (streamed) ctx.streamed = {input, rotated};
  if (streamed && deferred) ctx.streamed.check_below = unscaled_bits_bound(padded, size());
  // The round's skeleton (collective/detail/round.h): the exchange reduces, this rank finishes
  // the mean if it holds the sum, and the exchange distributes it where not every rank does.
  const detail::ExchangeAlgorithm& exchange = detail::exchange_algorithm(o.exchange);
  const detail::RoundSum sum = exchange.reduce(ctx, rotated);
  if (sum.held) detail::finish_round(ctx, sum, mean_out);
  if (exchange.distribute != nullptr) exchange.distribute(ctx, mean_out);
  if (report.scale_exponent != 0) {
    phase.reset();
    report.saturated = scale_back(mean_out, report.scale_exponent);
    report.times.inverse_ms += phase.elapsed_ms();
  }
  report.compression_ratio =
      report.payload_bytes ? double(report.float_bytes) / double(report.payload_bytes) : 0.0;
  report.bits_per_coordinate = 8.0 * double(report.payload_bytes) / double(agreed.d);
  report.times.total_ms = total.elapsed_ms();
  return report;
}

}  // namespace dme
