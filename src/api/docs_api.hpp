#pragma once

#include <boost/asio/awaitable.hpp>

#include "api/services.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

// The interactive API documentation: Swagger UI, served by Almanac itself from the same origin as
// the API, on the OpenAPI document of GET /api/schema/.
namespace almanac::api::docs_api {

// GET /api/docs/ and the fixed list of files it loads (GET /api/docs/swagger-ui.css, ...): the
// embedded file that belongs to the matched route, with its Content-Type, a Cache-Control, and on
// the page a Content-Security-Policy. Only routes named in docs_api.cpp reach it, so no request
// path ever names a file. Raises Error{kInternal} when a route was added without a file.
boost::asio::awaitable<http::Response> file(http::Request& request, Services& services);

}  // namespace almanac::api::docs_api
