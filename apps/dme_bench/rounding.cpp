// dme-bench rounding --log2d 20,24 --s 16 [--dist normal] [--reps R] [--seed N] [--csv]
#include <iostream>

#include "dme/bench/rounding_bench.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int rounding_main(int argc, char** argv) {
  po::options_description desc("dme-bench rounding: stochastic/nearest rounding throughput");
  std::vector<std::string> log2d, s;
  dme::RoundingBenchConfig config;
  desc.add_options()("help,h", "show this help")("log2d", po::value(&log2d)->multitoken(),
                                                 "log2 of the lengths (default 20,24)")(
      "s", po::value(&s)->multitoken(), "numbers of levels (default 16)")(
      "dist", po::value(&config.dist)->default_value(config.dist), "input distribution")(
      "reps", po::value(&config.reps)->default_value(config.reps), "timed runs (median)")(
      "seed", po::value(&config.seed)->default_value(config.seed), "seed of input and draws")(
      "csv", po::bool_switch(&config.csv), "print CSV instead of a table");
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "dme-bench rounding [options]", desc, vm)) return 0;
  if (!log2d.empty()) config.log2d = dme::app::parse_int_list(log2d, "log2d");
  if (!s.empty()) config.s = dme::app::parse_int_list(s, "s");
  return dme::run_rounding_bench(config, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("rounding", "stochastic/nearest rounding throughput (coords/s)",
                        rounding_main);
