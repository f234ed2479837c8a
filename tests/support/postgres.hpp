#pragma once

#include <stdlib.h>

#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>

#include "store/postgres/pg_db.hpp"

// The PostgreSQL server of the tests: `make test` starts a throwaway cluster (tools/pg-cluster.sh,
// a CTest fixture) and points ALMANAC_TEST_POSTGRES_FILE at the file holding its URL;
// ALMANAC_TEST_POSTGRES may give a URL directly. Neither set: the PostgreSQL tests are skipped.
namespace almanac::test_support {

// The URL of a database on the test server that may create databases, or nullopt when no test
// server is configured. Throws when one is configured but its URL cannot be read (the cluster
// did not start): that must fail the tests, not skip them.
inline std::optional<std::string> test_postgres_url() {
  if (const char* url = ::getenv("ALMANAC_TEST_POSTGRES"); url != nullptr && *url != '\0') {
    return std::string(url);
  }
  const char* file = ::getenv("ALMANAC_TEST_POSTGRES_FILE");
  if (file == nullptr || *file == '\0') return std::nullopt;
  std::ifstream in(file);
  std::string url;
  if (!std::getline(in, url) || url.empty()) {
    throw std::runtime_error(std::string("no PostgreSQL URL in ") + file +
                             " (did the pg_cluster fixture start?)");
  }
  return url;
}

// A fresh, empty database on the test server, dropped with everything in it.
class TempPgDatabase {
 public:
  explicit TempPgDatabase(std::string server_url) : server_url_(std::move(server_url)) {
    std::random_device random;
    name_ = "almanac_test_" + std::to_string(random()) + "_" + std::to_string(random());
    store::postgres::Connection admin(server_url_);
    admin.exec("CREATE DATABASE " + name_);
    const auto slash = server_url_.rfind('/');
    url_ = server_url_.substr(0, slash + 1) + name_;
  }
  ~TempPgDatabase() {
    try {
      store::postgres::Connection admin(server_url_);
      admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
    }
  }
  TempPgDatabase(const TempPgDatabase&) = delete;
  TempPgDatabase& operator=(const TempPgDatabase&) = delete;

  const std::string& url() const { return url_; }

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

}  // namespace almanac::test_support
