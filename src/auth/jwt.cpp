#include "auth/jwt.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "util/base64url.hpp"

namespace almanac::auth {
namespace {

namespace json = boost::json;

// {"alg":"HS256","typ":"JWT"} in base64url: the only header Almanac issues, and the one PyJWT
// writes for HS256 (it sorts header keys). A token carrying exactly this header needs no header
// parsing.
constexpr std::string_view kHeaderSegment = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

constexpr std::size_t kSignatureBytes = 32;  // SHA-256
// Our headers and payloads are flat objects; anything deeper is not ours and is refused early.
constexpr std::size_t kMaxJsonDepth = 8;

using Mac = std::array<unsigned char, kSignatureBytes>;

// HMAC-SHA256 contexts kept per thread and key. Setting one up (fetching the algorithm, hashing
// the key into its pads) cost more than the MAC of a whole token: a per-call HMAC() was most of a
// token check in the profile. A context is only ever used by its own thread; no lock.
struct ThreadMac {
  std::uint64_t key_id;
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> context;
};
thread_local std::vector<ThreadMac> t_macs;
constexpr std::size_t kMaxThreadMacs = 8;  // codecs in use on one thread (tests make many)

std::atomic<std::uint64_t> g_next_key_id{1};

EVP_MAC* hmac_algorithm() {
  static EVP_MAC* const kAlgorithm = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // process lifetime
  return kAlgorithm;
}

// This thread's context for key `key_id`, ready for a new MAC. nullptr if OpenSSL fails.
EVP_MAC_CTX* thread_context(std::uint64_t key_id, std::string_view key) {
  for (ThreadMac& entry : t_macs) {
    if (entry.key_id != key_id) continue;
    // No key: the provider restarts from the pads it keeps.
    return EVP_MAC_init(entry.context.get(), nullptr, 0, nullptr) == 1 ? entry.context.get()
                                                                       : nullptr;
  }
  if (hmac_algorithm() == nullptr) return nullptr;
  ThreadMac entry{key_id, {EVP_MAC_CTX_new(hmac_algorithm()), &EVP_MAC_CTX_free}};
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (!entry.context ||
      EVP_MAC_init(entry.context.get(), reinterpret_cast<const unsigned char*>(key.data()),
                   key.size(), params) != 1) {
    return nullptr;
  }
  if (t_macs.size() >= kMaxThreadMacs) t_macs.erase(t_macs.begin());
  t_macs.push_back(std::move(entry));
  return t_macs.back().context.get();
}

// Computes HMAC-SHA256 of `data` under `key` (whose id is `key_id`). Throws std::runtime_error if
// OpenSSL fails.
Mac hmac_sha256(std::uint64_t key_id, std::string_view key, std::string_view data) {
  EVP_MAC_CTX* context = thread_context(key_id, key);
  Mac mac{};
  std::size_t length = 0;
  if (context == nullptr ||
      EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
          1 ||
      EVP_MAC_final(context, mac.data(), &length, mac.size()) != 1 || length != mac.size()) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return mac;
}

// a + b, or the nearest int64 limit when the sum overflows. Claims come from the network, so
// arithmetic on them must not be undefined.
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}

// Parses `text` as JSON no deeper than kMaxJsonDepth into `storage`; nullopt on any syntax error,
// invalid UTF-8 or trailing data.
std::optional<json::value> parse_json(std::string_view text, json::storage_ptr storage) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::error_code ec;
  json::value value =
      json::parse(json::string_view(text.data(), text.size()), ec, std::move(storage), options);
  if (ec) return std::nullopt;
  return value;
}

// Checks the header segment: a JSON object whose "alg" is exactly "HS256" and which names no
// critical extensions ("crit") we would have to understand.
TokenError check_header(std::string_view segment, const json::storage_ptr& storage) {
  if (segment == kHeaderSegment) return TokenError::kNone;
  const std::optional<std::string> decoded = util::base64url_decode(segment);
  if (!decoded) return TokenError::kMalformed;
  const std::optional<json::value> value = parse_json(*decoded, storage);
  if (!value || !value->is_object()) return TokenError::kMalformed;
  const json::object& header = value->get_object();
  if (header.contains("crit")) return TokenError::kUnsupportedAlgorithm;
  const json::value* alg = header.if_contains("alg");
  const bool is_hs256 = alg != nullptr && alg->is_string() && alg->get_string() == "HS256";
  return is_hs256 ? TokenError::kNone : TokenError::kUnsupportedAlgorithm;
}

// Returns the member `key` of `object` when it is a JSON integer that fits in int64.
std::optional<std::int64_t> int_member(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_int64()) return std::nullopt;
  return value->get_int64();
}

// Returns the member `key` of `object` when it is a JSON string.
const json::string* string_member(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return nullptr;
  return &value->get_string();
}

