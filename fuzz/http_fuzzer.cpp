// Fuzz target: raw bytes -> HTTP parser -> router -> authentication -> rate limits -> handlers ->
// services -> SQLite, in one process and without a socket.
//
// The input is what a client would send on one connection: one or more pipelined requests. Each
// is parsed by Beast with the server's limits and run through http::respond(), the function the
// server calls for every request it has read. A 500 is a bug (hostile input must get a 4xx), and
// so is any sanitizer report.
//
// The world is deterministic: a fixed JWT key and a fixed clock, so the tokens in the seed corpus
// (fuzz/make_corpus.py) never expire; and before each input the database is restored to the
// baseline made at start-up (users alice, bob and carol; alice's event 1, shared with bob as an
// editor and edited once), so an input means the same thing whenever it runs.
#include <stdlib.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/rate_limits.hpp"
#include "api/routes.hpp"
#include "api/services.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "http/request.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "service/auth_service.hpp"
#include "service/event_service.hpp"
#include "service/history_service.hpp"
#include "service/sharing_service.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/log.hpp"
#include "util/rate_limiter.hpp"
#include "util/worker_pool.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using almanac::http::Response;
using almanac::http::Status;

// The fixed key and clock of the fuzz targets (fuzz/make_corpus.py signs the seeds with them).
constexpr std::string_view kSecret = "almanac-fuzz-secret-not-for-production-use";
constexpr std::int64_t kNow = 1767225600;  // 2026-01-01 00:00:00 UTC

// The server's defaults (http::ServerOptions).
constexpr std::uint32_t kMaxHeaderBytes = 8 * 1024;
constexpr std::uint64_t kMaxBodyBytes = 1024 * 1024;
// Pipelined requests run per input: enough to create, share, edit and read back.
constexpr int kMaxRequests = 8;

std::int64_t fixed_clock() { return kNow; }

// A directory under TMPDIR, removed at exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "almanac-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

// What lives for the whole run: the store and what the services share. Per input, the services
// are made afresh (their rate limiters hold state), and the database is restored.
struct World {
  TempDir dir;
  almanac::store::sqlite::SqliteStore store{{(dir.path / "almanac.db").string(), false}};
  almanac::auth::JwtCodec jwt{std::string(kSecret)};
  almanac::auth::PasswordHasher hasher;
  almanac::util::WorkerPool hash_pool{1, 64};
  // A second connection to the live database, which the baseline is copied into.
  almanac::store::sqlite::Connection live{(dir.path / "almanac.db").string(), false};
  // The database as it was after the set-up requests.
  std::unique_ptr<almanac::store::sqlite::Connection> baseline;
};

World* g_world = nullptr;

// Everything a request goes through, rebuilt per input so that no state carries over.
struct App {
  almanac::util::RateLimiter login_failures{almanac::util::RateLimit{5, std::chrono::minutes(1)},
                                            1000};
  almanac::api::RateLimits limits{almanac::api::RateLimitSettings{},
                                  [] { return std::chrono::milliseconds(kNow * 1000); }};
  almanac::service::AuthService auth;
  almanac::service::EventService events;
  almanac::service::HistoryService history;
  almanac::service::SharingService sharing;
  almanac::api::Services services;
  almanac::http::Router router;
  almanac::http::App app;

  explicit App(World& world)
      : auth(world.store, world.jwt, world.hasher, world.hash_pool, settings(), fixed_clock),
        events(world.store),
        history(world.store),
        sharing(world.store),
        services{auth, events, history, sharing, world.store} {
    almanac::api::add_routes(router, services);
    app = almanac::api::make_app(router, auth, &limits);
  }

  almanac::service::AuthSettings settings() {
    almanac::service::AuthSettings settings;
    settings.user_cache_ttl = std::chrono::seconds(0);  // the cache would outlive a restore
    settings.login_failures = &login_failures;
    return settings;
  }
};

asio::awaitable<void> serve(const almanac::http::App& app, almanac::http::Request& request,
                            std::optional<Response>& response) {
  response = co_await almanac::http::respond(app, request);
}

