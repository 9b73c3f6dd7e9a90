#include "common_options.h"

#include "dme/core/error.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace dme::app {

namespace {

// A given but empty value (`--out "$FILE"` with FILE unset) is a mistake, not "no value": an
// empty --out would run the whole job and write nothing.
auto non_empty(const char* option) {
  return [option](const std::string& value) {
    DME_CHECK(!value.empty(), "--" << option << " needs a value, got an empty one");
  };
}

}  // namespace

void add_output_options(po::options_description& desc, OutputOptions& out) {
  // clang-format off
  desc.add_options()
      ("out", po::value(&out.out)->notifier(non_empty("out")),
       "write the results to this HDF5 file")
      ("force", po::bool_switch(&out.force), "replace an existing --out file")
      ("append", po::bool_switch(&out.append), "add the runs to an existing --out file")
      ("csv", po::bool_switch(&out.csv), "print CSV instead of a table")
      ("quiet", po::bool_switch(&out.quiet), "no progress on stderr")
      ("tag", po::value(&out.tag)->value_name("NAME")->notifier(non_empty("tag")),
       "end every run name with _NAME (and store it as the runs' 'tag' attribute), so that "
       "--append can add runs of other settings, e.g. another --log2d, to one file");
  // clang-format on
}

void add_input_options(po::options_description& desc, InputArgs& in,
                       const std::string& default_dist, const std::string& default_inputs) {
  in.dist = default_dist;
  in.inputs = default_inputs;
  // clang-format off
  desc.add_options()
      ("dist", po::value(&in.dist)->default_value(default_dist),
       "input distribution: lognormal, normal, exponential, truncnorm, weibull, onehot, twohot, file")
      ("mu", po::value(&in.params.mu)->default_value(in.params.mu), "lognormal/normal location")
      ("sigma", po::value(&in.params.sigma)->default_value(in.params.sigma), "lognormal/normal scale")
      ("lambda", po::value(&in.params.lambda)->default_value(in.params.lambda), "exponential rate")
      ("lower", po::value(&in.params.lower)->default_value(in.params.lower), "truncnorm lower bound")
      ("upper", po::value(&in.params.upper)->default_value(in.params.upper), "truncnorm upper bound")
      ("shape", po::value(&in.params.shape)->default_value(in.params.shape), "weibull shape k")
      ("scale", po::value(&in.params.scale)->default_value(in.params.scale), "weibull scale")
      ("file", po::value(&in.params.file)->notifier(non_empty("file")), "--dist file: HDF5 file")
      ("dataset", po::value(&in.params.dataset), "--dist file: dataset (1-D shared or 2-D ranks x d)")
      ("inputs", po::value(&in.inputs)->default_value(default_inputs),
       "inputs across ranks: identical, iid, shifted");
  // clang-format on
}

