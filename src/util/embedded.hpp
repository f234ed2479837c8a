#pragma once

#include <string>
#include <string_view>
#include <vector>

// Files compiled into the binary by cmake/embed.cmake.
namespace almanac::embedded {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// The SQLite migrations in ascending version order (migrations/sqlite/NNNN_name.sql).
const std::vector<Migration>& sqlite_migrations();

// The PostgreSQL migrations in ascending version order (migrations/postgres/NNNN_name.sql).
const std::vector<Migration>& postgres_migrations();

// docs/openapi.yaml, served at GET /api/schema/.
std::string_view openapi_yaml();

struct File {
  std::string_view name;  // the file name without its directory, e.g. "swagger-ui.css"
  std::string_view content;
};

// The files of the interactive API documentation served under /api/docs/: our page and
// initialiser (docs/swagger-ui/) and the vendored Swagger UI (third_party/swagger-ui-dist/).
const std::vector<File>& docs_files();

}  // namespace almanac::embedded
