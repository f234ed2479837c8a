// Fuzz target: token verification (auth/jwt.cpp). verify() takes any bytes without crashing; a
// token it accepts must carry sane claims, and only a token signed with the key is accepted: the
// fuzzer cannot forge HMAC-SHA256, so an accepted input must be one of the seeds it started from
// (made by fuzz/make_corpus.py with the key below) or differ from one only where verify() does
// not look.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/jwt.hpp"

namespace {

using almanac::auth::JwtCodec;
using almanac::auth::TokenType;

// The fixed key and clock of the fuzz targets (fuzz/make_corpus.py signs the seeds with them).
constexpr std::string_view kSecret = "almanac-fuzz-secret-not-for-production-use";
constexpr std::int64_t kNow = 1767225600;  // 2026-01-01 00:00:00 UTC

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const JwtCodec codec{std::string(kSecret)};
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  for (const TokenType type : {TokenType::kAccess, TokenType::kRefresh}) {
    const auto verified = codec.verify(token, type, kNow);
    if (!verified.ok()) {
      if (almanac::auth::to_string(verified.error) == nullptr) std::abort();
      continue;
    }
    const auto& claims = verified.claims;
    if (claims.type != type || claims.user_id <= 0 || claims.jti.empty() ||
        claims.jti.size() > JwtCodec::kMaxJtiBytes || size > JwtCodec::kMaxTokenBytes) {
      std::abort();
    }
    // What verify accepts, sign reproduces with the same claims, and that verifies too.
    if (!codec.verify(codec.sign(claims), type, kNow).ok()) std::abort();
  }
  return 0;
}
