#include "service/auth_service.hpp"

#include <atomic>
#include <cctype>
#include <optional>
#include <unordered_map>

#include "service/async.hpp"
#include "service/throttle.hpp"

namespace almanac::service {

using domain::Error;
using domain::ErrorCode;

namespace {

Error invalid_refresh() {
  return Error(ErrorCode::kUnauthenticated, "Token is invalid or expired", "token_not_valid");
}

Error invalid_bearer() {
  return Error(ErrorCode::kUnauthenticated, "Given token not valid for any token type",
               "token_not_valid");
}

Error no_active_account() {
  return Error(ErrorCode::kUnauthenticated, "No active account found with the given credentials",
               "no_active_account");
}

// The key of the account a login names: the user when one matches (so that its username and its
// e-mail share one quota), else the login text itself, case-insensitively.
std::string account_key(const std::string& login,
                        const std::optional<domain::UserCredentials>& found) {
  if (found) return "user:" + std::to_string(found->user.id);
  std::string key = "name:";
  for (const char ch : login)
    key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return key;
}

// The users authenticate() read recently on this thread, of one AuthService at a time.
struct UserCache {
  struct Entry {
    domain::User user;
    std::int64_t read_at = 0;  // Unix seconds
  };
  static constexpr std::size_t kMaxEntries = 4096;
  std::uint64_t instance = 0;
  std::unordered_map<domain::UserId, Entry> entries;
};
thread_local UserCache t_user_cache;
std::atomic<std::uint64_t> g_next_instance{1};

}  // namespace

AuthService::AuthService(store::Store& store, const auth::JwtCodec& jwt,
                         const auth::PasswordHasher& hasher, util::WorkerPool& hash_pool,
                         AuthSettings settings, Clock clock)
    : store_(store),
      jwt_(jwt),
      hasher_(hasher),
      hash_pool_(hash_pool),
      settings_(settings),
      clock_(std::move(clock)),
      instance_(g_next_instance.fetch_add(1)) {}

TokenPair AuthService::issue_pair(const domain::User& user) {
  const std::int64_t now = clock_();
  TokenPair pair;
  pair.refresh = jwt_.sign({auth::TokenType::kRefresh, user.id, auth::new_jti(), now,
                            now + settings_.refresh_lifetime.count()});
  pair.access = jwt_.sign({auth::TokenType::kAccess, user.id, auth::new_jti(), now,
                           now + settings_.access_lifetime.count()});
  pair.user = user;
  return pair;
}

boost::asio::awaitable<TokenPair> AuthService::register_user(const std::string& username,
                                                             const std::string& email,
                                                             const std::string& password) {
  domain::throw_if_invalid(domain::validate_registration(username, email, password));
  // Refuse a taken name before paying for a hash; the unique index still settles races.
  bool username_taken = false;
  bool email_taken = false;
  std::function<void(store::StoreReader&)> work = [&](store::StoreReader& reader) {
    username_taken = reader.username_exists(username);
    email_taken = !username_taken && reader.email_exists(email);
  };
  co_await read(store_, std::move(work));
  const auto taken = [](bool username) {
    return username ? Error(ErrorCode::kInvalidArgument, "Username already exists",
                            "username_taken", {{"username", {"Username already exists"}}})
                    : Error(ErrorCode::kInvalidArgument, "Email already exists", "email_taken",
                            {{"email", {"Email already exists"}}});
  };
  if (username_taken || email_taken) throw taken(username_taken);

  std::function<std::string()> hash_job = [this, password] { return hasher_.hash(password); };
  std::string hash = co_await offload(hash_pool_, std::move(hash_job));
  std::function<domain::User(store::StoreWriter&)> insert =
      [new_user = domain::NewUser{username, email, std::move(hash)}](store::StoreWriter& writer) {
        return writer.insert_user(new_user);
      };
  domain::User user;
  try {
    user = co_await write(store_, std::move(insert));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kConflict) throw;
    username_taken = e.reason() == "username_taken";
  }
  if (user.id == 0) throw taken(username_taken);
  co_return issue_pair(user);
}

