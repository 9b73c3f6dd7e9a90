// Results files under concurrency and signals: processes that append to one file at once all
// land their runs; a run name taken meanwhile keeps the results in a file of their own; SIGTERM
// and SIGINT remove the temporary; run names are checked before a run.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "dme/io/detail/temp_file.h"
#include "dme/io/results.h"
#include "results_test_support.h"
#include "temp_dir.h"

namespace {

using dme::WriteMode;
using dme::testing::contains;
using dme::testing::error_text;
using dme::testing::sample_provenance;
using dme::testing::sample_run;
using dme::testing::TempDir;
namespace fs = std::filesystem;

// Runs body in `count` child processes at once; expects every child to exit 0.
void in_children(int count, const std::function<int(int)>& body) {
  std::vector<pid_t> pids;
  for (int c = 0; c < count; ++c) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(body(c));
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
}

// "w<c>_<i>", built by appending (GCC 12 warns falsely on "literal" + std::string&&).
std::string writer_run(int c, int i) {
  std::string name("w");
  name += std::to_string(c);
  name += '_';
  name += std::to_string(i);
  return name;
}

std::set<std::string> run_names_in(const std::string& path) {
  std::set<std::string> names;
  for (const auto& run : dme::read_results(path).runs) names.insert(run.name);
  return names;
}

TEST(ResultsConcurrency, ConcurrentAppendsKeepEveryRun) {
  // 4 processes append 20 runs each to one file that none of them finds at first: the first
  // ones race to create it, the rest serialise on its lock. Every run must land.
  TempDir dir("results_concurrent");
  const std::string path = dir.file("shared.h5");
  constexpr int kWriters = 4, kRuns = 20;
  in_children(kWriters, [&](int c) {
    for (int i = 0; i < kRuns; ++i) {
      try {
        dme::write_results(path, sample_provenance(writer_run(c, 0)),
                           {sample_run(writer_run(c, i), 3)}, WriteMode::kAppend);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "writer %d, run %d: %s\n", c, i, e.what());
        return 1;
      }
    }
    return 0;
  });
  const std::set<std::string> names = run_names_in(path);
  EXPECT_EQ(names.size(), std::size_t(kWriters * kRuns));
  for (int c = 0; c < kWriters; ++c)
    for (int i = 0; i < kRuns; ++i)
      EXPECT_TRUE(names.count(writer_run(c, i))) << "lost run w" << c << "_" << i;
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"shared.h5"}) << "no temporary is left";
}

TEST(ResultsConcurrency, ForceWaitsForAnAppendInProgress) {
  // kForce replaces the file under the same lock: with a lock held elsewhere it waits, and a
  // lock held too long is a clear error that leaves the file as it was.
  TempDir dir("results_force_lock");
  const std::string path = dir.file("r.h5");
  dme::write_results(path, sample_provenance("a"), {sample_run("a")}, WriteMode::kCreate);
  const std::string before = dme::testing::read_bytes(path);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    auto lock = dme::detail::FileLock::existing(path);
    const char byte = lock ? 1 : 0;
    (void)!::write(ready[1], &byte, 1);
    ::sleep(3);
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 1);
  const std::string err = error_text([&] { auto l = dme::detail::FileLock::existing(path, 0.5); });
  EXPECT_TRUE(contains(err, "stayed locked by another writer")) << err;
  EXPECT_EQ(dme::testing::read_bytes(path), before);
  // Waiting long enough gets the lock once the holder ends.
  dme::write_results(path, sample_provenance("b"), {sample_run("b")}, WriteMode::kAppend);
  EXPECT_EQ(run_names_in(path), (std::set<std::string>{"a", "b"}));
  int status = 0;
  ::waitpid(holder, &status, 0);
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(ResultsConcurrency, RunNameTakenMeanwhileKeepsTheResultsApart) {
  TempDir dir("results_name_race");
  const std::string path = dir.file("r.h5");
  dme::write_results(path, sample_provenance("a"), {sample_run("a")}, WriteMode::kCreate);
  // The check before the run passes for "b"; another job then appends "b" first.
  EXPECT_NO_THROW(dme::check_run_names(path, WriteMode::kAppend, {"b", "c"}));
  dme::write_results(path, sample_provenance("other"), {sample_run("b")}, WriteMode::kAppend);
  const std::string err = error_text([&] {
    dme::write_results(path, sample_provenance("mine"), {sample_run("b", 7)}, WriteMode::kAppend);
  });
  EXPECT_TRUE(contains(err, "a group of that name exists already")) << err;
  const std::string kept = dme::temporary_path(path);
  EXPECT_TRUE(contains(err, "kept in '" + kept + "'")) << err;
  ASSERT_TRUE(fs::exists(kept));
  const auto mine = dme::read_results(kept);
  ASSERT_EQ(mine.runs.size(), 1u);
  EXPECT_EQ(mine.runs[0].datasets[0].values.size(), 7u) << "the kept file holds this run's data";
  EXPECT_EQ(run_names_in(path), (std::set<std::string>{"a", "b"}));
}

TEST(ResultsConcurrency, RunNamesAreCheckedBeforeTheRun) {
  TempDir dir("results_names");
  const std::string path = dir.file("r.h5");
  EXPECT_TRUE(contains(error_text([&] {
                         dme::check_run_names(path, WriteMode::kCreate, {"x", "y", "x"});
                       }),
                       "run name 'x' appears twice"));
  EXPECT_NO_THROW(dme::check_run_names(path, WriteMode::kAppend, {"x"}));  // no file yet
  dme::write_results(path, sample_provenance("a"), {sample_run("x")}, WriteMode::kCreate);
  EXPECT_TRUE(contains(error_text([&] {
                         dme::check_run_names(path, WriteMode::kAppend, {"y", "x"});
                       }),
                       "cannot append run 'x'"));
  EXPECT_NO_THROW(dme::check_run_names(path, WriteMode::kForce, {"x"}));
}

TEST(ResultsConcurrency, TerminationSignalsRemoveTheTemporary) {
  for (int sig : {SIGTERM, SIGINT}) {
    TempDir dir("results_signal");
    const std::string path = dir.file("r.h5");
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      dme::detail::TempFile temp(path);
      const unsigned char bytes[4] = {1, 2, 3, 4};
      temp.write(bytes);
      ::raise(sig);  // as if killed while the results were being written
      ::_exit(3);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig)
        << "the signal still ends the process; status " << status;
    EXPECT_TRUE(dir.entries().empty())
        << "left: " << (dir.entries().empty() ? "" : dir.entries()[0]);
  }
  // Outside a write, the default dispositions are back.
  { dme::detail::TempFile temp(TempDir("results_signal2").file("r.h5")); }
  struct sigaction now {};
  ::sigaction(SIGTERM, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

}  // namespace
