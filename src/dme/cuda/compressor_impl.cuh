// The state behind dme::cuda::Compressor, shared by its solver half (solve.cpp) and its codec
// half (codec.cpp). Host code.
#pragma once

#include <span>
#include <vector>

#include "dme/cuda/cuda_backend.h"
#include "dme/cuda/quantize.cuh"

namespace dme::cuda {

/// Device scratch that grows to the largest call and is reused after.
struct Compressor::Impl {
  DeviceBuffer<detail::ScanWords> scan{1};
  DeviceBuffer<unsigned long long> flag{1};
  DeviceBuffer<float> grid;               // quiver-apx grid levels, m + 1
  DeviceBuffer<unsigned> counts;          // quiver-apx bin counts, m + 1
  DeviceBuffer<unsigned long long> sums;  // quiver-apx bin offset sums, m + 1
  DeviceBuffer<float> sorted;             // exact solvers: the sorted input
  DeviceBuffer<std::byte> sort_temp;
  DeviceBuffer<float> level_values;  // encode / decode: the level table
  DeviceBuffer<std::uint32_t> level_offsets;
  DeviceBuffer<std::byte> packed;  // the packed code section, word-padded
  std::vector<float> host_values;  // host copies for the host-side solvers
  std::vector<unsigned> host_counts;
  std::vector<unsigned long long> host_sums;
};

namespace detail {

template <class T>
void ensure_size(DeviceBuffer<T>& buffer, std::size_t n) {
  if (buffer.size() < n) buffer = DeviceBuffer<T>(n);
}

/// Min and max of device x exactly as the CPU's detail::scan_input computes them (the same
/// errors for empty input and NaN/Inf, naming `what`, the same bits for a zero minimum).
Extrema<float> scan_device(Compressor::Impl& im, std::span<const float> x, const char* what,
                           SolveTimes* times);

}  // namespace detail
}  // namespace dme::cuda
