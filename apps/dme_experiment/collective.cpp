// mpirun -np N dme-experiment collective --log2d 16,20,24 --s 16 --solver quiver-apx
//   --exchange allgather,gather-bcast,reduce-scatter,reduce-scatter-int [--rotations K] [--trials
//   T] [--csv]
#include <iostream>

#include "common_options.h"
#include "dme/core/agree.h"
#include "dme/experiment/collective_experiment.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int collective_main(int argc, char** argv) {
  dme::CollectiveExperimentConfig cfg;
  std::vector<std::string> log2d, exchanges;
  dme::app::InputArgs in;
  dme::app::EstimatorArgs est;
  po::options_description desc("dme-experiment collective: compressed mean versus MPI_Allreduce");
  // clang-format off
  desc.add_options()("help,h", "show this help")
      ("log2d", po::value(&log2d)->multitoken(), "log2 of the vector lengths (default 16,20)")
      ("exchange", po::value(&exchanges)->multitoken(),
       "exchange algorithms: allgather, gather-bcast, reduce-scatter, reduce-scatter-int "
       "(default: those of allgather,gather-bcast,reduce-scatter,reduce-scatter-int that take "
       "the other options)")
      ("trials", po::value(&cfg.trials)->default_value(cfg.trials), "timed estimates per row");
  // clang-format on
  dme::app::add_estimator_options(desc, est, cfg.options);
  dme::app::add_input_options(desc, in, "lognormal", "iid");
  dme::app::add_output_options(desc, cfg.output);
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "mpirun -np N dme-experiment collective [options]", desc,
                               vm))
    return 0;
  // Options to config: alike on every rank, so rank 0 alone reports an error (core/agree.h).
  dme::mpi::alike_everywhere([&] {
    if (!log2d.empty()) cfg.log2d = dme::app::parse_int_list(log2d, "log2d");
    if (!exchanges.empty()) {
      cfg.exchanges.clear();
      for (const auto& name : dme::app::parse_name_list(exchanges))
        cfg.exchanges.push_back(dme::parse_exchange(name));
    }
    cfg.default_exchanges = exchanges.empty();
    dme::app::finish_estimator(est, cfg.options);
    dme::app::finish_input(in, cfg.dist, cfg.inputs);
    cfg.params = in.params;
    dme::app::finish_output(cfg.output, argc, argv);
  });
  return dme::run_collective_experiment(cfg, MPI_COMM_WORLD, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("collective", "compressed mean estimate versus MPI_Allreduce",
                        collective_main);
