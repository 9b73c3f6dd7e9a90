#include "dme/collective/compression.h"

#include "dme/collective/detail/compress.h"
#include "dme/collective/detail/eden.h"
#if defined(DME_HAVE_CUDA)
#include "dme/cuda/cuda_backend.h"
#endif

namespace dme {

CompressionPlan compression_plan(const Options& o) {
  return {o.s, o.solver, o.solver_options, uses_nearest_rounding(o), o.bucket_size};
}

std::unique_ptr<Compression> make_compression(Backend backend, Scheme scheme) {
  if (scheme == Scheme::kEden) {
    DME_CHECK(backend == Backend::kCpu, "scheme 'eden' has no " << backend_name(backend)
                                                                << " implementation; use backend "
                                                                   "'cpu'");
    return detail::make_eden_compression();
  }
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

void check_plan(const PayloadHeader& h, const CompressionPlan& plan, std::size_t chunk_size) {
  DME_CHECK(h.bucket_size == plan.bucket_size && h.s == plan.s,
            "compress: header (s = " << h.s << ", bucket_size = " << h.bucket_size
                                     << ") disagrees with the plan (s = " << plan.s
                                     << ", bucket_size = " << plan.bucket_size << ")");
  DME_CHECK(chunk_size == h.count,
            "compress: chunk of " << chunk_size << " values for a header of count " << h.count);
}

}  // namespace detail
}  // namespace dme
