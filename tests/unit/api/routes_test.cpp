// Which requests the hashing pool leaves a core to (api::hashes_a_password): every routed request
// but a login or a registration, which themselves wait for a hash.
#include "api/routes.hpp"

#include <gtest/gtest.h>

namespace almanac::api {
namespace {

using http::Verb;

TEST(HashesAPassword, LoginAndRegistrationDo) {
  EXPECT_TRUE(hashes_a_password(Verb::post, "/api/auth/login/"));
  EXPECT_TRUE(hashes_a_password(Verb::post, "/api/auth/register/"));
}

TEST(HashesAPassword, EveryOtherRequestDoesNot) {
  EXPECT_FALSE(hashes_a_password(Verb::post, "/api/auth/refresh/"));
  EXPECT_FALSE(hashes_a_password(Verb::post, "/api/auth/logout/"));
  EXPECT_FALSE(hashes_a_password(Verb::get, "/api/events/{id}/"));
  EXPECT_FALSE(hashes_a_password(Verb::post, "/api/events/"));
  EXPECT_FALSE(hashes_a_password(Verb::get, "/healthz"));
  // Only the POSTs hash: another method on those paths is refused before any hashing.
  EXPECT_FALSE(hashes_a_password(Verb::get, "/api/auth/login/"));
}

}  // namespace
}  // namespace almanac::api
