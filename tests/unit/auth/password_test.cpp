#include "auth/password.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>

namespace almanac::auth {
namespace {

constexpr std::size_t kMiB = 1024 * 1024;

// Each hash costs tens of milliseconds, so the suite shares one hasher with the default policy.
class PasswordHasherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { hasher_ = std::make_unique<PasswordHasher>(); }
  static void TearDownTestSuite() { hasher_.reset(); }

  static std::unique_ptr<PasswordHasher> hasher_;
};

std::unique_ptr<PasswordHasher> PasswordHasherTest::hasher_;

TEST_F(PasswordHasherTest, RoundTripsAPassword) {
  const std::string stored = hasher_->hash("correct horse battery staple");
  EXPECT_TRUE(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << stored;
  EXPECT_TRUE(hasher_->verify(stored, "correct horse battery staple"));
}

TEST_F(PasswordHasherTest, VerifyReturnsFalseForWrongPassword) {
  const std::string stored = hasher_->hash("correct horse battery staple");
  EXPECT_FALSE(hasher_->verify(stored, "correct horse battery stapler"));
  EXPECT_FALSE(hasher_->verify(stored, ""));
}

TEST_F(PasswordHasherTest, HashesTheSamePasswordDifferentlyEachTime) {
  EXPECT_NE(hasher_->hash("same"), hasher_->hash("same"));
}

TEST_F(PasswordHasherTest, TreatsEmbeddedNulAsPartOfThePassword) {
  const std::string with_nul("abc\0def", 7);
  const std::string stored = hasher_->hash(with_nul);
  EXPECT_TRUE(hasher_->verify(stored, with_nul));
  EXPECT_FALSE(hasher_->verify(stored, "abc"));
}

TEST_F(PasswordHasherTest, VerifyReturnsFalseForMalformedStoredHash) {
  const std::string stored = hasher_->hash("pw");
  const std::string malformed[] = {
      "",
      "not a hash",
      "$argon2id$",
      "$argon2id$v=19$m=19456,t=2,p=1$",
      stored.substr(0, stored.size() - 5),
      stored + std::string("\0trailing", 9),
      std::string(1000, '$'),
      "$2b$12$abcdefghijklmnopqrstuuJ3bZ4ZbTfGm2ykHhvD8hWyM2GcEaY5a",  // bcrypt
  };
  for (const std::string& bad : malformed) {
    bool verified = true;
    EXPECT_NO_THROW(verified = hasher_->verify(bad, "pw")) << bad;
    EXPECT_FALSE(verified) << bad;
  }
}

TEST_F(PasswordHasherTest, NeedsRehashIsFalseForItsOwnHash) {
  EXPECT_FALSE(hasher_->needs_rehash(hasher_->hash("pw")));
}

TEST_F(PasswordHasherTest, NeedsRehashIsTrueForMalformedHash) {
  EXPECT_TRUE(hasher_->needs_rehash("not a hash"));
  EXPECT_TRUE(hasher_->needs_rehash(""));
}

TEST(PasswordHasher, NeedsRehashIsTrueForWeakerButValidParameters) {
  ASSERT_GE(sodium_init(), 0);
  std::array<char, crypto_pwhash_STRBYTES> weaker{};
  const std::string password = "pw";
  ASSERT_EQ(crypto_pwhash_str_alg(weaker.data(), password.data(), password.size(), 2, 19 * kMiB,
                                  crypto_pwhash_ALG_ARGON2ID13),
            0);
  const PasswordHasher stronger(PasswordPolicy{.ops_limit = 3, .mem_limit_bytes = 19 * kMiB});
  EXPECT_TRUE(stronger.needs_rehash(weaker.data()));
  // The old hash still verifies, so the login that notices it can store a new one.
  EXPECT_TRUE(stronger.verify(weaker.data(), password));
  EXPECT_FALSE(stronger.needs_rehash(stronger.hash(password)));
}

TEST(PasswordHasher, ConstructorRejectsOpsLimitBelowTwo) {
  EXPECT_THROW(PasswordHasher(PasswordPolicy{.ops_limit = 1, .mem_limit_bytes = 19 * kMiB}),
               std::invalid_argument);
}

TEST(PasswordHasher, ConstructorRejectsMemLimitBelow19MiB) {
  EXPECT_THROW(PasswordHasher(PasswordPolicy{.ops_limit = 2, .mem_limit_bytes = 8 * kMiB}),
               std::invalid_argument);
  EXPECT_THROW(PasswordHasher(PasswordPolicy{.ops_limit = 2, .mem_limit_bytes = 19 * kMiB - 1}),
               std::invalid_argument);
}

TEST_F(PasswordHasherTest, DummyHashIsAnArgon2idHashWithThePolicy) {
  EXPECT_TRUE(hasher_->dummy_hash().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
  EXPECT_FALSE(hasher_->needs_rehash(hasher_->dummy_hash()));
}

TEST_F(PasswordHasherTest, DummyHashVerifiesFalseForArbitraryPasswords) {
  for (const std::string_view password : {"", "password", "123456", "admin", "\0", "dummy"}) {
    EXPECT_FALSE(hasher_->verify(hasher_->dummy_hash(), password)) << password;
  }
}

}  // namespace
}  // namespace almanac::auth
