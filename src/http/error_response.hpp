#pragma once

#include <boost/json/object.hpp>

#include "domain/error.hpp"
#include "http/response.hpp"

namespace almanac::http {

// The ONLY map from an error to an HTTP status and body. Authentication failures (401) keep
// SimpleJWT's shape {"detail", "code"} so that clients of the original keep working; every other
// error is {"error", "code"} plus "fields" for validation.
Status status_of(domain::ErrorCode code);
Response error_response(const domain::Error& error);

// The body error_response(error) sends: {"error", "code", "fields"?} (or {"detail", "code"} for a
// 401; the internal error's fixed body for kInternal), for a caller to add members to.
boost::json::object error_body(const domain::Error& error);

// error_response with `body` (built from error_body, with members added) in place of the default
// body; status and headers still come from `error`. kInternal ignores `body` and answers the
// fixed 500, so that nothing about an internal failure is ever sent.
Response error_response(const domain::Error& error, boost::json::object body);

// 500 {"error": "Internal error.", "code": "internal"}: for anything unexpected. The cause is
// logged with the request id, never sent.
Response internal_error_response();

}  // namespace almanac::http
