#include "auth/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace almanac::auth {
namespace {

constexpr std::string_view kSecret = "almanac-unit-test-secret-0123456789abcdef";
constexpr std::string_view kOtherSecret = "another-secret-entirely-0123456789abcdef";
constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kLeeway = 30;
constexpr std::string_view kJti = "0123456789abcdef0123456789abcdef";

// The tests build tokens with OpenSSL directly rather than with util::base64url, so that a bug
// shared by the codec and its helpers cannot hide itself.
std::string b64url(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  while (!out.empty() && out.back() == '=') out.pop_back();
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  return out;
}

std::string hmac(const EVP_MD* digest, std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(digest, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

// Returns b64(header).b64(payload).b64(HMAC(digest, key, signing input)).
std::string make_token(std::string_view header_json, std::string_view payload_json,
                       std::string_view key = kSecret, const EVP_MD* digest = EVP_sha256()) {
  const std::string signing_input = b64url(header_json) + "." + b64url(payload_json);
  return signing_input + "." + b64url(hmac(digest, key, signing_input));
}

constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

// A SimpleJWT-shaped payload with `extra` members appended (each starting with a comma).
std::string payload(std::string_view type = "access", std::int64_t exp = kNow + 300,
                    std::string_view extra = "") {
  return R"({"token_type":")" + std::string(type) + R"(","exp":)" + std::to_string(exp) +
         R"(,"iat":)" + std::to_string(kNow) + R"(,"jti":")" + std::string(kJti) +
         R"(","user_id":42)" + std::string(extra) + "}";
}

TokenClaims access_claims(std::int64_t expires_at = kNow + 300) {
  return {.type = TokenType::kAccess,
          .user_id = 42,
          .jti = std::string(kJti),
          .issued_at = kNow,
          .expires_at = expires_at};
}

class JwtVerify : public ::testing::Test {
 protected:
  TokenError verify_access(std::string_view token) const {
    return codec_.verify(token, TokenType::kAccess, kNow).error;
  }

  JwtCodec codec_{std::string(kSecret), kLeeway};
};

TEST(JwtCodec, RejectsSecretShorterThan32Bytes) {
  EXPECT_THROW(JwtCodec(std::string(31, 'k')), std::invalid_argument);
  EXPECT_NO_THROW(JwtCodec(std::string(32, 'k')));
}

TEST(JwtCodec, RejectsNegativeLeeway) {
  EXPECT_THROW(JwtCodec(std::string(kSecret), -1), std::invalid_argument);
}

TEST(JwtSign, MatchesATokenBuiltByHandByteForByte) {
  const JwtCodec codec{std::string(kSecret)};
  const std::string expected =
      make_token(kHs256Header, R"({"token_type":"access","exp":1700003600,"iat":1700000000,)"
                               R"("jti":"0123456789abcdef0123456789abcdef","user_id":42})");
  EXPECT_EQ(codec.sign(access_claims(kNow + 3600)), expected);
}

// Made outside C++ with Python's standard library exactly as PyJWT (and so SimpleJWT) does:
// json.dumps(..., separators=(",", ":")), header keys sorted, hmac.new(secret, input, sha256).
constexpr std::string_view kPythonToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6IjAxMjM0"
    "NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwidXNlcl9pZCI6NDJ9."
    "MEk0nQ1zDfQk2IDWLlPDhH8GWs8wdiyuc59MALcj3Fo";

TEST(JwtSign, MatchesATokenMadeByPythonLikeSimpleJwt) {
  const JwtCodec codec{std::string(kSecret)};
  EXPECT_EQ(codec.sign(access_claims(kNow + 3600)), kPythonToken);
}

TEST_F(JwtVerify, AcceptsATokenMadeByPythonLikeSimpleJwt) {
  const VerifiedToken result = codec_.verify(kPythonToken, TokenType::kAccess, kNow);
  ASSERT_TRUE(result.ok()) << to_string(result.error);
  EXPECT_EQ(result.claims.user_id, 42);
  EXPECT_EQ(result.claims.jti, kJti);
  EXPECT_EQ(result.claims.issued_at, kNow);
  EXPECT_EQ(result.claims.expires_at, kNow + 3600);
}

