#include "util/recent_activity.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace almanac::util {
namespace {

using Clock = RecentActivity::Clock;
using std::chrono::milliseconds;

// A fixed instant, so that nothing depends on when the test runs.
const Clock::time_point kT0 = Clock::time_point(std::chrono::hours(1000));

TEST(RecentActivity, NothingNotedIsNeverRecent) {
  const RecentActivity activity;
  EXPECT_FALSE(activity.since(kT0));
  EXPECT_FALSE(activity.since(Clock::time_point{}));
}

TEST(RecentActivity, ANoteIsRecentSinceAnyEarlierInstant) {
  RecentActivity activity;
  activity.note(kT0);
  EXPECT_TRUE(activity.since(kT0));
  EXPECT_TRUE(activity.since(kT0 - milliseconds(50)));
  EXPECT_FALSE(activity.since(kT0 + milliseconds(50)));
}

TEST(RecentActivity, LaterNotesMoveItForwardInStepsOfTheResolution) {
  RecentActivity activity;
  activity.note(kT0);
  // Within the resolution of the kept time: nothing is written, and the answer is unchanged
  // within that resolution.
  activity.note(kT0 + RecentActivity::kResolution / 2);
  EXPECT_TRUE(activity.since(kT0 + RecentActivity::kResolution / 2));
  // A note further on is kept.
  activity.note(kT0 + milliseconds(40));
  EXPECT_TRUE(activity.since(kT0 + milliseconds(40)));
  EXPECT_FALSE(activity.since(kT0 + milliseconds(40) + 2 * RecentActivity::kResolution));
}

TEST(RecentActivity, AnEarlierNoteDoesNotMoveItBack) {
  RecentActivity activity;
  activity.note(kT0 + milliseconds(40));
  activity.note(kT0);
  EXPECT_TRUE(activity.since(kT0 + milliseconds(40)));
}

}  // namespace
}  // namespace almanac::util
