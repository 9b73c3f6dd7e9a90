#include "dme/experiment/inputs.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "dme/core/error.h"
#include "dme/core/normal.h"
#include "dme/core/rng.h"
#include "dme/io/hdf5.h"

namespace dme {
namespace {

constexpr std::array<std::pair<std::string_view, Distribution>, 8> kDistributionNames = {{
    {"lognormal", Distribution::kLogNormal},
    {"normal", Distribution::kNormal},
    {"exponential", Distribution::kExponential},
    {"truncnorm", Distribution::kTruncNorm},
    {"weibull", Distribution::kWeibull},
    {"onehot", Distribution::kOneHot},
    {"twohot", Distribution::kTwoHot},
    {"file", Distribution::kFile},
}};

constexpr std::array<std::pair<std::string_view, InputMode>, 3> kModeNames = {{
    {"identical", InputMode::kIdentical},
    {"iid", InputMode::kIid},
    {"shifted", InputMode::kShifted},
}};

template <class Table>
std::string joined_names(const Table& table) {
  std::string names;
  for (const auto& [name, value] : table) names += (names.empty() ? "" : ", ") + std::string(name);
  return names;
}

/// Inverse-CDF sampling of N(0,1) restricted to [lower, upper]. An interval on the positive
/// side is mirrored to the negative side, where the CDF keeps its relative precision, so
/// tail intervals such as [4, 6] are sampled exactly rather than from rounded-off CDF values.
class TruncatedNormal {
 public:
  TruncatedNormal(double lower, double upper) : flip_(lower > 0) {
    lo_ = flip_ ? -upper : lower;
    hi_ = flip_ ? -lower : upper;
    cdf_lo_ = normal_cdf(lo_);
    mass_ = normal_cdf(hi_) - cdf_lo_;
  }
  double mass() const { return mass_; }
  double operator()(double u) const {
    const double p = std::clamp(cdf_lo_ + u * mass_, std::numeric_limits<double>::min(),
                                std::nextafter(1.0, 0.0));
    const double x = std::clamp(normal_quantile(p), lo_, hi_);  // rounding may step outside
    return flip_ ? -x : x;
  }

