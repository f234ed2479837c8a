#pragma once

#include "domain/error.hpp"
#include "http/response.hpp"

namespace almanac::http {

// The ONLY map from an error to an HTTP status and body. Authentication failures (401) keep
// SimpleJWT's shape {"detail", "code"} so that clients of the original keep working; every other
// error is {"error", "code"} plus "fields" for validation.
Status status_of(domain::ErrorCode code);
Response error_response(const domain::Error& error);

// 500 {"error": "Internal error.", "code": "internal"}: for anything unexpected. The cause is
// logged with the request id, never sent.
Response internal_error_response();

}  // namespace almanac::http
