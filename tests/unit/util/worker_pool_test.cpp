#include "util/worker_pool.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <future>
#include <latch>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

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
  EXPECT_THROW(WorkerPool(0, 1, WorkerPriority::kIdle), std::invalid_argument);
}

// Every behaviour below holds whatever the workers' priority: a kNormal pool's workers take the
// queue themselves, a lowered pool's get their jobs from its dispatching thread.
class WorkerPoolTest : public ::testing::TestWithParam<WorkerPriority> {};

const char* name_of(WorkerPriority priority) {
  switch (priority) {
    case WorkerPriority::kNormal:
      return "Normal";
    case WorkerPriority::kLow:
      return "Low";
    case WorkerPriority::kIdle:
      return "Idle";
  }
  return "Unknown";
}

TEST_P(WorkerPoolTest, RejectsAnEmptyJob) {
  WorkerPool pool(1, 1, GetParam());
  EXPECT_THROW(pool.try_submit(std::function<void()>()), std::invalid_argument);
}

TEST_P(WorkerPoolTest, RunsSubmittedJobs) {
  std::atomic<int> ran{0};
  std::latch done(50);
  WorkerPool pool(2, 100, GetParam());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(pool.try_submit([&] {
      ran.fetch_add(1);
      done.count_down();
    }));
  }
  done.wait();
  EXPECT_EQ(ran.load(), 50);
}

