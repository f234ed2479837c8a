#pragma once

#include <boost/beast/http/status.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <utility>
#include <vector>

namespace almanac::http {

using Status = boost::beast::http::status;

// What a handler returns; the transport adds framing headers and X-Request-Id.
struct Response {
  Status status = Status::ok;
  std::string body;
  std::string content_type = "application/json";  // empty: no Content-Type (empty bodies)
  std::vector<std::pair<std::string, std::string>> headers;

  Response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// A JSON response with `value` serialised as the body.
Response json_response(Status status, const boost::json::value& value);

// A response without a body (e.g. 205 Reset Content, 304 Not Modified).
Response empty_response(Status status);

}  // namespace almanac::http
