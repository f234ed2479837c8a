// The SQLite store under failing I/O, without strace: a VFS over the default one makes the WAL's
// sync fail (EIO) or its writes fail (disk full) on demand. tests/reliability/test_io_faults.py
// does the same to the real server with strace. A write whose commit failed must fail, change
// nothing, leave the writer usable for the next write, and be gone after a reopen once a later
// write succeeded.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/user.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"

namespace almanac::store::sqlite {
namespace {

constexpr std::chrono::seconds kHangGuard{120};  // a guard against a lost `done`, not a wait

// --- a VFS that fails on demand -----------------------------------------------------------------

// Armed failures of the WAL file: 0 = none, n > 0 = the next n calls, -1 = every call.
std::atomic<int> g_failing_wal_syncs{0};
std::atomic<int> g_failing_wal_writes{0};

bool take(std::atomic<int>& armed) {
  int n = armed.load();
  while (n != 0) {
    if (n < 0) return true;
    if (armed.compare_exchange_weak(n, n - 1)) return true;
  }
  return false;
}

sqlite3_vfs* g_real = nullptr;

// Our file, followed in the same allocation by the real VFS's file.
struct FaultFile {
  sqlite3_file base;
  bool wal;
};

sqlite3_file* real(sqlite3_file* file) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<FaultFile*>(file) + 1);
}

int fault_close(sqlite3_file* f) { return real(f)->pMethods->xClose(real(f)); }
int fault_read(sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
  return real(f)->pMethods->xRead(real(f), buffer, amount, offset);
}
int fault_write(sqlite3_file* f, const void* buffer, int amount, sqlite3_int64 offset) {
  if (reinterpret_cast<FaultFile*>(f)->wal && take(g_failing_wal_writes)) return SQLITE_FULL;
  return real(f)->pMethods->xWrite(real(f), buffer, amount, offset);
}
int fault_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return real(f)->pMethods->xTruncate(real(f), size);
}
int fault_sync(sqlite3_file* f, int flags) {
  if (reinterpret_cast<FaultFile*>(f)->wal && take(g_failing_wal_syncs)) {
    return SQLITE_IOERR_FSYNC;
  }
  return real(f)->pMethods->xSync(real(f), flags);
}
int fault_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real(f)->pMethods->xFileSize(real(f), size);
}
int fault_lock(sqlite3_file* f, int level) { return real(f)->pMethods->xLock(real(f), level); }
int fault_unlock(sqlite3_file* f, int level) { return real(f)->pMethods->xUnlock(real(f), level); }
int fault_check_reserved(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int fault_file_control(sqlite3_file* f, int op, void* arg) {
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int fault_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int fault_device(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
int fault_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), page, size, extend, out);
}
int fault_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void fault_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int fault_shm_unmap(sqlite3_file* f, int remove) {
  return real(f)->pMethods->xShmUnmap(real(f), remove);
}
int fault_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  return real(f)->pMethods->xFetch(real(f), offset, amount, out);
}
int fault_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* page) {
  return real(f)->pMethods->xUnfetch(real(f), offset, page);
}

const sqlite3_io_methods kFaultMethods = {3,
                                          fault_close,
                                          fault_read,
                                          fault_write,
                                          fault_truncate,
                                          fault_sync,
                                          fault_file_size,
                                          fault_lock,
                                          fault_unlock,
                                          fault_check_reserved,
                                          fault_file_control,
                                          fault_sector_size,
                                          fault_device,
                                          fault_shm_map,
                                          fault_shm_lock,
                                          fault_shm_barrier,
                                          fault_shm_unmap,
                                          fault_fetch,
                                          fault_unfetch};

int fault_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  auto* fault = reinterpret_cast<FaultFile*>(file);
  fault->base.pMethods = nullptr;
  const int rc = g_real->xOpen(g_real, name, real(file), flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  fault->wal = (flags & SQLITE_OPEN_WAL) != 0;
  fault->base.pMethods = &kFaultMethods;
  return SQLITE_OK;
}

sqlite3_vfs g_fault_vfs;

// Makes the fault VFS SQLite's default for the life of the fixture (SqliteStore opens with the
// default VFS), and disarms every fault.
class SqliteIoFaultTest : public testing::Test {
 protected:
  void SetUp() override {
    g_real = sqlite3_vfs_find(nullptr);
    ASSERT_NE(g_real, nullptr);
    g_fault_vfs = *g_real;
    g_fault_vfs.zName = "almanac-faults";
    g_fault_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + g_real->szOsFile;
    g_fault_vfs.xOpen = fault_open;
    g_fault_vfs.pNext = nullptr;
    ASSERT_EQ(sqlite3_vfs_register(&g_fault_vfs, 1), SQLITE_OK);
    disarm();
    open();
  }

  void TearDown() override {
    disarm();
    if (store_) store_->close();
    store_.reset();
    sqlite3_vfs_register(g_real, 1);
    sqlite3_vfs_unregister(&g_fault_vfs);
  }

  static void disarm() {
    g_failing_wal_syncs = 0;
    g_failing_wal_writes = 0;
  }

  void open() { store_ = std::make_unique<SqliteStore>(SqliteOptions{.path = path_}); }

  void reopen() {
    store_->close();
    store_.reset();
    open();
  }

