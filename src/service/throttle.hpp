#pragma once

#include <string>
#include <utility>
#include <vector>

#include "domain/error.hpp"
#include "util/rate_limiter.hpp"

namespace almanac::service {

// The RateLimit-* fields that describe `decision` (IETF draft-ietf-httpapi-ratelimit-headers,
// the separate-fields form): RateLimit-Limit (the quota), RateLimit-Remaining (hits left in the
// window), RateLimit-Reset (whole seconds until the window ends) and RateLimit-Policy
// ("<quota>;w=<window seconds>").
std::vector<std::pair<std::string, std::string>> rate_limit_headers(
    const util::RateDecision& decision, const util::RateLimit& limit);

// The error a refused hit raises: kTooManyRequests "throttled" with `message`, Retry-After (the
// seconds until the window ends, at least 1) and the RateLimit-* fields.
domain::Error throttled(const util::RateDecision& decision, const util::RateLimit& limit,
                        std::string message);

}  // namespace almanac::service
