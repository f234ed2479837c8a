#pragma once

#include <atomic>
#include <chrono>
#include <limits>

namespace almanac::util {

// When something last happened, to within kResolution: the I/O threads note every request that
// does not hash a password, and the hashing pool runs fewer hashes at once while such requests
// keep coming, leaving a core to them (main.cpp). Lock-free. note() stores only when the kept time
// is older than kResolution, so that at tens of thousands of requests a second the two I/O threads
// mostly read the shared value instead of taking its cache line from each other.
class RecentActivity {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kResolution{1};

  void note(Clock::time_point now = Clock::now()) noexcept {
    const Clock::rep ticks = now.time_since_epoch().count();
    if (ticks - last_.load(std::memory_order_relaxed) >= kResolutionTicks) {
      last_.store(ticks, std::memory_order_relaxed);
    }
  }

  // Whether note() was called at `since` or later (or up to kResolution before it).
  bool since(Clock::time_point since) const noexcept {
    return last_.load(std::memory_order_relaxed) >=
           since.time_since_epoch().count() - kResolutionTicks;
  }

 private:
  static constexpr Clock::rep kResolutionTicks =
      std::chrono::duration_cast<Clock::duration>(kResolution).count();
  // Never: far enough in the past for any `since`, near enough to subtract from without overflow.
  std::atomic<Clock::rep> last_{std::numeric_limits<Clock::rep>::min() / 2};
};

}  // namespace almanac::util