void add_estimator_options(po::options_description& desc, EstimatorArgs& est, Options& opt) {
  // clang-format off
  desc.add_options()
      ("s", po::value(&opt.s)->default_value(opt.s), "levels (2..65536)")
      ("solver", po::value(&est.solver)->default_value(est.solver),
       "level solver: quiver, quiver-accel, quiver-apx, kmeans, zipml, zipml-cp-unif, "
       "zipml-cp-quant, zipml-2apx, alq, amq, uniform, rtn")
      ("m", po::value(&opt.solver_options.m)->default_value(opt.solver_options.m),
       "quiver-apx grid intervals")
      ("rotations", po::value(&est.rotations)->default_value(est.rotations), "RHTs: 0..3 or auto")
      ("per-rank-rotation", po::bool_switch(&est.per_rank_rotation),
       "independent rotation per rank (n inverse transforms) instead of a shared one")
      ("rounding", po::value(&est.rounding)->default_value(est.rounding),
       "auto (nearest for kmeans/rtn), stochastic, nearest")
      ("bucket", po::value(&opt.bucket_size)->default_value(opt.bucket_size),
       "coordinates per bucket with its own levels (0: none)")
      ("backend", po::value(&est.backend)->default_value(est.backend), "cpu or cuda")
      ("scheme", po::value(&est.scheme)->default_value(est.scheme),
       "encoding: asq (levels from --solver), asq-shared (asq + a dither the receiver "
       "regenerates), qsgd (grid on [-norm, norm]), eden (Lloyd-Max centroids, s = 2^b; s = 2 "
       "is DRIVE; unbiased with --per-rank-rotation) or quic-fl (bounded support and shared-"
       "randomness messages, s = 2, 4, 8, 16)")
      ("fractional-bits", po::value(&opt.fractional_bits)->default_value(opt.fractional_bits),
       "eden: bits per coordinate beyond log2(s), in [1/256, 1): that share of the "
       "coordinates takes the centroids of one bit more (0: none)")
      ("compressed-downlink", po::bool_switch(&opt.compressed_downlink),
       "gather-bcast: the root broadcasts the mean as a payload, not float32")
      ("rotation-layout", po::value(&est.rotation_layout)->default_value(est.rotation_layout),
       "auto (overlapped on cpu, padded on cuda), padded (zero padding to a power of two: up "
       "to 2x the coordinates) or overlapped (two overlapping power-of-two blocks: exactly d "
       "coordinates)")
      ("rotation-block", po::value(&opt.rotation_block)->default_value(opt.rotation_block),
       "overlapped layout, cpu: rotate a longer vector as independent blocks of this power of "
       "two (>= 256), each in cache: about half the rotation time at 2^16 for d = 2^24, the "
       "same error where the input's energy is spread evenly (0: the whole vector)")
      ("correlated-rounding", po::bool_switch(&opt.correlated_rounding),
       "reduce-scatter-int: stratify the ranks' rounding draws of each coordinate, so that "
       "their rounding errors partly cancel (unbiased)")
      ("pipeline", po::value(&opt.pipeline_chunks)->default_value(opt.pipeline_chunks),
       "allgather, or gather-bcast with --compressed-downlink (asq, cpu): move "
       "the vector in this many chunks that share its levels, packing the next while one is in "
       "flight and decoding each as it arrives; allgather's mean is the same for every count, "
       "the compressed downlink's for every count above 1 (1: one payload; 256-512 at d = 2^24 "
       "over TCP). With --bucket: chunks of whole buckets, each with its own levels; "
       "with --rotation-block too, the rotation streams chunk by chunk (fastest at d = 2^24: "
       "--rotation-block 32768 --bucket 98304 --pipeline 171)")
      ("threads", po::value(&est.threads)->multitoken()->default_value(est.threads, "1"),
       "threads per rank (results are identical for every count; bind each rank to as many "
       "cores, e.g. mpirun --map-by slot:PE=2)")
      ("seed", po::value(&opt.seed)->default_value(opt.seed), "seed of inputs, signs and rounding");
  // clang-format on
}

void finish_output(OutputOptions& out, int argc, char** argv) {
  // Provenance records the whole command line, so that it can be pasted back to rerun the job.
  out.argc = full_argc() ? full_argc() : argc;
  out.argv = full_argv() ? full_argv() : argv;
  write_mode(out);  // rejects --force with --append
  check_tag(out);
}

void finish_input(const InputArgs& in, Distribution& dist, InputMode& mode) {
  dist = parse_distribution(in.dist);
  mode = parse_input_mode(in.inputs);
}

void finish_estimator(const EstimatorArgs& est, Options& opt) {
  opt.solver = parse_solver(est.solver);
  opt.rotations = parse_rotations(est.rotations);
  opt.rounding = parse_rounding(est.rounding);
  opt.backend = parse_backend(est.backend);
  opt.scheme = parse_scheme(est.scheme);
  opt.rotation_layout = parse_rotation_layout(est.rotation_layout);
  opt.shared_rotation = !est.per_rank_rotation;
  const std::vector<int> threads = parse_int_list(est.threads, "threads");
  DME_CHECK(threads.size() == 1,
            "--threads takes one count here, got " << threads.size() << " values");
  opt.threads = threads.front();
}

}  // namespace dme::app
