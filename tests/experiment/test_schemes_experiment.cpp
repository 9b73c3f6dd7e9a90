// The schemes driver: one run per (scheme, bits, d) with the bits actually sent, EDEN with
// per-rank rotations and QSGD without rotation, and at every budget QSGD above asq, asq-shared
// below it and EDEN lowest (the gaps at d = 2^14 are 1.7x and more, far beyond a few trials'
// spread); bad budgets refused on every rank before any work.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "dme/experiment/schemes_experiment.h"
#include "dme/io/results.h"
#include "experiment_test_support.h"
#include "io/temp_dir.h"

namespace {

using dme::testing::world_rank;

// Runs the driver at d = 2^14, 2 trials, with these schemes (empty: the default list) and
// budgets; returns its table, and on rank 0 the results file.
std::string run_driver(const char* name, std::vector<dme::Scheme> schemes, std::vector<double> bits,
                       std::optional<dme::ResultsFile>& file) {
  std::optional<dme::testing::TempDir> dir;
  if (world_rank() == 0) dir.emplace(name);
  dme::SchemesExperimentConfig cfg;
  cfg.log2d = {14};
  cfg.bits = std::move(bits);
  if (!schemes.empty()) cfg.schemes = std::move(schemes);
  cfg.trials = 2;
  cfg.output.quiet = true;
  cfg.output.out = dir ? dir->file("schemes.h5") : "unused-on-other-ranks.h5";
  std::ostringstream table;
  EXPECT_EQ(dme::run_schemes_experiment(cfg, MPI_COMM_WORLD, table), 0);
  if (world_rank() == 0) file = dme::read_results(cfg.output.out);
  return table.str();
}

TEST(SchemesExperiment, OneRunPerSchemeAndBudgetInTheExpectedOrder) {
  std::optional<dme::ResultsFile> results;
  const std::string table = run_driver("schemes_experiment", {}, {1, 4}, results);
  if (world_rank() != 0) return;
  const dme::ResultsFile& file = *results;
  ASSERT_EQ(file.runs.size(), 10u);
  std::map<std::string, double> nmse;
  for (const auto& run : file.runs) {
    const auto scheme = std::get<std::string>(run.parameters.at("scheme"));
    const auto bits = static_cast<int>(std::get<double>(run.parameters.at("bits")));
    EXPECT_EQ(run.name, "schemes_" + scheme + "_b" + std::to_string(bits) + "_log2d14");
    EXPECT_EQ(std::get<std::string>(run.parameters.at("rotation")),
              scheme == "eden" ? "per-rank" : scheme == "qsgd" ? "none" : "shared");
    std::map<std::string, const dme::Dataset*> ds;
    for (const auto& d : run.datasets) ds[d.name] = &d;
    ASSERT_TRUE(ds.count("nmse") && ds.count("vnmse") && ds.count("bits_per_coord") &&
                ds.count("encode_ms") && ds.count("decode_ms"));
    EXPECT_EQ(ds["nmse"]->values.size(), 2u);
    // Side information at d = 2^14: the 112-byte header and frame, the levels, a dither scale;
    // quic-fl's exact coordinates (1 in 512, 64 bits each) add 0.125 bits.
    const double sent = ds["bits_per_coord"]->values[0];
    EXPECT_GE(sent, double(bits));
    EXPECT_LE(sent, bits + (scheme == "quic-fl" ? 0.2 : 0.1)) << run.name;
    nmse[scheme + std::to_string(bits)] = (ds["nmse"]->values[0] + ds["nmse"]->values[1]) / 2;
  }
  for (const char* b : {"1", "4"}) {
    EXPECT_LT(nmse[std::string("asq") + b], nmse[std::string("qsgd") + b]) << b << " bits";
    EXPECT_LT(nmse[std::string("asq-shared") + b], nmse[std::string("asq") + b]) << b << " bits";
    EXPECT_LT(nmse[std::string("eden") + b], nmse[std::string("asq-shared") + b]) << b << " bits";
    EXPECT_LT(nmse[std::string("quic-fl") + b], nmse[std::string("asq-shared") + b]) << b << " bits";
  }
  EXPECT_NE(table.find("asq-shared"), std::string::npos);
}

// quic-fl has tables for 1..4 bits: at 8 bits its row is left out of the sweep (with a note on
// stderr), and a sweep with nothing defined is an error.
TEST(SchemesExperiment, QuicFlRowsBeyondItsTablesAreLeftOut) {
  std::optional<dme::ResultsFile> results;
  run_driver("schemes_quic_fl", {dme::Scheme::kAsq, dme::Scheme::kQuicFl}, {1, 8}, results);
  if (world_rank() == 0) {
    std::set<std::string> names;
    for (const auto& run : results->runs) names.insert(run.name);
    EXPECT_EQ(names, (std::set<std::string>{"schemes_asq_b1_log2d14", "schemes_asq_b8_log2d14",
                                             "schemes_quic-fl_b1_log2d14"}));
  }
  dme::SchemesExperimentConfig cfg;
  cfg.schemes = {dme::Scheme::kQuicFl};
  cfg.bits = {8};
  cfg.output.quiet = true;
  std::ostringstream table;
  EXPECT_THROW(dme::run_schemes_experiment(cfg, MPI_COMM_WORLD, table), dme::Error);
}

// A fractional budget is eden's alone (other schemes' rows are left out), spent whole: a
// quarter of the coordinates take 2 bits at 1.25, below 1-bit eden's error.
TEST(SchemesExperiment, FractionalBudgetsAreEdens) {
  std::optional<dme::ResultsFile> results;
  run_driver("schemes_fractional", {dme::Scheme::kAsq, dme::Scheme::kEden}, {1, 1.25}, results);
  if (world_rank() != 0) return;
  std::map<std::string, std::pair<double, double>> rows;  // name: bits sent, nmse
  for (const auto& run : results->runs) {
    double sent = 0, nmse = 0;
    for (const auto& d : run.datasets) {
      if (d.name == "bits_per_coord") sent = d.values[0];
      if (d.name == "nmse") nmse = (d.values[0] + d.values[1]) / 2;
    }
    rows[run.name] = {sent, nmse};
  }
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_TRUE(rows.count("schemes_eden_b1p25_log2d14") && rows.count("schemes_eden_b1_log2d14") &&
              rows.count("schemes_asq_b1_log2d14"));
  const auto [sent, nmse] = rows["schemes_eden_b1p25_log2d14"];
  EXPECT_GE(sent, 1.25);
  EXPECT_LE(sent, 1.25 + 0.1);  // the 120-byte frame over 2^14 coordinates: 0.059 bits
  EXPECT_LT(nmse, 0.9 * rows["schemes_eden_b1_log2d14"].second);
}

// thc runs through reduce-scatter-int (as published: integer sums), with uniform levels that
// are less accurate than asq's adaptive ones at 2 bits.
TEST(SchemesExperiment, ThcRunsThroughTheIntegerSumExchange) {
  std::optional<dme::ResultsFile> results;
  run_driver("schemes_thc", {dme::Scheme::kAsq, dme::Scheme::kThc}, {2}, results);
  if (world_rank() != 0) return;
  const dme::ResultsFile& file = *results;
  ASSERT_EQ(file.runs.size(), 2u);
  std::map<std::string, double> nmse;
  for (const auto& run : file.runs) {
    const auto scheme = std::get<std::string>(run.parameters.at("scheme"));
    const auto options = std::get<std::string>(run.parameters.at("options"));
    EXPECT_EQ(options.find("exchange=reduce-scatter-int") != std::string::npos, scheme == "thc")
        << options;
    for (const auto& d : run.datasets) {
      if (d.name == "nmse") nmse[scheme] = (d.values[0] + d.values[1]) / 2;
      // One header per chunk on the uplink: n 120-byte headers over 2^14 coordinates.
      if (d.name == "bits_per_coord") {
        EXPECT_LE(d.values[0], 2 + 0.3) << scheme;
      }
    }
  }
  EXPECT_GT(nmse["thc"], nmse["asq"]);
}

TEST(SchemesExperiment, BadBudgetsAreRefusedEverywhere) {
  dme::SchemesExperimentConfig cfg;
  cfg.bits = {0};
  cfg.output.quiet = true;
  std::ostringstream table;
  dme::testing::expect_error_everywhere(
      [&] { dme::run_schemes_experiment(cfg, MPI_COMM_WORLD, table); },
      "--bits values must be in [1, 16]");
  cfg.bits = {3};  // EDEN takes s = 8; asq-shared with nearest rounding does not exist
  cfg.options.rounding = dme::Rounding::kNearest;
  dme::testing::expect_error_everywhere(
      [&] { dme::run_schemes_experiment(cfg, MPI_COMM_WORLD, table); },
      "asq-shared rounds stochastically");
  // As the command line without --schemes: the rows the options refuse are left out.
  cfg.default_schemes = true;
  cfg.log2d = {6};
  cfg.trials = 1;
  std::ostringstream rows;
  EXPECT_EQ(dme::run_schemes_experiment(cfg, MPI_COMM_WORLD, rows), 0);
  if (world_rank() == 0) {
    EXPECT_EQ(rows.str().find("asq-shared"), std::string::npos) << rows.str();
    EXPECT_EQ(rows.str().find("quic-fl"), std::string::npos) << rows.str();
    EXPECT_NE(rows.str().find(" eden "), std::string::npos) << rows.str();
  }
}

}  // namespace
