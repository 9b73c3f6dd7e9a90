// CPU/GPU parity of the FWHT and the randomized Hadamard rotations: bit for bit, since the
// device runs every butterfly level in the CPU's order (rows then columns, the chain's odd
// transforms columns first: rotation/fwht.h) with the same scalings and sign flips, so that the
// CUDA backend's payloads are the CPU's.
//
// Tolerance of the round trips: one butterfly level of the orthonormal transform rounds every
// output once (relative error <= 2^-24) and is otherwise norm preserving, so a transform of L
// levels plus its scaling is within (L + 1)·2^-24·‖x‖₂ of the exact result in the 2-norm, and k
// of them within k·(L + 1)·2^-24·‖x‖₂; twice that bounds a forward and inverse.
#include <bit>
#include <cstring>

#include "cuda/cuda_test_util.h"
#include "dme/rotation/fwht.h"
#include "dme/rotation/rht.h"

namespace dme::test {
namespace {

using CudaFwht = CudaTest;
using CudaRotationTest = CudaTest;

constexpr double kEps = 0x1p-24;

double rotation_bound(int k, std::size_t padded) {
  const int levels = std::countr_zero(padded);
  return 2.0 * k * (levels + 1) * kEps;
}

TEST_F(CudaFwht, EqualsCpuBitForBitAtEveryPassStructure) {
  // 2^0..2^12: one block; 2^13: the local pass; 2^14..2^16: local + the rows' global pass;
  // beyond: + one column pass (2^17..2^26), + two (2^27).
  for (int l : {0, 1, 2, 5, 11, 12, 13, 14, 16, 17, 20, 23, 24, 26, 27}) {
    const std::size_t n = std::size_t(1) << l;
    const std::vector<float> x = normal_vector(n, 100 + l);
    for (Normalize norm : {Normalize::kNone, Normalize::kOrthonormal}) {
      std::vector<float> cpu = x;
      fwht(std::span<float>(cpu), norm);
      cuda::DeviceBuffer<float> dev{std::span<const float>(x)};
      cuda::fwht(dev.span(), norm);
      const std::vector<float> gpu = dev.to_host();
      EXPECT_EQ(bit_difference(gpu, cpu), "")
          << "n = 2^" << l << (norm == Normalize::kNone ? " unnormalised" : " orthonormal");
    }
  }
}

TEST_F(CudaFwht, IsItsOwnInverseUpToScale) {
  const std::size_t n = std::size_t(1) << 22;
  const std::vector<float> x = lognormal_vector(n, 7);
  cuda::DeviceBuffer<float> dev{std::span<const float>(x)};
  cuda::fwht(dev.span(), Normalize::kOrthonormal);
  cuda::fwht(dev.span(), Normalize::kOrthonormal);
  EXPECT_LE(distance(dev.to_host(), x), 0.5 * rotation_bound(2, n) * norm2(x));
}

TEST_F(CudaFwht, PassCounts) {
  EXPECT_EQ(cuda::fwht_passes(1), 1);
  EXPECT_EQ(cuda::fwht_passes(std::size_t(1) << 12), 1);
  EXPECT_EQ(cuda::fwht_passes(std::size_t(1) << 13), 1);
  EXPECT_EQ(cuda::fwht_passes(std::size_t(1) << 14), 2);
  EXPECT_EQ(cuda::fwht_passes(std::size_t(1) << 16), 2);
  EXPECT_EQ(cuda::fwht_passes(std::size_t(1) << 17), 3);
  EXPECT_EQ(cuda::fwht_passes(std::size_t(1) << 26), 3);
  EXPECT_EQ(cuda::fwht_passes(std::size_t(1) << 27), 4);
  EXPECT_EQ(cuda::fwht_passes(std::size_t(1) << 31), 4);
  // A chain shares a launch where one transform ends with the pass the next begins with:
  // 2 RHTs rows·columns | columns·rows, 3 RHTs then | rows·columns.
  EXPECT_EQ(cuda::CudaRotation(1, 0, 3, 1000).passes(), 1);
  EXPECT_EQ(cuda::CudaRotation(1, 0, 3, 10000).passes(), 6);  // 2^14: rows only, two passes
  EXPECT_EQ(cuda::CudaRotation(1, 0, 2, std::size_t(1) << 20).passes(), 5);
  EXPECT_EQ(cuda::CudaRotation(1, 0, 3, std::size_t(1) << 24).passes(), 8);
}

TEST_F(CudaFwht, RejectsBadInput) {
  cuda::DeviceBuffer<float> dev(12);
  EXPECT_THROW(cuda::fwht(std::span<float>(dev.data(), 3)), Error);      // not a power of two
  EXPECT_THROW(cuda::fwht(std::span<float>(dev.data() + 1, 8)), Error);  // misaligned
  std::vector<float> host(8);
  EXPECT_NE(error_of([&] { cuda::fwht(host); }).find("expected device memory"), std::string::npos);
}

TEST_F(CudaRotationTest, ForwardAndInverseMatchCpu) {
  const std::size_t sizes[] = {1,
                               3,
                               1000,
                               8191,
                               8192,
                               8193,
                               65537,
                               (std::size_t(1) << 20) + 1,
                               (std::size_t(1) << 23) + 5,
                               (std::size_t(1) << 26) - 3};
  for (int k = 1; k <= kMaxRotations; ++k)
    for (std::size_t d : sizes)
      for (std::uint32_t stream : {0u, 3u}) {
        const Rotation cpu(42, 7, k, d, stream);
        const cuda::CudaRotation gpu(42, 7, k, d, stream);
        ASSERT_EQ(gpu.padded(), cpu.padded());
        const std::vector<float> x = lognormal_vector(d, d + k);
        std::vector<float> y_cpu(cpu.padded());
        cpu.forward(x, y_cpu);
        cuda::DeviceBuffer<float> x_dev{std::span<const float>(x)}, y_dev(gpu.padded());
        gpu.forward(x_dev.span(), y_dev.span());
        EXPECT_EQ(bit_difference(y_dev.to_host(), y_cpu), "") << "forward k=" << k << " d=" << d;

        // Inverse of the same (CPU) rotated vector on both sides.
        std::vector<float> back_cpu(d), y_copy = y_cpu;
        cpu.inverse(y_copy, back_cpu);
        y_dev.upload(y_cpu);
        cuda::DeviceBuffer<float> back_dev(d);
        gpu.inverse(y_dev.span(), back_dev.span());
        EXPECT_EQ(bit_difference(back_dev.to_host(), back_cpu), "") << "inverse k=" << k << " d=" << d;
        // inverse() leaves R⁻¹(y) in y: its first d coordinates are the output.
        const std::vector<float> y_after = y_dev.to_host();
        EXPECT_EQ(std::memcmp(y_after.data(), back_dev.to_host().data(), d * sizeof(float)), 0);
      }
}

TEST_F(CudaRotationTest, RoundTripRestoresInputAndPadding) {
  for (int k = 1; k <= kMaxRotations; ++k)
    for (std::size_t d : {std::size_t(5), std::size_t(100000), (std::size_t(1) << 22) - 1}) {
      const cuda::CudaRotation rot(9, 1, k, d);
      const std::vector<float> x = normal_vector(d, 3 * d + k, 1.0f, 2.0f);
      cuda::DeviceBuffer<float> x_dev{std::span<const float>(x)}, y(rot.padded());
      rot.forward(x_dev.span(), y.span());
      rot.inverse_inplace(y.span());
      const std::vector<float> back = y.to_host();
      const double bound = rotation_bound(k, rot.padded()) * norm2(x);
      EXPECT_LE(distance(std::span<const float>(back).first(d), x), bound) << "k=" << k;
      // The zero padding comes back as (nearly) zero.
      EXPECT_LE(norm2(std::span<const float>(back).subspan(d)), bound) << "k=" << k;
      // forward_inplace on the padded vector is forward().
      cuda::DeviceBuffer<float> z(rot.padded());
      std::vector<float> padded_x(rot.padded(), 0.0f);
      std::copy(x.begin(), x.end(), padded_x.begin());
      z.upload(padded_x);
      rot.forward_inplace(z.span());
      rot.forward(x_dev.span(), y.span());
      EXPECT_EQ(bits_of(z.to_host()), bits_of(y.to_host())) << "k=" << k;
    }
}

TEST_F(CudaRotationTest, RekeyEqualsAFreshRotation) {
  const std::size_t d = 50000;
  const std::vector<float> x = normal_vector(d, 12);
  cuda::DeviceBuffer<float> x_dev{std::span<const float>(x)};
  cuda::CudaRotation reused(1, 0, 2, d);
  const cuda::CudaRotation fresh(77, 5, 2, d, 4);
  reused.rekey(77, 5, 4);
  cuda::DeviceBuffer<float> a(fresh.padded()), b(fresh.padded());
  reused.forward(x_dev.span(), a.span());
  fresh.forward(x_dev.span(), b.span());
  EXPECT_EQ(bits_of(a.to_host()), bits_of(b.to_host()));
}

TEST_F(CudaRotationTest, ZeroRotationsIsTheIdentity) {
  const std::vector<float> x = normal_vector(777, 5);
  const cuda::CudaRotation rot(1, 2, 0, x.size());
  ASSERT_EQ(rot.padded(), x.size());
  cuda::DeviceBuffer<float> x_dev{std::span<const float>(x)}, y(x.size()), back(x.size());
  rot.forward(x_dev.span(), y.span());
  EXPECT_EQ(bits_of(y.to_host()), bits_of(x));
  rot.inverse(y.span(), back.span());
  EXPECT_EQ(bits_of(back.to_host()), bits_of(x));
}

TEST_F(CudaRotationTest, NonFiniteInputNamesTheFirstIndex) {
  for (int k : {0, 2}) {
    std::vector<float> x = normal_vector(20000, 1);
    x[12345] = std::numeric_limits<float>::quiet_NaN();
    x[17000] = std::numeric_limits<float>::infinity();
    const Rotation cpu(1, 0, k, x.size());
    const cuda::CudaRotation gpu(1, 0, k, x.size());
    cuda::DeviceBuffer<float> x_dev{std::span<const float>(x)}, y(gpu.padded());
    std::vector<float> y_cpu(cpu.padded());
    const std::string want = error_of([&] { cpu.forward(x, y_cpu); });
    EXPECT_NE(want.find("index 12345"), std::string::npos) << want;
    EXPECT_EQ(error_of([&] { gpu.forward(x_dev.span(), y.span()); }), want) << "k=" << k;
  }
}

TEST_F(CudaRotationTest, RejectsBadArguments) {
  EXPECT_THROW(cuda::CudaRotation(1, 0, 4, 10), Error);
  EXPECT_THROW(cuda::CudaRotation(1, 0, 1, 0), Error);
  EXPECT_THROW(cuda::CudaRotation(1, 0, 1, kMaxRotationLength + 1), Error);
  const cuda::CudaRotation rot(1, 0, 2, 100);
  cuda::DeviceBuffer<float> x(100), y(128), small(127), wide(129);
  EXPECT_THROW(rot.forward(x.span(), small.span()), Error);
  EXPECT_THROW(rot.forward(std::span<const float>(x.data(), 99), y.span()), Error);
  EXPECT_THROW(rot.forward(x.span(), std::span<float>(wide.data() + 1, 128)), Error);  // misaligned
  std::vector<float> host_x(100), host_y(128);
  EXPECT_NE(error_of([&] { rot.forward(host_x, y.span()); }).find("expected device memory"),
            std::string::npos);
  EXPECT_NE(error_of([&] { rot.inverse_inplace(host_y); }).find("expected device memory"),
            std::string::npos);
}

}  // namespace
}  // namespace dme::test