boost::asio::awaitable<TokenPair> AuthService::login(const std::string& login,
                                                     const std::string& password) {
  std::optional<domain::UserCredentials> found;
  std::function<void(store::StoreReader&)> work = [&](store::StoreReader& reader) {
    found = reader.find_credentials(login);
  };
  co_await read(store_, std::move(work));

  // Every attempt counts against the account's quota before any hashing; a success is refunded,
  // so only failures use it up, and concurrent attempts cannot overshoot it.
  util::RateLimiter* const failures = settings_.login_failures;
  const std::string key = failures != nullptr ? account_key(login, found) : std::string();
  const util::RateLimiter::Time now{clock_() * 1000};
  if (failures != nullptr) {
    const util::RateDecision decision = failures->hit(key, now);
    if (!decision.allowed) {
      throw throttled(decision, failures->limit(),
                      "Too many failed login attempts for this account; try again later.");
    }
  }

  // Unknown users are checked against a dummy hash: the same work, so the same time.
  const std::string stored = found ? found->password_hash : hasher_.dummy_hash();
  struct Outcome {
    bool valid;
    std::optional<std::string> rehash;
  };
  std::function<Outcome()> verify_job = [this, stored, password]() {
    Outcome result{hasher_.verify(stored, password), std::nullopt};
    if (result.valid && hasher_.needs_rehash(stored)) result.rehash = hasher_.hash(password);
    return result;
  };
  std::optional<Outcome> verified;
  try {
    verified = co_await offload(hash_pool_, std::move(verify_job));
  } catch (...) {
    if (failures != nullptr) failures->refund(key, now);  // not checked (e.g. 503): no failure
    throw;
  }
  const Outcome outcome = *verified;
  if (!found || !outcome.valid || !found->user.is_active) throw no_active_account();
  if (failures != nullptr) failures->refund(key, now);

  if (outcome.rehash) {
    std::function<void(store::StoreWriter&)> rehash =
        [id = found->user.id, hash = *outcome.rehash](store::StoreWriter& writer) {
          writer.set_password_hash(id, hash);
        };
    co_await write(store_, std::move(rehash));
  }
  co_return issue_pair(found->user);
}

boost::asio::awaitable<auth::TokenClaims> AuthService::verify_refresh(std::string_view token,
                                                                      domain::User* user) {
  const auth::VerifiedToken verified = jwt_.verify(token, auth::TokenType::kRefresh, clock_());
  if (!verified.ok()) throw invalid_refresh();
  bool revoked = false;
  std::optional<domain::User> owner;
  std::function<void(store::StoreReader&)> work = [&](store::StoreReader& reader) {
    revoked = reader.is_token_revoked(verified.claims.jti);
    if (!revoked) owner = reader.find_user(verified.claims.user_id);
  };
  co_await read(store_, std::move(work));
  if (revoked || !owner || !owner->is_active) throw invalid_refresh();
  if (user != nullptr) *user = *owner;
  co_return verified.claims;
}

boost::asio::awaitable<std::string> AuthService::refresh(std::string_view refresh_token) {
  domain::User user;
  co_await verify_refresh(refresh_token, &user);
  const std::int64_t now = clock_();
  co_return jwt_.sign({auth::TokenType::kAccess, user.id, auth::new_jti(), now,
                       now + settings_.access_lifetime.count()});
}

boost::asio::awaitable<void> AuthService::logout(const std::string& refresh_token) {
  const auth::TokenClaims claims = co_await verify_refresh(refresh_token, nullptr);
  std::function<bool(store::StoreWriter&)> revoke = [claims](store::StoreWriter& writer) {
    return writer.revoke_token(claims.jti, claims.user_id, claims.expires_at);
  };
  const bool revoked_now = co_await write(store_, std::move(revoke));
  // Two logouts racing with the same token: only the first one succeeds.
  if (!revoked_now) throw invalid_refresh();
}

domain::User AuthService::authenticate(std::string_view access_token) {
  const auth::VerifiedToken verified =
      jwt_.verify(access_token, auth::TokenType::kAccess, clock_());
  if (!verified.ok()) throw invalid_bearer();
  const std::int64_t now = clock_();
  UserCache& cache = t_user_cache;
  if (cache.instance != instance_) {
    cache.entries.clear();
    cache.instance = instance_;
  }
  const domain::UserId id = verified.claims.user_id;
  if (const auto found = cache.entries.find(id); found != cache.entries.end()) {
    if (now - found->second.read_at < settings_.user_cache_ttl.count()) return found->second.user;
    cache.entries.erase(found);
  }
  std::optional<domain::User> user;
  store_.read([&](store::StoreReader& reader) { user = reader.find_user(id); });
  if (!user || !user->is_active) throw invalid_bearer();
  if (settings_.user_cache_ttl.count() > 0) {
    if (cache.entries.size() >= UserCache::kMaxEntries) cache.entries.clear();
    cache.entries.insert_or_assign(id, UserCache::Entry{*user, now});
  }
  return *user;
}

}  // namespace almanac::service
