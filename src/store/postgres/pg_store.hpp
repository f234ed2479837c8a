#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/postgres/pg_db.hpp"
#include "store/store.hpp"
#include "store/write_observer.hpp"
#include "util/worker_pool.hpp"

namespace almanac::store::postgres {

struct PgOptions {
  std::string url;            // postgresql://user:pass@host:port/db
  std::size_t pool_size = 8;  // connections in all: the writers' plus the readers'; at least 2
  std::size_t writers = 0;    // write workers (one connection each); 0: half the pool
  // Told of every commit (a group of one job) and every retry; null: nobody. Not owned: it
  // outlives the store.
  WriteObserver* observer = nullptr;
  // Reads on threads of their own (one per reader connection; read_async), not the caller's.
  bool read_pool = false;
};

// A fixed number of connections opened on demand. A connection found broken (the server
// restarted) is discarded when handed back, and its slot is opened afresh by the next acquire().
class ConnectionPool {
 public:
  ConnectionPool(std::string url, std::size_t size);

  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
        : pool_(&pool), connection_(std::move(connection)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }
    // Drops the connection instead of handing it back (its state is unknown).
    void discard() { connection_.reset(); }
    bool discarded() const { return connection_ == nullptr; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> connection_;
  };

  // A connection of the pool, waiting for one to be handed back if all are in use. Throws
  // domain::Error{kUnavailable} when none can be opened or none comes back in time.
  Lease acquire();
  // Closes every idle connection; leases still out close theirs when handed back.
  void clear();

 private:
  void release(std::unique_ptr<Connection> connection);

  const std::string url_;
  const std::size_t size_;
  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // connections open, idle or leased (and slots being opened)
};

// The PostgreSQL engine.
//
// Reads run inside one REPEATABLE READ READ ONLY transaction (one snapshot) on a connection of
// the readers' pool: read() on the calling thread; read_async() with PgOptions::read_pool (the
// server's default, --database-reads pool) on a thread of a bounded pool, one per reader
// connection, so that an I/O thread never waits for PostgreSQL's three round trips (BEGIN, the
// query, COMMIT): the request's coroutine waits instead (service::read). Measured in
// docs/scaling.md: on loopback 1.3x the requests/s of reading on the I/O thread (2 I/O threads,
// 4 reader connections), 2x with 0.5-2 ms between Almanac and PostgreSQL, where throughput is
// reads in flight / (3 round trips): libpq's asynchronous API on the I/O threads would save the
// two thread hand-offs but needs a non-blocking twin of every query; fewer round trips per read
// (pipelining BEGIN with the query) is the larger lever at a distance.
//
// Writes: each write job runs in its own SERIALIZABLE transaction on a pooled connection of a
// bounded set of worker threads, and `done` is called after COMMIT returned (synchronous_commit
// on: the commit is durable). Not SQLite's group commit: PostgreSQL flushes concurrent commits
// together itself (commit_delay aside), and one transaction per job keeps a job's failure its
// own without savepoints. SERIALIZABLE rather than advisory locks: the services were written for
// SQLite's single writer (read, check, write in one job: conflicts, If-Match versions, roles,
// unique names), and SERIALIZABLE gives every one of them that guarantee across threads and
// processes without a lock per use case. Concurrent overlapping creates for one user read the
// same range of the interval index and write into it, so one of them fails with a serialization
// failure; it is retried (a fresh copy of the job in a new transaction) and then sees the other's
// event: exactly one succeeds. A retried job has left nothing behind, as its transaction rolled
// back. A connection lost before COMMIT was sent is retried on a new connection; lost during
// COMMIT, the job fails with kUnavailable (its outcome is unknown: never a false success).
class PgStore final : public Store {
 public:
  // Connects, applies pending migrations (one instance at a time: an advisory lock) and starts
  // the write workers. Throws PgError.
  explicit PgStore(PgOptions options);
  ~PgStore() override;

  void read(const std::function<void(StoreReader&)>& work) override;
  bool reads_off_thread() const override { return read_pool_ != nullptr; }
  void read_async(ReadWork work, ReadDone done) override;
  void write(WriteWork work, WriteDone done) override;
  bool ping() override;
  void close() override;

  // The schema version after migrations (for `almanac migrate` and tests).
  int schema_version();

 private:
  struct Job {
    WriteWork work;
    WriteDone done;
  };
  void worker_loop();
  std::exception_ptr run_job(const WriteWork& work);

  PgOptions options_;
  ConnectionPool readers_;
  ConnectionPool writers_;
  std::unique_ptr<util::WorkerPool> read_pool_;  // with PgOptions::read_pool

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<Job> queue_;
  bool closing_ = false;
  bool closed_ = false;  // guarded by queue_mutex_
  std::vector<std::thread> workers_;
};

// Applies every migration newer than the database's schema version, each in its own
// transaction, and returns the resulting version. Turns statement_timeout off on `connection`.
int migrate(Connection& connection);

}  // namespace almanac::store::postgres