TEST(JwtSign, RejectsClaimsThatCouldNeverVerify) {
  const JwtCodec codec{std::string(kSecret)};
  TokenClaims claims = access_claims();
  claims.user_id = 0;
  EXPECT_THROW(codec.sign(claims), std::invalid_argument);
  claims = access_claims();
  claims.jti.clear();
  EXPECT_THROW(codec.sign(claims), std::invalid_argument);
  claims.jti.assign(256, 'a');
  EXPECT_THROW(codec.sign(claims), std::invalid_argument);
}

TEST_F(JwtVerify, RoundTripsAccessToken) {
  const VerifiedToken result =
      codec_.verify(codec_.sign(access_claims()), TokenType::kAccess, kNow);
  ASSERT_TRUE(result.ok()) << to_string(result.error);
  EXPECT_EQ(result.claims.type, TokenType::kAccess);
  EXPECT_EQ(result.claims.user_id, 42);
  EXPECT_EQ(result.claims.jti, kJti);
  EXPECT_EQ(result.claims.issued_at, kNow);
  EXPECT_EQ(result.claims.expires_at, kNow + 300);
}

TEST_F(JwtVerify, RoundTripsRefreshToken) {
  TokenClaims claims = access_claims(kNow + 86400);
  claims.type = TokenType::kRefresh;
  claims.jti = new_jti();
  const VerifiedToken result = codec_.verify(codec_.sign(claims), TokenType::kRefresh, kNow);
  ASSERT_TRUE(result.ok()) << to_string(result.error);
  EXPECT_EQ(result.claims.type, TokenType::kRefresh);
  EXPECT_EQ(result.claims.jti, claims.jti);
}

TEST_F(JwtVerify, RejectsAlgNone) {
  for (const std::string_view alg : {"none", "None", "nOnE", "NONE"}) {
    const std::string header = R"({"alg":")" + std::string(alg) + R"(","typ":"JWT"})";
    const std::string token = b64url(header) + "." + b64url(payload()) + ".";
    EXPECT_EQ(verify_access(token), TokenError::kUnsupportedAlgorithm) << alg;
  }
}

// An attacker who knows we use HMAC still cannot pick a different hash: only HS256 is allowed,
// even when the token is correctly signed with our own key.
TEST_F(JwtVerify, RejectsHs384SignedWithOurKey) {
  const std::string token =
      make_token(R"({"alg":"HS384","typ":"JWT"})", payload(), kSecret, EVP_sha384());
  EXPECT_EQ(verify_access(token), TokenError::kUnsupportedAlgorithm);
}

TEST_F(JwtVerify, RejectsHs512SignedWithOurKey) {
  const std::string token =
      make_token(R"({"alg":"HS512","typ":"JWT"})", payload(), kSecret, EVP_sha512());
  EXPECT_EQ(verify_access(token), TokenError::kUnsupportedAlgorithm);
}

// The classic key-confusion attack: an RS256 header over an HMAC signature.
TEST_F(JwtVerify, RejectsRs256Header) {
  const std::string token = make_token(R"({"alg":"RS256","typ":"JWT"})", payload());
  EXPECT_EQ(verify_access(token), TokenError::kUnsupportedAlgorithm);
}

TEST_F(JwtVerify, RejectsMissingAlg) {
  EXPECT_EQ(verify_access(make_token(R"({"typ":"JWT"})", payload())),
            TokenError::kUnsupportedAlgorithm);
}

TEST_F(JwtVerify, RejectsNonStringAlg) {
  EXPECT_EQ(verify_access(make_token(R"({"alg":256,"typ":"JWT"})", payload())),
            TokenError::kUnsupportedAlgorithm);
  EXPECT_EQ(verify_access(make_token(R"({"alg":["HS256"],"typ":"JWT"})", payload())),
            TokenError::kUnsupportedAlgorithm);
}

