// mpirun -np N dme-experiment gaussianity [--log2d 4,6,...,16] [--rotations 1,2,3]
//   [--dists onehot,twohot,lognormal,normal] [--lognormal-sigmas 1] [--seeds 256] [--csv]
//   [--out gaussianity.h5]
#include <iostream>
#include <string>

#include "common_options.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/experiment/gaussianity_experiment.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int gaussianity_main(int argc, char** argv) {
  dme::GaussianityExperimentConfig cfg;
  std::vector<std::string> log2d, rotations, dists, sigmas;
  std::string layout = "padded";
  po::options_description desc(
      "dme-experiment gaussianity: Kolmogorov and W1 distance of RHT-rotated coordinates to "
      "N(0,1), and their covariance, versus D");
  // One option per line reads as a table.
  // clang-format off
  desc.add_options()("help,h", "show this help")
      ("log2d", po::value(&log2d)->multitoken(), "log2 of the lengths D (default 4,6,...,16)")
      ("extra", po::value(&cfg.extra)->default_value(cfg.extra),
       "coordinates added to each 2^log2d (a length that is not a power of two)")
      ("rotation-layout", po::value(&layout)->default_value(layout),
       "padded or overlapped: how a length that is not a power of two is rotated")
      ("rotation-block", po::value(&cfg.block)->default_value(cfg.block),
       "overlapped: rotate longer vectors as independent blocks of this power of two (0: "
       "whole vectors)")
      ("rotations", po::value(&rotations)->multitoken(), "RHT counts k (default 1,2,3)")
      ("dists", po::value(&dists)->multitoken(),
       "inputs (default onehot,twohot,lognormal,normal; also exponential, truncnorm, weibull)")
      ("lognormal-sigmas", po::value(&sigmas)->multitoken(),
       "sigmas of the lognormal inputs, one input each (default 1)")
      ("seeds", po::value(&cfg.seeds)->default_value(cfg.seeds), "independent rotations per point")
      ("pairs", po::value(&cfg.pairs)->default_value(cfg.pairs), "coordinate pairs for covariances")
      ("seed", po::value(&cfg.seed)->default_value(cfg.seed), "seed of inputs and signs");
  // clang-format on
  dme::app::add_output_options(desc, cfg.output);
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "mpirun -np N dme-experiment gaussianity [options]",
                               desc, vm))
    return 0;
  // Options to config: alike on every rank, so rank 0 alone reports an error (core/agree.h).
  dme::mpi::alike_everywhere([&] {
    if (!log2d.empty()) cfg.log2d = dme::app::parse_int_list(log2d, "log2d");
    cfg.layout = dme::parse_rotation_layout(layout);
    DME_CHECK(cfg.layout != dme::RotationLayout::kAuto,
              "--rotation-layout must be padded or overlapped here (one layout per run)");
    if (!rotations.empty()) cfg.rotations = dme::app::parse_int_list(rotations, "rotations");
    const std::vector<double> lognormal_sigmas =
        sigmas.empty() ? std::vector<double>{1.0}
                       : dme::app::parse_double_list(sigmas, "lognormal-sigmas");
    if (!dists.empty() || !sigmas.empty()) {
      std::vector<std::string> names = dme::app::parse_name_list(dists);
      if (names.empty()) names = {"onehot", "twohot", "lognormal", "normal"};
      cfg.inputs.clear();
      for (const auto& name : names) {
        const dme::Distribution d = dme::parse_distribution(name);
        if (d != dme::Distribution::kLogNormal)
          cfg.inputs.push_back({d, 1.0});
        else
          for (double s : lognormal_sigmas) cfg.inputs.push_back({d, s});
      }
    }
    dme::app::finish_output(cfg.output, argc, argv);
  });
  return dme::run_gaussianity_experiment(cfg, MPI_COMM_WORLD, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("gaussianity", "distance of RHT-rotated coordinates to N(0,1) versus D",
                        gaussianity_main);
