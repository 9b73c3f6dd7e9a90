// Compressor's codec half: rounding and packing on the device into payloads byte-identical to
// dme::encode, and validated decoding into a device accumulator.

#include <algorithm>
#include <bit>
#include <optional>

#include "dme/codec/bitpack.h"
#include "dme/codec/detail/code_reader.h"
#include "dme/codec/detail/payload_format.h"
#include "dme/core/error.h"
#include "dme/core/timer.h"
#include "dme/cuda/check.cuh"
#include "dme/cuda/compressor_impl.cuh"

namespace dme::cuda {
namespace {

namespace codec = dme::detail::codec;

detail::PackLayout pack_layout(const CodeLayout& layout) {
  detail::PackLayout p;
  p.radix = layout.packing == Packing::kMixedRadix;
  p.bits = layout.bits;
  p.digits = layout.digits_per_word;
  p.s = layout.s;
  return p;
}

/// The level table on the device; returns the level count of a single bucket, else 0.
std::uint32_t upload_levels(Compressor::Impl& im, const LevelTable& levels) {
  const std::size_t buckets = levels.offsets.size() - 1;
  detail::ensure_size(im.level_values, levels.values.size());
  detail::copy_to_device(im.level_values.data(), levels.values.data(),
                         levels.values.size() * sizeof(float));
  if (buckets == 1) return levels.offsets[1];
  detail::ensure_size(im.level_offsets, levels.offsets.size());
  detail::copy_to_device(im.level_offsets.data(), levels.offsets.data(),
                         levels.offsets.size() * sizeof(std::uint32_t));
  return 0;
}

void reset_flag(Compressor::Impl& im) {
  DME_CUDA_CHECK(cudaMemsetAsync(im.flag.data(), 0xFF, sizeof(unsigned long long)));
}

unsigned long long read_flag(Compressor::Impl& im) {
  unsigned long long v = 0;
  detail::copy_to_host(&v, im.flag.data(), sizeof v);
  return v;
}

/// The error stochastic_round or nearest_round would have thrown for coordinate i of the chunk
/// (their indices count from the start of the bucket, which is what they were given).
[[noreturn]] void throw_rounding_error(std::span<const float> x, const PayloadHeader& h,
                                       const LevelTable& levels, bool nearest, std::uint64_t i) {
  const std::uint64_t size = bucket_length(h), b = i / size, at = i - b * size;
  float v = 0;
  detail::copy_to_host(&v, x.data() + i, sizeof v);
  if (nearest) DME_THROW("nearest_round: x[" << at << "] is NaN");
  DME_THROW("stochastic_round: x[" << at << "] = " << v << " is outside the level range ["
                                   << levels.values[levels.offsets[b]] << ", "
                                   << levels.values[levels.offsets[b + 1] - 1] << "]");
}

}  // namespace

Compressor::Compressor() : impl_(std::make_unique<Impl>()) {}
Compressor::~Compressor() = default;
Compressor::Compressor(Compressor&&) noexcept = default;
Compressor& Compressor::operator=(Compressor&&) noexcept = default;

void Compressor::encode(std::span<const float> x, const PayloadHeader& h, const LevelTable& levels,
                        bool nearest, const PhiloxStream& stream, std::vector<std::byte>& out,
                        PhaseTimes* times) {
  Timer timer;
  DME_CHECK(x.size() == h.count,
            "encode: " << x.size() << " values for a header of count " << h.count);
  detail::check_device_memory(x.data(), x.size_bytes(), "encode input");
  // Validates header and levels and writes every section before the codes.
  PayloadWriter writer(h, levels, out);

  Impl& im = *impl_;
  const detail::PackLayout layout = pack_layout(writer.layout());
  detail::RoundArgs args{};
  args.x = x.data();
  args.count = x.size();
  args.first_index = h.first;
  args.stream = stream;
  args.nearest = nearest;
  args.single_bucket_levels = upload_levels(im, levels);
  args.levels = im.level_values.data();
  args.offsets = im.level_offsets.data();
  args.bucket_size = bucket_length(h);
  args.first_bad = im.flag.data();
  detail::ensure_size(im.packed, detail::packed_words_bytes(x.size(), layout));
  reset_flag(im);
  detail::round_and_pack(args, layout, im.packed.data(), nullptr);
  const unsigned long long bad = read_flag(im);
  if (bad != detail::kNoIndex) throw_rounding_error(x, h, levels, nearest, bad);

  // The device packed the codes in the wire layout: copy them in, then padding and checksum.
  const std::span<std::byte> codes = writer.code_bytes();
  const double packed_ms = timer.elapsed_ms();
  detail::copy_to_host(codes.data(), im.packed.data(), codes.size());
  const double copied_ms = timer.elapsed_ms();
  writer.finish();
  if (times) {
    times->round_pack_ms += packed_ms + (timer.elapsed_ms() - copied_ms);
    times->transfer_ms += copied_ms - packed_ms;
  }
}

void Compressor::compress(std::span<const float> chunk, const PayloadHeader& h,
                          const CompressionPlan& plan, const PhiloxStream& stream,
                          std::vector<std::byte>& out, PhaseTimes* times) {
  dme::detail::check_plan(h, plan, chunk.size());
  DME_CHECK(!plan.shared_dither,
            "the CUDA backend has no shared-dither (asq-shared) encoder; use backend 'cpu'");
  DME_CHECK(!plan.levels, "the CUDA backend solves its levels on the device and takes no given "
                          "levels (the pipelined allgather is CPU-only); use backend 'cpu'");
  Timer solve_timer;
  const LevelTable table = dme::detail::bucket_levels(h, [&](std::uint64_t lo, std::uint64_t hi) {
    return solve_levels(chunk.subspan(lo, hi - lo), plan.s, plan.solver, plan.solver_options);
  });
  if (times) times->solve_ms += solve_timer.elapsed_ms();
  encode(chunk, h, table, plan.nearest, stream, out, times);
}

PayloadHeader Compressor::decode_accumulate(std::span<const std::byte> payload,
                                            const DecodeExpectations& expect,
                                            std::span<float> acc) {
  const codec::WireHeader w = codec::read_header(payload, expect);
  const PayloadHeader& h = w.header;
  DME_CHECK(h.kind == PayloadKind::kLevels,
            "the CUDA backend decodes payloads of kind 0 (levels, the asq scheme), got kind "
                << int(static_cast<std::uint8_t>(h.kind)) << " from rank " << h.rank
                << "; use backend 'cpu'");
  DME_CHECK(acc.size() == h.count, "decode_accumulate: accumulator of size "
                                       << acc.size() << " for a payload of count " << h.count);
  detail::check_device_memory(acc.data(), acc.size_bytes(), "decode_accumulate accumulator");
  const LevelTable levels = codec::read_levels(payload, w);
  const codec::Sections& sec = w.sections;
  const auto codes = payload.subspan(sec.codes, sec.codes_bytes);
  // The fixed-width stream check reads one byte; the mixed-radix word bounds are checked on the
  // device with the codes.
  if (w.layout.packing == Packing::kFixedWidth)
    codec::CodeReader(codes, w.layout, h.count).check_stream();
  codec::check_zero_padding(payload, sec.codes + sec.codes_bytes, sec.checksum, "codes");
  if (h.count == 0) return h;

  Impl& im = *impl_;
  const detail::PackLayout layout = pack_layout(w.layout);
  // Word-padded, with one more zero word that the fixed-width unpacking may read.
  const std::size_t padded_bytes = detail::packed_words_bytes(h.count, layout) + 8;
  detail::ensure_size(im.packed, padded_bytes);
  detail::copy_to_device(im.packed.data(), codes.data(), codes.size());
  DME_CUDA_CHECK(cudaMemsetAsync(im.packed.data() + codes.size(), 0, padded_bytes - codes.size()));
  detail::DecodeArgs args{};
  args.in = im.packed.data();
  args.count = h.count;
  args.single_bucket_levels = upload_levels(im, levels);
  args.levels = im.level_values.data();
  args.offsets = im.level_offsets.data();
  args.bucket_size = bucket_length(h);
  reset_flag(im);
  detail::check_codes(args, layout, im.flag.data(), nullptr);
  if (read_flag(im) != detail::kNoIndex) {
    // The CPU decoder names the offending word or code; it must throw on this payload.
    dme::decode(payload, expect);
    DME_ASSERT(false && "device and host code checks disagree");
  }
  detail::accumulate_codes(args, layout, acc.data(), nullptr);
  return h;
}

namespace {

class DeviceCompression final : public dme::Compression {
 public:
  std::string_view name() const override { return "cuda"; }