TEST_F(JwtVerify, RejectsHeaderWithCrit) {
  EXPECT_EQ(verify_access(make_token(R"({"alg":"HS256","crit":["exp"],"exp":1})", payload())),
            TokenError::kUnsupportedAlgorithm);
}

TEST_F(JwtVerify, AcceptsOtherwiseShapedHs256Header) {
  EXPECT_EQ(verify_access(make_token(R"({"typ":"JWT", "alg":"HS256","kid":"k1"})", payload())),
            TokenError::kNone);
}

TEST_F(JwtVerify, RejectsHeaderThatIsAJsonArray) {
  EXPECT_EQ(verify_access(make_token(R"(["HS256"])", payload())), TokenError::kMalformed);
}

TEST_F(JwtVerify, RejectsHeaderThatIsNotJson) {
  EXPECT_EQ(verify_access(make_token(R"({"alg":"HS256")", payload())), TokenError::kMalformed);
}

TEST_F(JwtVerify, RejectsTamperedPayload) {
  const std::string token = codec_.sign(access_claims());
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot = token.find('.', first_dot + 1);
  std::string forged_payload = payload();
  forged_payload.replace(forged_payload.find("42"), 2, "1");  // become user 1
  const std::string forged =
      token.substr(0, first_dot + 1) + b64url(forged_payload) + token.substr(second_dot);
  EXPECT_EQ(verify_access(forged), TokenError::kBadSignature);
}

TEST_F(JwtVerify, RejectsTokenSignedWithAnotherKey) {
  const JwtCodec other{std::string(kOtherSecret)};
  EXPECT_EQ(verify_access(other.sign(access_claims())), TokenError::kBadSignature);
}

TEST_F(JwtVerify, ManyKeysInTurnOnManyThreadsEachVerifyOnlyTheirOwnTokens) {
  // HMAC contexts are kept per thread and key, a few at a time: more codecs than that, used in
  // turn from several threads, must never sign or verify with another codec's key.
  std::vector<std::unique_ptr<JwtCodec>> codecs;
  for (int i = 0; i < 20; ++i) {
    codecs.push_back(std::make_unique<JwtCodec>(std::string(40, static_cast<char>('a' + i))));
  }
  const auto check_all = [&](int* failures) {
    for (int round = 0; round < 3; ++round) {
      for (std::size_t i = 0; i < codecs.size(); ++i) {
        const std::string token = codecs[i]->sign(access_claims());
        const JwtCodec& next = *codecs[(i + 1) % codecs.size()];
        if (!codecs[i]->verify(token, TokenType::kAccess, kNow).ok()) ++*failures;
        if (next.verify(token, TokenType::kAccess, kNow).error != TokenError::kBadSignature) {
          ++*failures;
        }
      }
    }
  };
  std::array<int, 4> failures{};
  std::vector<std::thread> threads;
  for (int& count : failures) threads.emplace_back(check_all, &count);
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, (std::array<int, 4>{}));
}

TEST_F(JwtVerify, RejectsSignatureOfWrongLength) {
  const std::string signing_input = b64url(kHs256Header) + "." + b64url(payload());
  const std::string mac = hmac(EVP_sha256(), kSecret, signing_input);
  EXPECT_EQ(verify_access(signing_input + "." + b64url(mac.substr(0, 31))),
            TokenError::kBadSignature);
  EXPECT_EQ(verify_access(signing_input + "." + b64url(mac + "x")), TokenError::kBadSignature);
}

TEST_F(JwtVerify, RejectsEmptySignature) {
  const std::string token = codec_.sign(access_claims());
  EXPECT_EQ(verify_access(token.substr(0, token.rfind('.') + 1)), TokenError::kMalformed);
}

TEST_F(JwtVerify, RejectsExpiredBeyondLeeway) {
  EXPECT_EQ(verify_access(codec_.sign(access_claims(kNow - kLeeway - 1))), TokenError::kExpired);
}

