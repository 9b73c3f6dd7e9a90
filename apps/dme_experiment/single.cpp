// mpirun -np N dme-experiment single [--sigmas 0.25,0.5,...,2] [--d D | --log2d L] [--s 10]
//   [--quantizers quiver,kmeans,uniform,rtn] [--trials 5] [--rotations 0] [--csv] [--out single.h5]
#include <iostream>
#include <string>

#include "common_options.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/experiment/single_experiment.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int single_main(int argc, char** argv) {
  dme::SingleExperimentConfig cfg;
  std::vector<std::string> sigmas, quantizers;
  int log2d = -1;
  po::options_description desc(
      "dme-experiment single: vNMSE of one quantized LogNormal vector versus sigma "
      "(QUIVER paper, Figure 1a)");
  // One option per line reads as a table.
  // clang-format off
  desc.add_options()("help,h", "show this help")
      ("sigmas", po::value(&sigmas)->multitoken(),
       "sigmas of the LogNormal(mu, sigma^2) entries (default 0.25,0.5,...,2)")
      ("mu", po::value(&cfg.mu)->default_value(cfg.mu), "LogNormal location")
      ("quantizers", po::value(&quantizers)->multitoken(),
       "solvers to compare (default quiver,kmeans,uniform,rtn; kmeans and rtn round to nearest)")
      ("d", po::value(&cfg.d)->default_value(cfg.d), "vector length (the paper: 10000000)")
      ("log2d", po::value(&log2d), "vector length 2^L (instead of --d)")
      ("s", po::value(&cfg.s)->default_value(cfg.s), "levels")
      ("trials", po::value(&cfg.trials)->default_value(cfg.trials), "vectors per sigma")
      ("rotations", po::value(&cfg.rotations)->default_value(cfg.rotations),
       "RHTs before quantizing (0..3; 0 quantizes the raw vector as the paper does)")
      ("m", po::value(&cfg.solver_options.m)->default_value(cfg.solver_options.m),
       "quiver-apx grid intervals")
      ("seed", po::value(&cfg.seed)->default_value(cfg.seed), "seed of inputs and rounding");
  // clang-format on
  dme::app::add_output_options(desc, cfg.output);
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "mpirun -np N dme-experiment single [options]", desc,
                               vm))
    return 0;
  // Options to config: alike on every rank, so rank 0 alone reports an error (core/agree.h).
  dme::mpi::alike_everywhere([&] {
    DME_CHECK(!(vm.count("log2d") && !vm["d"].defaulted()), "give --d or --log2d, not both");
    if (vm.count("log2d")) {
      DME_CHECK(log2d >= 0 && log2d <= 30, "--log2d must be in 0..30, got " << log2d);
      cfg.d = std::size_t(1) << log2d;
    }
    if (!sigmas.empty()) cfg.sigmas = dme::app::parse_double_list(sigmas, "sigmas");
    if (!quantizers.empty()) {
      cfg.quantizers.clear();
      for (const auto& name : dme::app::parse_name_list(quantizers))
        cfg.quantizers.push_back(dme::parse_solver(name));
    }
    dme::app::finish_output(cfg.output, argc, argv);
  });
  return dme::run_single_experiment(cfg, MPI_COMM_WORLD, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("single", "vNMSE of one quantized vector versus sigma", single_main);
