#pragma once

#include <postgresql/libpq-fe.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// A thin layer over libpq: one connection, its prepared statements, results in text format.
namespace almanac::store::postgres {

// The bounds every connection gets, so that no call waits on PostgreSQL forever: a database host
// that silently drops packets would otherwise hold a connection attempt for the kernel's SYN
// retries (about 2 minutes; a server that accepts and never answers, without end) and a query on
// a dead link for good, and reads run on the server's I/O threads. Each is only a default: a
// value in the URL wins (postgresql://...?connect_timeout=10&tcp_user_timeout=0), and for the
// server's settings so does one given by the URL's `options` (-c statement_timeout=...),
// ALTER ROLE/DATABASE ... SET or postgresql.conf.
//
// Connecting: a healthy server on the same network answers within milliseconds, TLS and SCRAM
// included; 5 s leaves room for a loaded one (libpq's minimum is 2 s).
inline constexpr int kConnectTimeoutSeconds = 5;
// An idle link (a statement waiting on the server, nothing unacknowledged): probed after 10 s of
// silence, then every 5 s; 3 unanswered probes, or tcp_user_timeout below, end it. A live
// server's kernel answers probes even while its backend computes, so a long statement survives.
inline constexpr int kKeepaliveIdleSeconds = 10;
inline constexpr int kKeepaliveIntervalSeconds = 5;
inline constexpr int kKeepaliveCount = 3;
// Data sent and not acknowledged for 10 s (a statement sent into a dead link, otherwise retried
// by the kernel for about 15 minutes): the link is dead. With the keepalives above, a dead link
// is found within about 10 s while sending, 15 s while waiting (25 s without this bound).
inline constexpr int kTcpUserTimeoutMs = 10'000;
// Server side: a statement running (or waiting for a lock) for 30 s, or a transaction left idle
// for 30 s by a stuck client, is ended by the server. Almanac's statements take milliseconds and
// a request's transaction waits on nothing but the database; 30 s is under a proxy's usual 60 s,
// so the request's thread is free before the client gives up. Migrations turn the statement
// bound off on their own connection. The server also gets the keepalive and tcp_user_timeout
// values above for its end, so that it ends the transaction of a client host that vanished
// (its locks would otherwise stay held until the server's kernel gives up, hours later).
inline constexpr int kStatementTimeoutMs = 30'000;
inline constexpr int kIdleInTransactionTimeoutMs = 30'000;

// A failure reported by PostgreSQL or libpq. Its message may hold SQL: it is logged, never sent.
class PgError : public std::runtime_error {
 public:
  PgError(std::string sqlstate, std::string constraint, bool connection_lost,
          const std::string& message)
      : std::runtime_error(message),
        sqlstate_(std::move(sqlstate)),
        constraint_(std::move(constraint)),
        connection_lost_(connection_lost) {}

  // The SQLSTATE ("23505", "40001"...); empty when the server sent none.
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  // The constraint violated, when the server names one.
  const std::string& constraint() const noexcept { return constraint_; }
  // True when the connection broke (server restarted, network): what was in flight has an
  // unknown outcome and the connection must be thrown away.
  bool connection_lost() const noexcept { return connection_lost_; }
  // A serialization failure or a deadlock: the transaction was rolled back and may be retried.
  bool retryable() const noexcept { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }
  // The statement was cancelled (statement_timeout, or pg_cancel_backend): the transaction is
  // aborted, the connection still usable.
  bool cancelled() const noexcept { return sqlstate_ == "57014"; }

 private:
  std::string sqlstate_;
  std::string constraint_;
  bool connection_lost_;
};

// Parameters of one statement, sent in text format; nullopt is NULL.
class Params {
 public:
  Params& add(std::int64_t value) { return push(std::to_string(value)); }
  Params& add(std::string_view value) { return push(std::string(value)); }
  Params& add(const char* value) { return add(std::string_view(value)); }
  Params& add(const std::string& value) { return add(std::string_view(value)); }
  Params& add(bool value) { return push(std::string(value ? "t" : "f")); }
  Params& add(const std::optional<std::string>& value) { return push(value); }
  Params& add_null() { return push(std::nullopt); }
  // The placeholder ("$n") of the value added last.
  const std::string& last() const { return last_; }
  const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  Params& push(std::optional<std::string> value) {
    values_.push_back(std::move(value));
    // Formatted, not "$" + std::to_string(): GCC 12 at -O2 misreads that as overlapping copies.
    char placeholder[24];
    std::snprintf(placeholder, sizeof placeholder, "$%zu", values_.size());
    last_ = placeholder;
    return *this;
  }

  std::vector<std::optional<std::string>> values_;
  std::string last_;
};

// The rows of one statement, in text format.
class Result {
 public:
  explicit Result(PGresult* result) : result_(result, PQclear) {}
  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string text(int row, int column) const;
  std::int64_t integer(int row, int column) const;
  bool boolean(int row, int column) const;
  // How many rows an INSERT, UPDATE or DELETE touched.
  std::int64_t affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

// One connection with its prepared statements. Not thread-safe: one thread at a time.
class Connection {
 public:
  // Connects to `url` (postgresql://user:pass@host:port/db) with the bounds above and applies
  // the session settings (synchronous_commit on, UTC, the server-side bounds). Throws PgError.
  explicit Connection(const std::string& url);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters (transaction control, migrations).
  Result exec(std::string_view sql);
  // Runs `sql` with `params`, prepared on this connection the first time it is seen. `sql` is
  // fixed text or assembled from fixed fragments, never from input: values are always params.
  Result query(const std::string& sql, const Params& params = Params());

  // True once the connection is unusable; it is then discarded, never reused.
  bool broken() const { return PQstatus(conn_.get()) != CONNECTION_OK; }
  // Whether a transaction is open (or failed and not yet rolled back) on this connection.
  bool in_transaction() const { return PQtransactionStatus(conn_.get()) != PQTRANS_IDLE; }
  // libpq's handle, for tests and diagnostics (PQconninfo, PQsocket): statements go through
  // exec() and query().
  PGconn* native() const { return conn_.get(); }

 private:
  Result check(PGresult* result, std::string_view what);

  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
};

}  // namespace almanac::store::postgres
