// Results files: round trip, atomic write, append, no-clobber, unwritable paths, validation.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <limits>
#include <thread>

#include "dme/core/error.h"
#include "dme/io/results.h"
#include "results_test_support.h"
#include "temp_dir.h"

namespace {

using dme::AttrValue;
using dme::WriteMode;
using dme::testing::contains;
using dme::testing::error_text;
using dme::testing::read_bytes;
using dme::testing::sample_provenance;
using dme::testing::sample_run;
using dme::testing::TempDir;
namespace fs = std::filesystem;

bool same_provenance(const dme::Provenance& a, const dme::Provenance& b) {
  return a.program == b.program && a.version == b.version && a.git_commit == b.git_commit &&
         a.command_line == b.command_line && a.created_iso8601 == b.created_iso8601 &&
         a.mpi_library_version == b.mpi_library_version && a.hdf5_version == b.hdf5_version &&
         a.hosts == b.hosts && a.ranks == b.ranks && a.seeds == b.seeds &&
         a.simd_target == b.simd_target && a.cpu == b.cpu;
}

void expect_same_run(const dme::Run& got, const dme::Run& want) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.parameters, want.parameters) << want.name;
  ASSERT_EQ(got.datasets.size(), want.datasets.size()) << want.name;
  for (std::size_t i = 0; i < want.datasets.size(); ++i) {
    const dme::Dataset& g = got.datasets[i];
    const dme::Dataset& w = want.datasets[i];
    EXPECT_EQ(g.name, w.name);
    EXPECT_EQ(g.values, w.values) << w.name;  // exact: float64 stored as float64
    EXPECT_EQ(g.shape, w.shape) << w.name;
    EXPECT_EQ(g.units, w.units) << w.name;
    EXPECT_EQ(g.attributes, w.attributes) << w.name;
  }
}

TEST(Results, RoundTripOfRootProvenanceRunsAndDatasets) {
  TempDir dir("results_rt");
  const std::string path = dir.file("out.h5");
  const dme::Provenance prov = sample_provenance("rt");
  const std::vector<dme::Run> runs = {sample_run("bias_0"), sample_run("bias_1", 1)};
  dme::check_output_path(path, WriteMode::kCreate);
  dme::write_results(path, prov, runs, WriteMode::kCreate);

  const dme::ResultsFile file = dme::read_results(path);
  EXPECT_TRUE(same_provenance(dme::provenance_from_attributes(file.root_attributes, ""), prov));
  EXPECT_EQ(file.root_attributes.at("format"), AttrValue(std::string("dme-results")));
  EXPECT_EQ(file.root_attributes.at("format_version"), AttrValue(std::int64_t{1}));
  EXPECT_EQ(file.root_attributes.size(), 14u);  // format, format_version, 12 provenance fields
  ASSERT_EQ(file.runs.size(), 2u);
  expect_same_run(file.runs[0], runs[0]);
  expect_same_run(file.runs[1], runs[1]);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.h5"});  // no temporary left
}

TEST(Results, EmptyRunAndEmptyDataset) {
  TempDir dir("results_empty");
  const std::string path = dir.file("out.h5");
  dme::Run bare{"bare", {}, {}};
  dme::Run empty_ds{"empty", {{"n", std::int64_t{0}}}, {dme::Dataset{"none", {}, {0}, "1", {}}}};
  dme::write_results(path, sample_provenance("e"), {bare, empty_ds}, WriteMode::kCreate);
  const dme::ResultsFile file = dme::read_results(path);
  ASSERT_EQ(file.runs.size(), 2u);
  expect_same_run(file.runs[0], bare);
  expect_same_run(file.runs[1], empty_ds);
}

TEST(Results, LargeAttributesUseDenseStorage) {
  // 160 KB of attribute data exceeds the 64 KiB of a compact object header.
  TempDir dir("results_large_attr");
  const std::string path = dir.file("out.h5");
  std::vector<double> grid(20000);
  for (std::size_t i = 0; i < grid.size(); ++i) grid[i] = 1e-3 * static_cast<double>(i);
  dme::Run run = sample_run("r");
  run.parameters["grid"] = grid;
  run.datasets[0].attributes["axis_values"] = grid;
  dme::Provenance prov = sample_provenance("large");
  prov.hosts.assign(5000, std::string(40, 'h'));
  dme::write_results(path, prov, {run}, WriteMode::kCreate);
  const dme::ResultsFile file = dme::read_results(path);
  EXPECT_TRUE(same_provenance(dme::provenance_from_attributes(file.root_attributes, ""), prov));
  ASSERT_EQ(file.runs.size(), 1u);
  expect_same_run(file.runs[0], run);
}

