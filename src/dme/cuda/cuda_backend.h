// The CUDA backend of dme: rotation, level solvers, stochastic rounding, packing and decoding on
// the GPU, giving the same signs, levels, codes and payload bytes as the CPU code for the same
// input, seed and round. Including this header needs no CUDA header; it exists only in builds
// with DME_HAVE_CUDA (configure with -DDME_ENABLE_CUDA=ON).
//
// Spans of float data are DEVICE memory unless a parameter says "host" (they are checked: a host
// pointer gives dme::Error). Work runs on the CUDA default stream of the current device; calls
// that return host results synchronise.
//
//   dme::cuda::DeviceBuffer<float> x(host_vector), y(rot.padded());
//   dme::cuda::CudaRotation rot(seed, round, 2, d);   rot.forward(x.span(), y.span());
//   dme::cuda::Compressor comp;                       comp.compress(y.span(), header, plan, ...);
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "dme/codec/payload.h"
#include "dme/collective/compression.h"
#include "dme/collective/report.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/quantization/solver.h"
#include "dme/rotation/fwht.h"

namespace dme::cuda {

/// True when the CUDA runtime reports at least one usable device.
bool available();
/// Name, compute capability, SM count and memory of the current device, or why there is none.
std::string device_summary();
/// Waits for all work queued on the device; throws dme::Error on an asynchronous kernel error.
void synchronize();

/// dst <- src, device to device (cudaMemcpy): the reference of the benchmarks' bandwidths.
/// @param dst device, size n;  @param src device, size n
void copy(std::span<float> dst, std::span<const float> src);

/// x[i] <- +0. @param x device, size n
void fill_zero(std::span<float> x);
/// x[i] <- x[i] / divisor (IEEE division, as the CPU's `v /= n` of the mean).
/// @param x device, size n
void divide(std::span<float> x, float divisor);
/// dst[i] <- dst[i] + src[i]. @param dst device, size n;  @param src device, size n
void add(std::span<float> dst, std::span<const float> src);

/// Device time between start() and stop(), from CUDA events on the default stream: the kernels'
/// own time, without the host's launch and synchronisation overheads.
class DeviceTimer {
 public:
  DeviceTimer();
  ~DeviceTimer();
  DeviceTimer(const DeviceTimer&) = delete;
  DeviceTimer& operator=(const DeviceTimer&) = delete;

  void start();
  /// Waits for the work queued before stop(); milliseconds since start().
  double stop();

