// dme-bench pipeline --log2d 20,24 --s 16 --solver quiver-apx --rotations 2 [--threads 1,2]
//   [--reps R] [--csv]
#include <iostream>

#include "common_options.h"
#include "dme/bench/pipeline_bench.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int pipeline_main(int argc, char** argv) {
  dme::PipelineBenchConfig cfg;
  std::vector<std::string> log2d;
  dme::app::EstimatorArgs est;
  po::options_description desc("dme-bench pipeline: rotate + solve + round + pack on one rank (--threads: a list of counts)");
  // clang-format off
  desc.add_options()("help,h", "show this help")
      ("log2d", po::value(&log2d)->multitoken(), "log2 of the lengths (default 20,24)")
      ("reps", po::value(&cfg.reps)->default_value(cfg.reps), "timed repetitions (median)")
      ("csv", po::bool_switch(&cfg.csv), "print CSV instead of a table");
  // clang-format on
  dme::app::add_estimator_options(desc, est, cfg.options);
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "dme-bench pipeline [options]", desc, vm)) return 0;
  if (!log2d.empty()) cfg.log2d = dme::app::parse_int_list(log2d, "log2d");
  cfg.threads = dme::app::parse_int_list(est.threads, "threads");  // a list here
  est.threads = {"1"};
  dme::app::finish_estimator(est, cfg.options);
  return dme::run_pipeline_bench(cfg, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("pipeline", "whole compression (rotate, solve, round, pack) throughput",
                        pipeline_main);
