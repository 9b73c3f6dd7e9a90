// Options of the compressed mean estimate (MeanEstimator) and their parsing from names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dme/quantization/solver.h"
#include "dme/rotation/rht.h"

namespace dme {

/// How the ranks exchange their compressed vectors.
enum class Exchange {
  /// Every rank gathers every payload (MPI_Allgatherv), decodes and sums them in the rotated
  /// domain, and rotates back once. Each rank receives n-1 payloads.
  kAllgather,
  /// Rank 0 gathers the payloads (MPI_Gatherv), decodes, rotates back and broadcasts the float32
  /// mean (MPI_Bcast). Least decoding work, but the broadcast is uncompressed.
  kGatherBcast,
  /// The rotated vector is cut in n chunks, each quantised with its own levels; rank j receives
  /// chunk j of every rank (MPI_Alltoallv), sums it, re-quantises the average unbiasedly and all
  /// ranks gather the averaged chunks (MPI_Allgatherv). Each rank sends about two payloads.
  /// Needs a shared rotation.
  kReduceScatter,
  /// reduce-scatter with integer sums (docs/algorithms.md §10.6): per chunk the ranks agree on
  /// its range (MPI_Allreduce) and on levels from the grid of 2s points over it (the owner's
  /// choice, MPI_Allgather); each rank rounds once to them and sends level codes; the owner
  /// adds their grid indices exactly and all ranks gather the sums (1 + log2(s) + log2(n)
  /// bits each). No second rounding: the mean is the average of the rounded vectors, and its
  /// error falls as 1/n like allgather's. Needs a shared rotation, the asq or thc scheme (thc:
  /// s uniform levels, no choice), the CPU backend, no buckets, and n·(2s - 1) + 1 <= 65536.
  kReduceScatterInt,
};

/// Rounding of the coordinates to the levels.
enum class Rounding {
  kAuto,        ///< nearest for the biased solvers (kmeans, rtn), stochastic otherwise
  kStochastic,  ///< unbiased stochastic rounding
  kNearest,     ///< biased round-to-nearest
};

enum class Backend { kCpu, kCuda };

/// How a rank's rotated vector is encoded (docs/algorithms.md §11 for EDEN).
enum class Scheme {
  kAsq,        ///< adaptive stochastic quantization: levels from `solver`, `rounding` to them
  kEden,       ///< EDEN: nearest of the 2^b Lloyd–Max centroids of N(0, 1) (s = 2^b, b = 1..8),
               ///< scaled to the vector and by EDEN's unbiasing factor; b = 1 is DRIVE. Unbiased
               ///< with per-rank rotations (shared_rotation = false)
  kAsqShared,  ///< asq with shared randomness: stochastic rounding to the solver's levels, and
               ///< the receiver adds c·(u - 1/2) with the sender's draw u (docs/schemes.md):
               ///< unbiased, and a lower variance than asq for every vector
  kQsgd,  ///< QSGD: stochastic rounding to the uniform grid of s points on [-‖x‖₂, ‖x‖₂] of each
          ///< bucket (the classic baseline; published without rotation: rotations = 0)
  kThc,  ///< THC's homomorphic core: s uniform levels on each chunk's range, agreed by all
         ///< ranks, so that owners add integer codes (exchange reduce-scatter-int only;
         ///< docs/schemes.md says what of the published THC is left out)
  kQuicFl,  ///< QUIC-FL: bounded support (|z| > T sent exactly) and b-bit messages of a
            ///< quantizer with randomness shared by sender and receiver, optimised offline for
            ///< the truncated normal (s = 2^b, b = 1..4; quantization/quic_fl.h). Unbiased
};

/// rotations = kAutoRotations: each rank measures its input (adaptive_rotation_count) and all
/// ranks use the largest count.
inline constexpr int kAutoRotations = -1;

struct Options {
  std::size_t s = 16;                  ///< levels per bucket (2 .. 65536)
  Solver solver = Solver::kQuiverApx;  ///< level solver
  SolverOptions solver_options;        ///< e.g. the grid size m of quiver-apx
  Rounding rounding = Rounding::kAuto;
  int rotations = 2;            ///< RHTs: 0..3 or kAutoRotations
  bool shared_rotation = true;  ///< all ranks rotate alike (one inverse); else per rank
  Exchange exchange = Exchange::kAllgather;
  Backend backend = Backend::kCpu;
  Scheme scheme = Scheme::kAsq;   ///< the encoding (collective/compression.h)
  std::uint64_t seed = 0;         ///< shared by all ranks: signs and rounding draws
  std::uint32_t first_round = 0;  ///< round of the first estimate; +1 on every call
  std::size_t bucket_size = 0;    ///< coordinates per bucket with its own levels; 0 = none
  /// gather-bcast only: the root broadcasts the mean as a payload (requantized unbiasedly with
  /// its kDownlink stream) instead of float32, which adds that rounding's error to the mean.
  /// The root's own vector then sends nothing up: it enters the mean exactly, so the root
  /// encodes once (the mean) and the mean holds n - 1 uplink roundings instead of n.
  /// With pipeline_chunks > 1 the uplink and the downlink move in chunks, overlapped; without
  /// buckets the root then rounds the mean to its own levels of the whole vector, widened to
  /// every rank's range (the mean's levels cannot be solved before all of it has arrived).
  bool compressed_downlink = false;
  /// How a length that is not a power of two is rotated (rotation/rht.h): kPadded sends up to
  /// 2x the coordinates; kOverlapped sends exactly d (two overlapping blocks of 2^floor(log2 d));
  /// kAuto is overlapped on the CPU backend and padded on CUDA, which has only that one.
  RotationLayout rotation_layout = RotationLayout::kAuto;
  /// Overlapped layout (cpu backend): a vector longer than this power of two is rotated as
  /// independent blocks of this length, each in cache (Rotation's max_block, rotation/rht.h):
  /// 2 RHTs of 2^24 coordinates in blocks of 2^16 take about half the time of the whole-vector
  /// rotation. Each block mixes only its own coordinates, so the rotated coordinates of a block
  /// have its energy: the estimate stays unbiased, and its error equals the whole rotation's
  /// where the input's energy is spread evenly, a little above it where the energy sits in a
  /// few blocks (docs/algorithms.md §8.7). 0: the whole vector is one rotation.
  std::size_t rotation_block = 0;
  /// reduce-scatter-int only: the ranks' rounding draws of a coordinate are stratified (one in
  /// each of n strata of [0, 1), shifted by a shared draw; docs/algorithms.md §10.6), so their
  /// rounding errors partly cancel in the sum instead of adding. Each rank's rounding stays
  /// unbiased; the error of the mean falls below allgather's, as 1/n² for identical inputs.
  bool correlated_rounding = false;
  /// Threads inside this rank (1..kMaxThreads, dme/core/parallel.h) for the rotation, the
  /// quiver-apx histogram, rounding and packing, and decoding. Results are bit-identical for
  /// every count, so ranks may differ. Bind each rank to as many cores (Open MPI:
  /// --map-by slot:PE=<threads>, or --bind-to none), else the threads share one core.
  int threads = 1;
  /// allgather (or gather-bcast with compressed_downlink) with the asq scheme, cpu backend:
  /// the rotated vector moves in this many chunks (payloads that share the whole
  /// vector's levels, solved once), chunk k + 1 rounded and packed while chunk k is in flight
  /// (non-blocking MPI) and each chunk decoded as it arrives. 1 = one payload. allgather's mean
  /// is bit-identical for every count, the compressed downlink's for every count above 1;
  /// chunks shorter than kMinPipelineChunk are merged. With buckets, chunks are whole buckets,
  /// each with its own levels (the downlink's too); with rotation_block too (the bucket size a
  /// multiple or a divisor of it), whole blocks, and the rotation streams: each chunk's blocks are
  /// rotated just before it is encoded, so the first chunk leaves after one chunk's rotation and
  /// solve, not the whole vector's (the mean is the one-payload round's with those buckets, bit for
  /// bit, on both exchanges).
  std::size_t pipeline_chunks = 1;
  /// eden only: bits per coordinate beyond log2(s), in [0, 1). That share of the coordinates,
  /// rounded down to a multiple of 1/256 (at least 1/256 when not 0), take the Lloyd-Max
  /// centroids of log2(s) + 1 bits, so a budget of b + f bits is spent whole (payload kind 4,
  /// codec/payload.h). Needs s <= 128, no buckets. 0: every coordinate takes log2(s) bits.
  double fractional_bits = 0.0;
};

/// The groups of 8 wide codes per 2048 of a fractional budget f: floor(256·f).
std::uint8_t wide_groups(double fractional_bits);

/// Largest Options::pipeline_chunks, and the fewest coordinates of a pipelined chunk.
inline constexpr std::size_t kMaxPipelineChunks = 1024;
inline constexpr std::size_t kMinPipelineChunk = 4096;

/// "allgather", "gather-bcast", "reduce-scatter", "reduce-scatter-int"
Exchange parse_exchange(std::string_view name);
std::string_view exchange_name(Exchange e);
Rounding parse_rounding(
    std::string_view name);  ///< "auto", "stochastic"/"unbiased", "nearest"/"biased"
std::string_view rounding_name(Rounding r);
Backend parse_backend(std::string_view name);  ///< "cpu", "cuda"
std::string_view backend_name(Backend b);
/// "asq", "eden" (DRIVE: "eden" with s = 2), "asq-shared", "qsgd", "thc", "quic-fl"
Scheme parse_scheme(std::string_view name);
std::string_view scheme_name(Scheme s);
/// "auto" or 0..3.
int parse_rotations(std::string_view text);

/// Throws dme::Error naming the option and value when the options are invalid on their own
/// (s, rotations, grid size, bucket size, reduce-scatter with per-rank rotations, cuda backend
/// in a build without CUDA).
void validate(const Options& options);

/// The layout the options rotate with: rotation_layout, auto resolved by the backend.
RotationLayout resolved_layout(const Options& options);

/// True when the options round to the nearest level.
bool uses_nearest_rounding(const Options& options);

/// True for the schemes whose levels come from Options::solver (asq, asq-shared); the others'
/// levels are fixed (qsgd, eden, quic-fl, thc).
bool scheme_solves_levels(Scheme scheme);

/// A hash of every option that must agree across ranks.
std::uint64_t options_fingerprint(const Options& options);

/// One line describing the options, for logs and error messages.
std::string describe(const Options& options);

}  // namespace dme
