#include "util/rate_limiter.hpp"

#include <stdexcept>

namespace almanac::util {

RateLimiter::RateLimiter(RateLimit limit, std::size_t max_keys)
    : limit_(limit), max_keys_(max_keys) {
  if (limit.limit == 0) throw std::invalid_argument("rate limit: limit must be positive");
  if (limit.window.count() <= 0) throw std::invalid_argument("rate limit: window must be positive");
  if (max_keys == 0) throw std::invalid_argument("rate limit: max_keys must be positive");
}

RateDecision RateLimiter::decide(const Entry* entry, Time now) const {
  RateDecision decision;
  decision.limit = limit_.limit;
  if (entry == nullptr || is_expired(*entry, now)) {
    // A hit now would open a fresh window.
    decision.allowed = true;
    decision.remaining = limit_.limit - 1;
    decision.reset = limit_.window;
    return decision;
  }
  const Time left = entry->opened + limit_.window - now;
  decision.reset = std::chrono::ceil<std::chrono::seconds>(left);
  decision.allowed = entry->count < limit_.limit;
  decision.remaining = decision.allowed ? limit_.limit - entry->count - 1 : 0;
  return decision;
}

void RateLimiter::sweep(Time now) {
  while (!order_.empty() && is_expired(order_.front(), now)) {
    index_.erase(order_.front().key);
    order_.pop_front();
  }
}

RateDecision RateLimiter::hit(std::string_view key, Time now) {
  const std::lock_guard lock(mutex_);
  sweep(now);
  const auto found = index_.find(key);
  if (found != index_.end()) {
    Entry& entry = *found->second;
    const RateDecision decision = decide(&entry, now);
    if (decision.allowed) {
      ++entry.count;
    } else {
      rejected_.fetch_add(1, std::memory_order_relaxed);
    }
    return decision;
  }
  if (order_.size() >= max_keys_) {
    // Full of live windows: forget the oldest (see the class comment).
    index_.erase(order_.front().key);
    order_.pop_front();
  }
  order_.push_back(Entry{std::string(key), now, 1});
  index_.emplace(order_.back().key, std::prev(order_.end()));
  return decide(nullptr, now);  // what a first hit decides: allowed, limit - 1 remaining
}

RateDecision RateLimiter::peek(std::string_view key, Time now) const {
  const std::lock_guard lock(mutex_);
  const auto found = index_.find(key);
  return decide(found == index_.end() ? nullptr : &*found->second, now);
}

void RateLimiter::refund(std::string_view key, Time now) {
  const std::lock_guard lock(mutex_);
  const auto found = index_.find(key);
  if (found == index_.end()) return;
  Entry& entry = *found->second;
  if (is_expired(entry, now) || entry.count == 0) return;
  --entry.count;
}

std::size_t RateLimiter::size() const {
  const std::lock_guard lock(mutex_);
  return order_.size();
}

}  // namespace almanac::util