TEST_P(WorkerPoolTest, RunsJobsOnAnotherThread) {
  std::promise<std::thread::id> worker_id;
  WorkerPool pool(1, 1, GetParam());
  ASSERT_TRUE(pool.try_submit([&] { worker_id.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(worker_id.get_future().get(), std::this_thread::get_id());
}

TEST_P(WorkerPoolTest, TrySubmitReturnsFalseWhenQueueIsFull) {
  std::atomic<int> ran{0};
  Blocker blocker;
  WorkerPool pool(1, 2, GetParam());
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

TEST_P(WorkerPoolTest, StopRunsJobsAlreadyQueued) {
  std::atomic<int> ran{0};
  Blocker blocker;
  WorkerPool pool(1, 1'000'000, GetParam());
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

TEST_P(WorkerPoolTest, TrySubmitReturnsFalseAfterStop) {
  WorkerPool pool(1, 10, GetParam());
  pool.stop();
  EXPECT_FALSE(pool.try_submit([] {}));
}

TEST_P(WorkerPoolTest, StopIsIdempotent) {
  std::atomic<int> ran{0};
  WorkerPool pool(2, 10, GetParam());
  ASSERT_TRUE(pool.try_submit([&] { ran.fetch_add(1); }));
  pool.stop();
  pool.stop();
  EXPECT_EQ(ran.load(), 1);
}  // and the destructor stops a third time

TEST_P(WorkerPoolTest, DestructorRunsJobsAlreadyQueued) {
  std::atomic<int> ran{0};
  Blocker blocker;
  {
    WorkerPool pool(1, 10, GetParam());
    ASSERT_TRUE(pool.try_submit(blocker.job()));
    blocker.wait_until_started();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.try_submit([&] { ran.fetch_add(1); }));
    blocker.release();
  }
  EXPECT_EQ(ran.load(), 3);
}

TEST_P(WorkerPoolTest, KeepsRunningJobsAfterOneThrows) {
  std::promise<void> after;
  WorkerPool pool(1, 10, GetParam());
  ASSERT_TRUE(pool.try_submit([] { throw std::runtime_error("expected by the test"); }));
  ASSERT_TRUE(pool.try_submit([] { throw 42; }));
  ASSERT_TRUE(pool.try_submit([&] { after.set_value(); }));
  after.get_future().get();  // would hang (or the process would terminate) if the worker died
}

// Each thread's scheduling as the kernel reports it: the policy and the nice value.
struct Scheduling {
  int policy = -1;
  int nice = 0;
  bool operator==(const Scheduling&) const = default;
};

Scheduling current_scheduling() {
  errno = 0;
  return {::sched_getscheduler(0), ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()))};
}

// How `work` and `then` of one job see their thread's scheduling.
std::pair<Scheduling, Scheduling> job_scheduling(WorkerPool& pool) {
  std::promise<Scheduling> in_work;
  std::promise<Scheduling> in_then;
  EXPECT_TRUE(pool.try_submit([&] { in_work.set_value(current_scheduling()); },
                              [&] { in_then.set_value(current_scheduling()); }));
  return {in_work.get_future().get(), in_then.get_future().get()};
}

TEST(WorkerPool, WorkRunsAtThePriorityGivenAndThenAtTheCreators) {
  const Scheduling own = current_scheduling();
  if (own.policy != SCHED_OTHER || own.nice > 15) {
    GTEST_SKIP() << "this process already runs at policy " << own.policy << ", nice " << own.nice;
  }
  {
    WorkerPool plain(1, 4);
    const auto [work, then] = job_scheduling(plain);
    EXPECT_EQ(work, own);
    EXPECT_EQ(then, own);
  }
  {
    WorkerPool low(1, 4, WorkerPriority::kLow);
    const auto [work, then] = job_scheduling(low);
    EXPECT_EQ(work, (Scheduling{SCHED_OTHER, 19}));
    EXPECT_EQ(then, own);
  }
  {
    WorkerPool idle(1, 4, WorkerPriority::kIdle);
    const auto [work, then] = job_scheduling(idle);
    EXPECT_EQ(work.policy, SCHED_IDLE);
    EXPECT_EQ(then, own);
  }
}

TEST_P(WorkerPoolTest, ThenRunsAfterItsWorkOnAnotherThread) {
  std::vector<int> order;  // written by work, then by then: the pool orders them
  std::promise<std::thread::id> then_thread;
  WorkerPool pool(2, 10, GetParam());
  ASSERT_TRUE(pool.try_submit([&] { order.push_back(1); },
                              [&] {
                                order.push_back(2);
                                then_thread.set_value(std::this_thread::get_id());
                              }));
  EXPECT_NE(then_thread.get_future().get(), std::this_thread::get_id());
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST_P(WorkerPoolTest, ThenRunsAfterAWorkThatThrew) {
  std::promise<void> then_ran;
  WorkerPool pool(1, 10, GetParam());
  ASSERT_TRUE(pool.try_submit([] { throw std::runtime_error("expected by the test"); },
                              [&] { then_ran.set_value(); }));
  then_ran.get_future().get();  // would hang if a throwing work skipped its then
}

TEST_P(WorkerPoolTest, StopRunsTheThenOfEveryQueuedJob) {
  std::atomic<int> thens{0};
  Blocker blocker;
  {
    WorkerPool pool(1, 10, GetParam());
    ASSERT_TRUE(pool.try_submit(blocker.job()));
    blocker.wait_until_started();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(pool.try_submit([] {}, [&] { thens.fetch_add(1); }));
    }
    blocker.release();
  }
  EXPECT_EQ(thens.load(), 3);
}

// The concurrency a test allows a pool, and how many times the pool asked for it.
class Allowed {
 public:
  explicit Allowed(std::size_t jobs) : jobs_(jobs) {}
  WorkerPool::Concurrency function() {
    return [this] {
      asked_.fetch_add(1);
      return jobs_.load();
    };
  }
  void set(std::size_t jobs) { jobs_.store(jobs); }
  // Returns true once the pool has asked twice more: the first question came after whatever the
  // test did before the call, and the second after the pool acted on the first one's answer.
  // False if it has not within a minute (it asks every kRecheck while a job waits).
  bool wait_for_two_more_questions() const {
    const std::size_t before = asked_.load();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (asked_.load() < before + 2) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

 private:
  std::atomic<std::size_t> jobs_;
  std::atomic<std::size_t> asked_{0};
};

TEST_P(WorkerPoolTest, RunsNoMoreJobsAtOnceThanAllowedAndMoreOnceAllowed) {
  Allowed allowed(1);
  Blocker first;
  Blocker second;
  WorkerPool pool(2, 10, GetParam(), allowed.function());
  ASSERT_TRUE(pool.try_submit(first.job()));
  first.wait_until_started();
  ASSERT_TRUE(pool.try_submit(second.job()));

  // A worker is free, but one job at a time is allowed: the second one stays queued, and the
  // pool keeps asking (every kRecheck) rather than waiting for the first job to end.
  EXPECT_TRUE(allowed.wait_for_two_more_questions()) << "the pool stopped asking";
  EXPECT_EQ(pool.queued(), 1u);

  allowed.set(2);
  second.wait_until_started();  // would hang if the pool never asked again
  EXPECT_EQ(pool.queued(), 0u);
  first.release();
  second.release();
}

TEST_P(WorkerPoolTest, AllowedConcurrencyIsKeptWithinOneAndTheThreads) {
  Allowed allowed(0);  // counts as 1: a pool that allows nothing would never run a job
  std::promise<void> ran;
  Blocker first;
  Blocker second;
  WorkerPool pool(2, 10, GetParam(), allowed.function());
  ASSERT_TRUE(pool.try_submit([&] { ran.set_value(); }));
  ran.get_future().get();

  allowed.set(100);  // counts as the pool's 2 threads
  ASSERT_TRUE(pool.try_submit(first.job()));
  ASSERT_TRUE(pool.try_submit(second.job()));
  first.wait_until_started();
  second.wait_until_started();
  first.release();
  second.release();
}

TEST_P(WorkerPoolTest, StopRunsEveryQueuedJobWithinTheAllowedConcurrency) {
  std::atomic<int> ran{0};
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  Allowed allowed(1);
  {
    WorkerPool pool(3, 100, GetParam(), allowed.function());
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(pool.try_submit([&] {
        const int now = running.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        running.fetch_sub(1);
        ran.fetch_add(1);
      }));
    }
  }  // the destructor stops the pool: every queued job runs first
  EXPECT_EQ(ran.load(), 20);
  EXPECT_EQ(most.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Priorities, WorkerPoolTest,
                         ::testing::Values(WorkerPriority::kNormal, WorkerPriority::kLow,
                                           WorkerPriority::kIdle),
                         [](const ::testing::TestParamInfo<WorkerPriority>& info) {
                           return std::string(name_of(info.param));
                         });

}  // namespace

// How gtest (and ctest's test names) print a priority.
void PrintTo(WorkerPriority priority, std::ostream* out) { *out << name_of(priority); }

}  // namespace almanac::util
