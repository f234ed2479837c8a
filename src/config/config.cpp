#include "config/config.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>
#include <thread>

namespace almanac::config {
namespace {

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

unsigned default_cores() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

[[noreturn]] void bad_value(std::string_view flag, std::string_view value, std::string_view why) {
  throw ConfigError("invalid value '" + std::string(value) + "' for --" + std::string(flag) + ": " +
                    std::string(why));
}

void set_listen(Config& c, std::string_view flag, const std::string& value) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) bad_value(flag, value, "expected HOST:PORT");
  const auto port = parse_unsigned(std::string_view(value).substr(colon + 1));
  if (!port || *port == 0 || *port > 65535) bad_value(flag, value, "port must be 1-65535");
  std::string host = value.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const bool plausible = std::all_of(host.begin(), host.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == ':' || ch == '-';
  });
  if (!plausible) bad_value(flag, value, "expected HOST:PORT");
  c.listen_host = host;
  c.listen_port = static_cast<std::uint16_t>(*port);
}

void set_database(Config& c, std::string_view flag, const std::string& value) {
  if (value.starts_with("postgresql://") || value.starts_with("postgres://")) {
    const std::string_view rest = std::string_view(value).substr(value.find("//") + 2);
    // Not echoed back: the URL may hold a password.
    if (rest.empty() || rest.front() == '/') {
      throw ConfigError("invalid value for --" + std::string(flag) +
                        ": expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
    }
    c.database = value;
    c.sqlite_path.clear();
    return;
  }
  if (!value.starts_with("sqlite:") || value.size() == 7) {
    bad_value(flag, value, "expected sqlite:PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
  }
  c.database = value;
  c.sqlite_path = value.substr(7);
}

template <typename T>
void set_count(T& target, std::string_view flag, const std::string& value, std::uint64_t min,
               std::uint64_t max) {
  const auto n = parse_unsigned(value);
  if (!n || *n < min || *n > max) {
    bad_value(flag, value,
              "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  target = static_cast<T>(*n);
}

void set_duration(std::chrono::seconds& target, std::string_view flag, const std::string& value) {
  const auto d = parse_duration(value);
  if (!d) bad_value(flag, value, "expected a duration such as 30s, 15m, 1h or 7d");
  target = *d;
}

void set_bytes(std::size_t& target, std::string_view flag, const std::string& value,
               std::size_t min) {
  const auto n = parse_byte_size(value);
  if (!n || *n < min) {
    bad_value(
        flag, value,
        "expected a size of at least " + std::to_string(min) + " bytes, such as 8KiB or 1MiB");
  }
  target = *n;
}

void set_rate_limit(util::RateLimit& target, std::string_view flag, const std::string& value) {
  const auto limit = parse_rate_limit(value);
  if (!limit) bad_value(flag, value, "expected COUNT/DURATION such as 5/1m or 20/1h");
  target = *limit;
}

void set_trusted_proxies(Config& c, std::string_view flag, const std::string& value) {
  std::vector<util::IpNetwork> networks;
  std::string_view rest = value;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    const auto network = util::IpNetwork::parse(item);
    if (!network) {
      // Appended piecewise: GCC 12 at -O2 misreads "'" + std::string(...) as overlapping copies.
      std::string why = "not an IP address or CIDR network (such as 10.0.0.1 or 10.0.0.0/8): ";
      why.append(item);
      bad_value(flag, value, why);
    }
    networks.push_back(*network);
  }
  c.trusted_proxies = std::move(networks);
}

struct Option {
  std::string_view name;
  std::string_view help;
  std::function<void(Config&, std::string_view, const std::string&)> apply;
};

const std::vector<Option>& options() {
  static const std::vector<Option> kOptions = {
      {"listen", "HOST:PORT to listen on (127.0.0.1:8000)", set_listen},
      {"database",
       "sqlite:PATH or postgresql://USER:PASSWORD@HOST:PORT/DB (sqlite:data/almanac.db)",
       set_database},
      {"database-pool", "PostgreSQL connections per instance, half of them for writes (8)",
       [](Config& c, auto f, const auto& v) { set_count(c.database_pool, f, v, 2, 1000); }},
      {"database-reads",
       "PostgreSQL reads: pool (on the reader connections' threads, the request waiting) | inline "
       "(on the I/O thread) (pool)",
       [](Config& c, auto f, const auto& v) {
         if (v == "inline")
           c.database_read_pool = false;
         else if (v == "pool")
           c.database_read_pool = true;
         else
           bad_value(f, v, "expected inline or pool");
       }},
      {"threads", "I/O threads (number of cores)",
       [](Config& c, auto f, const auto& v) { set_count(c.threads, f, v, 1, 256); }},
      {"log-format", "text | json (text)",
       [](Config& c, auto f, const auto& v) {
         if (v == "text")
           c.log_format = util::LogFormat::kText;
         else if (v == "json")
           c.log_format = util::LogFormat::kJson;
         else
           bad_value(f, v, "expected text or json");
       }},
      {"log-level", "debug | info | warn | error (info)",
       [](Config& c, auto f, const auto& v) {
         if (v == "debug")
           c.log_level = util::LogLevel::kDebug;
         else if (v == "info")
           c.log_level = util::LogLevel::kInfo;
         else if (v == "warn")
           c.log_level = util::LogLevel::kWarn;
         else if (v == "error")
           c.log_level = util::LogLevel::kError;
         else
           bad_value(f, v, "expected debug, info, warn or error");
       }},
      {"jwt-secret",
       "HS256 key, at least 32 bytes (SQLite: generated and kept in the data directory; "
       "PostgreSQL: required)",
       [](Config& c, auto f, const auto& v) {
         if (v.size() < 32) {
           throw ConfigError("--" + std::string(f) + " must be at least 32 bytes long (got " +
                             std::to_string(v.size()) + ")");
         }
         c.jwt_secret = v;
       }},
      {"access-token-lifetime", "lifetime of access tokens (15m)",
       [](Config& c, auto f, const auto& v) { set_duration(c.access_token_lifetime, f, v); }},
      {"refresh-token-lifetime", "lifetime of refresh tokens (7d)",
       [](Config& c, auto f, const auto& v) { set_duration(c.refresh_token_lifetime, f, v); }},
      {"max-header-bytes", "largest request header block, else 431 (8KiB)",
       [](Config& c, auto f, const auto& v) { set_bytes(c.max_header_bytes, f, v, 1024); }},
      {"max-body-bytes", "largest request body, else 413 (1MiB)",
       [](Config& c, auto f, const auto& v) { set_bytes(c.max_body_bytes, f, v, 1024); }},
      {"header-timeout", "time allowed to send a request's headers (10s)",
       [](Config& c, auto f, const auto& v) { set_duration(c.header_timeout, f, v); }},
      {"body-timeout", "time allowed to send a request's body (30s)",
       [](Config& c, auto f, const auto& v) { set_duration(c.body_timeout, f, v); }},
      {"idle-timeout", "how long an idle keep-alive connection stays open (60s)",
       [](Config& c, auto f, const auto& v) { set_duration(c.idle_timeout, f, v); }},
      {"shutdown-grace", "how long in-flight requests may take on SIGTERM (30s)",
       [](Config& c, auto f, const auto& v) { set_duration(c.shutdown_grace, f, v); }},
      {"hash-threads", "password hashing threads (number of cores)",
       [](Config& c, auto f, const auto& v) { set_count(c.hash_threads, f, v, 1, 64); }},
      {"hash-threads-busy",
       "hashes run at once while other requests arrive, leaving the other cores to them "
       "(hash-threads - 1, at least 1)",
       [](Config& c, auto f, const auto& v) {
         unsigned n = 0;
         set_count(n, f, v, 1, 64);
         c.hash_threads_busy = n;
       }},
      {"hash-queue", "password hashes allowed to wait before logins get 503 (64)",
       [](Config& c, auto f, const auto& v) { set_count(c.hash_queue, f, v, 1, 100000); }},
      {"hash-priority", "idle (SCHED_IDLE) | low (nice 19): the hashing threads' priority (idle)",
       [](Config& c, auto f, const auto& v) {
         if (v == "idle")
           c.hash_priority = HashPriority::kIdle;
         else if (v == "low")
           c.hash_priority = HashPriority::kLow;
         else
           bad_value(f, v, "expected idle or low");
       }},
      {"argon2-iterations", "argon2id time cost, at least 2 (2)",
       [](Config& c, auto f, const auto& v) { set_count(c.argon2_iterations, f, v, 2, 100); }},
      {"argon2-memory", "argon2id memory cost, at least 19MiB (19MiB)",
       [](Config& c, auto f, const auto& v) {
         set_bytes(c.argon2_memory_bytes, f, v, std::size_t{19} * 1024 * 1024);
       }},
      {"max-batch", "most events in one batch create, else 413 (1000)",
       [](Config& c, auto f, const auto& v) { set_count(c.max_batch, f, v, 1, 100000); }},
      {"rate-limits", "on | off: all the rate limits below (on)",
       [](Config& c, auto f, const auto& v) {
         if (v == "on")
           c.rate_limits = true;
         else if (v == "off")
           c.rate_limits = false;
         else
           bad_value(f, v, "expected on or off");
       }},
      {"rate-limit-login-account", "failed logins per account, COUNT/DURATION (5/1m)",
       [](Config& c, auto f, const auto& v) { set_rate_limit(c.login_account_limit, f, v); }},
      {"rate-limit-login-address", "login attempts per client address (30/1m)",
       [](Config& c, auto f, const auto& v) { set_rate_limit(c.login_address_limit, f, v); }},
      {"rate-limit-register-address", "registrations per client address (20/1h)",
       [](Config& c, auto f, const auto& v) { set_rate_limit(c.register_address_limit, f, v); }},
      {"rate-limit-user", "authenticated requests per user (600/1m)",
       [](Config& c, auto f, const auto& v) { set_rate_limit(c.user_limit, f, v); }},
      {"rate-limit-max-keys", "accounts, addresses or users tracked per limit (100000)",
       [](Config& c, auto f, const auto& v) {
         set_count(c.rate_limit_max_keys, f, v, 1, 100000000);
       }},
      {"trusted-proxies", "IPs/CIDRs whose X-Forwarded-For is believed, comma-separated (none)",
       set_trusted_proxies},
      {"metrics", "on | off: GET /metrics, Prometheus text, unauthenticated (on)",
       [](Config& c, auto f, const auto& v) {
         if (v == "on")
           c.metrics = true;
         else if (v == "off")
           c.metrics = false;
         else
           bad_value(f, v, "expected on or off");
       }},
      {"durability", "full (fsync before every acknowledgement) | normal (full)",
       [](Config& c, auto f, const auto& v) {
         if (v == "full")
           c.durability = Durability::kFull;
         else if (v == "normal")
           c.durability = Durability::kNormal;
         else
           bad_value(f, v, "expected full or normal");
       }},
  };
  return kOptions;
}

const Option* find_option(std::string_view name) {
  for (const Option& option : options()) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

std::string env_name(std::string_view flag) {
  std::string name = "ALMANAC_";
  for (const char ch : flag) name += ch == '-' ? '_' : static_cast<char>(std::toupper(ch));
  return name;
}

// `almanac user ACTION ...`: the action and the number of its operands.
void check_user_command(const std::vector<std::string>& args) {
  static constexpr std::string_view kUsage =
      "expected 'user create USERNAME EMAIL', 'user list', 'user disable USERNAME' or "
      "'user enable USERNAME'";
  const std::string action = args.empty() ? std::string() : args[0];
  const std::size_t operands = args.empty() ? 0 : args.size() - 1;
  const bool ok = (action == "create" && operands == 2) || (action == "list" && operands == 0) ||
                  ((action == "disable" || action == "enable") && operands == 1);
  if (!ok) {
    // Appended piecewise (see set_trusted_proxies).
    std::string message = "user";
    if (!action.empty()) message.append(" ").append(action);
    message.append(": ").append(kUsage);
    throw ConfigError(message);
  }
}

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  const char unit = text.back();
  const auto n = parse_unsigned(text.substr(0, text.size() - 1));
  if (!n || *n == 0) return std::nullopt;
  std::uint64_t factor = 0;
  switch (unit) {
    case 's':
      factor = 1;
      break;
    case 'm':
      factor = 60;
      break;
    case 'h':
      factor = 3600;
      break;
    case 'd':
      factor = 86400;
      break;
    default:
      return std::nullopt;
  }
  constexpr std::uint64_t kMaxSeconds = 10ULL * 365 * 86400;  // ten years is plenty
  if (*n > kMaxSeconds / factor) return std::nullopt;
  return std::chrono::seconds(static_cast<std::int64_t>(*n * factor));
}

std::optional<util::RateLimit> parse_rate_limit(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto count = parse_unsigned(text.substr(0, slash));
  const auto window = parse_duration(text.substr(slash + 1));
  constexpr std::uint64_t kMaxCount = 1000000000;
  if (!count || *count == 0 || *count > kMaxCount || !window) return std::nullopt;
  return util::RateLimit{static_cast<std::uint32_t>(*count), *window};
}

std::optional<std::size_t> parse_byte_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const auto n = parse_unsigned(text.substr(0, digits));
  if (!n) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "B")
    factor = 1;
  else if (unit == "K" || unit == "KB" || unit == "KiB")
    factor = 1024;
  else if (unit == "M" || unit == "MB" || unit == "MiB")
    factor = 1024ULL * 1024;
  else if (unit == "G" || unit == "GB" || unit == "GiB")
    factor = 1024ULL * 1024 * 1024;
  else
    return std::nullopt;
  constexpr std::uint64_t kMaxBytes = 1ULL << 40;  // 1 TiB: far above any sane limit
  if (*n > kMaxBytes / factor) return std::nullopt;
  return static_cast<std::size_t>(*n * factor);
}

std::string redacted_database(const std::string& database) {
  const auto scheme = database.find("://");
  if (scheme == std::string::npos) return database;
  const auto at = database.find('@', scheme + 3);
  if (at == std::string::npos) return database;
  const auto colon = database.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return database;
  return database.substr(0, colon + 1) + "***" + database.substr(at);
}

std::string usage() {
  std::string text =
      "Usage: almanac [serve|migrate] [--flag value ...]\n"
      "       almanac user create USERNAME EMAIL | list | disable USERNAME | enable USERNAME\n"
      "       almanac export --format json > backup.json\n\n"
      "  serve    run the API server (default)\n"
      "  migrate  bring the database schema up to date and exit\n"
      "  user     manage accounts directly in the database (create reads the password from\n"
      "           stdin; a disabled user can neither log in nor use their tokens)\n"
      "  export   write every event with its whole history as JSON to stdout\n\n"
      "Flags (each also read from the environment as ALMANAC_<FLAG>, flags win):\n";
  for (const Option& option : options()) {
    std::string line = "  --" + std::string(option.name);
    line.resize(std::max<std::size_t>(line.size() + 1, 33), ' ');
    text += line + std::string(option.help) + "\n";
  }
  return text;
}

Config load_config(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env) {
  Config config;
  config.threads = default_cores();
  config.hash_threads = default_cores();

  // Environment first, so that flags applied afterwards win.
  for (const Option& option : options()) {
    const auto it = env.find(env_name(option.name));
    if (it == env.end()) continue;
    try {
      option.apply(config, option.name, it->second);
    } catch (const ConfigError& e) {
      throw ConfigError(std::string(e.what()) + " (from the environment variable " + it->first +
                        ")");
    }
  }

  std::size_t i = 0;
  if (i < args.size() && !args[i].starts_with("-")) {
    if (args[i] != "serve" && args[i] != "migrate" && args[i] != "user" && args[i] != "export") {
      throw ConfigError("unknown command '" + args[i] +
                        "' (expected serve, migrate, user or export)");
    }
    config.command = args[i++];
  }
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--")) {
      if (config.command != "user") throw ConfigError("unexpected argument '" + arg + "'");
      config.command_args.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (config.command == "export" && name == "format") {
      if (!value) {
        if (i + 1 >= args.size()) throw ConfigError("--format needs a value");
        value = args[++i];
      }
      if (*value != "json") bad_value(name, *value, "expected json");
      config.export_format = *value;
      continue;
    }
    const Option* option = find_option(name);
    if (option == nullptr) throw ConfigError("unknown flag '--" + name + "' (see --help)");
    if (!value) {
      if (i + 1 >= args.size()) throw ConfigError("--" + name + " needs a value");
      value = args[++i];
    }
    option->apply(config, name, *value);
  }
  if (config.command == "user") check_user_command(config.command_args);
  if (config.hash_threads_busy && *config.hash_threads_busy > config.hash_threads) {
    throw ConfigError("--hash-threads-busy " + std::to_string(*config.hash_threads_busy) +
                      " is more than --hash-threads " + std::to_string(config.hash_threads));
  }
  // A secret generated and kept in each instance's data directory would differ from instance to
  // instance: tokens issued by one would be refused by the others sharing the database.
  if (config.command == "serve" && config.sqlite_path.empty() && !config.jwt_secret) {
    throw ConfigError(
        "--jwt-secret (or ALMANAC_JWT_SECRET) is required with a PostgreSQL database: every "
        "instance sharing it must sign tokens with the same key");
  }
  return config;
}

}  // namespace almanac::config
