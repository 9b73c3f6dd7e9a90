// The worker pool behind Options::threads (dme/core/parallel.h): every task runs exactly once
// on a worker below the advertised count, errors reach the caller, nested and concurrent calls
// stay correct, and the thread count is checked.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/parallel.h"

namespace {

TEST(Parallel, EveryTaskOnceOnAKnownWorker) {
  for (int threads : {1, 2, 3, 4, 7}) {
    const dme::ThreadScope scope(threads);
    for (std::size_t tasks : {0u, 1u, 2u, 3u, 5u, 64u, 1000u}) {
      std::vector<std::atomic<int>> runs(tasks);
      const std::size_t workers = dme::parallel_workers(tasks);
      EXPECT_LE(workers, static_cast<std::size_t>(threads));
      std::atomic<bool> bad_worker{false};
      dme::parallel_for(tasks, [&](std::size_t t, unsigned w) {
        runs[t].fetch_add(1);
        if (w >= workers) bad_worker = true;
      });
      for (std::size_t t = 0; t < tasks; ++t)
        EXPECT_EQ(runs[t].load(), 1) << "task " << t << " of " << tasks << ", threads " << threads;
      EXPECT_FALSE(bad_worker.load());
    }
  }
}

TEST(Parallel, SerialOutsideAScope) {
  EXPECT_EQ(dme::current_threads(), 1);
  std::vector<std::thread::id> ids;
  dme::parallel_for(8, [&](std::size_t, unsigned w) {
    EXPECT_EQ(w, 0u);
    ids.push_back(std::this_thread::get_id());  // serial: no race
  });
  for (auto id : ids) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(Parallel, ErrorsReachTheCallerAndThePoolRecovers) {
  const dme::ThreadScope scope(3);
  EXPECT_THROW(dme::parallel_for(100,
                                 [&](std::size_t t, unsigned) {
                                   DME_CHECK(t != 17, "task " << t << " failed");
                                 }),
               dme::Error);
  std::atomic<std::size_t> sum{0};
  dme::parallel_for(100, [&](std::size_t t, unsigned) { sum += t; });
  EXPECT_EQ(sum.load(), 4950u);
}

TEST(Parallel, NestedCallsRunSeriallyInsideATask) {
  const dme::ThreadScope scope(2);
  std::atomic<int> inner{0}, nested_threads{0};
  dme::parallel_for(4, [&](std::size_t, unsigned) {
    nested_threads += dme::current_threads();
    dme::parallel_for(5, [&](std::size_t, unsigned w) {
      EXPECT_EQ(w, 0u);
      ++inner;
    });
  });
  EXPECT_EQ(inner.load(), 20);
  EXPECT_EQ(nested_threads.load(), 4);  // 1 inside each task
  EXPECT_EQ(dme::current_threads(), 2);
}

TEST(Parallel, ConcurrentCallersEachGetAllTheirTasks) {
  std::atomic<long> total{0};
  auto caller = [&] {
    const dme::ThreadScope scope(2);
    for (int rep = 0; rep < 200; ++rep)
      dme::parallel_for(10, [&](std::size_t t, unsigned) { total += static_cast<long>(t); });
  };
  std::thread a(caller), b(caller);
  a.join();
  b.join();
  EXPECT_EQ(total.load(), 2 * 200 * 45);
}

TEST(Parallel, ThreadScopeChecksAndRestores) {
  EXPECT_THROW(dme::ThreadScope(0), dme::Error);
  EXPECT_THROW(dme::ThreadScope(dme::kMaxThreads + 1), dme::Error);
  try {
    const dme::ThreadScope scope(-3);
    FAIL() << "accepted -3 threads";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("-3"), std::string::npos) << e.what();
  }
  {
    const dme::ThreadScope outer(4);
    {
      const dme::ThreadScope inner(2);
      EXPECT_EQ(dme::current_threads(), 2);
    }
    EXPECT_EQ(dme::current_threads(), 4);
  }
  EXPECT_EQ(dme::current_threads(), 1);
}

TEST(Parallel, ProgressCallbackIsScopedToItsThread) {
  dme::poll_progress();  // none set: nothing happens
  int calls = 0, inner_calls = 0;
  auto count = [&](std::size_t, unsigned) { ++calls; };
  auto count_inner = [&](std::size_t, unsigned) { ++inner_calls; };
  {
    const dme::ProgressScope scope{dme::detail::TaskRef(count)};
    dme::poll_progress();
    {
      const dme::ProgressScope inner{dme::detail::TaskRef(count_inner)};
      dme::poll_progress();
    }
    dme::poll_progress();
    std::thread other([] { dme::poll_progress(); });  // another thread has none
    other.join();
  }
  dme::poll_progress();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(inner_calls, 1);
}

}  // namespace
