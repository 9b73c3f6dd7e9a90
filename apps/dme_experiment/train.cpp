// mpirun -np N dme-experiment train --model mlp --estimators exact,asq,asq-shared,eden,kmeans
//   --bits 2,4 --steps 300 [--batch 32] [--lr 0.1] [--data data/digits.h5] [--out FILE.h5]
#include <iostream>

#include "common_options.h"
#include "dme/core/agree.h"
#include "dme/experiment/train_experiment.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int train_main(int argc, char** argv) {
  dme::TrainExperimentConfig cfg;
  std::vector<std::string> estimators, bits;
  std::string exchange = "allgather";
  dme::app::EstimatorArgs est;
  po::options_description desc(
      "dme-experiment train: data-parallel SGD with the gradients averaged by each estimator");
  // clang-format off
  desc.add_options()("help,h", "show this help")
      ("data", po::value(&cfg.data)->default_value(cfg.data),
       "HDF5 file with x_train, y_train, x_test, y_test (scripts/prepare_data.py)")
      ("model", po::value(&cfg.model)->default_value(cfg.model),
       "softmax (64-10, d = 650) or mlp (64-1000-64-10, tanh, d = 129714)")
      ("estimators", po::value(&estimators)->multitoken(),
       "exact, asq, asq-shared, eden, qsgd, quic-fl, kmeans, each optionally with :per-rank "
       "(its own rotation per rank) (default: those of exact,asq,asq-shared,eden,kmeans that "
       "take the other options)")
      ("bits", po::value(&bits)->multitoken(), "bit budgets b, s = 2^b levels (default 4)")
      ("steps", po::value(&cfg.steps)->default_value(cfg.steps), "SGD steps per run")
      ("batch", po::value(&cfg.batch)->default_value(cfg.batch),
       "examples per rank per step (0: the rank's whole shard)")
      ("lr", po::value(&cfg.lr)->default_value(cfg.lr), "SGD step size")
      ("eval-every", po::value(&cfg.eval_every)->default_value(cfg.eval_every),
       "steps between test-accuracy evaluations")
      ("exchange", po::value(&exchange)->default_value(exchange),
       "exchange algorithm: allgather, gather-bcast, reduce-scatter, reduce-scatter-int");
  // clang-format on
  dme::app::add_estimator_options(desc, est, cfg.options);
  dme::app::add_output_options(desc, cfg.output);
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "mpirun -np N dme-experiment train [options]", desc, vm))
    return 0;
  // Options to config: alike on every rank, so rank 0 alone reports an error (core/agree.h).
  dme::mpi::alike_everywhere([&] {
    if (!estimators.empty()) cfg.estimators = dme::app::parse_name_list(estimators);
    cfg.default_estimators = estimators.empty();
    if (!bits.empty()) cfg.bits = dme::app::parse_int_list(bits, "bits");
    dme::app::finish_estimator(est, cfg.options);
    cfg.options.exchange = dme::parse_exchange(exchange);
    dme::app::finish_output(cfg.output, argc, argv);
  });
  return dme::run_train_experiment(cfg, MPI_COMM_WORLD, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("train", "data-parallel SGD on real data, gradients averaged by dme",
                        train_main);