TEST(Results, AppendToANewerFormatFileIsCompleteOrRefused) {
  // A file in the HDF5 1.10 format (superblock version 3), as h5py writes with libver="latest".
  // HDF5 1.10.8 builds a broken image of such files: the append must then fail and leave the
  // file alone; a library without that bug appends normally.
  TempDir dir("results_append_v3");
  const std::string path = dir.file("latest.h5");
  {
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Gclose(H5Gcreate2(file, "old", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(file);
    H5Pclose(fapl);
  }
  const std::string before = read_bytes(path);
  const std::string what = error_text([&] {
    dme::write_results(path, sample_provenance("v3"), {sample_run("new")}, WriteMode::kAppend);
  });
  const dme::ResultsFile file = dme::read_results(path);  // readable either way
  if (what.empty()) {
    ASSERT_EQ(file.runs.size(), 2u);
    expect_same_run(file.runs[0], dme::Run{"old", {}, {}});
  } else {
    EXPECT_TRUE(contains(what, "cannot read back") && contains(what, path)) << what;
    EXPECT_EQ(read_bytes(path), before);
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"latest.h5"});
}

TEST(Results, PathAppearsOnlyComplete) {
  // A watcher polls the path while a large file is written: the first time the path exists it
  // already has its final size, because the file is written under a temporary name and renamed.
  TempDir dir("results_atomic");
  const std::string path = dir.file("big.h5");
  dme::Run run{
      "big", {}, {dme::Dataset{"x", std::vector<double>(1 << 22, 1.25), {1 << 22}, "1", {}}}};
  std::atomic<bool> done{false};
  std::atomic<std::uintmax_t> first_seen_size{0};
  std::atomic<long> polls_before{0};
  std::thread watcher([&] {
    while (!done.load()) {
      std::error_code ec;
      const std::uintmax_t size = fs::file_size(path, ec);
      if (!ec) {
        first_seen_size = size;
        return;
      }
      ++polls_before;
    }
  });
  dme::write_results(path, sample_provenance("a"), {run}, WriteMode::kCreate);
  done = true;
  watcher.join();
  EXPECT_GT(polls_before.load(), 0) << "the watcher ran while the file was being written";
  const std::uintmax_t final_size = fs::file_size(path);
  EXPECT_GT(final_size, 32u << 20);
  if (first_seen_size.load() != 0) {
    EXPECT_EQ(first_seen_size.load(), final_size);
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"big.h5"});
}

/// Makes writes beyond `bytes` fail with EFBIG (a full disk, for this process) while alive.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit limit = previous_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &previous_);
    std::signal(SIGXFSZ, previous_handler_);
  }

 private:
  rlimit previous_{};
  void (*previous_handler_)(int) = nullptr;
};

TEST(Results, FailedWriteLeavesNoFileAndNoTemporary) {
  TempDir dir("results_fail");
  const std::string path = dir.file("out.h5");
  dme::Run run{
      "big", {}, {dme::Dataset{"x", std::vector<double>(1 << 20, 2.0), {1 << 20}, "1", {}}}};
  std::string what;
  {
    FileSizeLimit limit(256 << 10);  // the 8 MiB dataset cannot be written
    what = error_text(
        [&] { dme::write_results(path, sample_provenance("f"), {run}, WriteMode::kCreate); });
  }
  EXPECT_FALSE(what.empty()) << "the write should have failed";
  EXPECT_TRUE(dir.entries().empty()) << "left behind: " << dir.entries().front();
}

