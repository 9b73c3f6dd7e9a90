// libFuzzer target for the payload decoders (scripts/fuzz.sh builds and runs it).
//
// Every input is decoded three ways: as it is; with its total-length field and checksum
// rewritten to match, so that mutations reach the field, level and code checks behind them; and
// as a packed code stream for unpack_codes. dme::Error is the expected outcome of bad input.
// Anything else is a finding: a crash, a sanitizer report, another exception, or a broken
// invariant (a payload that decodes must re-encode to the same bytes, and decode_accumulate
// must agree with decode).
//
// Built with -DDME_FUZZ_WRITE_SEEDS instead, it is a small program that writes valid payloads
// into the directory given as argv[1], the seed corpus.
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dme/codec/bitpack.h"
#include "dme/codec/detail/endian.h"
#include "dme/codec/payload.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "payload_test_util.h"

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_decode: %s\n", what);
  std::abort();
}

void check_decoders(std::span<const std::byte> buf) {
  dme::Payload p;
  bool decoded = false;
  try {
    p = dme::decode(buf);
    decoded = true;
  } catch (const dme::Error&) {
  }
  if (decoded) {
    std::vector<std::byte> again;
    try {
      dme::encode(p.header, p.levels, p.codes, again);
    } catch (const dme::Error&) {
      finding("a decoded payload does not encode");
    }
    if (again.size() != buf.size() || !std::equal(again.begin(), again.end(), buf.begin()))
      finding("a decoded payload does not re-encode to the same bytes");
  }
  std::vector<float> acc;
  std::vector<double> acc_d;
  bool accumulated = false;
  try {
    // decode_header may accept what decode rejects; decode_accumulate must not.
    const dme::PayloadHeader h = dme::decode_header(buf);
    acc.resize(h.count);  // proven to fit the buffer by decode_header
    acc_d.resize(h.count);
    dme::decode_accumulate(buf, {}, std::span<float>(acc));
    dme::decode_accumulate(buf, {}, std::span<double>(acc_d));
    accumulated = true;
  } catch (const dme::Error&) {
  }
  // A kind-2 payload (codes only) decodes but has no levels to accumulate.
  const bool codes_only = decoded && p.header.kind == dme::PayloadKind::kCodes;
  if (accumulated != (decoded && !codes_only))
    finding("decode and decode_accumulate disagree on validity");
  if (!decoded || codes_only) return;
  if (p.header.kind == dme::PayloadKind::kSharedTable) {  // σ·R[h][code], or the exact value
    for (std::size_t i = 0; i < acc.size(); ++i) {
      const float want = dme::test::shared_table_value(p, i);
      if (acc[i] != want || acc_d[i] != double(want))
        finding("decode_accumulate disagrees with decode (kind 3)");
    }
    return;
  }
  if (p.header.kind == dme::PayloadKind::kLloydMax) {  // S·C[width][code]
    for (std::size_t i = 0; i < acc.size(); ++i) {
      const float want = dme::test::two_widths_value(p, i);
      if (acc[i] != want || acc_d[i] != double(want))
        finding("decode_accumulate disagrees with decode (kind 4)");
    }
    return;
  }
  if (p.header.kind == dme::PayloadKind::kNormGrid) {  // ν_b·u[code]
    for (std::size_t i = 0; i < acc.size(); ++i) {
      const float want = dme::test::norm_grid_value(p, i);
      if (acc[i] != want || acc_d[i] != double(want))
        finding("decode_accumulate disagrees with decode (kind 5)");
    }
    return;
  }
  const std::uint64_t size = p.header.bucket_size ? p.header.bucket_size : p.header.count;
  const bool dithered = p.header.kind == dme::PayloadKind::kDitheredLevels;
  const dme::PhiloxStream stream(p.header.seed, p.header.round, p.header.rank,
                                 static_cast<dme::Purpose>(p.header.dither_purpose));
  for (std::size_t i = 0; i < acc.size(); ++i) {
    const float level = p.levels.values[p.levels.offsets[i / size] + p.codes[i]];
    // A kind-1 payload adds c·(u − 1/2), u the sender's draw of the coordinate.
    const float dither =
        dithered ? p.header.dither * (stream.uniform_float(p.header.first + i) - 0.5f) : 0.0f;
    const float want = dithered ? level + dither : level;
    const double want_d = dithered ? double(level) + double(dither) : double(level);
    if (acc[i] != want || acc_d[i] != want_d) finding("decode_accumulate disagrees with decode");
  }
}

