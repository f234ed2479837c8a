#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "domain/user.hpp"
#include "store/store.hpp"
#include "util/rate_limiter.hpp"
#include "util/worker_pool.hpp"

namespace almanac::service {

struct TokenPair {
  std::string refresh;
  std::string access;
  domain::User user;
};

struct AuthSettings {
  std::chrono::seconds access_lifetime{15 * 60};
  std::chrono::seconds refresh_lifetime{7 * 24 * 3600};
  // How long authenticate() may answer from its per-thread cache of users instead of reading
  // the user again: a user disabled in the database is refused at most this much later (their
  // access token stays valid for its whole lifetime anyway). 0 reads the user every time.
  std::chrono::seconds user_cache_ttl{1};
  // Failed logins allowed per account; null: unlimited (--rate-limits off). Not owned.
  util::RateLimiter* login_failures = nullptr;
};

// Registration, login, token refresh and logout, and the Bearer check every authenticated
// request goes through. Passwords are hashed on `hash_pool`, never on an I/O thread.
class AuthService {
 public:
  using Clock = std::function<std::int64_t()>;  // Unix seconds

  AuthService(store::Store& store, const auth::JwtCodec& jwt, const auth::PasswordHasher& hasher,
              util::WorkerPool& hash_pool, AuthSettings settings, Clock clock);

  // Creates a user and returns its first token pair. Raises kInvalidArgument with fields for a
  // bad username, e-mail or password, and kInvalidArgument "Username already exists" /
  // fields.email when either is taken (regardless of case); kUnavailable when the hashing queue
  // is full.
  boost::asio::awaitable<TokenPair> register_user(const std::string& username,
                                                  const std::string& email,
                                                  const std::string& password);

  // Checks `login` (a username, or an e-mail) and `password`; returns a new token pair. Raises
  // kUnauthenticated "no_active_account" for an unknown user, a wrong password or a disabled
  // account alike, after the same amount of hashing work in each case. With
  // settings.login_failures, an account (the user when `login` names one, else `login` itself,
  // case-insensitively) whose failures used up its quota gets kTooManyRequests "throttled" with
  // Retry-After until the window ends, whatever the password; a successful login does not count.
  boost::asio::awaitable<TokenPair> login(const std::string& login, const std::string& password);

  // Issues a new access token for a valid refresh token. Raises kUnauthenticated
  // "token_not_valid" when the token is malformed, expired, revoked, not a refresh token, or its
  // user no longer exists.
  boost::asio::awaitable<std::string> refresh(std::string_view refresh_token);

  // Revokes a refresh token (durably, before returning). Raises like refresh().
  boost::asio::awaitable<void> logout(const std::string& refresh_token);

  // The active user that a Bearer access token stands for. Raises kUnauthenticated
  // "token_not_valid" for anything wrong with the token or its user. The user is read at most
  // once per settings.user_cache_ttl per I/O thread (no lock, no shared state).
  domain::User authenticate(std::string_view access_token);

 private:
  TokenPair issue_pair(const domain::User& user);
  boost::asio::awaitable<auth::TokenClaims> verify_refresh(std::string_view token,
                                                           domain::User* user);

  store::Store& store_;
  const auth::JwtCodec& jwt_;
  const auth::PasswordHasher& hasher_;
  util::WorkerPool& hash_pool_;
  AuthSettings settings_;
  Clock clock_;
  std::uint64_t instance_;  // keys this service's entries in the per-thread user cache
};

}  // namespace almanac::service
