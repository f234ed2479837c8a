#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace almanac::util {

// A fixed set of threads running CPU-heavy jobs (password hashing) off the network I/O threads.
// The queue is bounded so that a flood of logins is refused quickly (the caller answers 503)
// instead of piling up memory and latency. Thread-safe.
class WorkerPool {
 public:
  // Starts `threads` workers that accept at most `max_queued` waiting jobs. Throws
  // std::invalid_argument if either is zero, and std::system_error if a thread cannot start.
  // `nice` > 0 lowers the workers' scheduling priority (Linux: per thread, as `nice` would):
  // when the cores are busy the I/O threads run first, and idle cores still go to the workers.
  WorkerPool(std::size_t threads, std::size_t max_queued, int nice = 0);

  // Calls stop(): every job already queued still runs before the destructor returns.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job` to run on a worker; returns false (and does not queue) when max_queued jobs are
  // already waiting or the pool is stopping. A job that throws is reported on stderr and
  // otherwise ignored, so callers should catch and deliver their own errors. Throws
  // std::invalid_argument if `job` is empty.
  bool try_submit(std::function<void()> job);

  // Returns how many jobs are waiting (not running), for metrics.
  std::size_t queued() const;

  // Refuses new jobs, runs every job already queued, then joins the threads. Idempotent and safe
  // to call from several threads; must not be called from inside a job (it would wait for itself).
  void stop();

 private:
  // The body of each worker thread: runs jobs until the pool stops and the queue is empty.
  void run_worker();

  const std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable work_available_;
  std::deque<std::function<void()>> queue_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::mutex join_mutex_;                    // serialises stop() callers while they join
  std::vector<std::jthread> threads_;        // guarded by join_mutex_ after construction
};

}  // namespace almanac::util