/// Makes the length field and the checksum consistent with the buffer.
std::vector<std::byte> with_fixed_length_and_checksum(std::span<const std::byte> buf) {
  std::vector<std::byte> fixed(buf.begin(), buf.end());
  namespace dc = dme::detail::codec;
  dc::store_le<std::uint64_t>(fixed.data() + 96, fixed.size());
  const std::size_t body = fixed.size() - 8;
  dc::store_le<std::uint64_t>(fixed.data() + body, XXH3_64bits(fixed.data(), body));
  return fixed;
}

/// Bytes 0-1 pick s, byte 2 the layout (canonical or a valid alternative); the rest is codes.
void check_unpack(std::span<const std::byte> buf) {
  if (buf.size() < 3) return;
  namespace dc = dme::detail::codec;
  const std::uint32_t s = 2 + dc::load_le<std::uint16_t>(buf.data()) % (dme::kMaxRadix - 1);
  dme::CodeLayout layout = dme::choose_layout(s);
  const unsigned pick = std::to_integer<unsigned>(buf[2]);
  if (pick & 1)
    layout = {dme::Packing::kMixedRadix, s, 0, 1 + (pick >> 1) % dme::max_digits_per_word(s)};
  const std::span<const std::byte> packed = buf.subspan(3);
  // The largest count whose packing fits: try it and its neighbours (which may not fit).
  const std::size_t count = layout.packing == dme::Packing::kMixedRadix
                                ? packed.size() / 8 * layout.digits_per_word
                                : packed.size() * 8 / layout.bits;
  for (std::size_t n : {count, count + 1, count ? count - 1 : 0}) {
    std::vector<std::uint16_t> codes(n);
    try {
      dme::unpack_codes(packed, layout, codes);
      for (std::uint16_t c : codes)
        if (c >= s) finding("unpack_codes returned a code >= s");
    } catch (const dme::Error&) {
    }
  }
}

}  // namespace

#if defined(DME_FUZZ_WRITE_SEEDS)

#include "payload_test_util.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  int n = 0;
  for (std::uint32_t s : {2u, 3u, 10u, 16u, 17u, 256u, 1000u, 65536u})
    for (std::uint64_t count : {0ull, 1ull, 9ull, 40ull})
      for (std::uint64_t bucket : {0ull, 1ull, 7ull}) {
        auto parts = dme::test::make_parts(count, s, bucket, ++n);
        if (n % 4 == 2 && bucket == 0) {  // a kind-2 payload (reduce-scatter-int's codes)
          parts = dme::test::make_codes_only(count, s, n);
        } else if (n % 4 == 3 && bucket == 0 && (s == 2 || s == 16)) {  // kind 3 (quic-fl)
          parts = dme::test::make_shared_table(count, s == 2 ? 1 : 4, n);
        } else if (n % 4 == 1 && bucket == 0 && (s == 2 || s == 16)) {  // kind 4 (eden)
          parts = dme::test::make_two_widths(count == 40 ? 2100 : count, s == 2 ? 1 : 4, n % 8,
                                             n);
        } else if (n % 4 == 1 && bucket != 0) {  // kind 5 (qsgd)
          parts = dme::test::make_norm_grid(count, s, bucket, n);
        } else if (n % 4 == 0) {  // a kind-1 payload (asq-shared) among the unbiased ones
          parts.header.kind = dme::PayloadKind::kDitheredLevels;
          parts.header.dither_purpose = static_cast<std::uint8_t>(dme::Purpose::kRounding);
          parts.header.dither = 0.25f;
        }
        const auto buf = dme::test::encode_parts(parts);
        const std::string path = std::string(argv[1]) + "/seed_" + std::to_string(n);
        std::FILE* f = std::fopen(path.c_str(), "wb");
        if (!f || std::fwrite(buf.data(), 1, buf.size(), f) != buf.size() || std::fclose(f) != 0) {
          std::fprintf(stderr, "cannot write %s\n", path.c_str());
          return 1;
        }
      }
  std::printf("wrote %d seed payloads to %s\n", n, argv[1]);
  return 0;
}

#else

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> buf(reinterpret_cast<const std::byte*>(data), size);
  check_decoders(buf);
  if (size >= 112) check_decoders(with_fixed_length_and_checksum(buf));
  check_unpack(buf);
  return 0;
}

#endif
