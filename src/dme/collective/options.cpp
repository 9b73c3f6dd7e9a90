#include "dme/collective/options.h"

#include <cmath>
#include <sstream>

#include "dme/core/error.h"
#include "dme/core/parallel.h"
#include "dme/rotation/rht.h"

namespace dme {

Exchange parse_exchange(std::string_view name) {
  if (name == "allgather") return Exchange::kAllgather;
  if (name == "gather-bcast") return Exchange::kGatherBcast;
  if (name == "reduce-scatter") return Exchange::kReduceScatter;
  if (name == "reduce-scatter-int") return Exchange::kReduceScatterInt;
  DME_THROW("unknown exchange algorithm '"
            << name << "' (valid: allgather, gather-bcast, reduce-scatter, reduce-scatter-int)");
}

std::string_view exchange_name(Exchange e) {
  switch (e) {
    case Exchange::kAllgather:
      return "allgather";
    case Exchange::kGatherBcast:
      return "gather-bcast";
    case Exchange::kReduceScatter:
      return "reduce-scatter";
    case Exchange::kReduceScatterInt:
      return "reduce-scatter-int";
  }
  return "?";
}

Rounding parse_rounding(std::string_view name) {
  if (name == "auto") return Rounding::kAuto;
  if (name == "stochastic" || name == "unbiased") return Rounding::kStochastic;
  if (name == "nearest" || name == "biased") return Rounding::kNearest;
  DME_THROW("unknown rounding '" << name << "' (valid: auto, stochastic, nearest)");
}

std::string_view rounding_name(Rounding r) {
  switch (r) {
    case Rounding::kAuto:
      return "auto";
    case Rounding::kStochastic:
      return "stochastic";
    case Rounding::kNearest:
      return "nearest";
  }
  return "?";
}

Backend parse_backend(std::string_view name) {
  if (name == "cpu") return Backend::kCpu;
  if (name == "cuda") return Backend::kCuda;
  DME_THROW("unknown backend '" << name << "' (valid: cpu, cuda)");
}

std::string_view backend_name(Backend b) {
  return b == Backend::kCpu ? "cpu" : "cuda";
}

Scheme parse_scheme(std::string_view name) {
  if (name == "asq") return Scheme::kAsq;
  if (name == "eden") return Scheme::kEden;
  if (name == "asq-shared") return Scheme::kAsqShared;
  if (name == "qsgd") return Scheme::kQsgd;
  if (name == "thc") return Scheme::kThc;
  if (name == "quic-fl") return Scheme::kQuicFl;
  DME_THROW("unknown scheme '" << name
                               << "' (valid: asq, eden, asq-shared, qsgd, thc, quic-fl; DRIVE is "
                                  "eden with s = 2)");
}

std::string_view scheme_name(Scheme s) {
  switch (s) {
    case Scheme::kAsq:
      return "asq";
    case Scheme::kEden:
      return "eden";
    case Scheme::kAsqShared:
      return "asq-shared";
    case Scheme::kQsgd:
      return "qsgd";
    case Scheme::kThc:
      return "thc";
    case Scheme::kQuicFl:
      return "quic-fl";
  }
  return "?";
}

int parse_rotations(std::string_view text) {
  if (text == "auto") return kAutoRotations;
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '0' + kMaxRotations) return text[0] - '0';
  DME_THROW("rotations must be 'auto' or 0.." << kMaxRotations << ", got '" << text << "'");
}