// Parses and serves the requests in `input` one after the other, as the server would on one
// connection, until the input ends, a request is malformed or one asks to close. Returns the
// statuses, and aborts on a 500.
void run_connection(const almanac::http::App& app, std::string_view input,
                    std::string* statuses = nullptr) {
  for (int n = 0; n < kMaxRequests && !input.empty(); ++n) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    parser.eager(true);
    beast::error_code ec;
    while (!parser.is_done()) {
      // The client sends nothing after the input: a parser that needs more, or makes no
      // progress, gets the end of the stream.
      const std::size_t used =
          input.empty() ? 0 : parser.put(asio::buffer(input.data(), input.size()), ec);
      input.remove_prefix(used);
      if (ec == bhttp::error::need_more) ec = {};
      if (ec) break;
      if (used == 0) {
        parser.put_eof(ec);
        break;
      }
    }
    if (ec || !parser.is_done()) return;  // the server answers 400/413/431 and closes

    const bool keep_alive = parser.get().keep_alive();
    almanac::http::Request request(parser.release(), "fuzz", "192.0.2.1");
    std::optional<Response> response;
    asio::io_context ioc{1};
    asio::co_spawn(ioc, serve(app, request, response), asio::detached);
    ioc.run();  // returns once the request is answered: store and hash pool post back to it
    if (!response) std::abort();
    if (response->status == Status::internal_server_error) {
      std::fprintf(stderr, "500 for %s %s: %s\n", std::string(request.method_string()).c_str(),
                   std::string(request.path()).c_str(), response->body.c_str());
      std::abort();
    }
    if (statuses != nullptr) *statuses += std::to_string(static_cast<int>(response->status)) + " ";
    if (!keep_alive) return;
  }
}

std::string token(std::int64_t user_id, std::string_view name) {
  return g_world->jwt.sign({almanac::auth::TokenType::kAccess, user_id, "fuzz-" + std::string(name),
                            kNow, kNow + 10LL * 365 * 24 * 3600});
}

std::string request(std::string_view method, std::string_view target, std::string_view bearer,
                    std::string_view body) {
  std::string text =
      std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: fuzz\r\n";
  if (!bearer.empty()) text += "Authorization: Bearer " + std::string(bearer) + "\r\n";
  if (!body.empty()) {
    text +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return text + "\r\n" + std::string(body);
}

// SQLite's count of commits made by other connections to the database of `connection`.
std::int64_t data_version(almanac::store::sqlite::Connection& connection) {
  auto q = connection.prepare("PRAGMA data_version");
  return q->step() ? q->column_int(0) : -1;
}

// Copies database `from` over `to` (SQLite's online backup): the baseline snapshot at start-up,
// and the restore before each input. Other connections see the result at their next transaction.
void copy_database(sqlite3* from, sqlite3* to) {
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (backup == nullptr) std::abort();
  const int step = sqlite3_backup_step(backup, -1);
  if (sqlite3_backup_finish(backup) != SQLITE_OK || step != SQLITE_DONE) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  almanac::util::configure_logging(almanac::util::LogFormat::kText,
                                   almanac::util::LogLevel::kError);
  static World world;
  g_world = &world;
  // The baseline: three users (user ids 1-3 in registration order), alice's event 1 shared with
  // bob as an editor, then edited by bob. The same requests are in the seed corpus.
  App app(world);
  std::string setup;
  for (const char* name : {"alice", "bob", "carol"}) {
    setup += request("POST", "/api/auth/register/", "",
                     std::string(R"({"username":")") + name + R"(","email":")" + name +
                         R"(@example.com","password":"correct horse battery staple"})");
  }
  const std::string alice = token(1, "alice");
  const std::string bob = token(2, "bob");
  setup += request("POST", "/api/events/", alice,
                   R"({"title":"Planning","description":"Quarterly","start_time":)"
                   R"("2026-01-05 09:00","end_time":"2026-01-05 10:00","location":"Room 1"})");
  setup += request("POST", "/api/events/1/share/", alice,
                   R"({"users":[{"user_id":2,"role":"EDITOR"}]})");
  setup += request("PATCH", "/api/events/1/", bob, R"({"title":"Planning, moved"})");
  std::string statuses;
  run_connection(app.app, setup, &statuses);
  if (statuses != "201 201 201 201 200 200 ") {
    std::fprintf(stderr, "fuzz set-up failed: statuses %s\n", statuses.c_str());
    std::abort();
  }
  world.baseline = std::make_unique<almanac::store::sqlite::Connection>(":memory:", false);
  copy_database(world.live.handle(), world.baseline->handle());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& world = *g_world;
  const std::int64_t version = data_version(world.live);
  {
    App app(world);
    run_connection(app.app, std::string_view(reinterpret_cast<const char*>(data), size));
  }
  // Something was committed (by the store's writer): back to the baseline for the next input.
  if (data_version(world.live) != version) {
    copy_database(world.baseline->handle(), world.live.handle());
  }
  return 0;
}