TEST(Results, WriteThatFailsSavesTheResultsElsewhereAndSaysWhere) {
  TempDir dir("results_rescue"), rescue("results_rescue_tmp");
  const std::string path = dir.file("out.h5");
  // A non-empty directory where the temporary goes: creating the temporary fails (EISDIR),
  // as a full disk or a vanished directory would make it fail after a long run.
  fs::create_directories(fs::path(dme::temporary_path(path)) / "blocker");
  const char* old = std::getenv("TMPDIR");
  const std::string saved_tmpdir = old ? old : "";
  ::setenv("TMPDIR", rescue.path().c_str(), 1);
  const std::string what = error_text([&] {
    dme::write_results(path, sample_provenance("r"), {sample_run("kept")}, WriteMode::kCreate);
  });
  if (old)
    ::setenv("TMPDIR", saved_tmpdir.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  const std::string rescued = rescue.file("out.rescued." + std::to_string(::getpid()) + ".h5");
  EXPECT_TRUE(contains(what, "cannot create")) << what;
  EXPECT_TRUE(contains(what, "the results were saved to '" + rescued + "' instead")) << what;
  ASSERT_TRUE(fs::exists(rescued)) << what;
  const dme::ResultsFile back = dme::read_results(rescued);
  ASSERT_EQ(back.runs.size(), 1u);
  expect_same_run(back.runs[0], sample_run("kept"));
  EXPECT_FALSE(fs::exists(path));
}

TEST(Results, FailedAppendLeavesOriginalByteIdentical) {
  TempDir dir("results_fail_append");
  const std::string path = dir.file("out.h5");
  dme::write_results(path, sample_provenance("1"), {sample_run("first")}, WriteMode::kCreate);
  const std::string before = read_bytes(path);
  dme::Run run{
      "big", {}, {dme::Dataset{"x", std::vector<double>(1 << 20, 2.0), {1 << 20}, "1", {}}}};
  std::string what;
  {
    FileSizeLimit limit(256 << 10);
    what = error_text(
        [&] { dme::write_results(path, sample_provenance("2"), {run}, WriteMode::kAppend); });
  }
  EXPECT_FALSE(what.empty()) << "the append should have failed";
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.h5"});
}

TEST(Results, AppendAddsAGroupAndKeepsTheOthers) {
  TempDir dir("results_append");
  const std::string path = dir.file("out.h5");
  const dme::Provenance first = sample_provenance("first");
  dme::Provenance second = sample_provenance("second");
  second.created_iso8601 = "2025-02-01T00:00:00Z";
  second.seeds = {7};
  dme::write_results(path, first, {sample_run("a")}, WriteMode::kCreate);
  dme::check_output_path(path, WriteMode::kAppend);
  dme::write_results(path, second, {sample_run("b", 3), sample_run("c", 2)}, WriteMode::kAppend);

  const dme::ResultsFile file = dme::read_results(path);
  EXPECT_TRUE(same_provenance(dme::provenance_from_attributes(file.root_attributes, ""), first));
  ASSERT_EQ(file.runs.size(), 3u);
  expect_same_run(file.runs[0], sample_run("a"));
  for (std::size_t i = 1; i < 3; ++i) {
    dme::Run got = file.runs[i];
    // The appended runs carry the appending job's provenance; the rest is the run itself.
    EXPECT_TRUE(same_provenance(
        dme::provenance_from_attributes(got.parameters, dme::kAppendedProvenancePrefix), second));
    std::erase_if(got.parameters, [](const auto& kv) {
      return kv.first.starts_with(dme::kAppendedProvenancePrefix);
    });
    expect_same_run(got, sample_run(i == 1 ? "b" : "c", i == 1 ? 3 : 2));
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.h5"});
}

TEST(Results, AppendToMissingFileCreatesIt) {
  TempDir dir("results_append_new");
  const std::string path = dir.file("out.h5");
  dme::check_output_path(path, WriteMode::kAppend);
  dme::write_results(path, sample_provenance("n"), {sample_run("a")}, WriteMode::kAppend);
  const dme::ResultsFile file = dme::read_results(path);
  EXPECT_EQ(file.root_attributes.count("created"), 1u);
  ASSERT_EQ(file.runs.size(), 1u);
  expect_same_run(file.runs[0], sample_run("a"));
}

TEST(Results, AppendingAnExistingGroupThrowsAndLeavesTheFileUntouched) {
  TempDir dir("results_append_dup");
  const std::string path = dir.file("out.h5");
  dme::write_results(path, sample_provenance("1"), {sample_run("a"), sample_run("b")},
                     WriteMode::kCreate);
  const std::string before = read_bytes(path);
  const auto mtime = fs::last_write_time(path);
  const std::string what = error_text([&] {
    dme::write_results(path, sample_provenance("2"), {sample_run("new"), sample_run("b")},
                       WriteMode::kAppend);
  });
  EXPECT_TRUE(contains(what, "'b'")) << what;
  EXPECT_TRUE(contains(what, path)) << what;
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(fs::last_write_time(path), mtime);
  // The run's results are not lost: they stay in the temporary, which the error names.
  const std::string kept = dme::temporary_path(path);
  EXPECT_TRUE(contains(what, "kept in '" + kept + "'")) << what;
  EXPECT_EQ(dir.entries(),
            (std::vector<std::string>{"out.h5", fs::path(kept).filename().string()}));
  EXPECT_EQ(dme::read_results(path).runs.size(), 2u);
  EXPECT_EQ(dme::read_results(kept).runs.size(), 2u);
}

TEST(Results, CreateRefusesAnExistingFileAndForceReplacesIt) {
  TempDir dir("results_clobber");
  const std::string path = dir.file("out.h5");
  dme::write_results(path, sample_provenance("1"), {sample_run("old")}, WriteMode::kCreate);
  const std::string before = read_bytes(path);
  std::string what = error_text([&] { dme::check_output_path(path, WriteMode::kCreate); });
  EXPECT_TRUE(contains(what, path) && contains(what, "--force")) << what;
  what = error_text([&] {
    dme::write_results(path, sample_provenance("2"), {sample_run("new")}, WriteMode::kCreate);
  });
  EXPECT_TRUE(contains(what, "exists")) << what;
  EXPECT_EQ(read_bytes(path), before);

  dme::check_output_path(path, WriteMode::kForce);
  dme::write_results(path, sample_provenance("2"), {sample_run("new")}, WriteMode::kForce);
  const dme::ResultsFile file = dme::read_results(path);
  ASSERT_EQ(file.runs.size(), 1u);
  EXPECT_EQ(file.runs[0].name, "new");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.h5"});
}

TEST(Results, UnwritablePathsFailInTheCheckWithThePathInTheMessage) {
  TempDir dir("results_unwritable");
  const std::vector<std::string> bad = {dir.file("no_such_dir/out.h5"), "/proc/forbidden/out.h5",
                                        "/proc/forbidden.h5", dir.path().string(),
                                        dir.file("sub/")};
  for (const std::string& path : bad) {
    for (WriteMode mode : {WriteMode::kCreate, WriteMode::kForce, WriteMode::kAppend}) {
      const std::string what = error_text([&] { dme::check_output_path(path, mode); });
      EXPECT_TRUE(contains(what, path)) << "path " << path << ": " << what;
    }
  }
  const std::string text = dir.file("notes.txt");
  { std::ofstream(text) << "not an HDF5 file\n"; }
  const std::string what = error_text([&] { dme::check_output_path(text, WriteMode::kAppend); });
  EXPECT_TRUE(contains(what, text) && contains(what, "not an HDF5 file")) << what;
  EXPECT_NO_THROW(dme::check_output_path(text, WriteMode::kForce));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"notes.txt"}) << "the check creates nothing";
}

