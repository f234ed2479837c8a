#include "service/throttle.hpp"

#include <algorithm>

namespace almanac::service {

std::vector<std::pair<std::string, std::string>> rate_limit_headers(
    const util::RateDecision& decision, const util::RateLimit& limit) {
  return {{"RateLimit-Limit", std::to_string(decision.limit)},
          {"RateLimit-Remaining", std::to_string(decision.remaining)},
          {"RateLimit-Reset", std::to_string(decision.reset.count())},
          {"RateLimit-Policy",
           std::to_string(limit.limit) + ";w=" + std::to_string(limit.window.count())}};
}

domain::Error throttled(const util::RateDecision& decision, const util::RateLimit& limit,
                        std::string message) {
  domain::Error error(domain::ErrorCode::kTooManyRequests, std::move(message), "throttled");
  error.retry_after = static_cast<int>(std::max<std::int64_t>(1, decision.reset.count()));
  error.headers = rate_limit_headers(decision, limit);
  return error;
}

}  // namespace almanac::service