  std::span<float> vector(RoundVector which, std::size_t n) override {
    DeviceBuffer<float>& v = vectors_[static_cast<int>(which)];
    if (v.size() < n) v = DeviceBuffer<float>(n);
    return v.span().first(n);
  }
  bool rotate(const RotationKey& key, std::span<const float> x, std::span<float> y,
              Extrema<float>& /*range: the device scan finds it*/) override {
    input_.resize(x.size());
    input_.upload(x);
    rotation(key).forward(input_.span(), y);
    return false;
  }
  void inverse(const RotationKey& key, std::span<float> v) override {
    rotation(key).inverse_inplace(v);
  }
  void fill_zero(std::span<float> v) override { cuda::fill_zero(v); }
  void divide(std::span<float> v, float divisor) override { cuda::divide(v, divisor); }
  void add(std::span<float> dst, std::span<const float> src) override { cuda::add(dst, src); }
  void to_host(std::span<const float> v, std::span<float> host) override {
    DME_CHECK(v.size() == host.size(), "to_host: " << v.size() << " values into " << host.size());
    detail::copy_to_host(host.data(), v.data(), v.size_bytes());
  }

  void encode(std::span<const float> chunk, const PayloadHeader& h, const CompressionPlan& plan,
              const PhiloxStream& stream, std::vector<std::byte>& out, PhaseTimes& times,
              const Extrema<float>* /*range: the device scan is cheap*/) override {
    if (chunk.empty() || detail::is_device_memory(chunk.data())) {
      comp_.compress(chunk, h, plan, stream, out, &times);
      return;
    }
    Timer t;
    chunk_.resize(chunk.size());
    chunk_.upload(chunk);
    times.transfer_ms += t.elapsed_ms();
    comp_.compress(chunk_.span(), h, plan, stream, out, &times);
  }
  void decode_accumulate(std::span<const std::byte> payload, const DecodeExpectations& expect,
                         std::span<float> acc) override {
    if (acc.empty() || detail::is_device_memory(acc.data())) {
      comp_.decode_accumulate(payload, expect, acc);
      return;
    }
    acc_.resize(acc.size());
    acc_.upload(acc);
    comp_.decode_accumulate(payload, expect, acc_.span());
    acc_.download(acc);
  }

