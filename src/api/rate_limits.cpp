#include "api/rate_limits.hpp"

#include "service/throttle.hpp"

namespace almanac::api {

RateLimits::RateLimits(RateLimitSettings settings, Clock clock)
    : settings_(std::move(settings)),
      clock_(std::move(clock)),
      login_address_(settings_.login_address, settings_.max_keys),
      register_address_(settings_.register_address, settings_.max_keys),
      user_(settings_.user, settings_.max_keys) {}

std::string RateLimits::client(const http::Request& request) const {
  if (settings_.trusted_proxies.empty()) return util::client_key(request.remote_address());
  return util::client_key(util::client_address(request.remote_address(),
                                               request.header_values("X-Forwarded-For"),
                                               settings_.trusted_proxies));
}

std::vector<std::pair<std::string, std::string>> RateLimits::admit(const http::Request& request,
                                                                   bool is_login,
                                                                   bool is_registration) {
  util::RateLimiter* limiter = nullptr;
  std::string key;
  const char* message = "";
  if (request.has_user()) {
    limiter = &user_;
    key = std::to_string(request.user().id);
    message = "Too many requests; try again later.";
  } else if (is_login) {
    limiter = &login_address_;
    key = client(request);
    message = "Too many login attempts from this address; try again later.";
  } else if (is_registration) {
    limiter = &register_address_;
    key = client(request);
    message = "Too many registrations from this address; try again later.";
  } else {
    return {};
  }
  const util::RateDecision decision = limiter->hit(key, clock_());
  if (!decision.allowed) throw service::throttled(decision, limiter->limit(), message);
  return service::rate_limit_headers(decision, limiter->limit());
}

std::vector<std::pair<std::string_view, std::uint64_t>> RateLimits::rejections() const {
  return {{"login_address", login_address_.rejected()},
          {"register_address", register_address_.rejected()},
          {"user", user_.rejected()}};
}

}  // namespace almanac::api
