#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/ip_network.hpp"
#include "util/log.hpp"
#include "util/rate_limiter.hpp"

namespace almanac::config {

enum class Durability { kFull, kNormal };

// How the password-hashing threads are scheduled beside the I/O threads (Linux).
enum class HashPriority { kLow, kIdle };

// Everything Almanac can be told at start-up. Defaults are what `make run` uses.
struct Config {
  std::string command = "serve";  // serve | migrate | user | export
  // The operator commands' operands: for `user`, the action (create | list | disable | enable)
  // then its operands (create USERNAME EMAIL; disable/enable USERNAME).
  std::vector<std::string> command_args;
  std::string export_format = "json";  // `export --format`: json only

  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8000;
  std::string database = "sqlite:data/almanac.db";
  std::string sqlite_path = "data/almanac.db";  // derived from `database`; empty for PostgreSQL
  std::size_t database_pool = 8;                // PostgreSQL connections (readers + writers)
  bool database_read_pool = true;               // --database-reads pool (PostgreSQL)
  unsigned threads = 1;                         // I/O threads; default: number of cores
  util::LogFormat log_format = util::LogFormat::kText;
  util::LogLevel log_level = util::LogLevel::kInfo;

  std::optional<std::string> jwt_secret;  // unset: generated once and kept in the data directory
  std::chrono::seconds access_token_lifetime{15 * 60};
  std::chrono::seconds refresh_token_lifetime{7 * 24 * 3600};

  std::size_t max_header_bytes = std::size_t{8} * 1024;
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds body_timeout{30};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds shutdown_grace{30};

  unsigned hash_threads = 1;  // argon2id workers; default: number of cores
  // Hashes run at once while requests other than logins and registrations arrive (one in the
  // last kBusyWindow); unset: hash_threads - 1, at least 1 (hash_threads_while_busy()).
  std::optional<unsigned> hash_threads_busy;
  static constexpr std::chrono::milliseconds kBusyWindow{50};
  std::size_t hash_queue = 64;
  HashPriority hash_priority = HashPriority::kIdle;  // SCHED_IDLE; kLow: nice 19
  unsigned long long argon2_iterations = 2;
  std::size_t argon2_memory_bytes = std::size_t{19} * 1024 * 1024;

  Durability durability = Durability::kFull;

  std::size_t max_batch = 1000;  // events in one POST /api/events/batch/

  bool metrics = true;  // GET /metrics (unauthenticated, on the API's port)

  // Rate limits (429 beyond them); all off when `rate_limits` is false.
  bool rate_limits = true;
  util::RateLimit login_account_limit{5, std::chrono::minutes(1)};    // failed logins per account
  util::RateLimit login_address_limit{30, std::chrono::minutes(1)};   // logins per client address
  util::RateLimit register_address_limit{20, std::chrono::hours(1)};  // per client address
  util::RateLimit user_limit{600, std::chrono::minutes(1)};  // authenticated requests per user
  std::size_t rate_limit_max_keys = 100000;                  // keys tracked per limit
  // Peers whose X-Forwarded-For is believed (none: the TCP peer is always the client).
  std::vector<util::IpNetwork> trusted_proxies;
};

// Hashes run at once while other requests arrive: hash_threads_busy, or hash_threads - 1 (at
// least 1) when unset.
inline unsigned hash_threads_while_busy(const Config& config) {
  if (config.hash_threads_busy) return *config.hash_threads_busy;
  return config.hash_threads > 1 ? config.hash_threads - 1 : 1;
}

// `database` fit for logs: the password of a PostgreSQL URL replaced by "***".
std::string redacted_database(const std::string& database);

// A bad flag, environment variable or value; main() prints what() and exits with status 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds the configuration from command-line flags over ALMANAC_* environment variables over
// defaults. `args` excludes the program name; `env` maps variable names to values. Every value is
// validated here, once. Throws ConfigError naming the flag and what is wrong with it.
Config load_config(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env);

// Parses a duration such as "30s", "15m", "1h" or "7d" (a positive whole number and one unit).
// Returns nullopt for anything else.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// Parses a rate limit such as "5/1m" or "20/1h": a positive whole number of requests, '/', and a
// duration as parse_duration() reads it. Returns nullopt for anything else.
std::optional<util::RateLimit> parse_rate_limit(std::string_view text);

// Parses a byte size such as "8192", "8KiB", "1MiB" (also K/KB/M/MB, read as binary units).
std::optional<std::size_t> parse_byte_size(std::string_view text);

// The usage text printed by --help.
std::string usage();

}  // namespace almanac::config
