// Almanac: read the configuration, open the store, run the server. Nothing else lives here.
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "api/metrics.hpp"
#include "api/routes.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "cli/operator_commands.hpp"
#include "config/config.hpp"
#include "config/secret.hpp"
#include "http/server.hpp"
#include "service/auth_service.hpp"
#include "service/event_service.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/log.hpp"
#include "util/recent_activity.hpp"
#include "util/worker_pool.hpp"

extern char** environ;

#ifdef ALMANAC_WITH_JEMALLOC
// jemalloc's settings, read at its start (CMakeLists.txt says why jemalloc). Memory freed goes back
// to the system within a quarter of a second (dirty pages), purged at once (muzzy), by jemalloc's
// own background thread rather than whenever the next allocation comes; one arena for all threads
// (their thread caches take the small allocations). With jemalloc's defaults a burst of batches
// followed by a login flood peaked at 101 MB RSS (the bound is 100 MB); with these, 62 MB
// (bench/run.py --scenarios event_get,batch_1000,login).
extern "C" {
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): the name jemalloc reads
const char* malloc_conf = "narenas:1,dirty_decay_ms:250,muzzy_decay_ms:0,background_thread:true";
}
#endif

namespace {

using almanac::util::field;
using almanac::util::LogLevel;

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!text.starts_with("ALMANAC_")) continue;
    const auto eq = text.find('=');
    if (eq != std::string_view::npos) env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int serve(const almanac::config::Config& config, almanac::store::Store& store,
          const std::filesystem::path& data_dir, almanac::api::Metrics& metrics) {
  std::string secret;
  if (config.jwt_secret) {
    secret = *config.jwt_secret;
  } else {
    secret = almanac::config::load_or_create_secret(data_dir);
    almanac::util::log(LogLevel::kInfo, "using the JWT secret kept in the data directory",
                       {field("path", (data_dir / "jwt-secret").string())});
  }
  const almanac::auth::JwtCodec jwt(secret);
  const almanac::auth::PasswordHasher hasher(
      {config.argon2_iterations, config.argon2_memory_bytes});
  // Hashing runs at a lower priority than the I/O threads (SCHED_IDLE, or nice 19): a login
  // flood takes the idle CPU, not the latency of every other request. A lowered priority alone
  // still left a waking I/O thread behind a running hash on two cores (GET p99 x3 during a
  // flood, bench/README.md): while other requests keep coming, fewer hashes run at once.
  almanac::util::RecentActivity other_requests;
  const std::size_t hash_threads_busy = almanac::config::hash_threads_while_busy(config);
  almanac::util::WorkerPool hash_pool(
      config.hash_threads, config.hash_queue,
      config.hash_priority == almanac::config::HashPriority::kLow
          ? almanac::util::WorkerPriority::kLow
          : almanac::util::WorkerPriority::kIdle,
      [&other_requests, hash_threads_busy, all = std::size_t{config.hash_threads}] {
        const auto recent =
            almanac::util::RecentActivity::Clock::now() - almanac::config::Config::kBusyWindow;
        return other_requests.since(recent) ? hash_threads_busy : all;
      });
  // Rate limits: absent altogether when off.
  std::optional<almanac::util::RateLimiter> login_failures;
  std::optional<almanac::api::RateLimits> limits;
  if (config.rate_limits) {
    login_failures.emplace(config.login_account_limit, config.rate_limit_max_keys);
    limits.emplace(
        almanac::api::RateLimitSettings{config.login_address_limit, config.register_address_limit,
                                        config.user_limit, config.rate_limit_max_keys,
                                        config.trusted_proxies},
        [] {
          return std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now().time_since_epoch());
        });
  }
  almanac::service::AuthSettings auth_settings{config.access_token_lifetime,
                                               config.refresh_token_lifetime};
  auth_settings.login_failures = login_failures ? &*login_failures : nullptr;
  almanac::service::AuthService auth(store, jwt, hasher, hash_pool, auth_settings, unix_now);
  almanac::service::EventService events(store, config.max_batch);
  almanac::service::HistoryService history(store);
  almanac::service::SharingService sharing(store);
  almanac::api::Services services{auth,    events, history,
                                  sharing, store,  config.metrics ? &metrics : nullptr};
  almanac::http::Router router;
  almanac::api::add_routes(router, services);
  metrics.set_routes(router);
  metrics.set_sources(
      {&hash_pool, limits ? &*limits : nullptr, login_failures ? &*login_failures : nullptr});

  almanac::http::Server server(
      {config.listen_host, config.listen_port, config.threads, config.max_header_bytes,
       config.max_body_bytes, config.header_timeout, config.body_timeout, config.idle_timeout,
       config.shutdown_grace, config.metrics ? &metrics : nullptr,
       [&store] { store.on_thread_idle(); }, [&store] { store.on_request_done(); }},
      almanac::api::make_app(router, auth, limits ? &*limits : nullptr, &other_requests));
  try {
    server.listen();
  } catch (const std::system_error& e) {
    almanac::util::log(
        LogLevel::kError, "cannot listen",
        {field("address", config.listen_host + ":" + std::to_string(config.listen_port)),
         field("error", e.what())});
    return 1;
  }
  almanac::util::log(LogLevel::kInfo, "listening",
                     {field("address", config.listen_host), field("port", server.port()),
                      field("pid", static_cast<long>(::getpid())), field("threads", config.threads),
                      field("database", almanac::config::redacted_database(config.database)),
                      field("rate_limits", config.rate_limits ? "on" : "off"),
                      field("metrics", config.metrics ? "on" : "off")});
  server.run(/*handle_signals=*/true);
  hash_pool.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::cout << almanac::config::usage();
      return 0;
    }
  }
  almanac::config::Config config;
  try {
    config = almanac::config::load_config(args, environment());
  } catch (const almanac::config::ConfigError& e) {
    std::cerr << "almanac: " << e.what() << "\n";
    return 2;
  }
  almanac::util::configure_logging(config.log_format, config.log_level);

  try {
    // The data directory keeps the generated JWT secret and SQLite's file. On PostgreSQL `serve`
    // requires --jwt-secret (load_config): instances sharing the database share the secret.
    const bool postgres = config.sqlite_path.empty();
    std::filesystem::path data_dir = postgres
                                         ? std::filesystem::path("data")
                                         : std::filesystem::path(config.sqlite_path).parent_path();
    if (data_dir.empty()) data_dir = ".";
    if (!postgres) std::filesystem::create_directories(data_dir);
    // Declared before the store, which reports its commits into it until it is closed.
    almanac::api::Metrics metrics;
    std::unique_ptr<almanac::store::Store> store;
    int schema_version = 0;
    if (postgres) {
      almanac::store::postgres::PgOptions options{config.database, config.database_pool};
      options.read_pool = config.database_read_pool;
      if (config.command == "serve" && config.metrics) options.observer = &metrics;
      auto pg = std::make_unique<almanac::store::postgres::PgStore>(options);
      if (config.command != "serve") schema_version = pg->schema_version();
      store = std::move(pg);
    } else {
      almanac::store::sqlite::SqliteOptions options{
          config.sqlite_path, config.durability == almanac::config::Durability::kFull};
      if (config.command == "serve" && config.metrics) options.observer = &metrics;
      auto lite = std::make_unique<almanac::store::sqlite::SqliteStore>(options);
      if (config.command != "serve") schema_version = lite->schema_version();
      store = std::move(lite);
    }
    if (config.command == "user") {
      const almanac::auth::PasswordHasher hasher(
          {config.argon2_iterations, config.argon2_memory_bytes});
      return almanac::cli::user_command(config.command_args, *store, hasher, std::cin, std::cout,
                                        std::cerr);
    }
    if (config.command == "export") {
      return almanac::cli::export_json(*store, schema_version, std::cout, std::cerr,
                                       ::isatty(STDERR_FILENO) == 1);
    }
    if (config.command == "migrate") {
      almanac::util::log(LogLevel::kInfo, "database is up to date",
                         {field("database", almanac::config::redacted_database(config.database)),
                          field("schema_version", schema_version)});
      return 0;
    }
    const int status = serve(config, *store, data_dir, metrics);
    store->close();
    almanac::util::log(LogLevel::kInfo, "stopped");
    return status;
  } catch (const almanac::config::ConfigError& e) {
    std::cerr << "almanac: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    almanac::util::log(LogLevel::kError, "fatal", {field("error", e.what())});
    return 1;
  }
}
