#include "dme/core/parallel.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "dme/core/error.h"

namespace dme {
namespace {

thread_local int t_threads = 1;
thread_local const detail::TaskRef* t_progress = nullptr;
thread_local bool t_in_task = false;

// Every task on the calling thread, as worker 0; a parallel_for inside a task stays serial.
void serial(std::size_t tasks, detail::TaskRef body) {
  struct InTask {
    bool was = std::exchange(t_in_task, true);
    ~InTask() { t_in_task = was; }
  } in_task;
  for (std::size_t t = 0; t < tasks; ++t) body(t, 0);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins before sleeping: a worker (or the caller waiting for the workers) that is woken through
// the condition variable loses tens of microseconds, per parallel step, in a VM.
constexpr int kSpins = 1 << 14;

// The CPUs this process may run on (its affinity mask: one core for an MPI rank bound to one),
// at least 1.
unsigned usable_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return static_cast<unsigned>(CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

// The spins of a job of `threads` threads: none when they outnumber the usable CPUs, where a
// spinning thread takes the core a working one needs (64 threads on 2 cores: 2^20 coordinates
// compressed in 101-111 ms against 4.7-4.8 ms without the spins; AMD EPYC Zen 3).
int spins_for(unsigned threads) {
  static const unsigned cpus = usable_cpus();
  return threads <= cpus ? kSpins : 0;
}

// Workers live for the process. Between jobs they spin a little, then sleep on a condition
// variable. One job runs at a time (a second caller, from another user thread, runs its job
// serially instead of waiting); the pool grows to the largest thread count asked for. A job is
// announced by one atomic word, generation << 10 | workers wanted, so a worker reads both
// together; a wanted worker is counted in active_ and the job waits for it.
class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool;  // never destroyed: workers may outlive static destructors
    return *pool;
  }

  void run(unsigned threads, std::size_t tasks, detail::TaskRef body) {
    std::unique_lock<std::mutex> job(job_mutex_, std::try_to_lock);
    if (!job.owns_lock()) return serial(tasks, body);
    grow(threads - 1);
    const int spins = spins_for(threads);
    spins_.store(spins, std::memory_order_relaxed);  // the workers' wait after this job
    body_ = &body;
    tasks_ = tasks;
    next_.store(0, std::memory_order_relaxed);
    failed_.store(false, std::memory_order_relaxed);
    error_ = nullptr;
    active_.store(threads - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const std::uint64_t generation = (ticket_.load(std::memory_order_relaxed) >> 10) + 1;
      ticket_.store(generation << 10 | (threads - 1), std::memory_order_release);
    }
    wake_.notify_all();
    work(0);
    for (int i = 0; i < spins && active_.load(std::memory_order_acquire) != 0; ++i) cpu_relax();
    if (active_.load(std::memory_order_acquire) != 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return active_.load(std::memory_order_acquire) == 0; });
    }
    body_ = nullptr;
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void grow(unsigned workers) {
    while (workers_.size() < workers) {
      const unsigned id = static_cast<unsigned>(workers_.size()) + 1;
      const std::uint64_t seen = ticket_.load(std::memory_order_relaxed) >> 10;
      workers_.emplace_back([this, id, seen] { loop(id, seen); });
      workers_.back().detach();
    }
  }

  void loop(unsigned id, std::uint64_t seen) {
    t_in_task = true;
    bool needed = true;  // by the latest job: a worker it left idle sleeps without spinning
    for (;;) {
      std::uint64_t ticket = ticket_.load(std::memory_order_acquire);
      const int spins = needed ? spins_.load(std::memory_order_relaxed) : 0;
      for (int i = 0; i < spins && ticket >> 10 == seen; ++i) {
        cpu_relax();
        ticket = ticket_.load(std::memory_order_acquire);
      }
      if (ticket >> 10 == seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] {
          ticket = ticket_.load(std::memory_order_acquire);
          return ticket >> 10 != seen;
        });
      }
      seen = ticket >> 10;
      needed = id <= (ticket & 1023);
      if (!needed) continue;
      work(id);
      if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  void work(unsigned id) {
    const bool was = std::exchange(t_in_task, true);
    for (;;) {
      const std::size_t t = next_.fetch_add(1, std::memory_order_relaxed);
      if (t >= tasks_ || failed_.load(std::memory_order_relaxed)) break;
      try {
        (*body_)(t, id);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
        failed_.store(true, std::memory_order_relaxed);
      }
    }
    t_in_task = was;
  }

  std::mutex job_mutex_;  // one job at a time
  std::mutex mutex_, error_mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<unsigned> active_{0};
  std::atomic<int> spins_{kSpins};  // of the latest job (spins_for)
  const detail::TaskRef* body_ = nullptr;
  std::size_t tasks_ = 0;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

}  // namespace

ThreadScope::ThreadScope(int threads) : previous_(t_threads) {
  DME_CHECK(threads >= 1 && threads <= kMaxThreads,
            "threads must be in 1.." << kMaxThreads << ", got " << threads);
  t_threads = threads;
}

ThreadScope::~ThreadScope() { t_threads = previous_; }

ProgressScope::ProgressScope(detail::TaskRef f) : previous_(t_progress), callback_(f) {
  t_progress = &callback_;
}

ProgressScope::~ProgressScope() { t_progress = previous_; }

void poll_progress() {
  if (t_progress) (*t_progress)(0, 0);
}

int current_threads() { return t_in_task ? 1 : t_threads; }

std::size_t parallel_workers(std::size_t tasks) {
  return std::max<std::size_t>(1, std::min<std::size_t>(current_threads(), tasks));
}

namespace detail {

void run_tasks(int threads, std::size_t tasks, TaskRef body) {
  const std::size_t n = std::min<std::size_t>(threads < 1 ? 1 : threads, tasks);
  if (t_in_task) return serial(tasks, body);
  if (n <= 1) {  // one worker: the body may still use the threads for its own parallel_for
    for (std::size_t t = 0; t < tasks; ++t) body(t, 0);
    return;
  }
  Pool::instance().run(static_cast<unsigned>(n), tasks, body);
}

}  // namespace detail
}  // namespace dme