// Validates the (already authenticated) payload and fills `result`.
void read_claims(std::string_view segment, TokenType expected, std::int64_t now,
                 std::int64_t leeway, const json::storage_ptr& storage, VerifiedToken& result,
                 std::optional<std::int64_t>& not_before) {
  const std::optional<std::string> decoded = util::base64url_decode(segment);
  if (!decoded) {
    result.error = TokenError::kMalformed;
    return;
  }
  const std::optional<json::value> value = parse_json(*decoded, storage);
  if (!value || !value->is_object()) {
    result.error = TokenError::kMalformed;
    return;
  }
  const json::object& payload = value->get_object();

  const std::optional<std::int64_t> exp = int_member(payload, "exp");
  const std::optional<std::int64_t> iat = int_member(payload, "iat");
  const std::optional<std::int64_t> user_id = int_member(payload, "user_id");
  const json::string* jti = string_member(payload, "jti");
  const json::string* type_name = string_member(payload, "token_type");
  std::optional<TokenType> type;
  if (type_name != nullptr && *type_name == "access") type = TokenType::kAccess;
  if (type_name != nullptr && *type_name == "refresh") type = TokenType::kRefresh;
  const bool has_valid_jti =
      jti != nullptr && !jti->empty() && jti->size() <= JwtCodec::kMaxJtiBytes;
  if (!exp || !iat || !user_id || *user_id <= 0 || !has_valid_jti || !type) {
    result.error = TokenError::kMissingClaim;
    return;
  }

  if (saturating_add(*exp, leeway) < now) {
    result.error = TokenError::kExpired;
    return;
  }
  if (const json::value* nbf = payload.if_contains("nbf"); nbf != nullptr) {
    if (!nbf->is_int64()) {
      result.error = TokenError::kMalformed;
      return;
    }
    not_before = nbf->get_int64();
    if (saturating_add(nbf->get_int64(), -leeway) > now) {
      result.error = TokenError::kNotYetValid;
      return;
    }
  }
  if (*type != expected) {
    result.error = TokenError::kWrongType;
    return;
  }

  result.claims.type = *type;
  result.claims.user_id = *user_id;
  result.claims.jti.assign(jti->data(), jti->size());
  result.claims.issued_at = *iat;
  result.claims.expires_at = *exp;
  result.error = TokenError::kNone;
}

// Tokens this thread verified lately. Every request of a client carries the same access token
// for its whole life (15 minutes), and checking it again from scratch (two base64url decodes, a
// JSON parse, an HMAC) was about a tenth of an authenticated read's CPU time. A token met again,
// byte for byte and under the same key, has the same header, signature and claims: only the checks
// that depend on the time and on the expected type remain. Direct-mapped by a hash of the token,
// so one lookup per request and no lock; a slot keeps the last token verified there. The stored
// token is compared in constant time (CRYPTO_memcmp): the hash picks the slot, but how much of a
// cached token a forged one matches is never observable.
struct VerifiedSlot {
  std::uint64_t key_id = 0;  // 0: empty (key ids start at 1)
  std::string token;
  TokenClaims claims;
  std::optional<std::int64_t> not_before;  // the "nbf" claim, when the token has one
};
constexpr std::size_t kVerifiedSlots = 128;   // per thread: ~40 kB when full
constexpr std::size_t kMaxCachedToken = 512;  // ours are ~230 bytes; larger ones are not kept
thread_local std::array<VerifiedSlot, kVerifiedSlots> t_verified;

VerifiedSlot& verified_slot(std::string_view token) {
  return t_verified[std::hash<std::string_view>{}(token) % kVerifiedSlots];
}

bool same_token(const VerifiedSlot& slot, std::uint64_t key_id, std::string_view token) {
  return slot.key_id == key_id && slot.token.size() == token.size() &&
         CRYPTO_memcmp(slot.token.data(), token.data(), token.size()) == 0;
}

// The time and type checks of read_claims, in its order, for claims that verified before.
TokenError recheck(const VerifiedSlot& slot, TokenType expected, std::int64_t now,
                   std::int64_t leeway) {
  if (saturating_add(slot.claims.expires_at, leeway) < now) return TokenError::kExpired;
  if (slot.not_before && saturating_add(*slot.not_before, -leeway) > now) {
    return TokenError::kNotYetValid;
  }
  if (slot.claims.type != expected) return TokenError::kWrongType;
  return TokenError::kNone;
}

// Starts libsodium once per process; throws std::runtime_error if it cannot.
void ensure_sodium() {
  static const bool kReady = sodium_init() >= 0;  // thread-safe: a function-local static
  if (!kReady) throw std::runtime_error("libsodium failed to initialise");
}

}  // namespace

const char* to_string(TokenError error) {
  switch (error) {
    case TokenError::kNone:
      return "none";
    case TokenError::kMalformed:
      return "malformed";
    case TokenError::kUnsupportedAlgorithm:
      return "unsupported_algorithm";
    case TokenError::kBadSignature:
      return "bad_signature";
    case TokenError::kExpired:
      return "expired";
    case TokenError::kNotYetValid:
      return "not_yet_valid";
    case TokenError::kWrongType:
      return "wrong_type";
    case TokenError::kMissingClaim:
      return "missing_claim";
  }
  return "unknown";
}

