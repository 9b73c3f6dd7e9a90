// CPU/GPU parity of rounding, packing and decoding: for the same input, levels, seed and round
// the device writes the same payload bytes as dme::encode of the CPU's codes, and decoding into a
// device accumulator gives bit-identical sums (each coordinate receives the same float additions
// in the same order).
#include <algorithm>
#include <limits>

#include "codec/payload_test_util.h"
#include "cuda/cuda_test_util.h"
#include "dme/codec/bitpack.h"
#include "dme/collective/detail/compress.h"
#include "dme/quantization/rounding.h"
#include "dme/quantization/uniform.h"

namespace dme::test {
namespace {

using CudaCodec = CudaTest;

/// Normal values with many exact zeros of both signs.
std::vector<float> repeated_signed_zeros(std::size_t n) {
  std::vector<float> x = normal_vector(n, 31);
  for (std::size_t i = 0; i < n; i += 7) x[i] = (i / 7) % 2 ? -0.0f : 0.0f;
  return x;
}

PayloadHeader make_header(std::uint64_t count, std::uint32_t s, std::uint64_t bucket_size,
                          std::uint64_t first, bool nearest) {
  PayloadHeader h;
  h.d = first + count + 3;
  h.padded = std::bit_ceil(h.d);
  h.first = first;
  h.count = count;
  h.bucket_size = bucket_size;
  h.s = s;
  h.rotations = 2;
  h.biased = nearest;
  h.seed = 0xC0FFEE;
  h.round = 9;
  h.rank = 2;
  return h;
}

/// Per bucket: s levels spread over the bucket's range (end points exact), fewer in every third
/// bucket, so that codes are checked against per-bucket level counts. Many small buckets get at
/// most 4096 levels each, which keeps the table small and still exercises 16-bit codes.
LevelTable make_levels(std::span<const float> x, const PayloadHeader& h) {
  LevelTable t;
  t.offsets.push_back(0);
  const std::size_t size = h.bucket_size ? h.bucket_size : std::max<std::size_t>(x.size(), 1);
  for (std::size_t b = 0; b < num_buckets(h); ++b) {
    const auto part = x.subspan(b * size, std::min(size, x.size() - b * size));
    const auto [lo, hi] = std::minmax_element(part.begin(), part.end());
    const std::size_t cap = num_buckets(h) > 1 ? 4096 : h.s;
    const std::size_t s =
        std::min<std::size_t>(b % 3 == 1 ? std::max<std::uint32_t>(2, h.s / 3) : h.s, cap);
    const std::vector<float> lv = uniform_levels(*lo, *hi, s);
    t.values.insert(t.values.end(), lv.begin(), lv.end());
    t.offsets.push_back(static_cast<std::uint32_t>(t.values.size()));
  }
  return t;
}

/// The CPU's payload: rounding bucket by bucket (draws indexed from h.first), then encode.
std::vector<std::byte> cpu_payload(std::span<const float> x, const PayloadHeader& h,
                                   const LevelTable& t, bool nearest, const PhiloxStream& stream) {
  std::vector<std::uint16_t> codes(x.size());
  const std::size_t size = h.bucket_size ? h.bucket_size : std::max<std::size_t>(x.size(), 1);
  for (std::size_t b = 0; b < num_buckets(h); ++b) {
    const std::size_t lo = b * size, n = std::min(size, x.size() - lo);
    const std::span<const float> lv(t.values.data() + t.offsets[b],
                                    t.offsets[b + 1] - t.offsets[b]);
    if (nearest)
      nearest_round(x.subspan(lo, n), lv, std::span<std::uint16_t>(codes).subspan(lo, n));
    else
      stochastic_round(x.subspan(lo, n), lv, stream, h.first + lo,
                       std::span<std::uint16_t>(codes).subspan(lo, n));
  }
  std::vector<std::byte> out;
  encode(h, t, codes, out);
  return out;
}

TEST_F(CudaCodec, PayloadBytesMatchCpu) {
  cuda::Compressor comp;
  const PhiloxStream stream(0xC0FFEE, 9, 2, Purpose::kRounding);
  // Fixed width 1..8 and 16 bits; mixed radix for s = 3, 5, 7, 10, 17, 1000.
  for (std::uint32_t s : {2u, 3u, 4u, 5u, 7u, 10u, 16u, 17u, 100u, 256u, 1000u, 65536u})
    for (std::uint64_t count : {1u, 7u, 31u, 32u, 33u, 1000u, 4097u, 100003u})
      for (std::uint64_t bucket_size : {0u, 100u})
        for (std::uint64_t first : {0u, 5u})
          for (bool nearest : {false, true}) {
            const PayloadHeader h = make_header(count, s, bucket_size, first, nearest);
            const std::vector<float> x = normal_vector(count, count * s + first);
            const LevelTable t = make_levels(x, h);
            const std::vector<std::byte> want = cpu_payload(x, h, t, nearest, stream);
            cuda::DeviceBuffer<float> dev{std::span<const float>(x)};
            std::vector<std::byte> got;
            comp.encode(dev.span(), h, t, nearest, stream, got);
            ASSERT_EQ(got, want) << "s=" << s << " count=" << count << " bucket=" << bucket_size
                                 << " first=" << first << " nearest=" << nearest << " layout "
                                 << to_string(choose_layout(s));
          }
}

TEST_F(CudaCodec, CompressMatchesCpuCompressChunk) {
  cuda::Compressor comp;
  const std::size_t d = (std::size_t(1) << 20) + 17;
  const std::vector<float> y = normal_vector(d, 77);
  cuda::DeviceBuffer<float> dev{std::span<const float>(y)};
  for (Solver solver : {Solver::kQuiverApx, Solver::kUniform, Solver::kQuiver})
    for (std::size_t bucket_size : {std::size_t(0), std::size_t(65536)})
      for (std::size_t s : {std::size_t(4), std::size_t(16)}) {
        PayloadHeader h = make_header(d, static_cast<std::uint32_t>(s), bucket_size, 0, false);
        const PhiloxStream stream(h.seed, h.round, h.rank, Purpose::kRounding);
        const dme::CompressionPlan plan{s, solver, {}, false, bucket_size};
        dme::detail::CompressScratch scratch;
        PhaseTimes times;
        std::vector<std::byte> want, got;
        dme::detail::compress_chunk(y, h, plan, stream, scratch, want, times);
        dme::PhaseTimes gpu_times;
        comp.compress(dev.span(), h, plan, stream, got, &gpu_times);
        EXPECT_EQ(got, want) << solver_name(solver) << " bucket=" << bucket_size << " s=" << s;
        EXPECT_GT(gpu_times.solve_ms, 0);
        EXPECT_GT(gpu_times.round_pack_ms, 0);
      }
}

TEST_F(CudaCodec, DecodedSumsMatchCpu) {
  cuda::Compressor comp;
  for (std::uint32_t s : {3u, 16u, 1000u})
    for (std::uint64_t bucket_size : {0u, 1000u}) {
      const std::uint64_t count = 54321;
      std::vector<float> acc_cpu = normal_vector(count, 1);
      cuda::DeviceBuffer<float> acc_dev{std::span<const float>(acc_cpu)};
      for (std::uint32_t rank = 0; rank < 4; ++rank) {
        PayloadHeader h = make_header(count, s, bucket_size, 0, false);
        h.rank = rank;
        const std::vector<float> x = normal_vector(count, 10 + rank, 0.0f, 1.0f + rank);
        const LevelTable t = make_levels(x, h);
        const std::vector<std::byte> payload =
            cpu_payload(x, h, t, false, PhiloxStream(h.seed, h.round, rank, Purpose::kRounding));
        DecodeExpectations e;
        e.rank = rank;
        const PayloadHeader cpu = decode_accumulate(payload, e, std::span<float>(acc_cpu));
        const PayloadHeader gpu = comp.decode_accumulate(payload, e, acc_dev.span());
        EXPECT_EQ(gpu, cpu);
      }
      EXPECT_EQ(bits_of(acc_dev.to_host()), bits_of(acc_cpu))
          << "s=" << s << " bucket=" << bucket_size;
    }
}

TEST_F(CudaCodec, MeanArithmeticMatchesCpu) {
  // The estimator's accumulate-then-divide steps: the same IEEE operations as the CPU's loops.
  const std::vector<float> a = normal_vector(100001, 1), b = lognormal_vector(100001, 2);
  cuda::DeviceBuffer<float> a_dev{std::span<const float>(a)}, b_dev{std::span<const float>(b)};
  cuda::add(a_dev.span(), b_dev.span());
  cuda::divide(a_dev.span(), 3.0f);
  std::vector<float> want = a;
  for (std::size_t i = 0; i < want.size(); ++i) {
    want[i] += b[i];
    want[i] /= 3.0f;
  }
  EXPECT_EQ(bits_of(a_dev.to_host()), bits_of(want));
  EXPECT_THROW(cuda::add(a_dev.span(), std::span<const float>(b_dev.data(), 10)), Error);
}

TEST_F(CudaCodec, DeviceSortMatchesCpuOrder) {
  std::vector<float> x = repeated_signed_zeros(70001);
  cuda::DeviceBuffer<float> x_dev{std::span<const float>(x)}, sorted(x.size());
  cuda::Compressor comp;
  comp.sort(x_dev.span(), sorted.span());
  std::vector<float> want = x;
  // Ascending with -0 before +0: the total order of the CPU's radix sort.
  std::stable_sort(want.begin(), want.end(), [](float p, float q) {
    return p < q || (p == q && std::signbit(p) && !std::signbit(q));
  });
  EXPECT_EQ(bits_of(sorted.to_host()), bits_of(want));
}

TEST_F(CudaCodec, RoundingErrorsMatchCpu) {
  cuda::Compressor comp;
  const PhiloxStream stream(1, 2, 3, Purpose::kRounding);
  std::vector<float> x = normal_vector(3000, 8);
  const PayloadHeader h = make_header(x.size(), 16, 1000, 0, false);
  LevelTable t = make_levels(x, h);
  x[2500] = 1e6f;  // above the levels of bucket 2, at index 500 of that bucket
  cuda::DeviceBuffer<float> dev{std::span<const float>(x)};
  std::vector<std::byte> out;
  const std::string want = error_of([&] { cpu_payload(x, h, t, false, stream); });
  EXPECT_NE(want.find("x[500]"), std::string::npos) << want;
  EXPECT_EQ(error_of([&] { comp.encode(dev.span(), h, t, false, stream, out); }), want);
  x[2500] = std::numeric_limits<float>::quiet_NaN();
  dev.upload(x);
  PayloadHeader hn = h;
  hn.biased = true;
  EXPECT_EQ(error_of([&] { comp.encode(dev.span(), hn, t, true, stream, out); }),
            error_of([&] { cpu_payload(x, hn, t, true, stream); }));
  // Invalid level tables and sizes are refused before any device work.
  LevelTable bad = t;
  std::swap(bad.values[0], bad.values[1]);
  EXPECT_EQ(error_of([&] { comp.encode(dev.span(), h, bad, false, stream, out); }), error_of([&] {
              std::vector<std::byte> o;
              encode(h, bad, std::vector<std::uint16_t>(x.size()), o);
            }));
  EXPECT_THROW(comp.encode(std::span<const float>(dev.data(), 10), h, t, false, stream, out),
               Error);
}

TEST_F(CudaCodec, HostileFixedWidthPayloadLeavesAccumulatorUnchanged) {
  // Every third bucket of make_parts may have fewer levels than 2^4: a code at or above its
  // level count is invalid although the stream itself is well formed.
  const std::uint64_t count = 3000, bucket = 200;
  const PayloadParts p = make_parts(count, 16, bucket, 4);
  std::size_t short_bucket = 0;
  while (short_bucket + 1 < p.levels.offsets.size() &&
         p.levels.offsets[short_bucket + 1] - p.levels.offsets[short_bucket] == 16)
    ++short_bucket;
  ASSERT_LT(short_bucket + 1, p.levels.offsets.size()) << "no bucket with fewer than 16 levels";
  std::vector<std::byte> buf = encode_parts(p);
  const std::size_t bytes = packed_bytes(count, choose_layout(16));
  const std::size_t codes_at = buf.size() - 8 - (bytes + 7) / 8 * 8;
  const std::size_t i = short_bucket * bucket + 1;  // 4-bit code i: nibble i % 2 of byte i / 2
  buf[codes_at + i / 2] |= std::byte(0xF << (4 * (i % 2)));
  reseal(buf);
  const std::string want = error_of([&] { decode(buf); });
  ASSERT_FALSE(want.empty());
  cuda::Compressor comp;
  const std::vector<float> start = normal_vector(count, 2);
  cuda::DeviceBuffer<float> acc{std::span<const float>(start)};
  EXPECT_EQ(error_of([&] { comp.decode_accumulate(buf, {}, acc.span()); }), want);
  EXPECT_EQ(bits_of(acc.to_host()), bits_of(start));
}

TEST_F(CudaCodec, HostileRadixPayloadLeavesAccumulatorUnchanged) {
  PayloadParts p = make_parts(1000, 10, 0, 6);  // 19 base-10 digits per word
  std::vector<std::byte> buf = encode_parts(p);
  const std::size_t words = (1000 + 18) / 19;
  const std::size_t codes_at = buf.size() - 8 - 8 * words;
  for (int i = 0; i < 8; ++i) buf[codes_at + 8 * 20 + i] = std::byte{0xFF};  // word 20 >= 10^19
  reseal(buf);
  const std::string want = error_of([&] { decode(buf); });
  ASSERT_NE(want.find("word 20"), std::string::npos) << want;
  cuda::Compressor comp;
  const std::vector<float> start(1000, 1.5f);
  cuda::DeviceBuffer<float> acc{std::span<const float>(start)};
  EXPECT_EQ(error_of([&] { comp.decode_accumulate(buf, {}, acc.span()); }), want);
  EXPECT_EQ(bits_of(acc.to_host()), bits_of(start));
  // Header-level problems are the CPU decoder's own checks.
  std::vector<std::byte> good = encode_parts(p);
  DecodeExpectations wrong_rank;
  wrong_rank.rank = 99;
  EXPECT_EQ(error_of([&] { comp.decode_accumulate(good, wrong_rank, acc.span()); }),
            error_of([&] { decode(good, wrong_rank); }));
  good[good.size() / 2] ^= std::byte{1};  // checksum mismatch
  EXPECT_EQ(error_of([&] { comp.decode_accumulate(good, {}, acc.span()); }),
            error_of([&] { decode(good); }));
  cuda::DeviceBuffer<float> short_acc(999);
  EXPECT_THROW(comp.decode_accumulate(encode_parts(p), {}, short_acc.span()), Error);
}

}  // namespace
}  // namespace dme::test
