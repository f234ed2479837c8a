#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

namespace almanac::util {

// How a pool's workers are scheduled beside the threads that submit to it (Linux; elsewhere
// every value runs them as kNormal).
enum class WorkerPriority {
  kNormal,  // as the thread that created the pool
  kLow,     // nice 19: a small share of a busy core, a waking normal thread may wait a slice
  kIdle,    // SCHED_IDLE: only a core that nothing else wants; a waking normal thread preempts
            // the worker at once
};

// A fixed set of threads running CPU-heavy jobs (password hashing) off the network I/O threads.
// The queue is bounded so that a flood of logins is refused quickly (the caller answers 503)
// instead of piling up memory and latency. Thread-safe.
//
// With a lowered priority, the workers share no lock with any other thread: a low-priority
// thread preempted while holding a lock would stall every normal thread that wants it (priority
// inversion), for as long as the cores stay busy. So one more thread, at the creator's priority,
// dispatches the queued jobs to idle workers and runs each job's `then` (which hands the result
// over, e.g. posts it to an io_context, whose queue has a lock); it and the workers signal each
// other only through semaphores and atomics.
class WorkerPool {
 public:
  // How many jobs may run at once right now (a result outside 1..threads counts as the nearest
  // bound). Called each time a queued job could start, and every kRecheck while a job waits only
  // for it: by the dispatching thread of a lowered pool, under the pool's lock in a kNormal one.
  // It must be cheap, and must neither block nor throw (e.g. read an atomic).
  using Concurrency = std::function<std::size_t()>;
  static constexpr std::chrono::milliseconds kRecheck{10};

  // Starts `threads` workers that accept at most `max_queued` waiting jobs; `concurrency`, when
  // given, may run fewer of them at once (all `threads` otherwise). Throws std::invalid_argument
  // if `threads` or `max_queued` is zero, and std::system_error if a thread cannot start. A
  // priority that cannot be set (e.g. a seccomp filter) leaves the creator's.
  WorkerPool(std::size_t threads, std::size_t max_queued,
             WorkerPriority priority = WorkerPriority::kNormal, Concurrency concurrency = {});

  // Calls stop(): every job already queued still runs before the destructor returns.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `work` to run on a worker, then `then` (when given) at the creator's priority: on the
  // same worker for a kNormal pool, else on the dispatching thread. Returns false (and queues
  // nothing) when max_queued jobs are already waiting or the pool is stopping. `work` or `then`
  // throwing is reported on stderr and otherwise ignored (`then` still runs after a `work` that
  // threw), so callers should catch and deliver their own errors. `work` is destroyed where
  // `then` runs. Throws std::invalid_argument if `work` is empty.
  bool try_submit(std::function<void()> work, std::function<void()> then = {});

  // Returns how many jobs are waiting (not running), for metrics.
  std::size_t queued() const;

  // Refuses new jobs, runs every job already queued, then joins the threads. Idempotent and safe
  // to call from several threads; must not be called from inside a job (it would wait for itself).
  void stop();

 private:
  struct Job {
    std::function<void()> work;
    std::function<void()> then;
  };
  // One worker of a lowered pool. The dispatcher fills `job` while the worker waits on `start`;
  // the worker sets `done` once `job.work` returned.
  struct Slot {
    std::binary_semaphore start{0};
    Job job;  // the dispatcher's while !busy or done, the worker's between
    std::atomic<bool> done{false};
    bool busy = false;  // dispatcher only
    bool exit = false;  // set before `start` is released for the last time
    std::jthread thread;
  };

  // A kNormal pool's worker: runs jobs (work, then) until the pool stops and the queue is empty.
  void run_worker();
  // A lowered pool's worker: runs the jobs its slot is given, at `priority_`.
  void run_slot(Slot& slot);
  // A lowered pool's dispatcher: hands queued jobs to idle slots, runs finished jobs' `then`,
  // and ends the workers once the pool is stopping and everything queued has run.
  void run_dispatcher();
  void end_slots();
  // concurrency_() within 1..threads, or threads without it.
  std::size_t allowed_now() const;

  const std::size_t threads_count_;
  const std::size_t max_queued_;
  const WorkerPriority priority_;
  const Concurrency concurrency_;
  mutable std::mutex mutex_;                  // never taken by a lowered pool's workers
  std::condition_variable work_available_;    // kNormal pools
  std::deque<Job> queue_;                     // guarded by mutex_
  bool stopping_ = false;                     // guarded by mutex_
  std::size_t running_ = 0;                   // kNormal pools: jobs running; guarded by mutex_
  std::counting_semaphore<> events_{0};       // lowered pools: a job queued or done, or stopping
  std::vector<std::unique_ptr<Slot>> slots_;  // lowered pools
  std::mutex join_mutex_;                     // serialises stop() callers while they join
  std::vector<std::jthread> threads_;         // kNormal workers, or the dispatcher; joined under
                                              // join_mutex_ after construction
};

}  // namespace almanac::util
