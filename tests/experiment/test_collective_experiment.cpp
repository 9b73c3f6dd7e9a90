// The collective driver: its self-check (every rank's estimate alike, the NMSE within 4x its
// bound) holds on every exchange from d = 1 up, for unbiased and biased rounding, identical and
// shifted inputs; without --exchange the exchanges that refuse the options are left out, saying
// why, and named ones stop the run on every rank before any work.
#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>

#include "dme/experiment/collective_experiment.h"
#include "dme/experiment/default_list.h"
#include "dme/io/results.h"
#include "experiment_test_support.h"
#include "io/temp_dir.h"

namespace {

using dme::testing::world_rank;

dme::CollectiveExperimentConfig tiny_config() {
  dme::CollectiveExperimentConfig cfg;
  cfg.log2d = {0, 1, 2, 5};
  cfg.trials = 2;
  cfg.output.quiet = true;
  cfg.default_exchanges = true;  // as the command line without --exchange
  return cfg;
}

// The driver's status on every rank (it returns 1 on a failed self-check, saying why on stderr).
int run(const dme::CollectiveExperimentConfig& cfg, std::string* table = nullptr) {
  std::ostringstream os;
  const int status = dme::run_collective_experiment(cfg, MPI_COMM_WORLD, os);
  if (table) *table = os.str();
  return status;
}

// Before the fix, reduce-scatter-int's bound used each rank's own range: 0 at d = 1, where
// the chunk's owner picks the levels over the three ranks' joint range (FAILED on 3 ranks).
TEST(CollectiveExperiment, SelfCheckHoldsFromOneCoordinateOnEveryExchange) {
  for (dme::InputMode inputs :
       {dme::InputMode::kIid, dme::InputMode::kIdentical, dme::InputMode::kShifted}) {
    dme::CollectiveExperimentConfig cfg = tiny_config();
    cfg.inputs = inputs;
    EXPECT_EQ(run(cfg), 0) << "inputs " << dme::input_mode_name(inputs);
  }
}

// Nearest rounding errs alike on every rank for identical inputs: its error in the mean does
// not shrink with n, and the bound must not assume it does.
TEST(CollectiveExperiment, SelfCheckHoldsForBiasedRounding) {
  for (dme::InputMode inputs : {dme::InputMode::kIid, dme::InputMode::kIdentical}) {
    dme::CollectiveExperimentConfig cfg = tiny_config();
    cfg.log2d = {0, 2, 10};
    cfg.inputs = inputs;
    cfg.options.solver = dme::Solver::kKmeans;  // nearest rounding to the optimal biased levels
    EXPECT_EQ(run(cfg), 0) << "kmeans, inputs " << dme::input_mode_name(inputs);
    cfg.options.solver = dme::Solver::kQuiverApx;
    cfg.options.rounding = dme::Rounding::kNearest;
    cfg.options.compressed_downlink = true;  // a second biased rounding on gather-bcast
    EXPECT_EQ(run(cfg), 0) << "nearest, inputs " << dme::input_mode_name(inputs);
  }
}

// alq and amq scale their levels by the L2 norm, not the range (±norm at s = 2): their error
// is far above a range-based bound (vNMSE d - 1 at s = 2), and the driver reported FAILED
// for every alq or amq run at s = 2 to 4 before the bound took that into account.
TEST(CollectiveExperiment, SelfCheckHoldsForTheNormScaledSolvers) {
  for (dme::Solver solver : {dme::Solver::kAlq, dme::Solver::kAmq})
    for (std::size_t s : {2, 3, 4, 16}) {
      dme::CollectiveExperimentConfig cfg = tiny_config();
      cfg.log2d = {0, 3, 12};
      cfg.dist = dme::Distribution::kNormal;
      cfg.options.solver = solver;
      cfg.options.s = s;
      cfg.options.compressed_downlink = true;  // a second rounding on gather-bcast
      EXPECT_EQ(run(cfg), 0) << dme::solver_name(solver) << ", s = " << s;
    }
}

TEST(CollectiveExperiment, DefaultExchangesLeaveOutTheOnesThatRefuseTheOptions) {
  std::optional<dme::testing::TempDir> dir;
  if (world_rank() == 0) dir.emplace("collective_experiment");
  dme::CollectiveExperimentConfig cfg = tiny_config();
  cfg.log2d = {6};
  cfg.options.scheme = dme::Scheme::kEden;
  cfg.options.s = 4;
  cfg.output.out = dir ? dir->file("collective.h5") : "unused-on-other-ranks.h5";
  std::string table;
  ASSERT_EQ(run(cfg, &table), 0);
  if (world_rank() == 0) {
    EXPECT_NE(table.find("# reduce-scatter-int is left out of the default exchanges"),
              std::string::npos)
        << table;
    const dme::ResultsFile file = dme::read_results(cfg.output.out);
    ASSERT_EQ(file.runs.size(), 3u);
    EXPECT_EQ(file.runs[0].name, "collective_allgather_log2d6");
    EXPECT_EQ(file.runs[1].name, "collective_gather-bcast_log2d6");
    EXPECT_EQ(file.runs[2].name, "collective_reduce-scatter_log2d6");
  }
  // Named, the same exchange is an error on every rank, before any row.
  cfg.exchanges = {dme::Exchange::kAllgather, dme::Exchange::kReduceScatterInt};
  cfg.default_exchanges = false;
  cfg.output.out.clear();
  std::ostringstream named;
  dme::testing::expect_error_everywhere(
      [&] { dme::run_collective_experiment(cfg, MPI_COMM_WORLD, named); },
      "reduce-scatter-int sums level indices");
  EXPECT_EQ(named.str(), "");
  // No exchange of the list takes the options: the first refusal, on every rank.
  cfg.exchanges = {dme::Exchange::kReduceScatterInt};
  cfg.default_exchanges = true;
  dme::testing::expect_error_everywhere([&] { run(cfg); }, "reduce-scatter-int sums level");
}

// The filter of default lists (default_list.h): refusals of one entry with one reason share a
// line; a named list rethrows; nothing left stops the run with every reason.
TEST(DefaultList, GroupsRefusalsAndStopsWhenNothingIsLeft) {
  const auto refuse = [](const char* why) { return [why] { DME_THROW(why); }; };
  dme::DefaultListFilter filter(false, "schemes", "--schemes", "bits");
  EXPECT_TRUE(filter.accepts(
      "asq", [] {}, "1"));
  EXPECT_FALSE(filter.accepts("eden", refuse("no pipelining"), "1"));
  EXPECT_FALSE(filter.accepts("eden", refuse("no pipelining"), "2"));
  EXPECT_FALSE(filter.accepts("eden", refuse("too many levels"), "16"));
  ASSERT_EQ(filter.lines().size(), 2u);
  EXPECT_EQ(filter.lines()[0].find("eden at 1, 2 bits is left out of the default schemes (naming "
                                   "it in --schemes makes this an error): no pipelining"),
            0u)
      << filter.lines()[0];
  EXPECT_NE(filter.lines()[1].find("eden at 16 bits"), std::string::npos);
  EXPECT_NO_THROW(filter.throw_if_none(false));
  try {
    filter.throw_if_none(true);
    ADD_FAILURE() << "nothing left, no error";
  } catch (const dme::Error& e) {
    const std::string what = e.message();
    EXPECT_NE(what.find("no entry of the default schemes"), std::string::npos) << what;
    EXPECT_NE(what.find("eden at 1, 2: no pipelining"), std::string::npos) << what;
    EXPECT_NE(what.find("eden at 16: too many levels"), std::string::npos) << what;
  }
  dme::DefaultListFilter one(false, "exchanges", "--exchange");
  EXPECT_FALSE(one.accepts("allgather", refuse("only this")));
  try {
    one.throw_if_none(true);
    ADD_FAILURE() << "nothing left, no error";
  } catch (const dme::Error& e) {
    EXPECT_NE(e.message().find("only this"), std::string::npos) << e.message();
  }
  dme::DefaultListFilter named(true, "exchanges", "--exchange");
  EXPECT_THROW(named.accepts("allgather", refuse("named")), dme::Error);
  EXPECT_TRUE(named.lines().empty());
}

}  // namespace