void validate(const Options& o) {
  DME_CHECK(o.s >= 2 && o.s <= kMaxLevels,
            "s (levels) must be in 2.." << kMaxLevels << ", got " << o.s);
  DME_CHECK(o.threads >= 1 && o.threads <= kMaxThreads,
            "threads must be in 1.." << kMaxThreads << ", got " << o.threads);
  DME_CHECK(o.pipeline_chunks >= 1 && o.pipeline_chunks <= kMaxPipelineChunks,
            "pipeline chunks must be in 1.." << kMaxPipelineChunks << ", got "
                                             << o.pipeline_chunks);
  DME_CHECK(o.pipeline_chunks == 1 ||
                ((o.exchange == Exchange::kAllgather ||
                  (o.exchange == Exchange::kGatherBcast && o.compressed_downlink)) &&
                 o.shared_rotation && o.scheme == Scheme::kAsq && o.backend == Backend::kCpu),
            "pipelining (" << o.pipeline_chunks
                           << " chunks) sends the payload in chunks "
                              "and decodes them into one shared-rotation sum: it needs exchange "
                              "allgather (or gather-bcast with the compressed downlink), a shared "
                              "rotation, the asq scheme and the cpu backend, got exchange "
                           << exchange_name(o.exchange)
                           << (o.exchange == Exchange::kGatherBcast && !o.compressed_downlink
                                   ? " with the float32 downlink"
                                   : "")
                           << (o.shared_rotation ? "" : " with per-rank rotations") << ", scheme "
                           << scheme_name(o.scheme) << ", backend " << backend_name(o.backend));
  DME_CHECK(o.pipeline_chunks == 1 || o.bucket_size == 0 || o.rotation_block == 0 ||
                o.bucket_size % o.rotation_block == 0 || o.rotation_block % o.bucket_size == 0,
            "pipelining with buckets and rotation blocks moves whole buckets and whole blocks "
            "in each chunk: the bucket size must divide the rotation block or be a multiple of "
            "it, got bucket size "
                << o.bucket_size << " and rotation block " << o.rotation_block);
  DME_CHECK(o.rotations == kAutoRotations || (o.rotations >= 0 && o.rotations <= kMaxRotations),
            "rotations must be auto or 0.." << kMaxRotations << ", got " << o.rotations);
  if (o.solver == Solver::kQuiverApx && scheme_solves_levels(o.scheme))
    DME_CHECK(o.solver_options.m >= o.s, "quiver-apx needs a grid of m >= s points, got m = "
                                             << o.solver_options.m << " < s = " << o.s);
  if (o.scheme == Scheme::kEden)
    DME_CHECK(o.s <= 256 && (o.s & (o.s - 1)) == 0,
              "eden quantizes to 2^b Lloyd-Max centroids, b = 1..8: s must be 2, 4, ..., 256, got "
                  << o.s);
  DME_CHECK(std::isfinite(o.fractional_bits) && o.fractional_bits >= 0 && o.fractional_bits < 1 &&
                (o.fractional_bits == 0 || wide_groups(o.fractional_bits) > 0),
            "fractional bits must be 0 or in [1/256, 1), got " << o.fractional_bits);
  DME_CHECK(o.fractional_bits == 0 ||
                (o.scheme == Scheme::kEden && o.s <= 128 && o.bucket_size == 0),
            "fractional bits (" << o.fractional_bits
                                << ") give a share of the coordinates one bit more: they need the "
                                   "eden scheme, s <= 128 and no buckets, got scheme "
                                << scheme_name(o.scheme) << ", s = " << o.s << ", bucket size "
                                << o.bucket_size);
  if (o.scheme == Scheme::kQuicFl) {
    DME_CHECK(o.s == 2 || o.s == 4 || o.s == 8 || o.s == 16,
              "quic-fl sends b-bit messages of a table optimised offline for b = 1..4: s must "
              "be 2, 4, 8 or 16, got "
                  << o.s);
    DME_CHECK(o.rounding != Rounding::kNearest && o.bucket_size == 0,
              "quic-fl is unbiased with one scale per payload: rounding must be auto or "
              "stochastic and bucket size 0, got "
                  << rounding_name(o.rounding) << " rounding, bucket size " << o.bucket_size);
  }
  // kmeans's levels are centroids inside the range: stochastic rounding (asq's, asq-shared's)
  // needs levels that enclose every value.
  DME_CHECK(o.solver != Solver::kKmeans ||
                !((o.scheme == Scheme::kAsq && o.rounding == Rounding::kStochastic) ||
                  o.scheme == Scheme::kAsqShared),
            "solver kmeans gives the optimal biased levels, centroids inside the vector's range: "
            "they take nearest rounding (rounding auto or nearest, scheme asq), got scheme "
                << scheme_name(o.scheme) << " with " << rounding_name(o.rounding)
                << " rounding; for unbiased rounding use quiver, quiver-accel or quiver-apx");
  DME_CHECK(!o.solver_options.input_is_sorted,
            "solver_options.input_is_sorted promises a sorted input to solve_levels; the "
            "estimator solves for the levels of rotated vectors, which are not sorted: leave it "
            "false");
  DME_CHECK(o.scheme != Scheme::kAsqShared || o.rounding != Rounding::kNearest,
            "asq-shared rounds stochastically (its dither corrects the rounding draws): rounding "
            "must be auto or stochastic, got nearest");
  DME_CHECK(!o.compressed_downlink || o.exchange == Exchange::kGatherBcast,
            "a compressed downlink is an option of gather-bcast (the exchange whose root "
            "broadcasts the mean), not of "
                << exchange_name(o.exchange));
  DME_CHECK(o.shared_rotation || (o.exchange != Exchange::kReduceScatter &&
                                  o.exchange != Exchange::kReduceScatterInt),
            exchange_name(o.exchange)
                << " sums chunks in the rotated domain and needs a shared rotation");
  DME_CHECK(!o.correlated_rounding ||
                (o.exchange == Exchange::kReduceScatterInt && !uses_nearest_rounding(o)),
            "correlated rounding stratifies the ranks' stochastic rounding on the levels they "
            "share: it needs exchange reduce-scatter-int and stochastic rounding, got exchange "
                << exchange_name(o.exchange) << " with "
                << (uses_nearest_rounding(o) ? "nearest" : "stochastic") << " rounding");
  DME_CHECK(o.scheme != Scheme::kThc || o.exchange == Exchange::kReduceScatterInt,
            "scheme thc adds integer codes on levels every rank agreed on before rounding, which "
            "only exchange reduce-scatter-int provides (it agrees on each chunk's range), got "
                << exchange_name(o.exchange));
  if (o.exchange == Exchange::kReduceScatterInt) {
    DME_CHECK((o.scheme == Scheme::kAsq || o.scheme == Scheme::kThc) &&
                  o.backend == Backend::kCpu && o.bucket_size == 0,
              "reduce-scatter-int sums level indices on a grid the ranks agree on: it takes the "
              "asq or thc scheme, the cpu backend and no buckets, got scheme "
                  << scheme_name(o.scheme) << ", backend " << backend_name(o.backend)
                  << ", bucket size " << o.bucket_size);
    DME_CHECK(o.s <= 32768,
              (o.scheme == Scheme::kThc
                   ? "reduce-scatter-int sums the ranks' codes of s levels, at most 65536 values "
                     "(n (s - 1) + 1 for n ranks): s must be at most 32768, got "
                   : "reduce-scatter-int rounds to a grid of 2s points (at most 65536): s must be "
                     "at most 32768, got ")
                  << o.s);
  }
#ifndef DME_HAVE_CUDA
  DME_CHECK(o.backend != Backend::kCuda,
            "backend 'cuda' requested but this build of dme has no CUDA backend "
            "(configure with -DDME_ENABLE_CUDA=ON on a machine with nvcc)");
#endif
  DME_CHECK(o.backend == Backend::kCpu || o.rotation_layout != RotationLayout::kOverlapped,
            "the " << backend_name(o.backend)
                   << " backend rotates with the padded layout only; "
                      "use rotation layout 'padded' or backend 'cpu'");
  check_rotation_block(o.rotation_block);
  DME_CHECK(o.rotation_block == 0 ||
                (o.backend == Backend::kCpu && o.rotation_layout != RotationLayout::kPadded),
            "rotation block " << o.rotation_block
                              << " needs the overlapped layout of the cpu backend (got backend '"
                              << backend_name(o.backend) << "', layout '"
                              << rotation_layout_name(o.rotation_layout) << "')");
  DME_CHECK(o.backend == Backend::kCpu || o.scheme == Scheme::kAsq,
            "scheme '" << scheme_name(o.scheme) << "' has no " << backend_name(o.backend)
                       << " implementation; use backend 'cpu'");
}

