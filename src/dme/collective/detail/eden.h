// EDEN (and DRIVE, its 1-bit case) as an implementation of the compression seam: each value of a
// rotated bucket goes to the nearest of the 2^b Lloyd–Max centroids of N(0, 1), scaled to the
// bucket's RMS, and is decoded as those centroids times EDEN's unbiasing factor ‖y‖² / ⟨y, Q(y)⟩
// (docs/algorithms.md §11). Without buckets the payload (kind 4) carries that one scale and the
// receiver multiplies its float32 tables (quantization/lloyd_max.h); at a fractional bit budget
// some coordinates take the centroids of one bit more (docs/schemes.md). With buckets each has
// its own scale, and the payload (kind 0) a level table per bucket.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "dme/collective/compression.h"

namespace dme::detail {

/// The 2^b Lloyd–Max centroids of the standard normal, ascending (b = 1..8): the fixed point of
/// Lloyd's iteration (cells split at the midpoints, each centroid the mean of its cell), computed
/// once per b in double.
std::span<const double> normal_lloyd_max(unsigned b);

/// The EDEN Compression on the CPU.
std::unique_ptr<Compression> make_eden_compression();

}  // namespace dme::detail
