#include "service/throttle.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <string>

#include "http/error_response.hpp"

namespace almanac::service {
namespace {

using std::chrono::seconds;

std::string header(const http::Response& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "<absent>";
}

TEST(Throttled, RendersA429InTheErrorShapeWithRetryAfterAndRateLimitFields) {
  const util::RateLimit limit{5, seconds(60)};
  const util::RateDecision refused{false, 5, 0, seconds(42)};
  const http::Response response = http::error_response(throttled(refused, limit, "Slow down."));
  EXPECT_EQ(response.status, http::Status::too_many_requests);
  EXPECT_EQ(boost::json::parse(response.body),
            boost::json::parse(R"({"error": "Slow down.", "code": "throttled"})"));
  EXPECT_EQ(header(response, "Retry-After"), "42");
  EXPECT_EQ(header(response, "RateLimit-Limit"), "5");
  EXPECT_EQ(header(response, "RateLimit-Remaining"), "0");
  EXPECT_EQ(header(response, "RateLimit-Reset"), "42");
  EXPECT_EQ(header(response, "RateLimit-Policy"), "5;w=60");
}

TEST(Throttled, RetryAfterIsAtLeastOneSecond) {
  const util::RateDecision refused{false, 1, 0, seconds(0)};
  EXPECT_EQ(throttled(refused, {1, seconds(1)}, "x").retry_after, 1);
}

TEST(RateLimitHeaders, DescribeAnAllowedHit) {
  const auto headers = rate_limit_headers({true, 600, 599, seconds(60)}, {600, seconds(60)});
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers[1].first, "RateLimit-Remaining");
  EXPECT_EQ(headers[1].second, "599");
}

}  // namespace
}  // namespace almanac::service
