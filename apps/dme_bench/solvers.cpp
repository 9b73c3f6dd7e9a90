// dme-bench solvers --log2d 12,16,20,24 --s 4,16,64 --m 400 --dist lognormal
//   --solvers quiver,quiver-accel,quiver-apx,kmeans,zipml-cp-unif,alq [--reps R] [--seed N] [--csv]
#include <iostream>

#include "dme/bench/solver_bench.h"
#include "dme/collective/options.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int solvers_main(int argc, char** argv) {
  po::options_description desc("dme-bench solvers: level-solver time against std::sort, and error");
  std::vector<std::string> log2d, s, m, solvers;
  std::string backend = "cpu";
  dme::SolverBenchConfig config;
  desc.add_options()("help,h", "show this help")("log2d", po::value(&log2d)->multitoken(),
                                                 "log2 of the lengths (default 12,16,20,24)")(
      "s", po::value(&s)->multitoken(), "numbers of levels (default 4,16,64)")(
      "m", po::value(&m)->multitoken(), "grid sizes of quiver-apx and zipml-cp-* (default 400)")(
      "dist", po::value(&config.dist)->default_value(config.dist),
      "input: lognormal, normal, exponential, truncnorm, weibull")(
      "solvers", po::value(&solvers)->multitoken(),
      "solver names (default quiver,quiver-accel,quiver-apx,kmeans,zipml-cp-unif,alq)")(
      "reps", po::value(&config.reps)->default_value(config.reps), "timed runs per cell (median)")(
      "budget", po::value(&config.budget_s)->default_value(config.budget_s),
      "seconds after which a cell stops repeating")(
      "seed", po::value(&config.seed)->default_value(config.seed), "seed of the input")(
      "backend", po::value(&backend)->default_value(backend), "cpu or cuda")(
      "csv", po::bool_switch(&config.csv), "print CSV instead of a table");
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "dme-bench solvers [options]", desc, vm)) return 0;
  if (!log2d.empty()) config.log2d = dme::app::parse_int_list(log2d, "log2d");
  if (!s.empty()) config.s = dme::app::parse_int_list(s, "s");
  if (!m.empty()) config.m = dme::app::parse_int_list(m, "m");
  if (!solvers.empty()) config.solvers = dme::app::parse_name_list(solvers);
  config.backend = dme::parse_backend(backend);
  return dme::run_solver_bench(config, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("solvers", "level-solver time versus std::sort, and vNMSE", solvers_main);
