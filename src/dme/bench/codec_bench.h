// `dme-bench codec`: packing, unpacking and decode_accumulate speed against memcpy, and the bytes
// on the wire against d·b/8, in one run.
#pragma once

#include <cstdint>
#include <ostream>
#include <vector>

namespace dme {

struct CodecBenchConfig {
  std::vector<int> log2d = {20, 24};
  std::vector<int> s = {2, 4, 10, 16, 256};
  int reps = 10;                  ///< timed repetitions per case (the median is reported)
  std::uint64_t bucket_size = 0;  ///< coordinates per bucket of the payload (0: one bucket)
  std::uint64_t seed = 1;
  bool csv = false;
};

/// Prints one row per (log2d, s):
///   layout, bits_per_code         choose_layout(s)
///   pack_ms, unpack_ms            pack_codes / unpack_codes of d uint16 codes
///   acc_ms                        decode_accumulate of the whole payload into d floats
///                                 (checksum, validation, unpacking and the additions)
///   memcpy_packed_ms, memcpy_codes_ms, memcpy_float_ms
///                                 memcpy of the packed bytes, of the d uint16 codes and of d
///                                 floats, the memory-speed baselines of the same run
///   pack_GBps, unpack_GBps        2·d bytes of codes per second; acc_GBps: 4·d bytes of floats
///   unpack_over_memcpy            unpack_ms / memcpy_codes_ms
///   acc_over_memcpy               acc_ms / memcpy_float_ms
///   wire_bytes, overhead_pct      encoded payload size, and its excess over d·bits_per_code/8
///                                 (header, levels, checksum, padding) in percent
/// Returns 0, or 1 when a round trip or an accumulation differs from its reference (the
/// benchmark checks its own output).
int run_codec_bench(const CodecBenchConfig& config, std::ostream& os);

}  // namespace dme