TEST_F(JwtVerify, AcceptsExpiredWithinLeeway) {
  EXPECT_EQ(verify_access(codec_.sign(access_claims(kNow - 10))), TokenError::kNone);
  EXPECT_EQ(verify_access(codec_.sign(access_claims(kNow - kLeeway))), TokenError::kNone);
}

TEST_F(JwtVerify, HandlesExpAtInt64LimitsWithoutOverflow) {
  const std::string min_exp = payload("access", std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(verify_access(make_token(kHs256Header, min_exp)), TokenError::kExpired);
  const std::string max_exp = payload("access", std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(verify_access(make_token(kHs256Header, max_exp)), TokenError::kNone);
}

TEST_F(JwtVerify, RejectsNbfInTheFuture) {
  const std::string nbf = R"(,"nbf":)" + std::to_string(kNow + 3600);
  EXPECT_EQ(verify_access(make_token(kHs256Header, payload("access", kNow + 7200, nbf))),
            TokenError::kNotYetValid);
}

TEST_F(JwtVerify, AcceptsNbfWithinLeeway) {
  const std::string nbf = R"(,"nbf":)" + std::to_string(kNow + 10);
  EXPECT_EQ(verify_access(make_token(kHs256Header, payload("access", kNow + 300, nbf))),
            TokenError::kNone);
}

TEST_F(JwtVerify, RejectsNonIntegerNbfAsMalformed) {
  EXPECT_EQ(verify_access(make_token(kHs256Header, payload("access", kNow + 300, R"(,"nbf":"0")"))),
            TokenError::kMalformed);
  EXPECT_EQ(verify_access(make_token(kHs256Header, payload("access", kNow + 300, R"(,"nbf":1.5)"))),
            TokenError::kMalformed);
}

TEST_F(JwtVerify, RejectsMissingExp) {
  const std::string no_exp = R"({"token_type":"access","iat":1700000000,"jti":"abc","user_id":42})";
  EXPECT_EQ(verify_access(make_token(kHs256Header, no_exp)), TokenError::kMissingClaim);
}

TEST_F(JwtVerify, RejectsClaimsOfTheWrongType) {
  const std::string_view payloads[] = {
      R"({"token_type":"access","exp":"1700000300","iat":1,"jti":"a","user_id":42})",
      R"({"token_type":"access","exp":1700000300.0,"iat":1,"jti":"a","user_id":42})",
      R"({"token_type":"access","exp":1700000300,"jti":"a","user_id":42})",
      R"({"token_type":"access","exp":1700000300,"iat":1,"jti":7,"user_id":42})",
      R"({"token_type":"access","exp":1700000300,"iat":1,"jti":"","user_id":42})",
      R"({"token_type":"access","exp":1700000300,"iat":1,"jti":"a","user_id":"42"})",
      R"({"token_type":"access","exp":1700000300,"iat":1,"jti":"a","user_id":0})",
      R"({"token_type":"access","exp":1700000300,"iat":1,"jti":"a","user_id":-5})",
      R"({"token_type":"access","exp":1700000300,"iat":1,"jti":"a","user_id":18446744073709551615})",
      R"({"token_type":"access","exp":1700000300,"iat":1,"jti":"a"})",
      R"({"token_type":"Access","exp":1700000300,"iat":1,"jti":"a","user_id":42})",
      R"({"token_type":null,"exp":1700000300,"iat":1,"jti":"a","user_id":42})",
      R"({"exp":1700000300,"iat":1,"jti":"a","user_id":42})",
  };
  for (const std::string_view body : payloads) {
    EXPECT_EQ(verify_access(make_token(kHs256Header, body)), TokenError::kMissingClaim) << body;
  }
}

TEST_F(JwtVerify, RejectsJtiLongerThan255Bytes) {
  const std::string body = R"({"token_type":"access","exp":1700000300,"iat":1,"jti":")" +
                           std::string(256, 'a') + R"(","user_id":42})";
  EXPECT_EQ(verify_access(make_token(kHs256Header, body)), TokenError::kMissingClaim);
}

