#include "dme/bench/codec_bench.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <string>

#include "dme/codec/bitpack.h"
#include "dme/codec/payload.h"
#include "dme/core/aligned_buffer.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/core/timer.h"
#include "dme/experiment/table.h"
#include "dme/experiment/timing.h"

namespace dme {

namespace {

struct Case {
  PayloadHeader header;
  LevelTable levels;
  AlignedVector<std::uint16_t> codes;
};

/// d uniform codes in [0, s) and, per bucket, s evenly spaced levels in [-1, 1].
Case make_case(std::size_t d, std::uint32_t s, const CodecBenchConfig& config) {
  Case c;
  c.header.d = c.header.padded = c.header.count = d;
  c.header.bucket_size = config.bucket_size;
  c.header.s = s;
  c.header.seed = config.seed;
  PhiloxStream rng(config.seed, s, 0, Purpose::kInput);
  c.codes.resize(d);
  for (std::size_t i = 0; i < d; ++i) c.codes[i] = static_cast<std::uint16_t>(rng.bits32(i) % s);
  const std::size_t buckets = num_buckets(c.header);
  c.levels.offsets.push_back(0);
  for (std::size_t b = 0; b < buckets; ++b) {
    for (std::uint32_t j = 0; j < s; ++j)
      c.levels.values.push_back(-1.0f + 2.0f * static_cast<float>(j) / static_cast<float>(s - 1));
    c.levels.offsets.push_back(static_cast<std::uint32_t>(c.levels.values.size()));
  }
  return c;
}

/// Level of code i, the reference of decode_accumulate into a zero accumulator.
bool accumulation_matches(const Case& c, const AlignedVector<float>& acc) {
  const std::uint64_t size = bucket_length(c.header);
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const float* lv = c.levels.values.data() + c.levels.offsets[i / size];
    if (acc[i] != lv[c.codes[i]]) return false;
  }
  return true;
}

}  // namespace

int run_codec_bench(const CodecBenchConfig& config, std::ostream& os) {
  DME_CHECK(config.reps >= 1, "--reps must be at least 1, got " << config.reps);
  for (int l : config.log2d)
    DME_CHECK(l >= 0 && l <= 28, "--log2d values must be in 0..28, got " << l);
  for (int s : config.s)
    DME_CHECK(s >= 2 && s <= int(kMaxRadix),
              "--s values must be in 2.." << kMaxRadix << ", got " << s);

  Table table({"log2d", "s", "layout", "bits_per_code", "pack_ms", "unpack_ms", "acc_ms",
               "memcpy_packed_ms", "memcpy_codes_ms", "memcpy_float_ms", "pack_GBps", "unpack_GBps",
               "acc_GBps", "unpack_over_memcpy", "acc_over_memcpy", "wire_bytes", "overhead_pct"},
              config.csv);
  table.print_header(os);
  int status = 0;
  for (int l : config.log2d) {
    const std::size_t d = std::size_t(1) << l;
    AlignedVector<float> acc(d), acc_copy(d);
    AlignedVector<std::uint16_t> codes_copy(d), back(d);
    for (int s_int : config.s) {
      const auto s = static_cast<std::uint32_t>(s_int);
      const Case c = make_case(d, s, config);
      const CodeLayout layout = choose_layout(s);
      AlignedVector<std::byte> packed(packed_bytes(d, layout)), packed_copy(packed.size());

      const double pack_ms = median_ms(config.reps, [&] { pack_codes(c.codes, layout, packed); });
      const double unpack_ms = median_ms(config.reps, [&] { unpack_codes(packed, layout, back); });
      std::vector<std::byte> wire;
      encode(c.header, c.levels, c.codes, wire);
      const double acc_ms =
          median_ms(config.reps, [&] { decode_accumulate(wire, {}, std::span<float>(acc)); });
      const double memcpy_packed_ms = median_ms(
          config.reps, [&] { std::memcpy(packed_copy.data(), packed.data(), packed.size()); });
      const double memcpy_codes_ms = median_ms(config.reps, [&] {
        std::memcpy(codes_copy.data(), c.codes.data(), d * sizeof(std::uint16_t));
      });
      const double memcpy_float_ms = median_ms(
          config.reps, [&] { std::memcpy(acc_copy.data(), acc.data(), d * sizeof(float)); });

      std::fill(acc.begin(), acc.end(), 0.0f);
      decode_accumulate(wire, {}, std::span<float>(acc));
      if (back != c.codes || !accumulation_matches(c, acc)) {
        std::cerr << "dme-bench codec: wrong "
                  << (back != c.codes ? "unpacked codes" : "accumulation") << " at log2d " << l
                  << ", s " << s << "\n";
        status = 1;
      }
      const double ideal = double(d) * layout.bits_per_code() / 8;
      const double code_gb = 2e-6 * double(d), float_gb = 4e-6 * double(d);  // GB·1000 per ms
      table.print_row(
          os, {static_cast<long long>(l), static_cast<long long>(s), to_string(layout),
               layout.bits_per_code(), pack_ms, unpack_ms, acc_ms, memcpy_packed_ms,
               memcpy_codes_ms, memcpy_float_ms, code_gb / pack_ms, code_gb / unpack_ms,
               float_gb / acc_ms, unpack_ms / memcpy_codes_ms, acc_ms / memcpy_float_ms,
               static_cast<long long>(wire.size()), 100.0 * (double(wire.size()) - ideal) / ideal});
    }
  }
  return status;
}

}  // namespace dme