TEST(Results, ReadOnlyDirectoryFailsTheCheck) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir dir("results_readonly");
  fs::create_directory(dir.file("ro"));
  fs::permissions(dir.file("ro"), fs::perms::owner_read | fs::perms::owner_exec);
  const std::string path = dir.file("ro/out.h5");
  const std::string what = error_text([&] { dme::check_output_path(path, WriteMode::kCreate); });
  EXPECT_TRUE(contains(what, path) && contains(what, "Permission denied")) << what;
}

TEST(Results, MalformedRecordsAreRejectedBeforeAnythingIsWritten) {
  TempDir dir("results_invalid");
  const std::string path = dir.file("out.h5");
  auto with = [](const std::function<void(dme::Run&)>& change) {
    dme::Run run = sample_run("r");
    change(run);
    return std::vector<dme::Run>{run};
  };
  const std::vector<std::pair<std::string, std::vector<dme::Run>>> cases = {
      {"shape holds 6 values but 5", with([](dme::Run& r) { r.datasets[1].values.pop_back(); })},
      {"units are empty", with([](dme::Run& r) { r.datasets[0].units.clear(); })},
      {"shape is empty", with([](dme::Run& r) { r.datasets[0].shape.clear(); })},
      {"dataset name 'a/b'", with([](dme::Run& r) { r.datasets[0].name = "a/b"; })},
      {"'nmse' appears twice", with([](dme::Run& r) { r.datasets[1].name = "nmse"; })},
      {"'units'", with([](dme::Run& r) { r.datasets[0].attributes["units"] = std::string("s"); })},
      {"reserved prefix", with([](dme::Run& r) { r.parameters["provenance.x"] = 1.0; })},
      {"run name ''", with([](dme::Run& r) { r.name.clear(); })},
      {"'r' appears twice", {sample_run("r"), sample_run("r")}},
  };
  for (const auto& [expected, runs] : cases) {
    const std::string what = error_text(
        [&] { dme::write_results(path, sample_provenance("v"), runs, WriteMode::kCreate); });
    EXPECT_TRUE(contains(what, expected)) << "expected '" << expected << "' in: " << what;
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(Results, ProvenanceHelpers) {
  EXPECT_EQ(dme::iso8601_utc(std::chrono::system_clock::from_time_t(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(dme::iso8601_utc(std::chrono::system_clock::from_time_t(1700000000)),
            "2023-11-14T22:13:20Z");
  const char* argv[] = {"dme-experiment", "bias", "--out", "a b.h5", "--name=it's", ""};
  EXPECT_EQ(dme::command_line_string(6, argv),
            "dme-experiment bias --out 'a b.h5' '--name=it'\\''s' ''");
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  EXPECT_EQ(dme::hdf5_library_version(),
            std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
  std::map<std::string, AttrValue> attrs;
  EXPECT_THROW(dme::provenance_from_attributes(attrs, ""), dme::Error);
}

}  // namespace