TEST_F(JwtVerify, RejectsRefreshTokenUsedAsAccess) {
  EXPECT_EQ(verify_access(make_token(kHs256Header, payload("refresh"))), TokenError::kWrongType);
}

TEST_F(JwtVerify, RejectsAccessTokenUsedAsRefresh) {
  const std::string token = codec_.sign(access_claims());
  EXPECT_EQ(codec_.verify(token, TokenType::kRefresh, kNow).error, TokenError::kWrongType);
}

TEST_F(JwtVerify, RejectsSignedPayloadThatIsNotAJsonObject) {
  EXPECT_EQ(verify_access(make_token(kHs256Header, "[1,2,3]")), TokenError::kMalformed);
  EXPECT_EQ(verify_access(make_token(kHs256Header, "42")), TokenError::kMalformed);
  EXPECT_EQ(verify_access(make_token(kHs256Header, R"({"exp":)")), TokenError::kMalformed);
  EXPECT_EQ(verify_access(make_token(kHs256Header, payload() + "x")), TokenError::kMalformed);
}

TEST_F(JwtVerify, RejectsSignedPayloadNestedTooDeeply) {
  const std::string deep = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(
      verify_access(make_token(kHs256Header, payload("access", kNow + 300, R"(,"extra":)" + deep))),
      TokenError::kMalformed);
}

TEST_F(JwtVerify, RejectsSignedPayloadWithInvalidUtf8) {
  const std::string body = payload("access", kNow + 300, ",\"note\":\"\xff\xfe\"");
  EXPECT_EQ(verify_access(make_token(kHs256Header, body)), TokenError::kMalformed);
}

TEST_F(JwtVerify, Rejects10KilobytesOfJunk) {
  EXPECT_EQ(verify_access(std::string(10 * 1024, 'A')), TokenError::kMalformed);
  EXPECT_EQ(verify_access(std::string(10 * 1024, '.')), TokenError::kMalformed);
}

TEST_F(JwtVerify, RejectsValidlySignedTokenLongerThanTheLimit) {
  const std::string padding = R"(,"pad":")" + std::string(JwtCodec::kMaxTokenBytes, 'p') + "\"";
  const std::string token = make_token(kHs256Header, payload("access", kNow + 300, padding));
  ASSERT_GT(token.size(), JwtCodec::kMaxTokenBytes);
  EXPECT_EQ(verify_access(token), TokenError::kMalformed);
}

TEST_F(JwtVerify, AcceptsValidTokenOfExactlyTheLimit) {
  // Grow a padding claim until the token is exactly kMaxTokenBytes long.
  std::string token;
  for (std::size_t pad = 0; token.size() < JwtCodec::kMaxTokenBytes; ++pad) {
    const std::string padding = R"(,"pad":")" + std::string(pad, 'p') + "\"";
    token = make_token(kHs256Header, payload("access", kNow + 300, padding));
  }
  // Unpadded base64 never has length 4k+1, but header, dots and signature make 4096 reachable.
  ASSERT_EQ(token.size(), JwtCodec::kMaxTokenBytes);
  EXPECT_EQ(verify_access(token), TokenError::kNone);
}

TEST_F(JwtVerify, RejectsFourSegments) {
  EXPECT_EQ(verify_access(codec_.sign(access_claims()) + ".e30"), TokenError::kMalformed);
}

TEST_F(JwtVerify, RejectsTwoSegments) {
  const std::string token = codec_.sign(access_claims());
  EXPECT_EQ(verify_access(token.substr(0, token.rfind('.'))), TokenError::kMalformed);
}

