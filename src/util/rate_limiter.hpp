#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace almanac::util {

// A quota: at most `limit` hits per key within `window`.
struct RateLimit {
  std::uint32_t limit = 1;
  std::chrono::seconds window{60};
};

// What one check decided, with what the RateLimit-* headers say about it.
struct RateDecision {
  bool allowed = true;
  std::uint32_t limit = 0;        // the quota of the window
  std::uint32_t remaining = 0;    // hits still allowed in the current window (after this one)
  std::chrono::seconds reset{0};  // until the current window ends, rounded up; 0: no window open
};

// Counts hits per key in fixed windows that start at a key's first hit: the first hit opens a
// window of `window`; hits beyond `limit` inside it are refused until it ends, then the next hit
// opens a new one. So "after 5 failures within a minute, refuse until that minute is over".
// A client can fit at most 2 x limit hits into any span of one window (end of one, start of the
// next); the quota per window is exact.
//
// Pure apart from its mutex: the caller passes the time (any monotonic clock, the same one on
// every call), so tests drive it without sleeping. Memory is bounded: at most `max_keys` keys are
// tracked. Keys are kept in the order their windows opened, which (one window length per
// limiter) is also the order in which they expire; expired keys are dropped from the front as new
// ones arrive. When the table is full of live windows, the key whose window opened first is
// forgotten to make room (it starts over with a full quota): memory stays bounded and a flood of
// new keys cannot lock out existing ones, at the price that such a flood may end an old key's
// window early.
//
// Thread-safe: one mutex per limiter. The critical section is a hash lookup and a list splice,
// far shorter than the request around it, so contention stays negligible at our thread counts
// (one I/O thread per core); sharding would add code for no measured gain.
class RateLimiter {
 public:
  using Time = std::chrono::milliseconds;  // since an arbitrary, fixed epoch

  // `limit.limit` and `limit.window` must be positive and `max_keys` at least 1; throws
  // std::invalid_argument otherwise.
  RateLimiter(RateLimit limit, std::size_t max_keys);

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Counts one hit for `key` at `now` when the key's quota allows it and returns the decision;
  // a refused hit is not counted (refusals do not extend the lock-out).
  RateDecision hit(std::string_view key, Time now);

  // Returns what hit() would decide, without counting anything.
  RateDecision peek(std::string_view key, Time now) const;

  // Takes back one hit counted for `key` in its current window (e.g. a login attempt that turned
  // out to succeed when only failures count). Does nothing when none is counted.
  void refund(std::string_view key, Time now);

  // Keys currently tracked (expired ones included until they are swept).
  std::size_t size() const;

  const RateLimit& limit() const { return limit_; }

  // How many hits were refused since construction (for metrics); lock-free.
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    std::string key;
    Time opened{0};
    std::uint32_t count = 0;
  };
  using Order = std::list<Entry>;

  bool is_expired(const Entry& entry, Time now) const {
    return now >= entry.opened + limit_.window;
  }
  RateDecision decide(const Entry* entry, Time now) const;
  void sweep(Time now);

  const RateLimit limit_;
  const std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::atomic<std::uint64_t> rejected_{0};
  Order order_;  // by window opening time, oldest first; owns the keys
  std::unordered_map<std::string_view, Order::iterator> index_;  // views into order_'s keys
};

}  // namespace almanac::util
