#include "http/router.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace almanac::http {
namespace {

// The router never calls handlers, so the tests register empty ones and tell routes apart by
// their pattern.
Router make_router() {
  Router router;
  router.add(Verb::post, "/api/auth/login/", Handler{});
  router.add(Verb::get, "/healthz", Handler{});
  router.add(Verb::get, "/api/events/", Handler{});
  router.add(Verb::post, "/api/events/", Handler{});
  router.add(Verb::get, "/api/events/{id}/", Handler{});
  router.add(Verb::put, "/api/events/{id}/", Handler{});
  router.add(Verb::get, "/api/events/{id}/permissions/{user_id}/", Handler{});
  router.add(Verb::delete_, "/api/events/{id}/permissions/{user_id}/", Handler{});
  return router;
}

// True when `match` is a 404: no route and no verb the path would accept.
std::vector<Verb> verbs(const boost::container::small_vector<Verb, 8>& allowed) {
  return {allowed.begin(), allowed.end()};
}

bool is_not_found(const Router::Match& match) {
  return match.route == nullptr && match.allowed.empty() && match.params.empty();
}

// The matched route's pattern, or "<none>".
std::string pattern_of(const Router::Match& match) {
  return match.route == nullptr ? std::string("<none>") : match.route->pattern;
}

TEST(RouterAdd, KeepsRoutesInRegistrationOrderWithSplitSegments) {
  Router router;
  router.add(Verb::get, "/api/events/{id}/", Handler{}, RouteOptions{.authenticated = false});
  router.add(Verb::post, "/healthz", Handler{});

  const std::vector<Route>& routes = router.routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].verb, Verb::get);
  EXPECT_EQ(routes[0].pattern, "/api/events/{id}/");
  EXPECT_FALSE(routes[0].options.authenticated);
  EXPECT_EQ(routes[0].segments, (std::vector<std::string>{"api", "events", "{id}"}));
  EXPECT_EQ(routes[1].verb, Verb::post);
  EXPECT_TRUE(routes[1].options.authenticated);
  EXPECT_EQ(routes[1].segments, (std::vector<std::string>{"healthz"}));
}

TEST(RouterMatch, ExactPathAndVerbFindTheRoute) {
  const Router router = make_router();
  const Router::Match match = router.match(Verb::post, "/api/auth/login/");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/auth/login/");
  EXPECT_EQ(match.route->verb, Verb::post);
  EXPECT_TRUE(match.params.empty());
  EXPECT_EQ(verbs(match.allowed), std::vector<Verb>{Verb::post});
}

TEST(RouterMatch, PathWithoutTrailingSlashMatchesPatternWithOne) {
  const Router router = make_router();
  EXPECT_EQ(pattern_of(router.match(Verb::post, "/api/auth/login")), "/api/auth/login/");
}

TEST(RouterMatch, PathWithTrailingSlashMatchesPatternWithoutOne) {
  const Router router = make_router();
  EXPECT_EQ(pattern_of(router.match(Verb::get, "/healthz/")), "/healthz");
  EXPECT_EQ(pattern_of(router.match(Verb::get, "/healthz")), "/healthz");
}

TEST(RouterMatch, SameVerbOnDifferentPathsPicksTheMatchingPath) {
  const Router router = make_router();
  EXPECT_EQ(pattern_of(router.match(Verb::get, "/api/events/")), "/api/events/");
  EXPECT_EQ(pattern_of(router.match(Verb::get, "/api/events/7/")), "/api/events/{id}/");
}

TEST(RouterMatch, TypedParameterIsExtractedAsInteger) {
  const Router router = make_router();
  const Router::Match match = router.match(Verb::get, "/api/events/42/");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/events/{id}/");
  ASSERT_EQ(match.params.size(), 1u);
  EXPECT_EQ(match.params[0].first, "id");
  EXPECT_EQ(match.params[0].second, 42);
}