TEST_F(JwtVerify, RejectsEmptySegments) {
  EXPECT_EQ(verify_access(""), TokenError::kMalformed);
  EXPECT_EQ(verify_access(".."), TokenError::kMalformed);
  const std::string token = codec_.sign(access_claims());
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot = token.find('.', first_dot + 1);
  EXPECT_EQ(verify_access(token.substr(first_dot)), TokenError::kMalformed);
  EXPECT_EQ(verify_access(token.substr(0, first_dot + 1) + token.substr(second_dot)),
            TokenError::kMalformed);
}

TEST_F(JwtVerify, RejectsEmptyString) { EXPECT_EQ(verify_access(""), TokenError::kMalformed); }

TEST_F(JwtVerify, RejectsNonBase64Characters) {
  const std::string token = codec_.sign(access_claims());
  for (const char bad : {'+', '/', '=', ' ', '*', '\0', '\n'}) {
    std::string broken = token;
    broken[5] = bad;  // inside the header
    EXPECT_EQ(verify_access(broken), TokenError::kMalformed) << static_cast<int>(bad);
    broken = token;
    broken[token.size() - 3] = bad;  // inside the signature
    EXPECT_EQ(verify_access(broken), TokenError::kMalformed) << static_cast<int>(bad);
  }
  EXPECT_EQ(verify_access(token + "="), TokenError::kMalformed);
  EXPECT_EQ(verify_access("Bearer " + token), TokenError::kMalformed);
}

// No single-character change to a valid token may still verify, whatever the character, and no
// input may make verify throw. The strict decoder matters here: ignoring the unused bits of the
// last signature character would let four spellings of one signature through.
TEST_F(JwtVerify, RejectsEverySingleCharacterChange) {
  const std::string token = codec_.sign(access_claims());
  // Verified first, so the original is in this thread's cache of verified tokens: a token that
  // differs from it anywhere must still take the whole check.
  ASSERT_TRUE(codec_.verify(token, TokenType::kAccess, kNow).ok());
  constexpr char kReplacements[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.+/= \x00\xff";
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (const char replacement : std::string_view(kReplacements, sizeof(kReplacements) - 1)) {
      if (replacement == token[i]) continue;
      std::string mutated = token;
      mutated[i] = replacement;
      const VerifiedToken result = codec_.verify(mutated, TokenType::kAccess, kNow);
      EXPECT_FALSE(result.ok()) << "position " << i << " -> " << replacement;
    }
  }
}

// A token verified once is remembered by this thread (jwt.cpp): the checks that depend on the time
// and on the expected type must still run each time, with the results of a first check.
TEST_F(JwtVerify, ATokenVerifiedBeforeIsCheckedForExpiryAgain) {
  const std::string token = codec_.sign(access_claims(kNow + 300));
  ASSERT_TRUE(codec_.verify(token, TokenType::kAccess, kNow).ok());
  EXPECT_TRUE(codec_.verify(token, TokenType::kAccess, kNow + 300 + kLeeway).ok());
  EXPECT_EQ(codec_.verify(token, TokenType::kAccess, kNow + 300 + kLeeway + 1).error,
            TokenError::kExpired);
}

TEST_F(JwtVerify, ATokenVerifiedBeforeIsCheckedForItsTypeAgain) {
  const std::string access = codec_.sign(access_claims());
  ASSERT_TRUE(codec_.verify(access, TokenType::kAccess, kNow).ok());
  EXPECT_EQ(codec_.verify(access, TokenType::kRefresh, kNow).error, TokenError::kWrongType);
  TokenClaims claims = access_claims();
  claims.type = TokenType::kRefresh;
  const std::string refresh = codec_.sign(claims);
  ASSERT_TRUE(codec_.verify(refresh, TokenType::kRefresh, kNow).ok());
  EXPECT_EQ(codec_.verify(refresh, TokenType::kAccess, kNow).error, TokenError::kWrongType);
}