 private:
  void* start_ = nullptr;  // cudaEvent_t
  void* stop_ = nullptr;
};

namespace detail {
void* allocate(std::size_t bytes);
void release(void* p) noexcept;
void copy_to_device(void* dst, const void* host_src, std::size_t bytes);
void copy_to_host(void* host_dst, const void* src, std::size_t bytes);
/// Whether p points into device (or managed) memory.
bool is_device_memory(const void* p);
/// Throws dme::Error naming `what` unless [p, p + bytes) is device (or managed) memory.
void check_device_memory(const void* p, std::size_t bytes, const char* what);
}  // namespace detail

/// Device memory for n values of T, released on destruction (move-only).
template <class T>
class DeviceBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n)
      : data_(static_cast<T*>(detail::allocate(n * sizeof(T)))), size_(n) {}
  /// A device copy of host data.
  explicit DeviceBuffer(std::span<const T> host) : DeviceBuffer(host.size()) { upload(host); }
  ~DeviceBuffer() { detail::release(data_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<T> span() noexcept { return {data_, size_}; }
  std::span<const T> span() const noexcept { return {data_, size_}; }

  /// Reallocates to n values when the size differs (the contents are then undefined).
  void resize(std::size_t n) {
    if (n != size_) *this = DeviceBuffer(n);
  }
  /// @param host size size()
  void upload(std::span<const T> host);
  /// @param host size size()
  void download(std::span<T> host) const;
  std::vector<T> to_host() const {
    std::vector<T> v(size_);
    download(v);
    return v;
  }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// ---- rotation ---------------------------------------------------------------------------------

/// In-place FWHT of device data, as dme::fwht: x <- H x (or H x / sqrt(n)).
/// @param x device, size n = 2^L <= 2^31, 16-byte aligned
void fwht(std::span<float> x, Normalize norm = Normalize::kNone);
/// Kernel launches (each one read and one write of the vector) of fwht on n values.
int fwht_passes(std::size_t n);

/// dme::Rotation on the device: the same sign vectors (PhiloxStream(seed, round, 4·stream + j + 1,
/// kRotationSigns)), so forward and inverse agree with the CPU to float rounding. The sign masks
/// (D/8 bytes per RHT) are made once, on the device. Not thread-safe (forward uses a status word).
class CudaRotation {
 public:
  CudaRotation(std::uint64_t seed, std::uint32_t round, int k, std::size_t d,
               std::uint32_t stream = 0);

  std::size_t d() const noexcept { return d_; }
  std::size_t padded() const noexcept { return padded_; }
  int count() const noexcept { return k_; }

  /// The signs of (seed, round, stream) for the same d and k, without reallocating: a new round
  /// of an estimator costs one small kernel.
  void rekey(std::uint64_t seed, std::uint32_t round, std::uint32_t stream = 0);
  /// Kernel launches (read-write passes over the padded vector) of forward or inverse.
  int passes() const noexcept;

  /// y <- R(x padded with zeros). Throws dme::Error naming the first NaN or Inf of x.
  /// @param x device, size d;  @param y device, size padded(), 16-byte aligned
  void forward(std::span<const float> x, std::span<float> y) const;
  /// @param y device, size padded(), 16-byte aligned
  void forward_inplace(std::span<float> y) const;
  /// x <- first d coordinates of R⁻¹(y); y is overwritten with R⁻¹(y).
  /// @param y device, size padded();  @param x device, size d
  void inverse(std::span<float> y, std::span<float> x) const;
  void inverse_inplace(std::span<float> y) const;

 private:
  void run(std::span<float> y, bool inverse, const float* src, float* copy_out) const;

  std::size_t d_;
  std::size_t padded_;
  int k_;
  std::size_t mask_words_ = 0;
  DeviceBuffer<std::uint32_t> masks_;                   // k sign masks of mask_words_ words each
  mutable DeviceBuffer<unsigned long long> first_bad_;  // NaN/Inf report of forward()
};

// ---- quantization and payloads --------------------------------------------------------------

/// Where the time of solve_levels went (milliseconds, host wall clock around synchronised steps).
struct SolveTimes {
  double scan_ms = 0;       ///< min/max and finiteness pass on the device
  double histogram_ms = 0;  ///< quiver-apx: per-bin counts and sums on the device
  double sort_ms = 0;       ///< exact solvers: CUB radix sort on the device
  double transfer_ms = 0;   ///< device-to-host copies the host solver needs
  double host_ms = 0;       ///< the DP (or a host-only solver) on the host
  double total() const { return scan_ms + histogram_ms + sort_ms + transfer_ms + host_ms; }
};

/// Device-resident quantizer and codec. Holds scratch buffers that grow to the largest call, so
/// reuse one per vector size. Not thread-safe.
class Compressor {
 public:
  Compressor();
  ~Compressor();
  Compressor(Compressor&&) noexcept;
  Compressor& operator=(Compressor&&) noexcept;

  /// The levels dme::solve_levels(host copy of x, s, solver, options) returns:
  ///   quiver-apx   min/max and the (m+1)-bin histogram on the device, the SMAWK DP on the host;
  ///   uniform/rtn  min/max on the device;
  ///   quiver, quiver-accel, kmeans, zipml*, ...  sorted on the device (CUB), DP on the host;
  ///   alq, amq, zipml-cp-unif  on the host after a copy.
  /// Same errors as dme::solve_levels (NaN/Inf named by index, s, m).
  /// @param x device, size d >= 1
  std::vector<float> solve_levels(std::span<const float> x, std::size_t s, Solver solver,
                                  const SolverOptions& options = {}, SolveTimes* times = nullptr);

  /// sorted <- x in ascending order (-0 before +0), the device sort of the exact solvers.
  /// @param x device, size n;  @param sorted device, size n
  void sort(std::span<const float> x, std::span<float> sorted);

  /// Rounds x to the levels of its buckets and packs the codes, byte-identical to the CPU's
  /// stochastic_round (draw of coordinate i: stream.uniform_float(h.first + i)) or nearest_round,
  /// then encode(): out receives exactly the bytes dme::encode would write for those codes.
  /// Values outside a bucket's level range (stochastic) or NaN -> dme::Error naming the index.
  /// @param x device, size h.count;  levels: one bucket per h.bucket_size coordinates
  /// times (when given): round_pack_ms gets the device rounding and packing and the payload's
  /// host sections, transfer_ms the copy of the codes to the host.
  void encode(std::span<const float> x, const PayloadHeader& h, const LevelTable& levels,
              bool nearest, const PhiloxStream& stream, std::vector<std::byte>& out,
              PhaseTimes* times = nullptr);

  /// dme::detail::compress_chunk on the device: levels per bucket (solve_levels), then encode().
  /// @param chunk device, size h.count
  void compress(std::span<const float> chunk, const PayloadHeader& h, const CompressionPlan& plan,
                const PhiloxStream& stream, std::vector<std::byte>& out,
                PhaseTimes* times = nullptr);

  /// dme::decode_accumulate with a device accumulator: the payload (host) is validated exactly
  /// as on the CPU (header, checksum, levels, every code) before the first addition, so on
  /// dme::Error acc is unchanged.
  /// @param payload host bytes;  @param acc device, size header.count
  PayloadHeader decode_accumulate(std::span<const std::byte> payload,
                                  const DecodeExpectations& expect, std::span<float> acc);

  struct Impl;  ///< device scratch, opaque (named here for the backend's own source files)

 private:
  std::unique_ptr<Impl> impl_;
};

/// The compression seam (dme/collective/compression.h) on the device, what MeanEstimator holds
/// for Backend::kCuda: the round's vectors in device memory, the rotation a CudaRotation, and
/// Compressor's rounding, packing and decoding, so a round moves only the input (up), the
/// payloads and the mean (down); the CPU implementation's bytes and means, bit for bit. Host
/// chunks and accumulators are accepted too (copied to the device and back).
std::unique_ptr<dme::Compression> make_compression();

template <class T>
void DeviceBuffer<T>::upload(std::span<const T> host) {
  DME_CHECK(host.size() == size_, "DeviceBuffer::upload: " << host.size()
                                                           << " host values for a device buffer of "
                                                           << size_);
  detail::copy_to_device(data_, host.data(), size_ * sizeof(T));
}

template <class T>
void DeviceBuffer<T>::download(std::span<T> host) const {
  DME_CHECK(
      host.size() == size_,
      "DeviceBuffer::download: " << host.size() << " host values for a device buffer of " << size_);
  detail::copy_to_host(host.data(), data_, size_ * sizeof(T));
}

}  // namespace dme::cuda