TEST(RouterMatch, LargestEighteenDigitIdIsAccepted) {
  const Router router = make_router();
  const Router::Match match = router.match(Verb::get, "/api/events/999999999999999999");
  ASSERT_NE(match.route, nullptr);
  ASSERT_EQ(match.params.size(), 1u);
  EXPECT_EQ(match.params[0].second, 999'999'999'999'999'999);
}

TEST(RouterMatch, TwoParametersAreExtractedWithTheirNamesInOrder) {
  const Router router = make_router();
  const Router::Match match = router.match(Verb::delete_, "/api/events/12/permissions/345/");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/events/{id}/permissions/{user_id}/");
  EXPECT_EQ(match.route->verb, Verb::delete_);
  ASSERT_EQ(match.params.size(), 2u);
  EXPECT_EQ(match.params[0].first, "id");
  EXPECT_EQ(match.params[0].second, 12);
  EXPECT_EQ(match.params[1].first, "user_id");
  EXPECT_EQ(match.params[1].second, 345);
}

TEST(RouterMatch, SecondParameterMustAlsoBeAnId) {
  const Router router = make_router();
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/api/events/12/permissions/0/")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/api/events/12/permissions/me/")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/api/events/x/permissions/3/")));
}

class RouterRejectsId : public testing::TestWithParam<std::string_view> {};

TEST_P(RouterRejectsId, AsNotFound) {
  const Router router = make_router();
  const std::string path = "/api/events/" + std::string(GetParam()) + "/";
  const Router::Match match = router.match(Verb::get, path);
  EXPECT_TRUE(is_not_found(match)) << path << " matched " << pattern_of(match);
}

INSTANTIATE_TEST_SUITE_P(NotPositiveDecimalInt64, RouterRejectsId,
                         testing::Values("0", "00", "-1", "+1", "01", "007", "abc", "1a", "a1",
                                         "1.5", "1e3", "0x10", " 1", "1 ", "%31",
                                         "1000000000000000000",    // 19 digits
                                         "9223372036854775807",    // INT64_MAX, 19 digits
                                         "9223372036854775808",    // INT64_MAX + 1
                                         "99999999999999999999"),  // 20 digits
                         [](const testing::TestParamInfo<std::string_view>& info) {
                           return "Case" + std::to_string(info.index);
                         });

TEST(RouterMatch, WrongVerbListsTheVerbsOfThatPath) {
  const Router router = make_router();
  const Router::Match match = router.match(Verb::delete_, "/api/events/5/");
  EXPECT_EQ(match.route, nullptr);
  EXPECT_EQ(verbs(match.allowed), (std::vector<Verb>{Verb::get, Verb::put}));
}

TEST(RouterMatch, WrongVerbWithoutTrailingSlashStillListsAllowedVerbs) {
  const Router router = make_router();
  const Router::Match match = router.match(Verb::get, "/api/auth/login");
  EXPECT_EQ(match.route, nullptr);
  EXPECT_EQ(verbs(match.allowed), std::vector<Verb>{Verb::post});
}

TEST(RouterMatch, WrongVerbOnPathWithBadIdIsNotFoundRatherThanMethodNotAllowed) {
  const Router router = make_router();
  EXPECT_TRUE(is_not_found(router.match(Verb::delete_, "/api/events/abc/")));
}

TEST(RouterMatch, AllowedListsEveryVerbOfThePathEvenWhenOneMatches) {
  const Router router = make_router();
  const Router::Match match = router.match(Verb::put, "/api/events/5");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->verb, Verb::put);
  EXPECT_EQ(verbs(match.allowed), (std::vector<Verb>{Verb::get, Verb::put}));
}

TEST(RouterMatch, AllowedHasNoDuplicatesWhenTwoPatternsOfOneVerbMatch) {
  Router router;
  router.add(Verb::get, "/api/things/{id}/", Handler{});
  router.add(Verb::get, "/api/things/{other}/", Handler{});
  router.add(Verb::patch, "/api/things/{id}/", Handler{});

  const Router::Match miss = router.match(Verb::delete_, "/api/things/1/");
  EXPECT_EQ(miss.route, nullptr);
  EXPECT_EQ(verbs(miss.allowed), (std::vector<Verb>{Verb::get, Verb::patch}));

  // The first registered route wins and its own parameter names are reported.
  const Router::Match hit = router.match(Verb::get, "/api/things/1/");
  ASSERT_NE(hit.route, nullptr);
  EXPECT_EQ(hit.route, &router.routes()[0]);
  ASSERT_EQ(hit.params.size(), 1u);
  EXPECT_EQ(hit.params[0].first, "id");
}

