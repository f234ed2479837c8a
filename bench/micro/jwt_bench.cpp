// Micro-benchmarks of the JWT codec: verify runs on every authenticated request, sign on every
// login and refresh.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "auth/jwt.hpp"

namespace almanac::auth {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

const JwtCodec& codec() {
  static const JwtCodec instance(std::string("almanac-benchmark-secret-0123456789abcdef"));
  return instance;
}

TokenClaims access_claims() {
  return {.type = TokenType::kAccess,
          .user_id = 42,
          .jti = "0123456789abcdef0123456789abcdef",
          .issued_at = kNow,
          .expires_at = kNow + 300};
}

// The same token again, as every request of a client carries it: the thread remembers it.
void BM_VerifyValidAccessToken(benchmark::State& state) {
  const std::string token = codec().sign(access_claims());
  for (auto _ : state) {
    VerifiedToken result = codec().verify(token, TokenType::kAccess, kNow);
    benchmark::DoNotOptimize(result);
    if (!result.ok()) state.SkipWithError("token did not verify");
  }
}
BENCHMARK(BM_VerifyValidAccessToken);
BENCHMARK(BM_VerifyValidAccessToken)->Threads(2)->UseRealTime();

// A token seen for the first time: more distinct tokens in turn than a thread remembers, so each
// verification is a whole check (decode, HMAC, JSON), as on a client's first request.
void BM_VerifyFirstSightOfAccessToken(benchmark::State& state) {
  std::vector<std::string> tokens;
  for (std::int64_t user = 1; user <= 4096; ++user) {
    TokenClaims claims = access_claims();
    claims.user_id = user;
    tokens.push_back(codec().sign(claims));
  }
  std::size_t next = 0;
  for (auto _ : state) {
    VerifiedToken result = codec().verify(tokens[next], TokenType::kAccess, kNow);
    next = (next + 1) % tokens.size();
    benchmark::DoNotOptimize(result);
    if (!result.ok()) state.SkipWithError("token did not verify");
  }
}
BENCHMARK(BM_VerifyFirstSightOfAccessToken);

// The cost an attacker can impose per request with a forged signature.
void BM_VerifyBadSignature(benchmark::State& state) {
  std::string token = codec().sign(access_claims());
  token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
  for (auto _ : state) {
    VerifiedToken result = codec().verify(token, TokenType::kAccess, kNow);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_VerifyBadSignature);

// The cost of the cheapest refusal: oversized input is rejected before any work.
void BM_VerifyOversizedJunk(benchmark::State& state) {
  const std::string junk(JwtCodec::kMaxTokenBytes + 1, 'A');
  for (auto _ : state) {
    VerifiedToken result = codec().verify(junk, TokenType::kAccess, kNow);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_VerifyOversizedJunk);

void BM_Sign(benchmark::State& state) {
  const TokenClaims claims = access_claims();
  for (auto _ : state) {
    std::string token = codec().sign(claims);
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_Sign);

}  // namespace
}  // namespace almanac::auth

BENCHMARK_MAIN();