TEST_F(JwtVerify, ATokenVerifiedBeforeIsCheckedForNotBeforeAgain) {
  const std::string nbf = R"(,"nbf":)" + std::to_string(kNow);
  const std::string token = make_token(kHs256Header, payload("access", kNow + 300, nbf));
  ASSERT_TRUE(codec_.verify(token, TokenType::kAccess, kNow).ok());
  EXPECT_TRUE(codec_.verify(token, TokenType::kAccess, kNow - kLeeway).ok());
  EXPECT_EQ(codec_.verify(token, TokenType::kAccess, kNow - kLeeway - 1).error,
            TokenError::kNotYetValid);
}

TEST_F(JwtVerify, ATokenVerifiedBeforeGivesTheSameClaims) {
  const std::string token = codec_.sign(access_claims());
  const VerifiedToken first = codec_.verify(token, TokenType::kAccess, kNow);
  const VerifiedToken again = codec_.verify(token, TokenType::kAccess, kNow + 1);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.claims.user_id, 42);
  EXPECT_EQ(again.claims.jti, kJti);
  EXPECT_EQ(again.claims.issued_at, kNow);
  EXPECT_EQ(again.claims.expires_at, kNow + 300);
  EXPECT_EQ(again.claims.type, TokenType::kAccess);
}

TEST_F(JwtVerify, ATokenVerifiedUnderOneKeyIsNotAcceptedUnderAnother) {
  const std::string token = codec_.sign(access_claims());
  ASSERT_TRUE(codec_.verify(token, TokenType::kAccess, kNow).ok());
  const JwtCodec other{std::string(kOtherSecret), kLeeway};
  EXPECT_EQ(other.verify(token, TokenType::kAccess, kNow).error, TokenError::kBadSignature);
  // Another codec with the same secret accepts it, by checking it itself.
  const JwtCodec same_secret{std::string(kSecret), kLeeway};
  EXPECT_TRUE(same_secret.verify(token, TokenType::kAccess, kNow).ok());
}

TEST_F(JwtVerify, ManyTokensVerifiedInTurnEachGiveTheirOwnClaims) {
  // More tokens than the cache has slots, twice over: slots are shared and replaced.
  std::vector<std::string> tokens;
  for (std::int64_t user = 1; user <= 1000; ++user) {
    TokenClaims claims = access_claims();
    claims.user_id = user;
    tokens.push_back(codec_.sign(claims));
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const VerifiedToken result = codec_.verify(tokens[i], TokenType::kAccess, kNow);
      ASSERT_TRUE(result.ok()) << i;
      EXPECT_EQ(result.claims.user_id, static_cast<std::int64_t>(i + 1));
    }
  }
}

TEST_F(JwtVerify, AnExpiredTokenIsRefusedTheFirstTimeAndEveryTimeAfter) {
  const std::string token = codec_.sign(access_claims(kNow - kLeeway - 1));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(codec_.verify(token, TokenType::kAccess, kNow).error, TokenError::kExpired);
  }
}

TEST(NewJti, Returns32LowercaseHexCharacters) {
  const std::string jti = new_jti();
  ASSERT_EQ(jti.size(), 32u);
  for (const char c : jti) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << jti;
  }
}

TEST(NewJti, ReturnsDifferentValuesEachCall) { EXPECT_NE(new_jti(), new_jti()); }

TEST(TokenErrorToString, NamesEveryError) {
  EXPECT_STREQ(to_string(TokenError::kNone), "none");
  EXPECT_STREQ(to_string(TokenError::kMalformed), "malformed");
  EXPECT_STREQ(to_string(TokenError::kUnsupportedAlgorithm), "unsupported_algorithm");
  EXPECT_STREQ(to_string(TokenError::kBadSignature), "bad_signature");
  EXPECT_STREQ(to_string(TokenError::kExpired), "expired");
  EXPECT_STREQ(to_string(TokenError::kNotYetValid), "not_yet_valid");
  EXPECT_STREQ(to_string(TokenError::kWrongType), "wrong_type");
  EXPECT_STREQ(to_string(TokenError::kMissingClaim), "missing_claim");
}

}  // namespace
}  // namespace almanac::auth
