#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace almanac::store::sqlite {

// A failure reported by SQLite. Carries the extended result code so that callers can tell a
// constraint violation from an I/O error. Its message may hold SQL: it is logged, never sent.
class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// A prepared statement; reset (not finalized) after each use so it can be reused.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds parameters by 1-based index.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_null(int index);
  // Binds the named parameter (":name"); the statement must contain it.
  Statement& bind(const char* name, std::int64_t value);
  Statement& bind(const char* name, std::string_view value);

  // Advances; true while a row is available. Throws SqliteError on failure.
  bool step();
  // Runs a statement that returns no rows.
  void run();
  // Clears bindings and rewinds; called automatically by the Use guard.
  void reset() noexcept;

  std::int64_t column_int(int column) const;
  std::string column_text(int column) const;
  bool column_is_null(int column) const;

 private:
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt_;
};

// One SQLite connection with its statement cache. Not thread-safe: one thread at a time.
class Connection {
 public:
  // Opens (creating if needed) the database at `path` and applies the per-connection pragmas.
  Connection(const std::string& path, bool synchronous_full);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Executes one or more statements without results (DDL, migrations), compiling them each time.
  void exec(std::string_view sql);

  // Runs one statement without results through the statement cache: for the transaction control
  // of every request (BEGIN, COMMIT, SAVEPOINT...), which would otherwise be parsed each time.
  // `sql` must be a string literal, as for prepare().
  void run(std::string_view sql);

  // The cached prepared statement for `sql`; `sql` must be a string literal (its address is the
  // cache key's storage). The returned guard resets the statement when it goes out of scope.
  class Use {
   public:
    explicit Use(Statement& statement) : statement_(statement) {}
    ~Use() { statement_.reset(); }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    Statement* operator->() { return &statement_; }
    Statement& operator*() { return statement_; }

   private:
    Statement& statement_;
  };
  Use prepare(std::string_view sql);
  // The same for SQL assembled at run time from fixed fragments (never from input: values are
  // always bound); cached by content.
  Use prepare_dynamic(const std::string& sql);

  std::int64_t last_insert_rowid() const;
  int changes() const;
  bool in_transaction() const;
  sqlite3* handle() const { return db_.get(); }

 private:
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_;
  std::unordered_map<std::string_view, std::unique_ptr<Statement>> statements_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> dynamic_statements_;
};

// Throws SqliteError for `code` unless it is SQLITE_OK/ROW/DONE.
void check(sqlite3* db, int code);

}  // namespace almanac::store::sqlite
