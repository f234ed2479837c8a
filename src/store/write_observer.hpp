#pragma once

#include <chrono>
#include <cstddef>

namespace almanac::store {

// What a store's writers report after each commit, for metrics. The store knows only this
// interface; whoever exposes the figures (the /metrics endpoint) implements it. Called on the
// writer's thread (PostgreSQL: on each of its write workers, concurrently): implementations must
// be cheap, thread-safe and must not throw.
class WriteObserver {
 public:
  virtual ~WriteObserver() = default;

  // One transaction holding `jobs` write jobs committed (SQLite groups them; PostgreSQL commits
  // each job alone, a group of one); the COMMIT itself (where the WAL is flushed) took
  // `commit_time`. Not called when the commit fails.
  virtual void group_committed(std::size_t jobs, std::chrono::nanoseconds commit_time) noexcept = 0;

  // Why a write transaction was rolled back and its job run again from the start.
  enum class Retry {
    kSerialization,   // a serialization failure or a deadlock (PostgreSQL's SERIALIZABLE)
    kConnectionLost,  // the connection broke before COMMIT was sent: nothing was committed
  };
  // A write job is about to run again, in a new transaction, for `reason`. Only the engines
  // that retry call it (PostgreSQL).
  virtual void write_retried(Retry reason) noexcept = 0;
};

}  // namespace almanac::store
