#include "util/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace almanac::util {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Time = RateLimiter::Time;

constexpr Time kStart{1'000'000};  // any epoch: the limiter only compares times

Time at(seconds offset) { return kStart + offset; }

TEST(RateLimiter, AllowsUpToTheLimitThenRefuses) {
  RateLimiter limiter({3, seconds(60)}, 100);
  for (std::uint32_t i = 0; i < 3; ++i) {
    const RateDecision decision = limiter.hit("k", kStart);
    EXPECT_TRUE(decision.allowed) << i;
    EXPECT_EQ(decision.limit, 3u);
    EXPECT_EQ(decision.remaining, 2 - i);
    EXPECT_EQ(decision.reset, seconds(60));
  }
  const RateDecision refused = limiter.hit("k", kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0u);
  EXPECT_EQ(refused.reset, seconds(60));
}

TEST(RateLimiter, RefusesUntilTheWindowOfTheFirstHitEnds) {
  RateLimiter limiter({2, seconds(60)}, 100);
  limiter.hit("k", at(seconds(0)));
  limiter.hit("k", at(seconds(10)));
  const RateDecision refused = limiter.hit("k", at(seconds(59)));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.reset, seconds(1));
  EXPECT_FALSE(limiter.hit("k", at(seconds(59)) + milliseconds(999)).allowed);
  const RateDecision fresh = limiter.hit("k", at(seconds(60)));
  EXPECT_TRUE(fresh.allowed);
  EXPECT_EQ(fresh.remaining, 1u);
  EXPECT_EQ(fresh.reset, seconds(60));
}

TEST(RateLimiter, ResetIsRoundedUpToWholeSeconds) {
  RateLimiter limiter({1, seconds(60)}, 100);
  limiter.hit("k", kStart);
  EXPECT_EQ(limiter.peek("k", kStart + milliseconds(100)).reset, seconds(60));
  EXPECT_EQ(limiter.peek("k", kStart + milliseconds(59'001)).reset, seconds(1));
}

TEST(RateLimiter, RefusedHitsDoNotExtendTheLockOut) {
  RateLimiter limiter({1, seconds(60)}, 100);
  limiter.hit("k", at(seconds(0)));
  for (int s = 1; s < 60; ++s) EXPECT_FALSE(limiter.hit("k", at(seconds(s))).allowed);
  EXPECT_TRUE(limiter.hit("k", at(seconds(60))).allowed);
}

TEST(RateLimiter, KeysAreIndependent) {
  RateLimiter limiter({1, seconds(60)}, 100);
  EXPECT_TRUE(limiter.hit("alice", kStart).allowed);
  EXPECT_FALSE(limiter.hit("alice", kStart).allowed);
  EXPECT_TRUE(limiter.hit("bob", kStart).allowed);
}

TEST(RateLimiter, PeekCountsNothing) {
  RateLimiter limiter({1, seconds(60)}, 100);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.peek("k", kStart).allowed);
  EXPECT_EQ(limiter.size(), 0u);
  EXPECT_TRUE(limiter.hit("k", kStart).allowed);
  EXPECT_FALSE(limiter.peek("k", kStart).allowed);
}

TEST(RateLimiter, RefundGivesBackOneHit) {
  RateLimiter limiter({2, seconds(60)}, 100);
  limiter.hit("k", kStart);
  limiter.hit("k", kStart);
  EXPECT_FALSE(limiter.peek("k", kStart).allowed);
  limiter.refund("k", kStart);
  EXPECT_TRUE(limiter.hit("k", kStart).allowed);
  EXPECT_FALSE(limiter.hit("k", kStart).allowed);
}

TEST(RateLimiter, RefundOfUnknownOrExpiredKeyDoesNothing) {
  RateLimiter limiter({1, seconds(60)}, 100);
  limiter.refund("unknown", kStart);
  EXPECT_EQ(limiter.size(), 0u);
  limiter.hit("k", at(seconds(0)));
  limiter.refund("k", at(seconds(60)));  // its window is over
  EXPECT_TRUE(limiter.hit("k", at(seconds(60))).allowed);
  EXPECT_FALSE(limiter.hit("k", at(seconds(61))).allowed);
}

TEST(RateLimiter, ExpiredKeysAreSweptAsTimePasses) {
  RateLimiter limiter({1, seconds(60)}, 1000);
  for (int i = 0; i < 100; ++i) limiter.hit("old" + std::to_string(i), at(seconds(0)));
  EXPECT_EQ(limiter.size(), 100u);
  limiter.hit("new", at(seconds(60)));
  EXPECT_EQ(limiter.size(), 1u);
}

TEST(RateLimiter, TableNeverGrowsBeyondMaxKeys) {
  RateLimiter limiter({1, seconds(3600)}, 50);
  for (int i = 0; i < 10'000; ++i) limiter.hit("attacker" + std::to_string(i), kStart);
  EXPECT_EQ(limiter.size(), 50u);
}

TEST(RateLimiter, WhenFullTheOldestWindowIsForgotten) {
  RateLimiter limiter({1, seconds(3600)}, 3);
  limiter.hit("a", at(seconds(0)));
  limiter.hit("b", at(seconds(1)));
  limiter.hit("c", at(seconds(2)));
  limiter.hit("d", at(seconds(3)));  // full: "a" goes
  EXPECT_TRUE(limiter.peek("a", at(seconds(3))).allowed);
  EXPECT_FALSE(limiter.peek("b", at(seconds(3))).allowed);
  EXPECT_FALSE(limiter.peek("c", at(seconds(3))).allowed);
  EXPECT_FALSE(limiter.peek("d", at(seconds(3))).allowed);
}

TEST(RateLimiter, RejectsNonsenseSettings) {
  EXPECT_THROW(RateLimiter({0, seconds(60)}, 10), std::invalid_argument);
  EXPECT_THROW(RateLimiter({1, seconds(0)}, 10), std::invalid_argument);
  EXPECT_THROW(RateLimiter({1, seconds(60)}, 0), std::invalid_argument);
}

TEST(RateLimiter, ConcurrentHitsNeverExceedTheLimit) {
  RateLimiter limiter({1000, seconds(60)}, 100);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.hit("shared", kStart).allowed) ++allowed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 1000);
}

}  // namespace
}  // namespace almanac::util
