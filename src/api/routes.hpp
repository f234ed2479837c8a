#pragma once

#include <boost/asio/awaitable.hpp>

#include "api/rate_limits.hpp"
#include "api/services.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "util/recent_activity.hpp"

namespace almanac::api {

// Registers the whole API surface on `router`; `services` must outlive it.
void add_routes(http::Router& router, Services& services);

// The application the server runs: routing (404, 405 with Allow), then authentication for the
// routes that need it, then throttling by `limits` (null: none; 429), then the handler, whose
// response gets the RateLimit-* fields of the limit that applied. Every routed request that
// does not hash a password is noted in `activity` (null: none), for the hashing pool.
http::App make_app(const http::Router& router, service::AuthService& auth,
                   RateLimits* limits = nullptr, util::RecentActivity* activity = nullptr);

// Whether a request to `route` (a pattern) hashes a password: a login or a registration. The
// others are what the hashing pool leaves a core to.
bool hashes_a_password(http::Verb verb, std::string_view route);

}  // namespace almanac::api
