// dme-bench rotation --log2d 16,20,24 [--reps R] [--rotations K] [--seed S] [--block B] [--csv]
#include <iostream>

#include "dme/bench/rotation_bench.h"
#include "dme/collective/options.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int rotation_main(int argc, char** argv) {
  po::options_description desc("dme-bench rotation: FWHT and RHT time against memcpy");
  std::vector<std::string> log2d;
  std::string backend = "cpu";
  dme::RotationBenchConfig config;
  // clang-format off
  desc.add_options()("help,h", "show this help")
      ("log2d", po::value(&log2d)->multitoken(), "log2 of the lengths, e.g. 16,20,24 (default 16,20,24)")
      ("reps", po::value(&config.reps)->default_value(config.reps), "timed repetitions (median reported)")
      ("rotations", po::value(&config.rotations)->default_value(config.rotations), "RHTs composed (1..3)")
      ("seed", po::value(&config.seed)->default_value(config.seed), "seed of the input and signs")
      ("block", po::value(&config.block)->default_value(config.block), "rht_*: rotate in independent blocks of this power of two (the overlapped layout's blocks; 0: whole vectors)")
      ("backend", po::value(&backend)->default_value(backend), "cpu or cuda")
      ("csv", po::bool_switch(&config.csv), "print CSV instead of a table");
  // clang-format on
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "dme-bench rotation [options]", desc, vm)) return 0;
  if (!log2d.empty()) config.log2d = dme::app::parse_int_list(log2d, "log2d");
  config.backend = dme::parse_backend(backend);
  return dme::run_rotation_bench(config, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("rotation", "FWHT/RHT time versus memcpy of the same vector",
                        rotation_main);