std::uint8_t wide_groups(double fractional_bits) {
  if (!(fractional_bits > 0 && fractional_bits < 1)) return 0;
  return static_cast<std::uint8_t>(std::floor(fractional_bits * 256.0));
}

RotationLayout resolved_layout(const Options& o) {
  if (o.rotation_layout != RotationLayout::kAuto) return o.rotation_layout;
  return o.backend == Backend::kCpu ? RotationLayout::kOverlapped : RotationLayout::kPadded;
}

bool scheme_solves_levels(Scheme scheme) {
  return scheme == Scheme::kAsq || scheme == Scheme::kAsqShared;
}

bool uses_nearest_rounding(const Options& o) {
  if (o.scheme == Scheme::kEden) return true;        // each value to its nearest centroid
  if (o.scheme == Scheme::kAsqShared || o.scheme == Scheme::kQuicFl)
    return false;  // the dither (asq-shared), the grid rounding (quic-fl) need the draws
  if (o.scheme == Scheme::kQsgd || o.scheme == Scheme::kThc)
    return o.rounding == Rounding::kNearest;
  if (o.rounding == Rounding::kAuto) return solver_is_biased(o.solver);
  return o.rounding == Rounding::kNearest;
}

std::uint64_t options_fingerprint(const Options& o) {
  // FNV-1a over the fields that every rank must share.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  mix(o.s);
  mix(static_cast<std::uint64_t>(o.solver));
  mix(o.solver_options.m);
  mix(uses_nearest_rounding(o));  // auto and its resolution round alike
  mix(static_cast<std::uint64_t>(static_cast<std::int64_t>(o.rotations)));
  mix(o.shared_rotation);
  mix(static_cast<std::uint64_t>(o.exchange));
  mix(o.seed);
  mix(o.bucket_size);
  mix(static_cast<std::uint64_t>(o.scheme));
  mix(o.compressed_downlink);
  mix(o.correlated_rounding);
  mix(static_cast<std::uint64_t>(resolved_layout(o)));
  mix(o.rotation_block);
  mix(o.pipeline_chunks);
  mix(wide_groups(o.fractional_bits));
  return h;
}

std::string describe(const Options& o) {
  std::ostringstream os;
  os << "s=" << o.s << " solver=" << solver_name(o.solver) << " m=" << o.solver_options.m
     << " rounding=" << (uses_nearest_rounding(o) ? "nearest" : "stochastic") << " rotations="
     << (o.rotations == kAutoRotations ? std::string("auto") : std::to_string(o.rotations))
     << (o.shared_rotation ? " shared" : " per-rank") << " exchange=" << exchange_name(o.exchange)
     << " backend=" << backend_name(o.backend) << " scheme=" << scheme_name(o.scheme)
     << " seed=" << o.seed << " bucket=" << o.bucket_size
     << (o.compressed_downlink ? " downlink=compressed" : "")
     << (o.correlated_rounding ? " rounding-draws=correlated" : "")
     << " layout=" << rotation_layout_name(resolved_layout(o))
     << (o.rotation_block ? " rotation-block=" + std::to_string(o.rotation_block) : "")
     << " threads=" << o.threads
     << (o.pipeline_chunks > 1 ? " pipeline=" + std::to_string(o.pipeline_chunks) : "")
     << (o.fractional_bits > 0 ? " fractional-bits=" + std::to_string(o.fractional_bits) : "");
  return os.str();
}

}  // namespace dme
