// Shared pieces of the CUDA backend tests: the skip-without-GPU fixture and fixed-seed inputs.
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/cuda/cuda_backend.h"

namespace dme::test {

/// Base of every CUDA test: without a device the test is skipped, saying why.
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda::available()) GTEST_SKIP() << "CUDA test skipped: " << cuda::device_summary();
  }
};

/// Standard normal draws (Box-Muller on the kInput stream), scaled and shifted.
inline std::vector<float> normal_vector(std::size_t n, std::uint64_t seed, float mean = 0.0f,
                                        float sigma = 1.0f) {
  const PhiloxStream rng(seed, 0, 0, Purpose::kInput);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u1 = 1.0 - rng.uniform_double(2 * i), u2 = rng.uniform_double(2 * i + 1);
    x[i] = mean + sigma * static_cast<float>(std::sqrt(-2.0 * std::log(u1)) *
                                             std::cos(2.0 * 3.14159265358979323846 * u2));
  }
  return x;
}

/// LogNormal(0, sigma²) draws: heavy right tail, the QUIVER paper's test distribution.
inline std::vector<float> lognormal_vector(std::size_t n, std::uint64_t seed, float sigma = 1.0f) {
  std::vector<float> x = normal_vector(n, seed, 0.0f, sigma);
  for (float& v : x) v = std::exp(v);
  return x;
}

inline double norm2(std::span<const float> x) {
  double s = 0;
  for (float v : x) s += double(v) * v;
  return std::sqrt(s);
}

/// ‖a - b‖₂.
inline double distance(std::span<const float> a, std::span<const float> b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return std::sqrt(s);
}

/// The bit patterns of floats, so that EXPECT_EQ tells -0 from +0.
inline std::vector<std::uint32_t> bits_of(std::span<const float> v) {
  std::vector<std::uint32_t> b(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) b[i] = std::bit_cast<std::uint32_t>(v[i]);
  return b;
}

/// "" when a and b hold the same bits, else where they first differ and how many differ (short,
/// where EXPECT_EQ on whole vectors would print millions of values).
inline std::string bit_difference(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size())
    return "sizes " + std::to_string(a.size()) + " and " + std::to_string(b.size());
  std::size_t count = 0, first = 0;
  for (std::size_t i = a.size(); i-- > 0;)
    if (std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i])) {
      ++count;
      first = i;
    }
  if (count == 0) return "";
  return std::to_string(count) + " of " + std::to_string(a.size()) + " differ, first at " +
         std::to_string(first) + ": " + std::to_string(a[first]) + " vs " +
         std::to_string(b[first]);
}

/// The message of the dme::Error f throws ("" when it throws nothing).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    // Without the source location (" [in function at file:line]"), which names the CPU or the
    // CUDA source that threw.
    const std::string& m = e.message();
    return m.substr(0, m.rfind(" [in "));
  }
  return "";
}

}  // namespace dme::test
