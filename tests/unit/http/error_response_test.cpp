#include "http/error_response.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/error.hpp"

namespace almanac::http {
namespace {

using domain::Error;
using domain::ErrorCode;

// The body parsed as a JSON object; fails the test when it is not one.
boost::json::object body_of(const Response& response) {
  const boost::json::value value = boost::json::parse(response.body);
  EXPECT_TRUE(value.is_object()) << response.body;
  return value.is_object() ? value.as_object() : boost::json::object{};
}

// The sorted member names of `object`.
std::vector<std::string> keys_of(const boost::json::object& object) {
  std::vector<std::string> keys;
  for (const auto& member : object) keys.emplace_back(member.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

// The values of every header called `name`, in order.
std::vector<std::string> headers_named(const Response& response, std::string_view name) {
  std::vector<std::string> values;
  for (const auto& [key, value] : response.headers) {
    if (key == name) values.push_back(value);
  }
  return values;
}

struct CodeCase {
  ErrorCode code;
  Status status;
  std::string_view default_reason;
};

void PrintTo(const CodeCase& c, std::ostream* out) { *out << c.default_reason; }

class ErrorCodeMapping : public testing::TestWithParam<CodeCase> {};

TEST_P(ErrorCodeMapping, StatusOfGivesTheHttpStatus) {
  EXPECT_EQ(status_of(GetParam().code), GetParam().status);
}

TEST_P(ErrorCodeMapping, ErrorResponseCarriesTheStatus) {
  const Response response = error_response(Error(GetParam().code, "Something."));
  EXPECT_EQ(response.status, GetParam().status);
  EXPECT_EQ(response.content_type, "application/json");
}

TEST_P(ErrorCodeMapping, EmptyReasonFallsBackToTheDefaultCodeName) {
  const boost::json::object body = body_of(error_response(Error(GetParam().code, "Something.")));
  ASSERT_TRUE(body.contains("code"));
  EXPECT_EQ(body.at("code"), boost::json::value(GetParam().default_reason));
}

// kInternal is absent: it has its own tests because it never uses the error's message.
INSTANTIATE_TEST_SUITE_P(
    EveryCode, ErrorCodeMapping,
    testing::Values(
        CodeCase{ErrorCode::kInvalidArgument, Status::bad_request, "invalid"},
        CodeCase{ErrorCode::kUnauthenticated, Status::unauthorized, "not_authenticated"},
        CodeCase{ErrorCode::kPermissionDenied, Status::forbidden, "permission_denied"},
        CodeCase{ErrorCode::kNotFound, Status::not_found, "not_found"},
        CodeCase{ErrorCode::kMethodNotAllowed, Status::method_not_allowed, "method_not_allowed"},
        CodeCase{ErrorCode::kConflict, Status::conflict, "conflict"},
        CodeCase{ErrorCode::kPreconditionFailed, Status::precondition_failed,
                 "precondition_failed"},
        CodeCase{ErrorCode::kPayloadTooLarge, Status::payload_too_large, "payload_too_large"},
        CodeCase{ErrorCode::kUriTooLong, Status::uri_too_long, "uri_too_long"},
        CodeCase{ErrorCode::kUnsupportedMedia, Status::unsupported_media_type,
                 "unsupported_media_type"},
        CodeCase{ErrorCode::kTooManyRequests, Status::too_many_requests, "throttled"},
        CodeCase{ErrorCode::kHeadersTooLarge, Status::request_header_fields_too_large,
                 "headers_too_large"},
        CodeCase{ErrorCode::kUnavailable, Status::service_unavailable, "unavailable"}),
    [](const testing::TestParamInfo<CodeCase>& info) {
      std::string name;
      bool upper = true;
      for (const char c : info.param.default_reason) {
        if (c == '_') {
          upper = true;
        } else {
          name += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
          upper = false;
        }
      }
      return name;
    });

TEST(StatusOf, InternalIs500) {
  EXPECT_EQ(status_of(ErrorCode::kInternal), Status::internal_server_error);
}

TEST(ErrorResponse, UnauthenticatedHasDetailAndCodeOnly) {
  const Response response =
      error_response(Error(ErrorCode::kUnauthenticated, "Given token not valid for any token type",
                           "token_not_valid", {{"token", {"ignored for 401"}}}));
  EXPECT_EQ(response.status, Status::unauthorized);
  const boost::json::object body = body_of(response);
  EXPECT_EQ(keys_of(body), (std::vector<std::string>{"code", "detail"}));
  EXPECT_EQ(body.at("detail"), "Given token not valid for any token type");
  EXPECT_EQ(body.at("code"), "token_not_valid");
}

TEST(ErrorResponse, UnauthenticatedCarriesBearerChallenge) {
  const Response response =
      error_response(Error(ErrorCode::kUnauthenticated, "No credentials.", "not_authenticated"));
  EXPECT_EQ(headers_named(response, "WWW-Authenticate"),
            std::vector<std::string>{"Bearer realm=\"api\""});
}

TEST(ErrorResponse, OtherCodesHaveNoBearerChallenge) {
  const Response response = error_response(Error(ErrorCode::kPermissionDenied, "No."));
  EXPECT_TRUE(headers_named(response, "WWW-Authenticate").empty());
}

TEST(ErrorResponse, OtherErrorsHaveErrorAndCode) {
  const Response response =
      error_response(Error(ErrorCode::kConflict, "Username already exists", "username_taken"));
  EXPECT_EQ(response.status, Status::conflict);
  const boost::json::object body = body_of(response);
  EXPECT_EQ(keys_of(body), (std::vector<std::string>{"code", "error"}));
  EXPECT_EQ(body.at("error"), "Username already exists");
  EXPECT_EQ(body.at("code"), "username_taken");
}

TEST(ErrorResponse, FieldErrorsAreListedPerField) {
  const Response response =
      error_response(Error(ErrorCode::kInvalidArgument, "Invalid input.", "invalid",
                           {{"end_time", {"must be after start_time"}},
                            {"username", {"This field may not be blank.", "Second message."}}}));
  EXPECT_EQ(response.status, Status::bad_request);
  const boost::json::object body = body_of(response);
  EXPECT_EQ(keys_of(body), (std::vector<std::string>{"code", "error", "fields"}));
  EXPECT_EQ(body.at("error"), "Invalid input.");
  EXPECT_EQ(body.at("code"), "invalid");
  EXPECT_EQ(body.at("fields"), boost::json::parse(R"({
    "end_time": ["must be after start_time"],
    "username": ["This field may not be blank.", "Second message."]
  })"));
}

TEST(ErrorResponse, FieldsAreOmittedWhenEmpty) {
  const boost::json::object body =
      body_of(error_response(Error(ErrorCode::kInvalidArgument, "Bad.")));
  EXPECT_FALSE(body.contains("fields"));
}

TEST(ErrorResponse, ThrowIfInvalidErrorRendersAsValidationFailure) {
  try {
    domain::throw_if_invalid({{"title", {"This field is required."}}});
    FAIL() << "throw_if_invalid did not throw";
  } catch (const Error& error) {
    const Response response = error_response(error);
    EXPECT_EQ(response.status, Status::bad_request);
    EXPECT_EQ(body_of(response), boost::json::parse(R"({
      "error": "Invalid input.", "code": "invalid",
      "fields": {"title": ["This field is required."]}
    })"));
  }
}

TEST(ErrorResponse, MessageIsEscapedIntoValidJson) {
  const std::string message = "quote \" backslash \\ newline \n tab \t";
  const boost::json::object body = body_of(error_response(Error(ErrorCode::kNotFound, message)));
  EXPECT_EQ(body.at("error"), boost::json::value(message));
}

TEST(ErrorResponse, RetryAfterHeaderIsSentWhenSet) {
  Error error(ErrorCode::kTooManyRequests, "Request was throttled.");
  error.retry_after = 17;
  const Response response = error_response(error);
  EXPECT_EQ(response.status, Status::too_many_requests);
  EXPECT_EQ(headers_named(response, "Retry-After"), std::vector<std::string>{"17"});
}

TEST(ErrorResponse, RetryAfterHeaderIsAbsentWhenUnset) {
  const Response response = error_response(Error(ErrorCode::kUnavailable, "Busy."));
  EXPECT_TRUE(headers_named(response, "Retry-After").empty());
}

TEST(ErrorResponse, ExtraHeadersArePassedThrough) {
  Error error(ErrorCode::kMethodNotAllowed, "Method \"DELETE\" not allowed.");
  error.headers.emplace_back("Allow", "GET, PUT");
  const Response response = error_response(error);
  EXPECT_EQ(response.status, Status::method_not_allowed);
  EXPECT_EQ(headers_named(response, "Allow"), std::vector<std::string>{"GET, PUT"});
}

TEST(InternalErrorResponse, BodyIsExactlyTheGenericMessage) {
  const Response response = internal_error_response();
  EXPECT_EQ(response.status, Status::internal_server_error);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(boost::json::parse(response.body),
            boost::json::parse(R"({"error":"Internal error.","code":"internal"})"));
  EXPECT_EQ(response.body, R"({"error":"Internal error.","code":"internal"})");
  EXPECT_TRUE(response.headers.empty());
}

TEST(ErrorResponse, InternalErrorNeverLeaksItsMessage) {
  Error error(ErrorCode::kInternal, "sqlite: no such table: users (SELECT secret FROM users)",
              "sqlite_failure", {{"sql", {"SELECT secret FROM users"}}});
  error.headers.emplace_back("X-Debug", "leak");
  const Response response = error_response(error);
  EXPECT_EQ(response.status, Status::internal_server_error);
  EXPECT_EQ(boost::json::parse(response.body),
            boost::json::parse(R"({"error":"Internal error.","code":"internal"})"));
  EXPECT_EQ(response.body.find("sqlite"), std::string::npos);
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
  EXPECT_TRUE(headers_named(response, "X-Debug").empty());
}

}  // namespace
}  // namespace almanac::http