JwtCodec::JwtCodec(std::string secret, std::int64_t leeway_seconds)
    : secret_(std::move(secret)),
      leeway_seconds_(leeway_seconds),
      key_id_(g_next_key_id.fetch_add(1)) {
  if (secret_.size() < kMinSecretBytes) {
    throw std::invalid_argument("JWT secret must be at least 32 bytes");
  }
  if (leeway_seconds_ < 0) throw std::invalid_argument("JWT leeway must not be negative");
}

std::string JwtCodec::sign(const TokenClaims& claims) const {
  if (claims.user_id <= 0) throw std::invalid_argument("JWT user_id must be positive");
  if (claims.jti.empty() || claims.jti.size() > kMaxJtiBytes) {
    throw std::invalid_argument("JWT jti must be 1 to 255 bytes");
  }
  // Written by hand rather than through a JSON object so that the key order is SimpleJWT's.
  std::string payload = R"({"token_type":")";
  payload += claims.type == TokenType::kAccess ? "access" : "refresh";
  payload += R"(","exp":)";
  payload += std::to_string(claims.expires_at);
  payload += R"(,"iat":)";
  payload += std::to_string(claims.issued_at);
  payload += R"(,"jti":)";
  payload += json::serialize(json::string_view(claims.jti.data(), claims.jti.size()));
  payload += R"(,"user_id":)";
  payload += std::to_string(claims.user_id);
  payload += '}';

  std::string token(kHeaderSegment);
  token += '.';
  token += util::base64url_encode(payload);
  const Mac mac = hmac_sha256(key_id_, secret_, token);
  token += '.';
  token += util::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return token;
}

VerifiedToken JwtCodec::verify(std::string_view token, TokenType expected,
                               std::int64_t now_unix) const noexcept {
  VerifiedToken result{
      .claims = {.type = expected, .user_id = 0, .jti = {}, .issued_at = 0, .expires_at = 0},
      .error = TokenError::kMalformed};
  try {
    // Refuse oversized input before spending anything on it.
    if (token.size() > kMaxTokenBytes) return result;

    const std::size_t first_dot = token.find('.');
    if (first_dot == std::string_view::npos) return result;
    const std::size_t second_dot = token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos) return result;
    if (token.find('.', second_dot + 1) != std::string_view::npos) return result;
    const std::string_view header = token.substr(0, first_dot);
    const std::string_view payload = token.substr(first_dot + 1, second_dot - first_dot - 1);
    const std::string_view signature = token.substr(second_dot + 1);
    if (header.empty() || payload.empty()) return result;

    VerifiedSlot* slot = token.size() <= kMaxCachedToken ? &verified_slot(token) : nullptr;
    if (slot != nullptr && same_token(*slot, key_id_, token)) {
      result.error = recheck(*slot, expected, now_unix, leeway_seconds_);
      if (result.ok()) result.claims = slot->claims;
      return result;
    }

    // Both JSON documents together are smaller than the token, so they usually fit on the stack.
    unsigned char buffer[kMaxTokenBytes];
    json::monotonic_resource arena(buffer, sizeof(buffer));
    const json::storage_ptr storage(&arena);

    // The header comes first so that "alg":"none" with an empty signature is reported as such.
    if (const TokenError error = check_header(header, storage); error != TokenError::kNone) {
      result.error = error;
      return result;
    }
    if (signature.empty()) return result;
    const std::optional<std::string> given = util::base64url_decode(signature);
    if (!given) return result;
    if (given->size() != kSignatureBytes) {
      result.error = TokenError::kBadSignature;
      return result;
    }
    const Mac expected_mac = hmac_sha256(key_id_, secret_, token.substr(0, second_dot));
    if (CRYPTO_memcmp(given->data(), expected_mac.data(), kSignatureBytes) != 0) {
      result.error = TokenError::kBadSignature;
      return result;
    }

    std::optional<std::int64_t> not_before;
    read_claims(payload, expected, now_unix, leeway_seconds_, storage, result, not_before);
    if (result.ok() && slot != nullptr) {
      slot->key_id = 0;  // a half-written slot never matches, should an allocation throw
      slot->token.assign(token);
      slot->claims = result.claims;
      slot->not_before = not_before;
      slot->key_id = key_id_;
    }
    return result;
  } catch (...) {
    // Only std::bad_alloc or an OpenSSL failure can land here; either way the token is refused.
    result.error = TokenError::kMalformed;
    return result;
  }
}

std::string new_jti() {
  ensure_sodium();
  std::array<unsigned char, 16> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::array<char, bytes.size() * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  return std::string(hex.data(), bytes.size() * 2);
}

}  // namespace almanac::auth
