#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"
#include "store/write_observer.hpp"

namespace almanac::store::sqlite {

struct ThreadReader;

struct SqliteOptions {
  std::string path;              // a file path; the directory must exist
  bool synchronous_full = true;  // fsync the WAL at every commit (durability "full")
  std::size_t max_group = 512;   // most write jobs gathered into one transaction
  // Told about each group commit (metrics); not owned. Null: nobody is told.
  WriteObserver* observer = nullptr;
};

// The SQLite engine. Reads run on a connection owned by the calling thread (WAL: readers never
// wait for the writer), whose read transaction stays open from one read() to the next until a
// commit of this process, 64 reads, on_thread_idle() or a write() of that thread ends it (the
// write makes it stale); writes go through one writer thread
// that gathers queued jobs into one transaction and one fsync (group commit), so a request is
// acknowledged only after the commit that holds its change is durable.
class SqliteStore final : public Store {
 public:
  // Opens the database, switches it to WAL and applies pending migrations. Throws SqliteError.
  explicit SqliteStore(SqliteOptions options);
  ~SqliteStore() override;

  void read(const std::function<void(StoreReader&)>& work) override;
  void on_thread_idle() override;
  void on_request_done() override;
  void write(WriteWork work, WriteDone done) override;
  bool ping() override;
  void close() override;

  // The schema version after migrations (for `almanac migrate` and tests).
  int schema_version();

  // How many read() calls of one thread one read transaction serves at most: bounds how long a
  // busy thread that never goes idle can miss another process's writes.
  static constexpr unsigned kReadsPerSnapshot = 64;
  // PRAGMA journal_size_limit: the WAL file is cut back to this size when a checkpoint resets it
  // (four times the 1,000-page automatic checkpoint).
  static constexpr std::int64_t kWalSizeLimit = std::int64_t{16} << 20;

 private:
  struct Job {
    WriteWork work;
    WriteDone done;
  };

  Connection& reader_connection();
  ThreadReader& thread_reader();
  static void end_read(ThreadReader& reader);
  // Ends the calling thread's kept read transaction on this store, unless a read() of this thread
  // is using it; if `only_if_stale`, only when this process committed since it began.
  void end_thread_snapshot(bool only_if_stale);
  void writer_loop();
  void run_group(std::vector<Job>& jobs);

  SqliteOptions options_;
  std::uint64_t id_;  // tells this store's connections apart in each thread's cache

  std::atomic<bool> closed_{
      false};  // set by close(); reads then fail instead of using freed handles
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> readers_;

  std::unique_ptr<Connection> writer_;
  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<Job> queue_;
  bool closing_ = false;
  std::thread writer_thread_;
};

// Applies every migration newer than the database's schema version, each in its own
// transaction, and returns the resulting version.
int migrate(Connection& connection);

}  // namespace almanac::store::sqlite
