// What one compressed mean estimate cost: bytes and time per phase.
#pragma once

#include <cstdint>

namespace dme {

struct PhaseTimes {
  double rotate_ms = 0;      ///< forward rotation (and the input checks)
  double solve_ms = 0;       ///< level solver (sorting included for the exact solvers)
  double round_pack_ms = 0;  ///< rounding and encoding the payload(s)
  double transfer_ms = 0;    ///< a GPU backend's copies between host and device memory
  double exchange_ms = 0;    ///< MPI communication (status agreement included)
  double decode_ms = 0;      ///< decoding and summing the received payloads
  double inverse_ms = 0;     ///< inverse rotation and the final scaling
  double total_ms = 0;
};

/// Bytes are counted per rank as if every message went directly from its sender to each
/// receiver (the algorithm's volume, independent of how the MPI library routes it).
struct Report {
  std::uint64_t payload_bytes = 0;       ///< this rank's encoded payload(s), all headers included
  std::uint64_t payload_bytes_sent = 0;  ///< payload bytes this rank sent
  std::uint64_t payload_bytes_received = 0;  ///< payload bytes this rank received
  /// The reduce-scatter exchanges: the part of payload_bytes_received that came in the reduce
  /// stage (the chunks this rank owns); the rest came in the gather stage.
  std::uint64_t reduce_bytes_received = 0;
  std::uint64_t metadata_bytes_sent = 0;  ///< sizes, status agreement and side information
                                          ///< (reduce-scatter-int: ranges and level masks)
  std::uint64_t metadata_bytes_received = 0;
  std::uint64_t float_bytes = 0;   ///< 4·d: the uncompressed float32 vector
  double compression_ratio = 0;    ///< float_bytes / payload_bytes
  double bits_per_coordinate = 0;  ///< 8·payload_bytes / d
  int rotations = 0;               ///< RHTs used (after agreement)
  std::uint32_t round = 0;         ///< round of this estimate
  /// Inputs near the float32 limit are scaled by 2^-scale_exponent before the rotation and the
  /// estimate by 2^scale_exponent after it (exact: powers of two); 0 for ordinary inputs.
  int scale_exponent = 0;
  /// Coordinates of the estimate whose value lay beyond the float32 range (possible only when
  /// the inputs come within the quantization error of ±FLT_MAX), returned as ±FLT_MAX.
  std::uint64_t saturated = 0;
  PhaseTimes times;
};

}  // namespace dme
