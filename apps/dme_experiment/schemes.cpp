// mpirun -np N dme-experiment schemes --schemes asq,asq-shared,eden --bits 1,2,4 --log2d 16
//   [--exchange allgather] [--inputs iid|identical] [--dist ...] [--trials T] [--out FILE.h5]
#include <iostream>

#include "common_options.h"
#include "dme/core/agree.h"
#include "dme/experiment/schemes_experiment.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int schemes_main(int argc, char** argv) {
  dme::SchemesExperimentConfig cfg;
  std::vector<std::string> log2d, schemes, bits;
  std::string exchange = "allgather";
  dme::app::InputArgs in;
  dme::app::EstimatorArgs est;
  po::options_description desc(
      "dme-experiment schemes: NMSE against bits per coordinate, scheme by scheme");
  // clang-format off
  desc.add_options()("help,h", "show this help")
      ("log2d", po::value(&log2d)->multitoken(), "log2 of the vector lengths (default 16)")
      ("schemes", po::value(&schemes)->multitoken(),
       "schemes to compare: qsgd, asq, asq-shared, eden, quic-fl, thc (default: those of "
       "qsgd,asq,asq-shared,eden,quic-fl that take the other options; thc runs through "
       "reduce-scatter-int)")
      ("bits", po::value(&bits)->multitoken(),
       "bit budgets b, s = 2^floor(b) levels (default 1,2,4); eden also takes fractional "
       "ones, e.g. 1.04 (--fractional-bits)")
      ("exchange", po::value(&exchange)->default_value(exchange),
       "exchange algorithm: allgather, gather-bcast, reduce-scatter, reduce-scatter-int")
      ("trials", po::value(&cfg.trials)->default_value(cfg.trials), "estimates per row");
  // clang-format on
  dme::app::add_estimator_options(desc, est, cfg.options);
  dme::app::add_input_options(desc, in, "lognormal", "iid");
  dme::app::add_output_options(desc, cfg.output);
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "mpirun -np N dme-experiment schemes [options]", desc,
                               vm))
    return 0;
  // Options to config: alike on every rank, so rank 0 alone reports an error (core/agree.h).
  dme::mpi::alike_everywhere([&] {
    if (!log2d.empty()) cfg.log2d = dme::app::parse_int_list(log2d, "log2d");
    if (!bits.empty()) cfg.bits = dme::app::parse_double_list(bits, "bits");
    if (!schemes.empty()) {
      cfg.schemes.clear();
      for (const auto& name : dme::app::parse_name_list(schemes))
        cfg.schemes.push_back(dme::parse_scheme(name));
    }
    cfg.default_schemes = schemes.empty();
    dme::app::finish_estimator(est, cfg.options);
    cfg.options.exchange = dme::parse_exchange(exchange);
    dme::app::finish_input(in, cfg.dist, cfg.inputs);
    cfg.params = in.params;
    dme::app::finish_output(cfg.output, argc, argv);
  });
  return dme::run_schemes_experiment(cfg, MPI_COMM_WORLD, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("schemes", "NMSE against bits per coordinate for each encoding scheme",
                        schemes_main);