 private:
  bool flip_;
  double lo_, hi_, cdf_lo_, mass_;
};

// ---- draws ---------------------------------------------------------------------------------

struct Uniforms {
  double u0, u1;  ///< in [0, 1), 53 bits each
};

/// The two doubles of Philox block k: PhiloxStream::uniform_double(2k) and (2k + 1), with one
/// Philox evaluation instead of two.
inline Uniforms uniforms(const PhiloxStream& stream, std::uint64_t k) {
  const PhiloxStream::Block r = stream.block(k);
  constexpr std::uint64_t kMask = (std::uint64_t{1} << 53) - 1;
  const std::uint64_t a = ((std::uint64_t{r.v[0]} << 21) ^ (std::uint64_t{r.v[1]} >> 11)) & kMask;
  const std::uint64_t b = ((std::uint64_t{r.v[2]} << 21) ^ (std::uint64_t{r.v[3]} >> 11)) & kMask;
  return {static_cast<double>(a) * 0x1p-53, static_cast<double>(b) * 0x1p-53};
}

/// out[i] = float(transform(u_i)), u_i = uniform_double(i): one Philox block per two draws.
/// (1 - u is exact for a 53-bit u, so log(1 - u) loses nothing to log1p(-u) and is faster.)
template <class Transform>
void fill_uniform(const PhiloxStream& stream, std::span<float> out, Transform transform) {
  const std::size_t n = out.size();
  std::size_t i = 0;
  for (; i + 1 < n; i += 2) {
    const Uniforms u = uniforms(stream, i / 2);
    out[i] = static_cast<float>(transform(u.u0));
    out[i + 1] = static_cast<float>(transform(u.u1));
  }
  if (i < n) out[i] = static_cast<float>(transform(uniforms(stream, i / 2).u0));
}

/// out[i] = float(transform(z_i)) for standard normals z by Box-Muller on the pair of block k:
/// r = sqrt(-2 ln(1 - u_2k)), z_2k = r cos(2 pi u_2k+1), z_2k+1 = r sin(2 pi u_2k+1).
template <class Transform>
void fill_normal(const PhiloxStream& stream, std::span<float> out, Transform transform) {
  const std::size_t n = out.size();
  for (std::size_t i = 0; i < n; i += 2) {
    const Uniforms u = uniforms(stream, i / 2);
    const double r = std::sqrt(-2 * std::log(1 - u.u0));
    const double theta = 2 * std::numbers::pi * u.u1;
    out[i] = static_cast<float>(transform(r * std::cos(theta)));
    if (i + 1 < n) out[i + 1] = static_cast<float>(transform(r * std::sin(theta)));
  }
}

/// 64 random bits from words (2w, 2w + 1) of block 0, for hot positions.
std::uint64_t position_bits(const PhiloxStream& stream, unsigned w) {
  const PhiloxStream::Block r = stream.block(0);
  return (std::uint64_t{r.v[2 * w]} << 32) | r.v[2 * w + 1];
}

void fill_hot(const PhiloxStream& stream, std::span<float> out, bool two) {
  std::fill(out.begin(), out.end(), 0.0f);
  const std::uint64_t d = out.size();
  const std::uint64_t first = position_bits(stream, 0) % d;
  out[first] = 1.0f;
  if (two) {  // uniform over the d - 1 other positions
    const std::uint64_t second = (first + 1 + position_bits(stream, 1) % (d - 1)) % d;
    out[second] = -1.0f;
  }
}

void check_finite_draws(Distribution dist, const DistributionParams& p,
                        std::span<const float> out) {
  auto bad = std::find_if(out.begin(), out.end(), [](float v) { return !std::isfinite(v); });
  DME_CHECK(bad == out.end(),
            "distribution " << distribution_name(dist) << " (mu=" << p.mu << ", sigma=" << p.sigma
                            << ", lambda=" << p.lambda << ", shape=" << p.shape
                            << ", scale=" << p.scale << ") drew " << *bad << " at index "
                            << (bad - out.begin()) << ", which float cannot represent");
}

// ---- file inputs ---------------------------------------------------------------------------

constexpr std::string_view kRankPlaceholder = "{rank}";

/// The dataset name with "{rank}" replaced by the rank whose vector is read (0 in identical
/// mode, where every rank reads rank 0's).
std::string dataset_name_for(const std::string& pattern, InputMode mode, int rank) {
  std::string name = pattern;
  const std::size_t pos = name.find(kRankPlaceholder);
  if (pos != std::string::npos)
    name.replace(pos, kRankPlaceholder.size(),
                 std::to_string(mode == InputMode::kIdentical ? 0 : rank));
  return name;
}

std::vector<float> read_file_input(const DistributionParams& p, InputMode mode, std::size_t d,
                                   int rank) {
  const std::string name = dataset_name_for(p.dataset, mode, rank);
  const std::string what = "input file '" + p.file + "', dataset '" + name + "'";
  h5::File file = h5::File::open(p.file, /*writable=*/false);
  std::vector<double> wide;  // read as double: a float64 value beyond float32 is named as such
  {
    h5::Group root = h5::Group::root(file);
    h5::Dataset dataset = [&] {
      try {
        return h5::Dataset::open(root, name);
      } catch (const Error& e) {
        DME_THROW("cannot open dataset '" << name << "' in input file '" << p.file
                                          << "': " << e.message());
      }
    }();
    const std::vector<hsize_t> dims = dataset.dims();
    DME_CHECK(
        dims.size() == 1 || dims.size() == 2,
        what << " has " << dims.size() << " dimensions; expected 1 (shared) or 2 (ranks x d)");
    const hsize_t length = dims.back();
    DME_CHECK(length == d, what << " has vectors of length " << length << " but d = " << d
                                << (dims.size() == 2 ? " (shape " + std::to_string(dims[0]) +
                                                           " x " + std::to_string(dims[1]) + ")"
                                                     : std::string()));
    if (dims.size() == 1) {
      const hsize_t start[1] = {0}, count[1] = {d};
      wide = dataset.read_doubles(start, count);
    } else {
      DME_CHECK(dims[0] >= 1, what << " has no rows");
      const hsize_t row = mode == InputMode::kIdentical ? 0 : static_cast<hsize_t>(rank);
      DME_CHECK(row < dims[0], what << " has " << dims[0] << " rows (shape " << dims[0] << " x "
                                    << dims[1] << ") but rank " << rank << " reads row " << row
                                    << ": a 2-D input needs one row per rank (launch at most "
                                    << dims[0]
                                    << " ranks, or pass --inputs identical so that "
                                       "every rank reads row 0)");
      const hsize_t start[2] = {row, 0}, count[2] = {1, d};
      wide = dataset.read_doubles(start, count);
    }
  }
  file.close();
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  std::vector<float> x(wide.size());
  for (std::size_t i = 0; i < wide.size(); ++i) {
    DME_CHECK(std::isfinite(wide[i]), what << " holds a non-finite value (" << wide[i]
                                           << ") at index " << i << " of the row read for rank "
                                           << rank);
    DME_CHECK(std::fabs(wide[i]) <= kFloatMax,
              what << " holds " << wide[i] << " at index " << i << " of the row read for rank "
                   << rank << ", outside the float32 range (|x| <= " << kFloatMax
                   << ") in which dme computes; scale the input down");
    x[i] = static_cast<float>(wide[i]);
  }
  return x;
}

/// x += rank * s / 2, s the population standard deviation of x.
void shift_by_rank(std::span<float> x, int rank) {
  double sum = 0, sum_sq = 0;
  for (float v : x) sum += v;
  const double mean = sum / static_cast<double>(x.size());
  for (float v : x) sum_sq += (v - mean) * (v - mean);
  const double offset = rank * std::sqrt(sum_sq / static_cast<double>(x.size())) / 2;
  for (float& v : x) v = static_cast<float>(v + offset);
}

}  // namespace

Distribution parse_distribution(std::string_view name) {
  for (const auto& [n, dist] : kDistributionNames)
    if (n == name) return dist;
  DME_THROW("unknown input distribution '"
            << name << "' (expected one of: " << joined_names(kDistributionNames) << ")");
}

std::string_view distribution_name(Distribution dist) {
  for (const auto& [n, value] : kDistributionNames)
    if (value == dist) return n;
  DME_ASSERT(false);
  return {};
}

InputMode parse_input_mode(std::string_view name) {
  for (const auto& [n, mode] : kModeNames)
    if (n == name) return mode;
  DME_THROW("unknown input mode '" << name << "' (expected one of: " << joined_names(kModeNames)
                                   << ")");
}

std::string_view input_mode_name(InputMode mode) {
  for (const auto& [n, value] : kModeNames)
    if (value == mode) return n;
  DME_ASSERT(false);
  return {};
}

void validate_params(Distribution dist, const DistributionParams& p) {
  const std::string_view name = distribution_name(dist);
  switch (dist) {
    case Distribution::kLogNormal:
    case Distribution::kNormal:
      DME_CHECK(std::isfinite(p.mu), name << ": mu must be finite, got " << p.mu);
      DME_CHECK(std::isfinite(p.sigma) && p.sigma >= 0,
                name << ": sigma must be finite and >= 0, got " << p.sigma);
      break;
    case Distribution::kExponential:
      DME_CHECK(std::isfinite(p.lambda) && p.lambda > 0,
                name << ": lambda (rate) must be finite and > 0, got " << p.lambda);
      break;
    case Distribution::kTruncNorm:
      DME_CHECK(!std::isnan(p.lower) && !std::isnan(p.upper) && p.lower < p.upper,
                name << ": need lower < upper, got [" << p.lower << ", " << p.upper << "]");
      DME_CHECK(TruncatedNormal(p.lower, p.upper).mass() > 0,
                name << ": [" << p.lower << ", " << p.upper
                     << "] has a standard normal probability below double precision");
      break;
    case Distribution::kWeibull:
      DME_CHECK(std::isfinite(p.shape) && p.shape > 0,
                name << ": shape must be finite and > 0, got " << p.shape);
      DME_CHECK(std::isfinite(p.scale) && p.scale > 0,
                name << ": scale must be finite and > 0, got " << p.scale);
      break;
    case Distribution::kOneHot:
    case Distribution::kTwoHot:
      break;
    case Distribution::kFile:
      DME_CHECK(!p.file.empty(), "input distribution 'file' needs a file name");
      DME_CHECK(!p.dataset.empty(),
                "input distribution 'file' needs a dataset name (file '" << p.file << "')");
      break;
  }
}

void generate(Distribution dist, const DistributionParams& p, std::uint64_t seed,
              std::uint32_t trial, std::uint32_t stream_id, std::span<float> out) {
  DME_CHECK(dist != Distribution::kFile,
            "generate: the 'file' distribution is read by make_input, not generated");
  validate_params(dist, p);
  DME_CHECK(!out.empty(), "generate: the output is empty (d = 0)");
  DME_CHECK(dist != Distribution::kTwoHot || out.size() >= 2,
            "twohot needs d >= 2 (two distinct positions), got d = " << out.size());
  const PhiloxStream stream(seed, trial, stream_id, Purpose::kInput);
  switch (dist) {
    case Distribution::kLogNormal:
      fill_normal(stream, out, [&](double z) { return std::exp(p.mu + p.sigma * z); });
      break;
    case Distribution::kNormal:
      fill_normal(stream, out, [&](double z) { return p.mu + p.sigma * z; });
      break;
    case Distribution::kExponential:
      fill_uniform(stream, out, [&](double u) { return -std::log(1 - u) / p.lambda; });
      break;
    case Distribution::kTruncNorm: {
      const TruncatedNormal sample(p.lower, p.upper);
      fill_uniform(stream, out, sample);
      break;
    }
    case Distribution::kWeibull:
      fill_uniform(stream, out,
                   [&](double u) { return p.scale * std::pow(-std::log(1 - u), 1 / p.shape); });
      break;
    case Distribution::kOneHot:
    case Distribution::kTwoHot:
      fill_hot(stream, out, dist == Distribution::kTwoHot);
      break;
    case Distribution::kFile:
      DME_ASSERT(false);
  }
  check_finite_draws(dist, p, out);
}

std::vector<float> make_input(Distribution dist, const DistributionParams& params, InputMode mode,
                              std::size_t d, int rank, std::uint64_t seed, std::uint32_t trial) {
  DME_CHECK(d >= 1, "make_input: d must be >= 1, got " << d);
  DME_CHECK(rank >= 0, "make_input: rank must be >= 0, got " << rank);
  std::vector<float> x;
  if (dist == Distribution::kFile) {
    validate_params(dist, params);
    x = read_file_input(params, mode, d, rank);
  } else {
    x.resize(d);
    const std::uint32_t stream =
        mode == InputMode::kIdentical ? 0 : static_cast<std::uint32_t>(rank) + 1;
    generate(dist, params, seed, trial, stream, x);
  }
  if (mode == InputMode::kShifted) shift_by_rank(x, rank);
  return x;
}

std::map<std::string, AttrValue> describe_input(Distribution dist, const DistributionParams& p,
                                                InputMode mode) {
  std::map<std::string, AttrValue> out;
  out["distribution"] = std::string(distribution_name(dist));
  out["input_mode"] = std::string(input_mode_name(mode));
  switch (dist) {
    case Distribution::kLogNormal:
    case Distribution::kNormal:
      out["mu"] = p.mu;
      out["sigma"] = p.sigma;
      break;
    case Distribution::kExponential:
      out["lambda"] = p.lambda;
      break;
    case Distribution::kTruncNorm:
      out["lower"] = p.lower;
      out["upper"] = p.upper;
      break;
    case Distribution::kWeibull:
      out["shape"] = p.shape;
      out["scale"] = p.scale;
      break;
    case Distribution::kOneHot:
    case Distribution::kTwoHot:
      break;
    case Distribution::kFile:
      out["file"] = p.file;
      out["dataset"] = p.dataset;
      break;
  }
  return out;
}

}  // namespace dme
