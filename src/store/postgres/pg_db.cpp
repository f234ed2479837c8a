#include "store/postgres/pg_db.hpp"

#include <charconv>
#include <string>
#include <string_view>
#include <utility>

#include "util/log.hpp"

namespace almanac::store::postgres {

std::string Result::text(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  return std::string(value, static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t Result::integer(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  const char* end = value + PQgetlength(result_.get(), row, column);
  std::int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(value, end, n);
  if (ec != std::errc() || ptr != end) {
    std::string message = "not an integer: '";
    message.append(value, end);
    message += "'";
    throw PgError("", "", false, message);
  }
  return n;
}

bool Result::boolean(int row, int column) const {
  return PQgetvalue(result_.get(), row, column)[0] == 't';
}

std::int64_t Result::affected() const {
  const char* count = PQcmdTuples(result_.get());
  if (count == nullptr || *count == '\0') return 0;
  return std::strtoll(count, nullptr, 10);
}

namespace {

// Opens a connection with the client-side bounds of pg_db.hpp. They come before the URL (the
// `dbname` entry, expanded as a connection string): libpq takes the last value given for a
// keyword, so the URL's own values win.
PGconn* connect(const std::string& url) {
  const std::string connect_timeout = std::to_string(kConnectTimeoutSeconds);
  const std::string idle = std::to_string(kKeepaliveIdleSeconds);
  const std::string interval = std::to_string(kKeepaliveIntervalSeconds);
  const std::string count = std::to_string(kKeepaliveCount);
  const std::string user_timeout = std::to_string(kTcpUserTimeoutMs);
  const char* const keywords[] = {
      "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
      "keepalives_count", "tcp_user_timeout", "dbname",          nullptr};
  const char* const values[] = {
      connect_timeout.c_str(), "1",         idle.c_str(), interval.c_str(), count.c_str(),
      user_timeout.c_str(),    url.c_str(), nullptr};
  return PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
}

// The server-side bounds of pg_db.hpp, set only where nobody chose a value: pg_settings reports
// the source 'default' only when neither the URL's `options`, ALTER ROLE/DATABASE nor
// postgresql.conf set one.
std::string server_bounds_sql() {
  const std::pair<const char*, int> bounds[] = {
      {"statement_timeout", kStatementTimeoutMs},
      {"idle_in_transaction_session_timeout", kIdleInTransactionTimeoutMs},
      {"tcp_keepalives_idle", kKeepaliveIdleSeconds},
      {"tcp_keepalives_interval", kKeepaliveIntervalSeconds},
      {"tcp_keepalives_count", kKeepaliveCount},
      {"tcp_user_timeout", kTcpUserTimeoutMs}};
  // Appended piece by piece: GCC 12 at -O2 misreads "literal" + std::string as overlapping copies.
  std::string sql = "SELECT set_config(d.name, d.value, false) FROM (VALUES ";
  for (const auto& [name, value] : bounds) {
    if (name != bounds[0].first) sql += ", ";
    sql.append("('").append(name).append("', '").append(std::to_string(value)).append("')");
  }
  sql += ") AS d(name, value) JOIN pg_settings s ON s.name = d.name WHERE s.source = 'default'";
  return sql;
}

}  // namespace

Connection::Connection(const std::string& url) : conn_(connect(url), PQfinish) {
  if (!conn_) throw PgError("", "", true, "cannot allocate a PostgreSQL connection");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    // libpq's message names host and port, never the password.
    throw PgError("", "", true,
                  std::string("cannot connect to PostgreSQL: ") + PQerrorMessage(conn_.get()));
  }
  // Notices (warnings the server sends along with a result) go to our log, not to stderr where
  // they would break the one-line-per-entry log.
  PQsetNoticeProcessor(
      conn_.get(),
      [](void*, const char* message) {
        std::string_view text(message);
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
        util::log(util::LogLevel::kDebug, "postgresql notice",
                  {util::field("notice", std::string(text))});
      },
      nullptr);
  // Durability: a commit returns only once its WAL is flushed, whatever the server's default.
  std::string session =
      "SET synchronous_commit = on; SET TIME ZONE 'UTC'; SET client_min_messages = warning; ";
  session += server_bounds_sql();
  exec(session);
}

Result Connection::check(PGresult* raw, std::string_view what) {
  Result result(raw);
  const ExecStatusType status = raw == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    return result;
  }
  const auto field = [&](int code) {
    const char* value = raw == nullptr ? nullptr : PQresultErrorField(raw, code);
    return std::string(value == nullptr ? "" : value);
  };
  std::string message = raw != nullptr ? PQresultErrorMessage(raw) : PQerrorMessage(conn_.get());
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  throw PgError(field(PG_DIAG_SQLSTATE), field(PG_DIAG_CONSTRAINT_NAME), broken(),
                message + " (in: " + std::string(what.substr(0, 120)) + ")");
}

Result Connection::exec(std::string_view sql) {
  const std::string text(sql);
  return check(PQexec(conn_.get(), text.c_str()), sql);
}

Result Connection::query(const std::string& sql, const Params& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s";
    name += std::to_string(prepared_.size() + 1);
    check(PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr), sql);
    it = prepared_.emplace(sql, name).first;
  }
  const auto& values = params.values();
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& value : values) pointers.push_back(value ? value->c_str() : nullptr);
  return check(PQexecPrepared(conn_.get(), it->second.c_str(), static_cast<int>(values.size()),
                              pointers.data(), nullptr, nullptr, 0),
               sql);
}

}  // namespace almanac::store::postgres
