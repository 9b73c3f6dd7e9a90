#include "dme/collective/compression.h"

#include <algorithm>
#include <cmath>

#include "dme/collective/detail/compress.h"
#include "dme/collective/detail/eden.h"
#include "dme/collective/detail/quic_fl.h"
#include "dme/rotation/rht.h"
#if defined(DME_HAVE_CUDA)
#include "dme/cuda/cuda_backend.h"
#endif

namespace dme {

CompressionPlan compression_plan(const Options& o) {
  CompressionPlan plan{o.s, o.solver, o.solver_options, uses_nearest_rounding(o), o.bucket_size};
  plan.shared_dither = o.scheme == Scheme::kAsqShared;
  plan.norm_grid = o.scheme == Scheme::kQsgd;
  plan.wide_groups = wide_groups(o.fractional_bits);
  return plan;
}

std::span<float> Compression::vector(RoundVector which, std::size_t n) {
  TransformVector<float>& v = host_vectors_[static_cast<int>(which)];
  if (v.size() < n) v.resize(n);
  return std::span<float>(v).first(n);
}

std::vector<std::byte> Compression::take_bytes() {
  if (spare_bytes_.empty()) return {};
  std::vector<std::byte> bytes = std::move(spare_bytes_.back());
  spare_bytes_.pop_back();
  return bytes;
}

void Compression::give_bytes(std::vector<std::byte>&& bytes) noexcept {
  std::vector<std::byte> freed = std::move(bytes);  // bytes is left empty in every case
  if (freed.capacity() == 0 || spare_bytes_.size() >= kSpareBuffers) return;
  freed.clear();
  try {
    spare_bytes_.push_back(std::move(freed));
  } catch (...) {  // no room to keep it: freed as before
  }
}

Rotation host_rotation(const RotationKey& key) {
  return Rotation(key.seed, key.round, key.count, key.d, key.stream, key.layout, key.block);
}

bool Compression::rotate(const RotationKey& key, std::span<const float> x, std::span<float> y,
                         Extrema<float>& range) {
  host_rotation(key).forward(x, y, range.min, range.max);
  return true;
}

void Compression::inverse(const RotationKey& key, std::span<float> v) {
  host_rotation(key).inverse_inplace(v);
}

void Compression::fill_zero(std::span<float> v) {
  std::fill(v.begin(), v.end(), 0.0f);
}

void Compression::divide(std::span<float> v, float divisor) {
  // By a power of two, x / 2^k and x · 2^-k are the same real number, so IEEE rounding gives
  // the same float, subnormals included; the multiply runs at several per cycle where a divide
  // takes cycles (3 ms of a 2-rank mean at d = 2^24 on an Intel Xeon family 6 model 207).
  int exponent = 0;
  if (std::frexp(divisor, &exponent) == 0.5f && exponent > -125 && exponent < 127) {
    const float inverse = std::ldexp(1.0f, 1 - exponent);  // 1 / divisor, exact
    for (float& x : v) x *= inverse;
    return;
  }
  for (float& x : v) x /= divisor;
}

void Compression::add(std::span<float> dst, std::span<const float> src) {
  DME_ASSERT(dst.size() == src.size());
  for (std::size_t i = 0; i < dst.size(); ++i) dst[i] += src[i];
}

void Compression::decode_accumulate(std::span<const std::byte> payload,
                                    const DecodeExpectations& expect, std::span<float> acc) {
  dme::decode_accumulate(payload, expect, acc);
}

void Compression::to_host(std::span<const float> v, std::span<float> host) {
  DME_ASSERT(v.size() == host.size());
  std::copy(v.begin(), v.end(), host.begin());
}

std::unique_ptr<Compression> make_compression(Backend backend, Scheme scheme) {
  DME_CHECK(backend == Backend::kCpu || scheme == Scheme::kAsq,
            "scheme '" << scheme_name(scheme) << "' has no " << backend_name(backend)
                       << " implementation; use backend 'cpu'");
  if (scheme == Scheme::kEden) return detail::make_eden_compression();
  if (scheme == Scheme::kQuicFl) return detail::make_quic_fl_compression();
  switch (backend) {
    case Backend::kCpu:
      return detail::make_cpu_compression();
    case Backend::kCuda:
#if defined(DME_HAVE_CUDA)
      return cuda::make_compression();
#else
      DME_THROW(
          "backend 'cuda' requested but this build of dme has no CUDA backend "
          "(configure with -DDME_ENABLE_CUDA=ON on a machine with nvcc)");
#endif
  }
  DME_THROW("unknown backend " << static_cast<int>(backend));
}

namespace detail {

void check_plan(const PayloadHeader& h, const CompressionPlan& plan, std::size_t chunk_size,
                bool takes_two_widths) {
  DME_CHECK(plan.wide_groups == 0 || takes_two_widths,
            "compress: a fractional bit budget (" << int(plan.wide_groups)
                                                  << "/256 wide codes) is for the eden scheme");
  DME_CHECK(h.bucket_size == plan.bucket_size && h.s == plan.s,
            "compress: header (s = " << h.s << ", bucket_size = " << h.bucket_size
                                     << ") disagrees with the plan (s = " << plan.s
                                     << ", bucket_size = " << plan.bucket_size << ")");
  DME_CHECK(chunk_size == h.count,
            "compress: chunk of " << chunk_size << " values for a header of count " << h.count);
  DME_CHECK(!plan.levels || (plan.bucket_size == 0 && !plan.shared_dither && !plan.norm_grid &&
                             !plan.levels->empty()),
            "compress: given levels need one bucket and the asq scheme (bucket_size = "
                << plan.bucket_size << ")");
}

}  // namespace detail
}  // namespace dme
