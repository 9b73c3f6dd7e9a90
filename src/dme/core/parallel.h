// Threads inside one rank (Options::threads): a persistent worker pool and parallel_for.
//
// A kernel splits its work into tasks whose results do not depend on which thread runs them
// nor on how many run (rows of a transform, fixed-size segments of a histogram merged in
// order, aligned blocks of codes), so every thread count gives bit-identical results. The
// thread count is a property of the calling thread, set for a scope with ThreadScope (the
// estimator sets Options::threads around each estimate); code that sets none runs serially.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace dme {

/// The largest thread count ThreadScope accepts (Options::threads is checked against it).
inline constexpr int kMaxThreads = 256;

/// Sets the calling thread's thread count for kernels run in this scope (1 = serial), and
/// restores the previous count on exit.
class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
};

/// The calling thread's thread count (1 unless a ThreadScope says otherwise; 1 inside tasks).
int current_threads();

namespace detail {

/// A non-owning reference to a callable void(std::size_t task, unsigned worker).
class TaskRef {
 public:
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, TaskRef>)  // copies stay copies
  TaskRef(F& f)  // NOLINT(google-explicit-constructor): only parallel_for builds these
      : object_(static_cast<void*>(&f)), call_([](void* o, std::size_t t, unsigned w) {
          (*static_cast<F*>(o))(t, w);
        }) {}
  void operator()(std::size_t task, unsigned worker) const { call_(object_, task, worker); }

 private:
  void* object_;
  void (*call_)(void*, std::size_t, unsigned);
};

/// Runs body(t, w) for every t < tasks on min(threads, tasks) threads, the caller being worker
/// 0; w < threads names the worker (for its scratch). Tasks are taken in increasing order by
/// whichever worker is free. The first exception thrown by a task is rethrown here after all
/// workers stop (the tasks not yet started are skipped). threads <= 1, tasks <= 1, or a call
/// from inside a task runs everything on the caller.
void run_tasks(int threads, std::size_t tasks, TaskRef body);

}  // namespace detail

/// parallel_for(tasks, body): body(task, worker) for every task < tasks with the calling
/// thread's current_threads(); worker < parallel_workers(tasks).
template <class F>
void parallel_for(std::size_t tasks, F&& body) {
  detail::run_tasks(current_threads(), tasks, detail::TaskRef(body));
}

/// How many workers parallel_for(tasks, ...) may use: the size of per-worker scratch.
std::size_t parallel_workers(std::size_t tasks);

/// Sets, for this scope, a callback that long kernels call now and then on the thread that set
/// it (poll_progress): the pipelined allgather lets MPI move its transfers during compression,
/// since Open MPI progresses non-blocking collectives only inside MPI calls. Restores the
/// previous callback on exit. The callback must not throw.
class ProgressScope {
 public:
  /// f() is called as f(0, 0) (a TaskRef's signature).
  explicit ProgressScope(detail::TaskRef f);
  ~ProgressScope();
  ProgressScope(const ProgressScope&) = delete;
  ProgressScope& operator=(const ProgressScope&) = delete;

 private:
  const detail::TaskRef* previous_;
  detail::TaskRef callback_;
};

/// Calls this thread's progress callback, if a ProgressScope set one (else nothing).
void poll_progress();

}  // namespace dme