 private:
  /// The rotation of key: the signs remade on the device only when the key changes.
  CudaRotation& rotation(const RotationKey& key) {
    DME_CHECK(key.layout == RotationLayout::kPadded || std::has_single_bit(key.d),
              "the CUDA backend rotates with the padded layout only (d = " << key.d << ")");
    DME_CHECK(key.block == 0,
              "the CUDA backend rotates the whole vector, not blocks of " << key.block);
    const bool same_shape = rot_ && rot_->count() == key.count && rot_->d() == key.d;
    if (!same_shape) {
      rot_.emplace(key.seed, key.round, key.count, key.d, key.stream);
    } else if (key.seed != key_.seed || key.round != key_.round || key.stream != key_.stream) {
      rot_->rekey(key.seed, key.round, key.stream);
    }
    key_ = key;
    return *rot_;
  }

  Compressor comp_;
  DeviceBuffer<float> vectors_[3];
  DeviceBuffer<float> input_, chunk_, acc_;
  std::optional<CudaRotation> rot_;
  RotationKey key_;
};

}  // namespace

std::unique_ptr<dme::Compression> make_compression() {
  DME_CHECK(available(), "backend 'cuda': " << device_summary());
  return std::make_unique<DeviceCompression>();
}

}  // namespace dme::cuda
