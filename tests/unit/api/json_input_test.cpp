#include "api/json_input.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "domain/error.hpp"

namespace almanac::api {
namespace {

using domain::Error;
using domain::ErrorCode;

// The code and message of the error parse_json raises for `body`; fails the test when none.
Error refusal(std::string_view body) {
  try {
    parse_json(body);
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "accepted: " << body;
  return Error(ErrorCode::kInternal, "accepted");
}

TEST(ParseJson, ParsesEveryJsonType) {
  const boost::json::value value =
      parse_json(R"( {"a": [1, -2, 18446744073709551615, 1.5, "s", true, false, null], "b": {}} )");
  EXPECT_EQ(boost::json::serialize(value),
            R"({"a":[1,-2,18446744073709551615,1.5E0,"s",true,false,null],"b":{}})");
}

TEST(ParseJson, KeepsMembersInOrder) {
  const boost::json::value value = parse_json(R"({"z": 1, "a": {"y": 2, "b": 3}})");
  EXPECT_EQ(boost::json::serialize(value), R"({"z":1,"a":{"y":2,"b":3}})");
}

TEST(ParseJson, RefusesDuplicateKeys) {
  for (const std::string_view body :
       {R"({"a": 1, "a": 1})", R"({"a": 1, "a": 2})", R"({"a": 1, "b": 2, "a": {"c": 3}})",
        R"({"o": {"k": 1, "k": 2}})", R"([{"x": 1}, {"y": 1, "y": 1}])",
        R"({"a": {"b": 1}, "a": {"c": 1, "d": 2}})", R"({"\u0061": 1, "a": 2})"}) {
    const Error error = refusal(body);
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << body;
    EXPECT_EQ(error.reason(), "invalid_json") << body;
    EXPECT_NE(error.message().find("same key twice"), std::string::npos) << error.message();
  }
}

TEST(ParseJson, EqualKeysInDifferentObjectsAreFine) {
  EXPECT_NO_THROW(parse_json(R"({"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]})"));
}

TEST(ParseJson, RefusesMalformedInput) {
  for (const std::string_view body :
       {"", "{", "{} x", "{}}", "[1,]", "{'a': 1}", "NaN", "01", "\"\xff\"", "\"\xed\xa0\x80\""}) {
    const Error error = refusal(body);
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << body;
    EXPECT_EQ(error.reason(), "invalid_json") << body;
  }
}

TEST(ParseJson, RefusesNestingDeeperThan64) {
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_NE(refusal(deep).message().find("64 levels"), std::string::npos);
  EXPECT_NO_THROW(parse_json(std::string(64, '[') + std::string(64, ']')));
  EXPECT_EQ(refusal(std::string(100000, '[')).reason(), "invalid_json");
}

TEST(ParseJson, TrailingWhitespaceIsFine) { EXPECT_NO_THROW(parse_json("{\"a\": 1} \r\n\t")); }

}  // namespace
}  // namespace almanac::api
