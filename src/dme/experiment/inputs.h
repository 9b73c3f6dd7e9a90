// Experiment inputs: the vectors the ranks hold, from a named distribution or an HDF5 file.
//
// Every draw comes from PhiloxStream(seed, trial, stream, Purpose::kInput) and draw i depends on
// i only, so an input is reproducible from (seed, trial, stream) alone, a prefix of a longer
// input equals the shorter input, and generation can be split across threads or devices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dme/io/attr_value.h"

namespace dme {

enum class Distribution {
  kLogNormal,    ///< exp(N(mu, sigma^2))
  kNormal,       ///< N(mu, sigma^2)
  kExponential,  ///< rate lambda (mean 1/lambda)
  kTruncNorm,    ///< standard normal truncated to [lower, upper]
  kWeibull,      ///< shape k, scale lambda: CDF 1 - exp(-(x/scale)^shape)
  kOneHot,       ///< 1 at one position drawn from the stream, 0 elsewhere
  kTwoHot,       ///< +1 and -1 at two distinct drawn positions (sum 0), 0 elsewhere
  kFile,         ///< an HDF5 dataset (see make_input)
};

/// "lognormal", "normal", "exponential", "truncnorm", "weibull", "onehot", "twohot", "file";
/// anything else -> dme::Error listing these.
Distribution parse_distribution(std::string_view name);
std::string_view distribution_name(Distribution dist);

struct DistributionParams {
  double mu = 0, sigma = 1;      ///< lognormal(mu, sigma) and normal(mu, sigma); sigma >= 0
  double lambda = 1;             ///< exponential rate, > 0
  double lower = -1, upper = 1;  ///< truncnorm: standard normal truncated to [lower, upper]
  double shape = 1, scale = 1;   ///< weibull(k = shape, lambda = scale), both > 0
  std::string file, dataset;     ///< kFile: HDF5 file and dataset name or path in it
};

/// Throws dme::Error naming the parameter and its value when `params` do not define `dist`
/// (non-finite values, sigma < 0, lambda, shape or scale <= 0, lower >= upper, an interval of
/// probability too small for double precision, an empty file or dataset name).
void validate_params(Distribution dist, const DistributionParams& params);

enum class InputMode {
  kIdentical,  ///< every rank holds the same vector (stream 0)
  kIid,        ///< rank r draws independently (stream r + 1)
  kShifted,    ///< the iid vector of rank r plus r * s_r / 2 (heterogeneous means)
};

/// "identical", "iid", "shifted"; anything else -> dme::Error listing these.
InputMode parse_input_mode(std::string_view name);
std::string_view input_mode_name(InputMode mode);

/// Fills `out` with draws of `dist` from PhiloxStream(seed, trial, stream_id, kInput), computed
/// in double and rounded to float. With u_i = uniform_double(i) (53 bits; u_2k and u_2k+1 share
/// Philox block k):
/// - exponential, weibull, truncnorm: draw i = F^-1(u_i), e.g. -log(1 - u_i) / lambda
///   (truncnorm through the normal quantile);
/// - normal, lognormal: Box-Muller on the pair of block k, z_2k = r cos(2 pi u_2k+1) and
///   z_2k+1 = r sin(2 pi u_2k+1) with r = sqrt(-2 log(1 - u_2k));
/// - onehot, twohot: positions from block 0 (64-bit words modulo d, bias below d / 2^64).
/// kFile -> dme::Error (files are read by make_input). A draw that float cannot represent
/// (e.g. lognormal with mu = 100) -> dme::Error.
/// @param out output, size d (d >= 1; d >= 2 for twohot)
void generate(Distribution dist, const DistributionParams& params, std::uint64_t seed,
              std::uint32_t trial, std::uint32_t stream_id, std::span<float> out);

/// The vector of rank `rank` in trial `trial`, size d.
/// - identical: generate(..., stream 0) on every rank; iid: stream rank + 1.
/// - shifted: the iid vector x plus rank * s / 2 in every coordinate, s the (population)
///   standard deviation of x's own entries, so rank r's mean exceeds its draws' mean by r s / 2
///   (rank 0 is unshifted; a constant vector has s = 0 and is not shifted).
/// - kFile: a 1-D dataset of length d is every rank's vector; a 2-D dataset (rows x d) gives
///   row 0 in identical mode and row rank % rows otherwise (shifted adds the offset above).
///   Only that row is read. A dataset name containing "{rank}" names one dataset per rank
///   ("inputs/rank_{rank}" -> "inputs/rank_3" for rank 3; rank 0's in identical mode). Any numeric
///   type is converted to float. A missing file or dataset, another rank, a length other than d, or
///   a non-finite entry -> dme::Error naming file, dataset and sizes.
std::vector<float> make_input(Distribution dist, const DistributionParams& params, InputMode mode,
                              std::size_t d, int rank, std::uint64_t seed, std::uint32_t trial);

/// The input's description for a results group: "distribution", "input_mode" and the
/// parameters that `dist` uses (e.g. "mu", "sigma" for lognormal; "file", "dataset").
std::map<std::string, AttrValue> describe_input(Distribution dist, const DistributionParams& params,
                                                InputMode mode);

}  // namespace dme
