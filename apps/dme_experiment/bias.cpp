// mpirun -np 8 dme-experiment bias [--ranks 1,2,4,8] [--trials 10]
//   [--quantizers quiver,kmeans,uniform,rtn] [--d D | --log2d L] [--s 10] [--dist lognormal
//   --sigma 0.5] [--inputs identical] [--rotations 0,2] [--exchange allgather,reduce-scatter]
//   [--csv] [--out bias.h5]
#include <iostream>

#include "common_options.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/experiment/bias_experiment.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int bias_main(int argc, char** argv) {
  dme::BiasExperimentConfig cfg;
  std::vector<std::string> ranks, quantizers, rotations, exchanges;
  int log2d = -1;
  bool per_rank_rotation = false;
  std::string layout = "auto";
  dme::app::InputArgs in;
  in.params = cfg.params;
  po::options_description desc(
      "dme-experiment bias: biased versus unbiased quantizers in the mean of n ranks "
      "(QUIVER paper, Figure 1b)");
  // One option per line reads as a table.
  // clang-format off
  desc.add_options()("help,h", "show this help")
      ("ranks", po::value(&ranks)->multitoken(),
       "node counts n, each at most the launched ranks (default 1,2,4,... up to the launch)")
      ("trials", po::value(&cfg.trials)->default_value(cfg.trials), "estimates per (quantizer, n)")
      ("quantizers", po::value(&quantizers)->multitoken(),
       "solvers to compare (default quiver,kmeans,uniform,rtn; kmeans and rtn round to nearest)")
      ("d", po::value(&cfg.d)->default_value(cfg.d), "vector length")
      ("log2d", po::value(&log2d), "vector length 2^L (instead of --d)")
      ("s", po::value(&cfg.options.s)->default_value(cfg.options.s), "levels")
      ("rotations", po::value(&rotations)->multitoken(),
       "RHT counts to sweep: 0..3 or auto (default 0, the paper's setting; try 0,2)")
      ("per-rank-rotation", po::bool_switch(&per_rank_rotation),
       "independent rotation per rank instead of the shared-seed one")
      ("rotation-layout", po::value(&layout)->default_value(layout),
       "auto (overlapped on cpu), padded (zero padding to a power of two) or overlapped "
       "(exactly d coordinates)")
      ("rotation-block",
       po::value(&cfg.options.rotation_block)->default_value(cfg.options.rotation_block),
       "overlapped layout: rotate a longer vector as independent blocks of this power of two, "
       "each in cache (0: the whole vector)")
      ("exchange", po::value(&exchanges)->multitoken(),
       "exchanges to sweep: allgather, gather-bcast, reduce-scatter, reduce-scatter-int "
       "(default allgather)")
      ("m", po::value(&cfg.options.solver_options.m)->default_value(cfg.options.solver_options.m),
       "quiver-apx grid intervals")
      ("seed", po::value(&cfg.options.seed)->default_value(cfg.options.seed),
       "seed of inputs, signs and rounding");
  // clang-format on
  dme::app::add_input_options(desc, in, "lognormal", "identical");
  dme::app::add_output_options(desc, cfg.output);
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "mpirun -np N dme-experiment bias [options]", desc, vm))
    return 0;
  // Options to config: alike on every rank, so rank 0 alone reports an error (core/agree.h).
  dme::mpi::alike_everywhere([&] {
    DME_CHECK(!(vm.count("log2d") && !vm["d"].defaulted()), "give --d or --log2d, not both");
    if (vm.count("log2d")) {
      DME_CHECK(log2d >= 0 && log2d <= 30, "--log2d must be in 0..30, got " << log2d);
      cfg.d = std::size_t(1) << log2d;
    }
    cfg.options.rotation_layout = dme::parse_rotation_layout(layout);
    if (!ranks.empty()) cfg.ranks = dme::app::parse_int_list(ranks, "ranks");
    if (!quantizers.empty()) {
      cfg.quantizers.clear();
      for (const auto& name : dme::app::parse_name_list(quantizers))
        cfg.quantizers.push_back(dme::parse_solver(name));
    }
    if (!rotations.empty()) {
      cfg.rotations.clear();
      for (const auto& r : dme::app::parse_name_list(rotations))
        cfg.rotations.push_back(dme::parse_rotations(r));
    }
    if (!exchanges.empty()) {
      cfg.exchanges.clear();
      for (const auto& name : dme::app::parse_name_list(exchanges))
        cfg.exchanges.push_back(dme::parse_exchange(name));
    }

    cfg.options.shared_rotation = !per_rank_rotation;
    dme::app::finish_input(in, cfg.dist, cfg.inputs);
    cfg.params = in.params;
    dme::app::finish_output(cfg.output, argc, argv);
  });
  return dme::run_bias_experiment(cfg, MPI_COMM_WORLD, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("bias", "biased versus unbiased quantization across node counts",
                        bias_main);