TEST(RouterMatch, LiteralRouteMatchesWhereParameterCannot) {
  Router router;
  router.add(Verb::get, "/api/events/{id}/", Handler{});
  router.add(Verb::get, "/api/events/export/", Handler{});
  EXPECT_EQ(pattern_of(router.match(Verb::get, "/api/events/export/")), "/api/events/export/");
  EXPECT_EQ(pattern_of(router.match(Verb::get, "/api/events/3/")), "/api/events/{id}/");
}

TEST(RouterMatch, UnknownPathIsNotFound) {
  const Router router = make_router();
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/api/unknown/")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/api/events/5/extra/")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/api")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/")));
}

TEST(RouterMatch, MatchingIsCaseSensitive) {
  const Router router = make_router();
  EXPECT_TRUE(is_not_found(router.match(Verb::post, "/API/auth/login/")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/Healthz")));
}

TEST(RouterMatch, EmptyPathIsNotFound) {
  const Router router = make_router();
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "")));
}

TEST(RouterMatch, RelativePathIsNotFound) {
  const Router router = make_router();
  EXPECT_TRUE(is_not_found(router.match(Verb::post, "api/auth/login/")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "healthz")));
}

TEST(RouterMatch, DoubleSlashesAreNotCollapsed) {
  const Router router = make_router();
  EXPECT_TRUE(is_not_found(router.match(Verb::post, "//api/auth/login/")));
  EXPECT_TRUE(is_not_found(router.match(Verb::post, "/api//auth/login/")));
  EXPECT_TRUE(is_not_found(router.match(Verb::post, "/api/auth/login//")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "//")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/api/events//")));
}

TEST(RouterMatch, RootPatternMatchesTheRoot) {
  Router router;
  router.add(Verb::get, "/", Handler{});
  EXPECT_EQ(pattern_of(router.match(Verb::get, "/")), "/");
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/x")));
}

TEST(RouterMatch, EmptyRouterFindsNothing) {
  const Router router;
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/")));
  EXPECT_TRUE(is_not_found(router.match(Verb::get, "/api/events/1/")));
}

TEST(ParseId, AcceptsPositiveDecimals) {
  EXPECT_EQ(parse_id("1"), 1);
  EXPECT_EQ(parse_id("9"), 9);
  EXPECT_EQ(parse_id("10"), 10);
  EXPECT_EQ(parse_id("1234567890"), 1234567890);
  EXPECT_EQ(parse_id("999999999999999999"), 999'999'999'999'999'999);  // 18 digits
}

TEST(ParseId, ReturnsZeroForEmptyText) { EXPECT_EQ(parse_id(""), 0); }

TEST(ParseId, ReturnsZeroForZeroAndLeadingZeros) {
  EXPECT_EQ(parse_id("0"), 0);
  EXPECT_EQ(parse_id("00"), 0);
  EXPECT_EQ(parse_id("01"), 0);
  EXPECT_EQ(parse_id("0123456789"), 0);
}

TEST(ParseId, ReturnsZeroForSignsAndNonDigits) {
  EXPECT_EQ(parse_id("-1"), 0);
  EXPECT_EQ(parse_id("+1"), 0);
  EXPECT_EQ(parse_id("abc"), 0);
  EXPECT_EQ(parse_id("12a"), 0);
  EXPECT_EQ(parse_id("a12"), 0);
  EXPECT_EQ(parse_id("1.5"), 0);
  EXPECT_EQ(parse_id("1,5"), 0);
  EXPECT_EQ(parse_id(" 1"), 0);
  EXPECT_EQ(parse_id("1 "), 0);
  EXPECT_EQ(parse_id("1e3"), 0);
  EXPECT_EQ(parse_id("0x1f"), 0);
  EXPECT_EQ(parse_id(std::string_view("1\0", 2)), 0);
  EXPECT_EQ(parse_id("\xd9\xa1"), 0);  // ARABIC-INDIC DIGIT ONE
}

TEST(ParseId, ReturnsZeroForNineteenDigitsOrMore) {
  EXPECT_EQ(parse_id("1000000000000000000"), 0);
  EXPECT_EQ(parse_id("9223372036854775807"), 0);
  EXPECT_EQ(parse_id("9223372036854775808"), 0);
  EXPECT_EQ(parse_id("18446744073709551616"), 0);
  EXPECT_EQ(parse_id(std::string(40, '9')), 0);
}

}  // namespace
}  // namespace almanac::http
