#include "util/worker_pool.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <exception>
#include <iostream>
#include <stdexcept>
#include <utility>

namespace almanac::util {

WorkerPool::WorkerPool(std::size_t threads, std::size_t max_queued, int nice)
    : max_queued_(max_queued) {
  if (threads == 0) throw std::invalid_argument("WorkerPool needs at least one thread");
  if (max_queued == 0) throw std::invalid_argument("WorkerPool needs room for at least one job");
  threads_.reserve(threads);
  try {
    for (std::size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this, nice] {
        // Best effort: a refusal (e.g. a seccomp filter) leaves the default priority.
        if (nice > 0) ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
        run_worker();
      });
    }
  } catch (...) {
    // The workers already started wait for work forever unless told to stop.
    stop();
    throw;
  }
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::try_submit(std::function<void()> job) {
  if (!job) throw std::invalid_argument("WorkerPool job must not be empty");
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(job));
  }
  work_available_.notify_one();
  return true;
}

std::size_t WorkerPool::queued() const {
  const std::lock_guard lock(mutex_);
  return queue_.size();
}

void WorkerPool::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_available_.notify_all();
  const std::lock_guard join_lock(join_mutex_);
  for (std::jthread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void WorkerPool::run_worker() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      work_available_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // Stopping drains the queue first: only an empty queue ends the worker.
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& error) {
      std::cerr << "WorkerPool: job threw: " << error.what() << '\n';
    } catch (...) {
      std::cerr << "WorkerPool: job threw a non-standard exception\n";
    }
  }
}

}  // namespace almanac::util