  // Queues a write that inserts `name` (after running `before`, inside the transaction).
  std::future<std::exception_ptr> queue_insert(const std::string& name,
                                               std::function<void()> before = {}) {
    auto outcome = std::make_shared<std::promise<std::exception_ptr>>();
    std::future<std::exception_ptr> future = outcome->get_future();
    store_->write(
        [name, before](StoreWriter& writer) {
          if (before) before();
          writer.insert_user(domain::NewUser{name, name + "@example.com", "$argon2id$hash"});
        },
        [outcome](std::exception_ptr error) { outcome->set_value(error); });
    return future;
  }

  static std::exception_ptr await(std::future<std::exception_ptr>& future) {
    if (future.wait_for(kHangGuard) != std::future_status::ready) {
      ADD_FAILURE() << "write() never called done";
      return std::make_exception_ptr(std::runtime_error("done was never called"));
    }
    return future.get();
  }

  std::exception_ptr insert(const std::string& name) {
    std::future<std::exception_ptr> future = queue_insert(name);
    return await(future);
  }

  bool exists(const std::string& name) {
    bool found = false;
    store_->read([&](StoreReader& reader) { found = reader.username_exists(name); });
    return found;
  }

  // The primary SQLite result code of the SqliteError `error` holds (0 if it holds something
  // else or nothing).
  static int sqlite_code(const std::exception_ptr& error) {
    if (!error) return 0;
    try {
      std::rethrow_exception(error);
    } catch (const SqliteError& e) {
      return e.code() & 0xff;
    } catch (...) {
      return 0;
    }
  }

  test_support::TempDir dir_;
  std::string path_ = (dir_.path() / "almanac.db").string();
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteIoFaultTest, FailedWalSyncFailsEveryJobOfItsGroupAndChangesNothing) {
  ASSERT_EQ(insert("before"), nullptr);

  // A job that holds the writer until the three inserts are queued, so that they commit together
  // in the next group. The inserts are queued only once the gate runs: its group is closed by
  // then (queued before, the first insert could have joined the gate's group, and the others not).
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto running = std::make_shared<std::promise<void>>();
  std::future<void> gate_running = running->get_future();
  auto gate = std::make_shared<std::promise<std::exception_ptr>>();
  std::future<std::exception_ptr> gated = gate->get_future();
  store_->write(
      [released, running](StoreWriter&) {
        running->set_value();
        released.wait();
      },
      [gate](std::exception_ptr error) { gate->set_value(error); });
  const bool gate_ran = gate_running.wait_for(kHangGuard) == std::future_status::ready;
  if (!gate_ran) release.set_value();  // let the writer go before failing
  ASSERT_TRUE(gate_ran) << "the writer never ran the gate";
  std::vector<std::future<std::exception_ptr>> group;
  group.push_back(queue_insert("first", [] { g_failing_wal_syncs = 1; }));  // this commit's sync
  group.push_back(queue_insert("second"));
  group.push_back(queue_insert("third"));
  release.set_value();
  EXPECT_EQ(await(gated), nullptr);  // committed alone, before the fault
  for (auto& outcome : group) EXPECT_EQ(sqlite_code(await(outcome)), SQLITE_IOERR);
  EXPECT_EQ(g_failing_wal_syncs, 0) << "the fault never fired";

  EXPECT_TRUE(exists("before"));
  EXPECT_FALSE(exists("first"));
  EXPECT_FALSE(exists("second"));
  EXPECT_FALSE(exists("third"));
  ASSERT_EQ(insert("after"), nullptr) << "the writer stays broken after a failed sync";
  EXPECT_TRUE(exists("after"));

  reopen();
  EXPECT_TRUE(exists("before"));
  EXPECT_TRUE(exists("after"));
  EXPECT_FALSE(exists("first"));
}

TEST_F(SqliteIoFaultTest, FullDiskFailsWritesReadsGoOnAndWritesResumeWhenSpaceReturns) {
  ASSERT_EQ(insert("before"), nullptr);
  g_failing_wal_writes = -1;
  for (const char* name : {"full1", "full2", "full3"}) {
    EXPECT_EQ(sqlite_code(insert(name)), SQLITE_FULL) << name;
    EXPECT_TRUE(exists("before"));
    EXPECT_FALSE(exists(name));
  }
  disarm();
  ASSERT_EQ(insert("after"), nullptr) << "the writer stays broken after the disk had room again";
  reopen();
  EXPECT_TRUE(exists("before"));
  EXPECT_TRUE(exists("after"));
  EXPECT_FALSE(exists("full1"));
}

TEST_F(SqliteIoFaultTest, SyncsThatKeepFailingFailEveryWriteUntilTheyWorkAgain) {
  ASSERT_EQ(insert("before"), nullptr);
  g_failing_wal_syncs = -1;
  for (const char* name : {"eio1", "eio2", "eio3"}) {
    EXPECT_EQ(sqlite_code(insert(name)), SQLITE_IOERR) << name;
    EXPECT_FALSE(exists(name));
  }
  disarm();
  ASSERT_EQ(insert("after"), nullptr) << "the writer stays broken after the syncs work again";
  reopen();
  EXPECT_TRUE(exists("before"));
  EXPECT_TRUE(exists("after"));
  EXPECT_FALSE(exists("eio3"));
}

}  // namespace
}  // namespace almanac::store::sqlite
