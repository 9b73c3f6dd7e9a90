// QUIC-FL (Ben Basat et al., ICML 2024) as an implementation of the compression seam: the
// rotated chunk is scaled by σ = ‖y‖₂ / √n, coordinates beyond the bounded support are sent
// exactly, the others as b-bit messages of the shared-randomness quantizer of
// quantization/quic_fl.h, in a kind-3 payload (codec/payload.h).
#pragma once

#include <memory>

#include "dme/collective/compression.h"

namespace dme::detail {

/// The quic-fl Compression on the CPU.
std::unique_ptr<Compression> make_quic_fl_compression();

}  // namespace dme::detail
