#pragma once

#include <any>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace almanac::domain {

// The one error type of Almanac. Raised once where a rule is broken, rendered once by
// http/error_response.cpp, which alone maps a code to an HTTP status and a body.
enum class ErrorCode {
  kInvalidArgument,     // 400: the request is well-formed HTTP but its content breaks a rule
  kUnauthenticated,     // 401: the caller is unknown (no, bad or expired credentials)
  kPermissionDenied,    // 403: the caller is known and may not do this
  kNotFound,            // 404
  kMethodNotAllowed,    // 405
  kConflict,            // 409
  kPreconditionFailed,  // 412
  kPayloadTooLarge,     // 413
  kUriTooLong,          // 414
  kUnsupportedMedia,    // 415
  kTooManyRequests,     // 429
  kHeadersTooLarge,     // 431
  kUnavailable,         // 503
  kInternal,            // 500
};

// Per-field validation messages: {"end_time": ["must be after start_time"]}.
using FieldErrors = std::map<std::string, std::vector<std::string>>;

class Error : public std::exception {
 public:
  // `reason` is the machine-readable "code" of the body; when empty the code's default name is used
  // (e.g. "invalid", "not_found").
  Error(ErrorCode code, std::string message, std::string reason = {}, FieldErrors fields = {})
      : code_(code),
        message_(std::move(message)),
        reason_(std::move(reason)),
        fields_(std::move(fields)) {}

  ErrorCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  const std::string& reason() const noexcept { return reason_; }
  const FieldErrors& fields() const noexcept { return fields_; }
  const char* what() const noexcept override { return message_.c_str(); }

  // Seconds after which a retry may succeed (429, 503): sent as Retry-After.
  std::optional<int> retry_after;

  // Extra headers the response must carry (e.g. Allow on a 405).
  std::vector<std::pair<std::string, std::string>> headers;

  // Domain data the body must carry besides the message, e.g. the overlapping events of a 409
  // (domain::Conflicts) or the per-item errors of a batch (domain::BatchErrors). The api layer
  // renders it; the status still comes from the code alone.
  std::any details;

 private:
  ErrorCode code_;
  std::string message_;
  std::string reason_;
  FieldErrors fields_;
};

// Raises kInvalidArgument with `fields` when it is not empty.
inline void throw_if_invalid(const FieldErrors& fields,
                             const std::string& message = "Invalid input.") {
  if (!fields.empty()) throw Error(ErrorCode::kInvalidArgument, message, "invalid", fields);
}

}  // namespace almanac::domain
