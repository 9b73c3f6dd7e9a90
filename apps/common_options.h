// Options shared by the subcommands: output (--out, --force, --append, --csv, --quiet), input
// distribution (--dist, --mu, --sigma, ..., --inputs) and the estimator (--s, --solver, ...).
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

#include "dme/collective/options.h"
#include "dme/experiment/inputs.h"
#include "dme/experiment/output.h"

namespace dme::app {

struct InputArgs {
  std::string dist = "lognormal";
  std::string inputs = "identical";
  DistributionParams params;
};

struct EstimatorArgs {
  std::string solver = "quiver-apx";
  std::string rotations = "2";
  std::string rounding = "auto";
  std::string backend = "cpu";
  std::string scheme = "asq";
  std::string rotation_layout = "auto";
  bool per_rank_rotation = false;
  /// --threads: one count for the drivers; `dme-bench pipeline` takes a list.
  std::vector<std::string> threads = {"1"};
};

void add_output_options(boost::program_options::options_description& desc, OutputOptions& out);
void add_input_options(boost::program_options::options_description& desc, InputArgs& in,
                       const std::string& default_dist, const std::string& default_inputs);
void add_estimator_options(boost::program_options::options_description& desc, EstimatorArgs& est,
                           Options& opt);

/// Applies the parsed names to the config (throws dme::Error on bad names).
void finish_output(OutputOptions& out, int argc, char** argv);
void finish_input(const InputArgs& in, Distribution& dist, InputMode& mode);
void finish_estimator(const EstimatorArgs& est, Options& opt);

}  // namespace dme::app
