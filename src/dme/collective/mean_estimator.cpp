#include "dme/collective/mean_estimator.h"

#include "dme/collective/detail/agreement.h"
#include "dme/collective/detail/exchange.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/timer.h"
#include "dme/rotation/adaptive_count.h"
#include "dme/rotation/rht.h"

namespace dme {

struct MeanEstimator::Impl {
  mpi::Comm comm;
  Options options;
  std::uint32_t next_round;
  detail::CompressScratch scratch;
  AlignedVector<float> rotated;
  AlignedVector<float> accumulator;
};

MeanEstimator::MeanEstimator(MPI_Comm comm, Options options)
    : impl_(
          std::make_unique<Impl>(Impl{mpi::Comm(comm), options, options.first_round, {}, {}, {}})) {
  // Agree on the validity of the options now, so that no rank is left waiting.
  detail::LocalStatus status;
  try {
    validate(impl_->options);
  } catch (const Error& e) {
    status.ok = false;
    status.message = e.message();
  }
  std::uint64_t meta = 0;
  status.fingerprint = options_fingerprint(impl_->options);
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

detail::LocalStatus check_local(std::span<const float> local, std::span<float> mean_out,
                                const Options& options) {
  detail::LocalStatus status;
  status.d = local.size();
  status.fingerprint = options_fingerprint(options);
  try {
    DME_CHECK(!local.empty(), "empty input vector");
    DME_CHECK(mean_out.size() == local.size(), "output has length " << mean_out.size()
                                                                    << " but the input has length "
                                                                    << local.size());
    padded_length(local.size());  // throws beyond the supported length
    check_finite(local, "input vector");
    status.rotations =
        options.rotations == kAutoRotations ? adaptive_rotation_count(local) : options.rotations;
  } catch (const Error& e) {
    status.ok = false;
    status.message = e.message();
  }
  return status;
}

}  // namespace

Report MeanEstimator::estimate(std::span<const float> local, std::span<float> mean_out) {
  Impl& im = *impl_;
  Timer total;
  Report report;
  report.round = im.next_round++;

  Timer phase;
  const detail::LocalStatus status = check_local(local, mean_out, im.options);
  report.times.rotate_ms += phase.elapsed_ms();
  phase.reset();
  const detail::AgreedStatus agreed =
      detail::agree(status, im.comm.get(), report.metadata_bytes_sent);
  report.metadata_bytes_received = report.metadata_bytes_sent;
  report.times.exchange_ms += phase.elapsed_ms();

  phase.reset();
  const Options& o = im.options;
  const std::uint32_t stream = rotation_stream(o.shared_rotation, rank());
  const Rotation rotation(o.seed, report.round, agreed.rotations, agreed.d, stream);
  im.rotated.resize(rotation.padded());
  detail::KnownRange range{};
  rotation.forward(local, std::span<float>(im.rotated), range.min, range.max);
  report.times.rotate_ms += phase.elapsed_ms();

  report.rotations = agreed.rotations;
  report.float_bytes = 4 * agreed.d;
  detail::CompressPlan plan{o.s, o.solver, o.solver_options, uses_nearest_rounding(o),
                            o.bucket_size};
  detail::RoundContext ctx{
      im.comm.get(),     rank(),           size(),   o,      plan,       report.round,   agreed.d,
      rotation.padded(), agreed.rotations, rotation, report, im.scratch, im.accumulator, &range};
  switch (o.exchange) {
    case Exchange::kAllgather:
      detail::exchange_allgather(ctx, im.rotated, mean_out);
      break;
    case Exchange::kGatherBcast:
      detail::exchange_gather_bcast(ctx, im.rotated, mean_out);
      break;
    case Exchange::kReduceScatter:
      detail::exchange_reduce_scatter(ctx, im.rotated, mean_out);
      break;
  }
  report.compression_ratio =
      report.payload_bytes ? double(report.float_bytes) / double(report.payload_bytes) : 0.0;
  report.bits_per_coordinate = 8.0 * double(report.payload_bytes) / double(agreed.d);
  report.times.total_ms = total.elapsed_ms();
  return report;
}

}  // namespace dme
