// dme-microbench: Google Benchmark timings of the FWHT, the RHT and the Philox streams.
#include <benchmark/benchmark.h>

#include <cstring>

#include "dme/core/aligned_buffer.h"
#include "dme/core/rng.h"
#include "dme/rotation/fwht.h"
#include "dme/rotation/rht.h"

namespace {

dme::AlignedVector<float> input(std::size_t n) {
  dme::AlignedVector<float> x(n);
  dme::PhiloxStream s(1, 0, 0, dme::Purpose::kInput);
  for (std::size_t i = 0; i < n; ++i) x[i] = s.uniform_float(i) - 0.5f;
  return x;
}

void BM_Fwht(benchmark::State& state) {
  auto x = input(std::size_t(1) << state.range(0));
  for (auto _ : state) {
    dme::fwht(std::span<float>(x), dme::Normalize::kOrthonormal);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(x.size() * sizeof(float)));
}
BENCHMARK(BM_Fwht)->DenseRange(10, 24, 2)->Unit(benchmark::kMillisecond);

void BM_Memcpy(benchmark::State& state) {
  auto x = input(std::size_t(1) << state.range(0));
  dme::AlignedVector<float> y(x.size());
  for (auto _ : state) {
    std::memcpy(y.data(), x.data(), x.size() * sizeof(float));
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(x.size() * sizeof(float)));
}
BENCHMARK(BM_Memcpy)->DenseRange(10, 24, 2)->Unit(benchmark::kMillisecond);

void BM_RhtForward2(benchmark::State& state) {
  const std::size_t n = std::size_t(1) << state.range(0);
  auto x = input(n);
  dme::AlignedVector<float> y(n);
  dme::Rotation rot(1, 0, 2, n);
  for (auto _ : state) {
    rot.forward(x, y);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(n * sizeof(float)));
}
BENCHMARK(BM_RhtForward2)->Arg(20)->Arg(24)->Unit(benchmark::kMillisecond);

void BM_PhiloxUniforms(benchmark::State& state) {
  dme::PhiloxStream s(1, 0, 0, dme::Purpose::kRounding);
  std::uint64_t i = 0;
  for (auto _ : state) {
    float acc = 0;
    for (int k = 0; k < 1024; ++k) acc += s.uniform_float(i++);
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 1024);
}
BENCHMARK(BM_PhiloxUniforms);

}  // namespace

BENCHMARK_MAIN();
