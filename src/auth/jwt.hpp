#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace almanac::auth {

// Which of the two SimpleJWT token kinds a token is; carried in the "token_type" claim.
enum class TokenType { kAccess, kRefresh };

// The claims Almanac puts in a token, in the shape djangorestframework-simplejwt issues them.
// Times are Unix seconds.
struct TokenClaims {
  TokenType type;
  std::int64_t user_id;
  std::string jti;
  std::int64_t issued_at;
  std::int64_t expires_at;
};

// Why a token was refused. Every value but kNone becomes a 401; the distinction is for logs only
// and must not be shown to the client.
enum class TokenError {
  kNone,
  kMalformed,             // not three base64url segments of JSON objects, or over kMaxTokenBytes
  kUnsupportedAlgorithm,  // header "alg" is not exactly "HS256", or the header has "crit"
  kBadSignature,          // the HMAC-SHA256 does not match
  kExpired,               // exp + leeway < now
  kNotYetValid,           // nbf - leeway > now
  kWrongType,             // an access token where a refresh token was expected, or the reverse
  kMissingClaim,          // exp, iat, jti, user_id or token_type absent or of the wrong type
};

// The outcome of JwtCodec::verify. `claims` is meaningful only when ok().
struct VerifiedToken {
  TokenClaims claims;
  TokenError error = TokenError::kNone;
  bool ok() const { return error == TokenError::kNone; }
};

// Returns a fixed, lowercase name for `error` ("none", "malformed", "expired", ...) for logs.
const char* to_string(TokenError error);

// Signs and verifies HS256 JSON Web Tokens compatible with djangorestframework-simplejwt (PyJWT):
// a token issued by one verifies with the other given the same secret. Immutable after
// construction, so one instance may be shared by any number of threads.
class JwtCodec {
 public:
  static constexpr std::size_t kMinSecretBytes = 32;
  static constexpr std::size_t kMaxTokenBytes = 4096;
  // The longest "jti" accepted or issued, in bytes.
  static constexpr std::size_t kMaxJtiBytes = 255;

  // Keeps `secret` as the HMAC key and tolerates clocks that disagree by up to `leeway_seconds`
  // when checking exp and nbf. Throws std::invalid_argument if secret.size() < kMinSecretBytes or
  // leeway_seconds is negative.
  explicit JwtCodec(std::string secret, std::int64_t leeway_seconds = 30);

  // Returns the compact serialisation header.payload.signature of `claims`: header exactly
  // {"alg":"HS256","typ":"JWT"}, payload keys in SimpleJWT's order token_type, exp, iat, jti,
  // user_id. Throws std::invalid_argument if the claims could never verify (user_id <= 0, or jti
  // empty or longer than kMaxJtiBytes), and std::runtime_error if OpenSSL's HMAC fails.
  std::string sign(const TokenClaims& claims) const;

  // Checks `token` as an untrusted string and returns its claims, or the first reason it is
  // refused: size and shape, then the header's algorithm, then the signature (compared in
  // constant time), and only then the payload: required claims, exp, nbf and finally that its
  // type is `expected`. `now_unix` is the current time in Unix seconds. Never throws.
  VerifiedToken verify(std::string_view token, TokenType expected,
                       std::int64_t now_unix) const noexcept;

 private:
  std::string secret_;
  std::int64_t leeway_seconds_;
  std::uint64_t key_id_;  // names secret_'s HMAC contexts, kept per thread (jwt.cpp)
};

// Returns a fresh token id: 32 lowercase hex characters (128 bits) from libsodium's CSPRNG, the
// same shape as SimpleJWT's uuid4().hex. Throws std::runtime_error if libsodium cannot start.
std::string new_jti();

}  // namespace almanac::auth
