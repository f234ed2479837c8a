#include "http/error_response.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace almanac::http {

using domain::ErrorCode;

namespace {

const char* default_reason(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid";
    case ErrorCode::kUnauthenticated:
      return "not_authenticated";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kMethodNotAllowed:
      return "method_not_allowed";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kPreconditionFailed:
      return "precondition_failed";
    case ErrorCode::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorCode::kUriTooLong:
      return "uri_too_long";
    case ErrorCode::kUnsupportedMedia:
      return "unsupported_media_type";
    case ErrorCode::kTooManyRequests:
      return "throttled";
    case ErrorCode::kHeadersTooLarge:
      return "headers_too_large";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

// The whole body of every 500: the cause is never sent.
boost::json::object internal_body() {
  return boost::json::object{{"error", "Internal error."}, {"code", "internal"}};
}

}  // namespace

Status status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return Status::bad_request;
    case ErrorCode::kUnauthenticated:
      return Status::unauthorized;
    case ErrorCode::kPermissionDenied:
      return Status::forbidden;
    case ErrorCode::kNotFound:
      return Status::not_found;
    case ErrorCode::kMethodNotAllowed:
      return Status::method_not_allowed;
    case ErrorCode::kConflict:
      return Status::conflict;
    case ErrorCode::kPreconditionFailed:
      return Status::precondition_failed;
    case ErrorCode::kPayloadTooLarge:
      return Status::payload_too_large;
    case ErrorCode::kUriTooLong:
      return Status::uri_too_long;
    case ErrorCode::kUnsupportedMedia:
      return Status::unsupported_media_type;
    case ErrorCode::kTooManyRequests:
      return Status::too_many_requests;
    case ErrorCode::kHeadersTooLarge:
      return Status::request_header_fields_too_large;
    case ErrorCode::kUnavailable:
      return Status::service_unavailable;
    case ErrorCode::kInternal:
      return Status::internal_server_error;
  }
  return Status::internal_server_error;
}

boost::json::object error_body(const domain::Error& error) {
  if (error.code() == ErrorCode::kInternal) return internal_body();
  boost::json::object body;
  const std::string& reason = error.reason();
  const std::string code = reason.empty() ? std::string(default_reason(error.code())) : reason;
  if (error.code() == ErrorCode::kUnauthenticated) {
    body["detail"] = error.message();
    body["code"] = code;
  } else {
    body["error"] = error.message();
    body["code"] = code;
    if (!error.fields().empty()) {
      boost::json::object fields;
      for (const auto& [field, messages] : error.fields()) {
        boost::json::array list;
        for (const std::string& message : messages) list.emplace_back(message);
        fields[field] = std::move(list);
      }
      body["fields"] = std::move(fields);
    }
  }
  return body;
}

Response error_response(const domain::Error& error) {
  return error_response(error, error_body(error));
}

Response error_response(const domain::Error& error, boost::json::object body) {
  if (error.code() == ErrorCode::kInternal) return internal_error_response();
  Response response = json_response(status_of(error.code()), body);
  if (error.retry_after) response.with_header("Retry-After", std::to_string(*error.retry_after));
  if (error.code() == ErrorCode::kUnauthenticated) {
    response.with_header("WWW-Authenticate", "Bearer realm=\"api\"");
  }
  for (const auto& [name, value] : error.headers) response.with_header(name, value);
  return response;
}

Response internal_error_response() {
  return json_response(Status::internal_server_error, internal_body());
}

}  // namespace almanac::http
