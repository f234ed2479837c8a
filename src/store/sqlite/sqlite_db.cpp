#include "store/sqlite/sqlite_db.hpp"

namespace almanac::store::sqlite {
namespace {

// Once per process, before SQLite initialises itself (the first open does): no memory statistics.
// They take a process-wide mutex around every allocation SQLite makes, and Debian builds SQLite
// without its per-connection lookaside, so each step that reads a text column allocates: the I/O
// threads met on that lock at every read. Almanac never asks for the statistics. If SQLite was
// initialised before (another library, a test), the call fails and the default stays.
void configure_sqlite_once() {
  static const int kConfigured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)kConfigured;
}

}  // namespace

void check(sqlite3* db, int code) {
  if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE) return;
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : code;
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  throw SqliteError(extended, std::string("sqlite: ") + message);
}

Statement::Statement(sqlite3* db, std::string_view sql)
    : db_(db), stmt_(nullptr, sqlite3_finalize) {
  sqlite3_stmt* raw = nullptr;
  check(db, sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                               SQLITE_PREPARE_PERSISTENT, &raw, nullptr));
  stmt_.reset(raw);
}

Statement& Statement::bind(int index, std::int64_t value) {
  check(db_, sqlite3_bind_int64(stmt_.get(), index, value));
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  check(db_, sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8));
  return *this;
}

Statement& Statement::bind_null(int index) {
  check(db_, sqlite3_bind_null(stmt_.get(), index));
  return *this;
}

namespace {
int parameter_index(sqlite3_stmt* stmt, const char* name) {
  const int index = sqlite3_bind_parameter_index(stmt, name);
  if (index == 0) throw SqliteError(SQLITE_RANGE, std::string("sqlite: no parameter ") + name);
  return index;
}
}  // namespace

Statement& Statement::bind(const char* name, std::int64_t value) {
  return bind(parameter_index(stmt_.get(), name), value);
}

Statement& Statement::bind(const char* name, std::string_view value) {
  return bind(parameter_index(stmt_.get(), name), value);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  check(db_, rc);
  return false;
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() noexcept {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::int64_t Statement::column_int(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}

std::string Statement::column_text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column)));
}

bool Statement::column_is_null(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

Connection::Connection(const std::string& path, bool synchronous_full)
    : db_(nullptr, sqlite3_close_v2) {
  configure_sqlite_once();
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(raw);
  check(raw, rc);
  sqlite3_extended_result_codes(raw, 1);
  // busy_timeout: readers never block in WAL, but a checkpoint or a second process may.
  // cache_size: bounded per connection (4 MiB) so memory does not grow with threads.
  exec(
      "PRAGMA busy_timeout = 5000;"
      "PRAGMA foreign_keys = ON;"
      "PRAGMA cache_size = -4096;"
      "PRAGMA temp_store = MEMORY;");
  exec(synchronous_full ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;");
}

void Connection::exec(std::string_view sql) {
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    const std::string message = error != nullptr ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    throw SqliteError(sqlite3_extended_errcode(db_.get()), "sqlite: " + message);
  }
}

void Connection::run(std::string_view sql) { prepare(sql)->run(); }

Connection::Use Connection::prepare(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    it = statements_.emplace(sql, std::make_unique<Statement>(db_.get(), sql)).first;
  }
  return Use(*it->second);
}

Connection::Use Connection::prepare_dynamic(const std::string& sql) {
  auto it = dynamic_statements_.find(sql);
  if (it == dynamic_statements_.end()) {
    auto statement = std::make_unique<Statement>(db_.get(), sql);
    it = dynamic_statements_.emplace(sql, std::move(statement)).first;
  }
  return Use(*it->second);
}

std::int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

int Connection::changes() const { return sqlite3_changes(db_.get()); }

bool Connection::in_transaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

}  // namespace almanac::store::sqlite
