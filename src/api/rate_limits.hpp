#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/request.hpp"
#include "http/response.hpp"
#include "util/ip_network.hpp"
#include "util/rate_limiter.hpp"

namespace almanac::api {

struct RateLimitSettings {
  util::RateLimit login_address{30, std::chrono::minutes(1)};
  util::RateLimit register_address{20, std::chrono::hours(1)};
  util::RateLimit user{600, std::chrono::minutes(1)};
  std::size_t max_keys = 100000;
  std::vector<util::IpNetwork> trusted_proxies;
};

// The limits the middleware applies before a handler runs (the per-account login limit lives in
// AuthService, which alone knows whether a login failed): login attempts and registrations per
// client address, and requests per authenticated user. Single-instance: the counts live in this
// process, so several instances behind a load balancer would each allow the full quota (shared
// state is a later issue). Thread-safe.
class RateLimits {
 public:
  using Clock = std::function<util::RateLimiter::Time()>;  // monotonic

  RateLimits(RateLimitSettings settings, Clock clock);

  // Counts `request` against the limits of its route: a login or a registration against its
  // client's address (see client()), any authenticated request against its user. Raises
  // kTooManyRequests "throttled" with Retry-After and RateLimit-* fields when over a limit.
  // Returns the fields the successful response should carry, if a limit applied.
  std::vector<std::pair<std::string, std::string>> admit(const http::Request& request,
                                                         bool is_login, bool is_registration);

  // The client a request comes from: its TCP peer, or what trusted proxies say in
  // X-Forwarded-For (util::client_address), as a limit key (util::client_key).
  std::string client(const http::Request& request) const;

  // How many requests each limit refused so far, for metrics: "login_address",
  // "register_address", "user". Lock-free.
  std::vector<std::pair<std::string_view, std::uint64_t>> rejections() const;

 private:
  RateLimitSettings settings_;
  Clock clock_;
  util::RateLimiter login_address_;
  util::RateLimiter register_address_;
  util::RateLimiter user_;
};

}  // namespace almanac::api
