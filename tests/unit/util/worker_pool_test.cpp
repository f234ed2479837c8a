#include "util/worker_pool.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <latch>
#include <stdexcept>
#include <thread>

namespace almanac::util {
namespace {

// Occupies a worker until release() is called; started() returns once the job is running.
// This is how the tests fill the queue without sleeping or timing anything. Declare it (and
// anything else a job touches) before the pool, so that the pool's workers are joined first.
class Blocker {
 public:
  std::function<void()> job() {
    return [this] {
      started_.count_down();
      release_.wait();
    };
  }
  void wait_until_started() { started_.wait(); }
  void release() { release_.count_down(); }

 private:
  std::latch started_{1};
  std::latch release_{1};
};

TEST(WorkerPool, RejectsZeroThreadsOrZeroQueue) {
  EXPECT_THROW(WorkerPool(0, 1), std::invalid_argument);
  EXPECT_THROW(WorkerPool(1, 0), std::invalid_argument);
}

TEST(WorkerPool, RejectsAnEmptyJob) {
  WorkerPool pool(1, 1);
  EXPECT_THROW(pool.try_submit(std::function<void()>()), std::invalid_argument);
}

TEST(WorkerPool, RunsSubmittedJobs) {
  std::atomic<int> ran{0};
  std::latch done(50);
  WorkerPool pool(2, 100);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(pool.try_submit([&] {
      ran.fetch_add(1);
      done.count_down();
    }));
  }
  done.wait();
  EXPECT_EQ(ran.load(), 50);
}

TEST(WorkerPool, RunsJobsOnAnotherThread) {
  std::promise<std::thread::id> worker_id;
  WorkerPool pool(1, 1);
  ASSERT_TRUE(pool.try_submit([&] { worker_id.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(worker_id.get_future().get(), std::this_thread::get_id());
}

TEST(WorkerPool, TrySubmitReturnsFalseWhenQueueIsFull) {
  std::atomic<int> ran{0};
  Blocker blocker;
  WorkerPool pool(1, 2);
  ASSERT_TRUE(pool.try_submit(blocker.job()));
  blocker.wait_until_started();  // the only worker is busy, so further jobs wait in the queue

  EXPECT_TRUE(pool.try_submit([&] { ran.fetch_add(1); }));
  EXPECT_TRUE(pool.try_submit([&] { ran.fetch_add(1); }));
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_FALSE(pool.try_submit([&] { ran.fetch_add(100); }));
  EXPECT_EQ(pool.queued(), 2u);

  blocker.release();
  pool.stop();
  EXPECT_EQ(ran.load(), 2);  // the refused job never ran
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(WorkerPool, StopRunsJobsAlreadyQueued) {
  std::atomic<int> ran{0};
  Blocker blocker;
  WorkerPool pool(1, 1'000'000);
  ASSERT_TRUE(pool.try_submit(blocker.job()));
  blocker.wait_until_started();

  int accepted = 0;
  for (; accepted < 5; ++accepted) ASSERT_TRUE(pool.try_submit([&] { ran.fetch_add(1); }));

  // stop() runs on another thread and blocks joining the busy worker. Once try_submit is refused
  // the pool is stopping (the queue is far from full) while every accepted job is still queued,
  // because the worker has not been released yet.
  std::jthread stopper([&] { pool.stop(); });
  while (pool.try_submit([&] { ran.fetch_add(1); })) {
    ++accepted;
    std::this_thread::yield();
  }
  EXPECT_EQ(pool.queued(), static_cast<std::size_t>(accepted));

  blocker.release();
  stopper.join();
  EXPECT_EQ(ran.load(), accepted);
  EXPECT_EQ(pool.queued(), 0u);
}

TEST(WorkerPool, TrySubmitReturnsFalseAfterStop) {
  WorkerPool pool(1, 10);
  pool.stop();
  EXPECT_FALSE(pool.try_submit([] {}));
}

TEST(WorkerPool, StopIsIdempotent) {
  std::atomic<int> ran{0};
  WorkerPool pool(2, 10);
  ASSERT_TRUE(pool.try_submit([&] { ran.fetch_add(1); }));
  pool.stop();
  pool.stop();
  EXPECT_EQ(ran.load(), 1);
}  // and the destructor stops a third time

TEST(WorkerPool, DestructorRunsJobsAlreadyQueued) {
  std::atomic<int> ran{0};
  Blocker blocker;
  {
    WorkerPool pool(1, 10);
    ASSERT_TRUE(pool.try_submit(blocker.job()));
    blocker.wait_until_started();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.try_submit([&] { ran.fetch_add(1); }));
    blocker.release();
  }
  EXPECT_EQ(ran.load(), 3);
}

TEST(WorkerPool, KeepsRunningJobsAfterOneThrows) {
  std::promise<void> after;
  WorkerPool pool(1, 10);
  ASSERT_TRUE(pool.try_submit([] { throw std::runtime_error("expected by the test"); }));
  ASSERT_TRUE(pool.try_submit([] { throw 42; }));
  ASSERT_TRUE(pool.try_submit([&] { after.set_value(); }));
  after.get_future().get();  // would hang (or the process would terminate) if the worker died
}

// The workers' scheduling priority: `nice` as given (the hashing pool runs below the I/O
// threads), the caller's own when none is given.
int worker_nice(almanac::util::WorkerPool& pool) {
  std::promise<int> seen;
  EXPECT_TRUE(pool.try_submit([&] {
    errno = 0;
    seen.set_value(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())));
  }));
  return seen.get_future().get();
}

TEST(WorkerPool, WorkersRunAtTheNiceValueGiven) {
  const int own = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  almanac::util::WorkerPool plain(1, 4);
  EXPECT_EQ(worker_nice(plain), own);
  if (own > 15) GTEST_SKIP() << "this process already runs at nice " << own;
  almanac::util::WorkerPool lowered(1, 4, 19);
  EXPECT_EQ(worker_nice(lowered), 19);
}

}  // namespace
}  // namespace almanac::util
