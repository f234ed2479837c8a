// The routes the server really registers against tests/api/role_matrix.json, the one data file of
// the role matrix (issue 4) that tests/api/test_role_matrix.py sends over HTTP: a route under
// /api/events without a row there (same method, same pattern) fails here, so no event route can be
// added without its rights being stated and tested. The router is built the way main.cpp builds
// it: api::add_routes with real services over a SqliteStore in a temporary directory.
#include <gtest/gtest.h>

#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "api/routes.hpp"
#include "api/services.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "http/router.hpp"
#include "service/auth_service.hpp"
#include "service/event_service.hpp"
#include "service/sharing_service.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"
#include "util/worker_pool.hpp"

namespace almanac::api {
namespace {

namespace fs = std::filesystem;

using Operation = std::pair<std::string, std::string>;  // method, path pattern

constexpr std::string_view kEventRoutes = "/api/events";

// tests/api/role_matrix.json, found from this file's place in the source tree.
// From the source tree's root (not __FILE__, which a compiler cache may make relative).
fs::path matrix_path() { return fs::path(ALMANAC_SOURCE_DIR) / "tests/api/role_matrix.json"; }

// The (method, path) of every row of the matrix file. Fails the test (and returns nothing) when the
// file is missing or is not the expected JSON.
std::set<Operation> matrix_rows() {
  std::set<Operation> rows;
  std::ifstream file(matrix_path());
  EXPECT_TRUE(file.good()) << "cannot read " << matrix_path();
  if (!file.good()) return rows;
  std::stringstream text;
  text << file.rdbuf();
  boost::system::error_code error;
  const boost::json::value matrix = boost::json::parse(text.str(), error);
  EXPECT_FALSE(error) << matrix_path() << " is not JSON: " << error.message();
  if (error || !matrix.is_object() || !matrix.as_object().contains("routes")) {
    ADD_FAILURE() << matrix_path() << " has no \"routes\"";
    return rows;
  }
  for (const boost::json::value& row : matrix.at("routes").as_array()) {
    const boost::json::object& object = row.as_object();
    rows.emplace(std::string(object.at("method").as_string()),
                 std::string(object.at("path").as_string()));
  }
  return rows;
}

// The real router over real services, as main.cpp wires them.
class RealRouter {
 public:
  RealRouter()
      : store_({(dir_.path() / "almanac.sqlite3").string(), /*synchronous_full=*/false}),
        jwt_(std::string(64, 'k')),
        hasher_(auth::PasswordPolicy{}),
        hash_pool_(1, 1),
        auth_(store_, jwt_, hasher_, hash_pool_, service::AuthSettings{},
              [] { return std::int64_t{1'750'000'000}; }),
        events_(store_),
        history_(store_),
        sharing_(store_),
        services_{auth_, events_, history_, sharing_, store_} {
    add_routes(router_, services_);
  }
  ~RealRouter() {
    hash_pool_.stop();
    store_.close();
  }
  RealRouter(const RealRouter&) = delete;
  RealRouter& operator=(const RealRouter&) = delete;

  // The (method, pattern) of every registered route whose pattern starts with /api/events.
  std::set<Operation> event_routes() const {
    std::set<Operation> routes;
    for (const http::Route& route : router_.routes()) {
      if (!route.pattern.starts_with(kEventRoutes)) continue;
      routes.emplace(std::string(boost::beast::http::to_string(route.verb)), route.pattern);
    }
    return routes;
  }

 private:
  test_support::TempDir dir_;
  store::sqlite::SqliteStore store_;
  auth::JwtCodec jwt_;
  auth::PasswordHasher hasher_;
  util::WorkerPool hash_pool_;
  service::AuthService auth_;
  service::EventService events_;
  service::HistoryService history_;
  service::SharingService sharing_;
  Services services_;
  http::Router router_;
};

TEST(RouteMatrix, TheMatrixFileListsRoutes) {
  const std::set<Operation> rows = matrix_rows();
  EXPECT_FALSE(rows.empty()) << matrix_path();
  for (const auto& [method, path] : rows) {
    EXPECT_TRUE(path.starts_with(kEventRoutes)) << method << " " << path;
  }
}

TEST(RouteMatrix, RouterRegistersEventRoutes) {
  const RealRouter router;
  EXPECT_TRUE(router.event_routes().contains(Operation("GET", "/api/events/{id}/")));
}

TEST(RouteMatrix, EveryEventRouteHasARowInTheMatrixFile) {
  const RealRouter router;
  const std::set<Operation> rows = matrix_rows();
  for (const auto& [method, pattern] : router.event_routes()) {
    EXPECT_TRUE(rows.contains(Operation(method, pattern)))
        << method << " " << pattern << " is registered but has no row in " << matrix_path()
        << ": state who may call it (owner, editor, viewer, stranger, no token) there";
  }
}

TEST(RouteMatrix, EveryRowOfTheMatrixFileIsARegisteredRoute) {
  const RealRouter router;
  const std::set<Operation> routes = router.event_routes();
  for (const auto& [method, pattern] : matrix_rows()) {
    EXPECT_TRUE(routes.contains(Operation(method, pattern)))
        << method << " " << pattern << " has a row in " << matrix_path()
        << " but the router registers no such route";
  }
}

}  // namespace
}  // namespace almanac::api
