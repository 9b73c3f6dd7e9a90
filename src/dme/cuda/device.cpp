// Device queries, memory and error reporting of the CUDA backend.
#include <cuda_runtime.h>

#include <sstream>

#include "dme/core/error.h"
#include "dme/cuda/check.cuh"
#include "dme/cuda/cuda_backend.h"
#include "dme/cuda/quantize.cuh"

namespace dme::cuda {

namespace detail {

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  std::ostringstream os;
  os << "CUDA error " << cudaGetErrorName(err) << " (" << cudaGetErrorString(err) << ") in " << call
     << " at " << file << ":" << line;
  throw Error(os.str(), error_rank());
}

void* allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // reset the runtime's last-error state; the error is reported below
    std::size_t free = 0, total = 0;
    cudaMemGetInfo(&free, &total);
    DME_THROW("out of device memory: allocating " << bytes << " bytes with " << free << " of "
                                                  << total << " bytes free");
  }
  DME_CUDA_CHECK(err);
  return p;
}

void release(void* p) noexcept {
  if (p) cudaFree(p);  // errors here would only repeat an earlier, reported one
}

void copy_to_device(void* dst, const void* host_src, std::size_t bytes) {
  if (bytes) DME_CUDA_CHECK(cudaMemcpy(dst, host_src, bytes, cudaMemcpyHostToDevice));
}

void copy_to_host(void* host_dst, const void* src, std::size_t bytes) {
  if (bytes) DME_CUDA_CHECK(cudaMemcpy(host_dst, src, bytes, cudaMemcpyDeviceToHost));
}

namespace {
cudaMemoryType memory_type(const void* p) {
  cudaPointerAttributes attr{};
  const cudaError_t err = cudaPointerGetAttributes(&attr, p);
  if (err == cudaErrorInvalidValue)
    cudaGetLastError();
  else
    DME_CUDA_CHECK(err);
  return attr.type;
}
}  // namespace

bool is_device_memory(const void* p) {
  const cudaMemoryType t = memory_type(p);
  return t == cudaMemoryTypeDevice || t == cudaMemoryTypeManaged;
}

void check_device_memory(const void* p, std::size_t bytes, const char* what) {
  if (bytes == 0) return;
  DME_CHECK(p != nullptr, what << ": null pointer for " << bytes << " bytes of device memory");
  const cudaMemoryType type = memory_type(p);
  DME_CHECK(type == cudaMemoryTypeDevice || type == cudaMemoryTypeManaged,
            what << ": expected device memory (cudaMalloc or dme::cuda::DeviceBuffer), got a "
                 << (type == cudaMemoryTypeHost ? "pinned host" : "host") << " pointer");
}

}  // namespace detail

bool available() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return count > 0;
}

std::string device_summary() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return std::string("no CUDA device: ") + cudaGetErrorString(err);
  }
  if (count == 0) return "no CUDA device";
  int dev = 0;
  DME_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp p{};
  DME_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  std::ostringstream os;
  os << p.name << " (sm_" << p.major << p.minor << ", " << p.multiProcessorCount << " SMs, "
     << static_cast<double>(p.totalGlobalMem) / (1 << 30) << " GiB)";
  return os.str();
}

void synchronize() {
  DME_CUDA_CHECK(cudaDeviceSynchronize());
}

void copy(std::span<float> dst, std::span<const float> src) {
  DME_CHECK(dst.size() == src.size(), "cuda::copy: destination of " << dst.size()
                                                                    << " values for a source of "
                                                                    << src.size());
  detail::check_device_memory(dst.data(), dst.size_bytes(), "cuda::copy destination");
  detail::check_device_memory(src.data(), src.size_bytes(), "cuda::copy source");
  if (!src.empty())
    DME_CUDA_CHECK(
        cudaMemcpyAsync(dst.data(), src.data(), src.size_bytes(), cudaMemcpyDeviceToDevice));
}

void fill_zero(std::span<float> x) {
  detail::check_device_memory(x.data(), x.size_bytes(), "cuda::fill_zero input");
  if (!x.empty()) DME_CUDA_CHECK(cudaMemsetAsync(x.data(), 0, x.size_bytes()));
}

void divide(std::span<float> x, float divisor) {
  detail::check_device_memory(x.data(), x.size_bytes(), "cuda::divide input");
  detail::divide_values(x.data(), x.size(), divisor, nullptr);
}

void add(std::span<float> dst, std::span<const float> src) {
  DME_CHECK(dst.size() == src.size(),
            "cuda::add: destination of " << dst.size() << " values for a source of " << src.size());
  detail::check_device_memory(dst.data(), dst.size_bytes(), "cuda::add destination");
  detail::check_device_memory(src.data(), src.size_bytes(), "cuda::add source");
  detail::add_values(dst.data(), src.data(), dst.size(), nullptr);
}

DeviceTimer::DeviceTimer() {
  cudaEvent_t a = nullptr, b = nullptr;
  DME_CUDA_CHECK(cudaEventCreate(&a));
  const cudaError_t err = cudaEventCreate(&b);
  if (err != cudaSuccess) cudaEventDestroy(a);
  DME_CUDA_CHECK(err);
  start_ = a;
  stop_ = b;
}

DeviceTimer::~DeviceTimer() {
  cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
}

void DeviceTimer::start() {
  DME_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(start_)));
}

double DeviceTimer::stop() {
  DME_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(stop_)));
  DME_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)));
  float ms = 0;
  DME_CUDA_CHECK(
      cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)));
  return ms;
}

}  // namespace dme::cuda
