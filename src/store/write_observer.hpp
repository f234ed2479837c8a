#pragma once

#include <chrono>
#include <cstddef>

namespace almanac::store {

// What a store's writer reports after each group commit, for metrics. The store knows only this
// interface; whoever exposes the figures (the /metrics endpoint) implements it. Called on the
// writer's thread: implementations must be cheap and must not throw.
class WriteObserver {
 public:
  virtual ~WriteObserver() = default;

  // One transaction holding `jobs` write jobs committed; the COMMIT itself (where the fsync
  // happens) took `commit_time`. Not called when the commit fails.
  virtual void group_committed(std::size_t jobs, std::chrono::nanoseconds commit_time) noexcept = 0;
};

}  // namespace almanac::store
