#include "util/worker_pool.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <utility>

namespace almanac::util {
namespace {

// Lowers the calling thread's scheduling priority; best effort (a refusal leaves it as it was).
void lower_priority(WorkerPriority priority) {
#ifdef __linux__
  if (priority == WorkerPriority::kLow) {
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);  // this thread only
  } else if (priority == WorkerPriority::kIdle) {
    const sched_param param{};  // SCHED_IDLE takes priority 0
    ::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &param);
  }
#else
  (void)priority;
#endif
}

// Runs `f` if set; reports what it throws on stderr.
void run_guarded(const std::function<void()>& f) {
  if (!f) return;
  try {
    f();
  } catch (const std::exception& error) {
    std::cerr << "WorkerPool: job threw: " << error.what() << '\n';
  } catch (...) {
    std::cerr << "WorkerPool: job threw a non-standard exception\n";
  }
}

}  // namespace

WorkerPool::WorkerPool(std::size_t threads, std::size_t max_queued, WorkerPriority priority,
                       Concurrency concurrency)
    : threads_count_(threads),
      max_queued_(max_queued),
      priority_(priority),
      concurrency_(std::move(concurrency)) {
  if (threads == 0) throw std::invalid_argument("WorkerPool needs at least one thread");
  if (max_queued == 0) throw std::invalid_argument("WorkerPool needs room for at least one job");
  try {
    if (priority_ == WorkerPriority::kNormal) {
      threads_.reserve(threads);
      for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run_worker(); });
    } else {
      slots_.reserve(threads);
      for (std::size_t i = 0; i < threads; ++i) {
        slots_.push_back(std::make_unique<Slot>());
        Slot& slot = *slots_.back();
        slot.thread = std::jthread([this, &slot] { run_slot(slot); });
      }
      threads_.emplace_back([this] { run_dispatcher(); });
    }
  } catch (...) {
    // The workers already started wait for work forever unless told to stop; without a
    // dispatcher nobody else ends a lowered pool's workers.
    if (threads_.empty()) end_slots();
    stop();
    throw;
  }
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::try_submit(std::function<void()> work, std::function<void()> then) {
  if (!work) throw std::invalid_argument("WorkerPool job must not be empty");
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back({std::move(work), std::move(then)});
  }
  if (priority_ == WorkerPriority::kNormal) {
    work_available_.notify_one();
  } else {
    events_.release();
  }
  return true;
}

std::size_t WorkerPool::allowed_now() const {
  if (!concurrency_) return threads_count_;
  return std::clamp<std::size_t>(concurrency_(), 1, threads_count_);
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
  if (priority_ == WorkerPriority::kNormal) {
    work_available_.notify_all();
  } else {
    events_.release();
  }
  const std::lock_guard join_lock(join_mutex_);
  for (std::jthread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  for (const std::unique_ptr<Slot>& slot : slots_) {
    if (slot->thread.joinable()) slot->thread.join();
  }
}

void WorkerPool::run_worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      // Stopping drains the queue first: only an empty queue ends the worker.
      if (stopping_) return;
      work_available_.wait(lock);
      continue;
    }
    if (running_ >= allowed_now()) {
      // A job waits for the concurrency allowed, which may rise without a notification.
      work_available_.wait_for(lock, kRecheck);
      continue;
    }
    Job job = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    run_guarded(job.work);
    run_guarded(job.then);
    job = {};
    lock.lock();
    --running_;
    // A worker held back by the concurrency allowed may take the next job now.
    if (!queue_.empty()) work_available_.notify_one();
  }
}

void WorkerPool::run_slot(Slot& slot) {
  lower_priority(priority_);
  for (;;) {
    slot.start.acquire();
    if (slot.exit) return;
    run_guarded(slot.job.work);
    slot.done.store(true, std::memory_order_release);
    events_.release();
  }
}

void WorkerPool::run_dispatcher() {
  std::vector<Slot*> started;
  bool held = false;  // a job waits while a slot is free: only the concurrency allowed holds it
  for (;;) {
    if (held) {
      (void)events_.try_acquire_for(kRecheck);  // the concurrency allowed may rise by itself
    } else {
      events_.acquire();
    }
    // Finished jobs first: their slots take the next ones. `work` is destroyed here too, so that
    // no memory the worker frees belongs to another thread's allocator arena.
    for (const std::unique_ptr<Slot>& slot : slots_) {
      if (!slot->busy || !slot->done.load(std::memory_order_acquire)) continue;
      Job finished = std::exchange(slot->job, {});
      slot->done.store(false, std::memory_order_relaxed);
      slot->busy = false;
      finished.work = nullptr;
      run_guarded(finished.then);
    }
    bool finished = false;
    std::size_t running = 0;
    for (const std::unique_ptr<Slot>& slot : slots_) running += slot->busy ? 1 : 0;
    {
      const std::lock_guard lock(mutex_);
      const std::size_t allowed = queue_.empty() ? 0 : allowed_now();
      for (const std::unique_ptr<Slot>& slot : slots_) {
        if (queue_.empty() || running >= allowed) break;
        if (slot->busy) continue;
        slot->job = std::move(queue_.front());
        queue_.pop_front();
        slot->busy = true;
        ++running;
        started.push_back(slot.get());
      }
      held = !queue_.empty() && running < slots_.size();
      finished = stopping_ && queue_.empty();
    }
    for (Slot* slot : started) slot->start.release();
    started.clear();
    if (finished) {
      bool idle = true;
      for (const std::unique_ptr<Slot>& slot : slots_) idle = idle && !slot->busy;
      if (idle) break;  // else a job still runs: its `done` wakes this loop again
    }
  }
  end_slots();
}

void WorkerPool::end_slots() {
  for (const std::unique_ptr<Slot>& slot : slots_) {
    slot->exit = true;
    slot->start.release();
  }
}

}  // namespace almanac::util
