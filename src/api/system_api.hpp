#pragma once

#include <boost/asio/awaitable.hpp>

#include "api/services.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

// Operator endpoints: health and the API description.
namespace almanac::api::system_api {

// GET /healthz: 200 {"status": "ok"} after a trivial query, 503 {"status": "unavailable"}.
boost::asio::awaitable<http::Response> health(http::Request& request, Services& services);

// GET /api/schema/: docs/openapi.yaml as compiled into the binary.
boost::asio::awaitable<http::Response> schema(http::Request& request, Services& services);

// GET /metrics: the Prometheus text exposition format (api/metrics.hpp). Unauthenticated, like
// /healthz: scrapers send no tokens; operators who must hide it turn it off (--metrics off) or
// block the path at their proxy.
boost::asio::awaitable<http::Response> metrics(http::Request& request, Services& services);

}  // namespace almanac::api::system_api
