// What only the PostgreSQL engine has to prove: several write workers and several stores (as
// several Almanac processes) on one database, and connections that break. The shared contract
// runs on it in sqlite_store_test.cpp and event_store_test.cpp. Skipped when no PostgreSQL test
// server is configured (support/postgres.hpp); `make test` configures one.
#include "store/postgres/pg_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "domain/error.hpp"
#include "domain/event.hpp"
#include "domain/time.hpp"
#include "domain/user.hpp"
#include "service/event_change.hpp"
#include "store/postgres/pg_db.hpp"
#include "store/store.hpp"
#include "store/write_observer.hpp"
#include "support/postgres.hpp"
#include "support/sockets.hpp"
#include "support/store_writes.hpp"

namespace almanac::store {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::EventFields;
using domain::NewUser;
using domain::User;
using test_support::await_write;
using test_support::describe_outcome;
using test_support::kWriteHangGuard;
using test_support::queue_write;
using test_support::write_and_wait;
using test_support::write_or_throw;

constexpr domain::Timestamp kHour = 3600 * domain::kMicrosecondsPerSecond;
constexpr domain::Timestamp kMonday = 1745798400 * domain::kMicrosecondsPerSecond;  // 2025-04-28

// Counts what a store reports. Thread-safe: the write workers report concurrently.
class CountingObserver final : public WriteObserver {
 public:
  void group_committed(std::size_t jobs, std::chrono::nanoseconds) noexcept override {
    commits += 1;
    jobs_committed += static_cast<int>(jobs);
  }
  void write_retried(Retry reason) noexcept override {
    (reason == Retry::kSerialization ? serialization_retries : connection_retries) += 1;
  }

  std::atomic<int> commits{0};
  std::atomic<int> jobs_committed{0};
  std::atomic<int> serialization_retries{0};
  std::atomic<int> connection_retries{0};
};

class PostgresStore : public testing::Test {
 protected:
  void SetUp() override {
    const std::optional<std::string> server = test_support::test_postgres_url();
    if (!server) GTEST_SKIP() << "no PostgreSQL test server (ALMANAC_TEST_POSTGRES)";
    database_ = std::make_unique<test_support::TempPgDatabase>(*server);
  }

  std::unique_ptr<postgres::PgStore> open(std::size_t pool = 8, std::size_t writers = 4,
                                          WriteObserver* observer = nullptr) {
    return std::make_unique<postgres::PgStore>(postgres::PgOptions{
        .url = database_->url(), .pool_size = pool, .writers = writers, .observer = observer});
  }

  static User add_user(Store& store, const std::string& name) {
    User user;
    write_or_throw(store, [&](StoreWriter& w) {
      user = w.insert_user(NewUser{name, name + "@example.com", "h"});
    });
    return user;
  }

  // The create job of EventService::create: check the owner's calendar, then insert.
  static Store::WriteWork create_job(domain::UserId owner, domain::Timestamp start,
                                     domain::Timestamp end) {
    return [owner, start, end](StoreWriter& w) {
      const domain::UserId users[] = {owner};
      domain::Conflicts conflicts = w.find_conflicts(users, start, end, 0, owner);
      if (conflicts.total > 0) throw service::conflict_error(std::move(conflicts));
      EventFields f;
      f.title = "slot";
      f.start_time = start;
      f.end_time = end;
      w.insert_event(owner, f, {owner, {}});
    };
  }

  // Closes every connection of this test's database but the caller's, as a server restart does,
  // and returns once their server processes have exited (or 10 s passed).
  void terminate_connections() {
    postgres::Connection db(database_->url());
    db.exec(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  }

  std::unique_ptr<test_support::TempPgDatabase> database_;
};

TEST_F(PostgresStore, OverlappingCreatesQueuedTogetherOnTwoStoresStoreExactlyOne) {
  // Two stores on one database are two Almanac processes; each has several write workers. Every
  // job books the same hour for the same user: one of them, and only one, may succeed.
  const std::unique_ptr<postgres::PgStore> a = open();
  const std::unique_ptr<postgres::PgStore> b = open();
  const User alice = add_user(*a, "alice");
  constexpr int kJobsPerStore = 6;
  std::vector<std::future<std::exception_ptr>> outcomes;
  for (int i = 0; i < kJobsPerStore; ++i) {
    outcomes.push_back(queue_write(*a, create_job(alice.id, kMonday, kMonday + kHour)));
    outcomes.push_back(
        queue_write(*b, create_job(alice.id, kMonday + kHour / 2, kMonday + 2 * kHour)));
  }
  int stored = 0;
  int conflicts = 0;
  for (auto& future : outcomes) {
    const std::exception_ptr error = await_write(future);
    if (!error) {
      ++stored;
      continue;
    }
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kConflict) << e.what();
      ++conflicts;
    } catch (...) {
      ADD_FAILURE() << describe_outcome(error);
    }
  }
  EXPECT_EQ(stored, 1);
  EXPECT_EQ(conflicts, 2 * kJobsPerStore - 1);
  domain::EventPage page;
  a->read([&](StoreReader& r) { page = r.list_events(alice.id, domain::EventListQuery{}); });
  EXPECT_EQ(page.count, 1);
  a->close();
  b->close();
}

TEST_F(PostgresStore, SameUsernameRegisteredThroughTwoStoresAtOnceIsStoredOnce) {
  const std::unique_ptr<postgres::PgStore> a = open();
  const std::unique_ptr<postgres::PgStore> b = open();
  std::vector<std::future<std::exception_ptr>> outcomes;
  for (int i = 0; i < 4; ++i) {
    const std::string email = "bob" + std::to_string(i) + "@example.com";
    Store& store = i % 2 == 0 ? static_cast<Store&>(*a) : static_cast<Store&>(*b);
    outcomes.push_back(queue_write(store, [i, email](StoreWriter& w) {
      w.insert_user(NewUser{i % 2 == 0 ? "bob" : "BOB", email, "h"});
    }));
  }
  int stored = 0;
  for (auto& future : outcomes) {
    const std::exception_ptr error = await_write(future);
    if (!error) {
      ++stored;
      continue;
    }
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      EXPECT_EQ(e.reason(), "username_taken") << e.what();
    }
  }
  EXPECT_EQ(stored, 1);
  a->close();
  b->close();
}

TEST_F(PostgresStore, ConcurrentWorkersEachCommitTheirOwnJob) {
  const std::unique_ptr<postgres::PgStore> store = open(8, 4);
  const User alice = add_user(*store, "alice");
  std::vector<std::future<std::exception_ptr>> outcomes;
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) {
    // Distinct hours: none conflicts with another, though they may fail serialization and retry.
    outcomes.push_back(queue_write(
        *store, create_job(alice.id, kMonday + i * 2 * kHour, kMonday + (i * 2 + 1) * kHour)));
  }
  for (auto& future : outcomes) {
    const std::exception_ptr error = await_write(future);
    EXPECT_EQ(error, nullptr) << describe_outcome(error);
  }
  domain::EventPage page;
  store->read([&](StoreReader& r) { page = r.list_events(alice.id, domain::EventListQuery{}); });
  EXPECT_EQ(page.count, kJobs);
  store->close();
}

TEST_F(PostgresStore, ReadsAndWritesReconnectAfterTheServerDroppedEveryConnection) {
  const std::unique_ptr<postgres::PgStore> store = open(4, 2);
  const User alice = add_user(*store, "alice");
  EXPECT_TRUE(store->ping());
  terminate_connections();
  // The idle connections are dead; the store finds out at BEGIN, before any work ran, and
  // opens new ones.
  bool found = false;
  store->read([&](StoreReader& r) { found = r.find_user(alice.id).has_value(); });
  EXPECT_TRUE(found);
  const std::exception_ptr error = write_and_wait(*store, [](StoreWriter& w) {
    w.insert_user(NewUser{"bob", "bob@example.com", "h"});
  });
  EXPECT_EQ(error, nullptr) << describe_outcome(error);
  EXPECT_TRUE(store->ping());
  store->close();
}

TEST_F(PostgresStore, ReadWhoseConnectionBreaksMidwayFailsAsUnavailable) {
  const std::unique_ptr<postgres::PgStore> store = open(4, 2);
  add_user(*store, "alice");
  try {
    store->read([&](StoreReader& r) {
      r.username_exists("alice");
      terminate_connections();
      r.username_exists("alice");
    });
    ADD_FAILURE() << "the read succeeded on a dead connection";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable) << e.what();
  }
  bool found = false;
  store->read([&](StoreReader& r) { found = r.username_exists("alice"); });
  EXPECT_TRUE(found);
  store->close();
}

TEST_F(PostgresStore, EachCommittedJobIsReportedAsAGroupOfOne) {
  CountingObserver observer;
  const std::unique_ptr<postgres::PgStore> store = open(8, 4, &observer);
  const User alice = add_user(*store, "alice");
  constexpr int kJobs = 5;
  for (int i = 0; i < kJobs; ++i) {
    write_or_throw(*store, create_job(alice.id, kMonday + i * kHour, kMonday + (i + 1) * kHour));
  }
  // A job that fails commits nothing and is not reported.
  const std::exception_ptr conflict =
      write_and_wait(*store, create_job(alice.id, kMonday, kMonday + kHour));
  EXPECT_NE(conflict, nullptr);
  store->close();
  EXPECT_EQ(observer.commits, kJobs + 1);  // the events and alice
  EXPECT_EQ(observer.jobs_committed, kJobs + 1);
  EXPECT_EQ(observer.serialization_retries, 0);
  EXPECT_EQ(observer.connection_retries, 0);
}

TEST_F(PostgresStore, ASerializationFailureIsRetriedAndReported) {
  CountingObserver observer;
  const std::unique_ptr<postgres::PgStore> store = open(4, 2, &observer);
  const User alice = add_user(*store, "alice");
  // The job reads alice (its snapshot), another connection changes her row and commits, then
  // the job changes the same row: "could not serialize access due to concurrent update" on the
  // first attempt only. The job runs again, from the start, and commits.
  std::atomic<int> attempts{0};
  const std::string url = database_->url();
  write_or_throw(*store, [&](StoreWriter& w) {
    EXPECT_TRUE(w.find_user(alice.id).has_value());
    if (++attempts == 1) {
      postgres::Connection other(url);
      other.query("UPDATE users SET email = 'changed@example.com' WHERE id = $1::bigint",
                  postgres::Params().add(alice.id));
    }
    w.set_user_active(alice.id, false);
  });
  EXPECT_EQ(attempts, 2);
  bool active = true;
  store->read([&](StoreReader& r) { active = r.find_user(alice.id)->is_active; });
  EXPECT_FALSE(active);
  store->close();
  EXPECT_EQ(observer.serialization_retries, 1);
  EXPECT_EQ(observer.connection_retries, 0);
  EXPECT_EQ(observer.commits, 2);  // alice, then the job once
}

// Every write transaction holds the writers' advisory lock: shared while it competes; a job that
// lost three attempts holds it exclusively from before its fourth, which runs alone and commits.
TEST_F(PostgresStore, AJobThatKeepsLosingRunsAloneAndCommits) {
  CountingObserver observer;
  const std::unique_ptr<postgres::PgStore> store = open(4, 2, &observer);
  const User alice = add_user(*store, "alice");
  std::atomic<int> attempts{0};
  std::vector<std::string> modes;  // the lock as another session sees it, per attempt
  const std::string url = database_->url();
  write_or_throw(*store, [&](StoreWriter& w) {
    EXPECT_TRUE(w.find_user(alice.id).has_value());
    postgres::Connection other(url);
    const postgres::Result locks = other.exec(
        "SELECT string_agg(mode, ',') FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
    modes.push_back(locks.is_null(0, 0) ? "" : locks.text(0, 0));
    if (++attempts <= 3) {  // a competing writer wins each of the first three attempts
      other.query("UPDATE users SET email = 'changed@example.com' WHERE id = $1::bigint",
                  postgres::Params().add(alice.id));
    }
    w.set_user_active(alice.id, false);
  });
  EXPECT_EQ(attempts, 4);
  ASSERT_EQ(modes.size(), 4U);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(modes[i], "ShareLock") << i;
  // The session's exclusive lock, taken before BEGIN (beside its transaction's shared one).
  EXPECT_NE(modes[3].find("ExclusiveLock"), std::string::npos) << modes[3];
  EXPECT_EQ(observer.serialization_retries, 3);
  bool active = true;
  store->read([&](StoreReader& r) { active = r.find_user(alice.id)->is_active; });
  EXPECT_FALSE(active);
  store->close();
}

TEST_F(PostgresStore, AJobThatLosesEveryAttemptFailsAsBusyNotAsAnInternalError) {
  CountingObserver observer;
  const std::unique_ptr<postgres::PgStore> store = open(4, 2, &observer);
  const User alice = add_user(*store, "alice");
  // Every attempt reads alice, then another connection changes her row before the job does.
  std::atomic<int> attempts{0};
  const std::string url = database_->url();
  const std::exception_ptr outcome = write_and_wait(*store, [&](StoreWriter& w) {
    EXPECT_TRUE(w.find_user(alice.id).has_value());
    ++attempts;
    postgres::Connection other(url);
    other.query("UPDATE users SET email = 'changed@example.com' WHERE id = $1::bigint",
                postgres::Params().add(alice.id));
    w.set_user_active(alice.id, false);
  });
  ASSERT_NE(outcome, nullptr);
  try {
    std::rethrow_exception(outcome);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
    EXPECT_EQ(e.reason(), "busy");
    EXPECT_EQ(e.retry_after, 1);
  }
  EXPECT_GT(attempts, 1);
  EXPECT_EQ(observer.serialization_retries, attempts - 1);  // the last attempt is not retried
  bool active = false;
  store->read([&](StoreReader& r) { active = r.find_user(alice.id)->is_active; });
  EXPECT_TRUE(active);  // nothing of the job was committed
  store->close();
}

TEST_F(PostgresStore, AWriteOnAConnectionTheServerDroppedIsRetriedAndReported) {
  CountingObserver observer;
  const std::unique_ptr<postgres::PgStore> store = open(4, 2, &observer);
  add_user(*store, "alice");  // leaves one idle writers' connection
  terminate_connections();
  // The next job gets that dead connection, fails at BEGIN and runs again on a new one.
  write_or_throw(*store, [](StoreWriter& w) {
    w.insert_user(NewUser{"bob", "bob@example.com", "h"});
  });
  store->close();
  EXPECT_EQ(observer.connection_retries, 1);
  EXPECT_EQ(observer.serialization_retries, 0);
  EXPECT_EQ(observer.commits, 2);
}

// --database-reads pool: each read runs on a reader thread (one per reader connection) while
// the caller goes on; `done` reports its outcome there. Many reads at once all complete.
TEST_F(PostgresStore, PooledReadsRunOnReaderThreadsAndReportTheirOutcome) {
  const std::unique_ptr<postgres::PgStore> store =
      std::make_unique<postgres::PgStore>(postgres::PgOptions{
          .url = database_->url(), .pool_size = 6, .writers = 2, .read_pool = true});
  EXPECT_TRUE(store->reads_off_thread());
  const User alice = add_user(*store, "alice");
  constexpr int kReads = 64;
  struct Outcome {
    std::optional<User> user;
    std::thread::id thread;
    std::exception_ptr error;
  };
  std::vector<Outcome> outcomes(kReads);
  std::vector<std::promise<void>> finished(kReads);
  for (int i = 0; i < kReads; ++i) {
    Outcome& outcome = outcomes[i];
    std::promise<void>& promise = finished[i];
    store->read_async(
        [&outcome, id = alice.id](StoreReader& reader) {
          outcome.thread = std::this_thread::get_id();
          outcome.user = reader.find_user(id);
          if (!outcome.user) throw std::logic_error("not found");
        },
        [&outcome, &promise](std::exception_ptr error) {
          outcome.error = std::move(error);
          promise.set_value();
        });
  }
  for (int i = 0; i < kReads; ++i) {
    ASSERT_EQ(finished[i].get_future().wait_for(std::chrono::seconds(60)),
              std::future_status::ready)
        << i;
    EXPECT_EQ(outcomes[i].error, nullptr) << describe_outcome(outcomes[i].error);
    ASSERT_TRUE(outcomes[i].user.has_value()) << i;
    EXPECT_EQ(outcomes[i].user->username, "alice");
    EXPECT_NE(outcomes[i].thread, std::this_thread::get_id());
  }
  // The work's exception reaches `done`.
  std::promise<std::exception_ptr> failed;
  store->read_async([](StoreReader&) { throw std::out_of_range("from the reader"); },
                    [&failed](std::exception_ptr e) { failed.set_value(std::move(e)); });
  std::future<std::exception_ptr> outcome = failed.get_future();
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(describe_outcome(outcome.get()), "exception: from the reader");
  store->close();
  // After close, a read is refused (kUnavailable), through `done`.
  std::exception_ptr closed;
  bool called = false;
  store->read_async([](StoreReader&) {},
                    [&](std::exception_ptr e) {
                      closed = std::move(e);
                      called = true;
                    });
  ASSERT_TRUE(called);
  ASSERT_NE(closed, nullptr);
  try {
    std::rethrow_exception(closed);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  }
}

TEST_F(PostgresStore, OpeningAnUnreachableServerThrows) {
  // Port 1 on the loopback: nothing listens there.
  EXPECT_THROW(postgres::PgStore(postgres::PgOptions{
                   .url = "postgresql://nobody:x@127.0.0.1:1/none?connect_timeout=2"}),
               postgres::PgError);
}

// The value libpq uses for a connection option of `db`.
std::string conninfo(const postgres::Connection& db, std::string_view keyword) {
  const std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(
      PQconninfo(db.native()), PQconninfoFree);
  for (const PQconninfoOption* o = options.get(); o != nullptr && o->keyword != nullptr; ++o) {
    if (keyword == o->keyword) return o->val == nullptr ? "" : o->val;
  }
  return "(no such option)";
}

// An option of `db`'s TCP socket, as the kernel has it.
int socket_option(const postgres::Connection& db, int level, int name) {
  return test_support::socket_option(PQsocket(db.native()), level, name);
}

// A server setting of `db`'s session, in its base unit (ms or s), as pg_settings shows it.
std::string server_setting(postgres::Connection& db, std::string_view name) {
  return db
      .query("SELECT setting FROM pg_settings WHERE name = $1::text", postgres::Params().add(name))
      .text(0, 0);
}

// The reason of a failure outcome, "success" or a description of anything else.
std::string reason_of(const std::exception_ptr& error) {
  if (!error) return "success";
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return e.reason();
  } catch (...) {
    return describe_outcome(error);
  }
}

TEST_F(PostgresStore, ConnectingToAServerThatNeverAnswersFailsAsUnavailable) {
  // The URL sets no connect_timeout: the engine's own bound must end the attempt, which libpq
  // would otherwise wait on forever.
  test_support::SilentListener silent;
  ASSERT_TRUE(silent.listening()) << "no free port below 32768";
  postgres::ConnectionPool pool(
      "postgresql://nobody:x@127.0.0.1:" + std::to_string(silent.port()) + "/none", 1);
  std::future<std::string> outcome = std::async(std::launch::async, [&pool] {
    try {
      pool.acquire();
      return std::string("connected");
    } catch (...) {
      return reason_of(std::current_exception());
    }
  });
  if (outcome.wait_for(kWriteHangGuard) != std::future_status::ready) {
    ADD_FAILURE() << "the connection attempt was still waiting after " << kWriteHangGuard.count()
                  << " s";
    silent.close();  // resets the connection: the attempt ends, the test does not hang
  }
  EXPECT_EQ(outcome.get(), "unavailable");
}

TEST_F(PostgresStore, EveryConnectionIsBoundedOnBothEnds) {
  postgres::Connection db(database_->url());
  // libpq's options, and the socket it applied them to.
  EXPECT_EQ(conninfo(db, "connect_timeout"), std::to_string(postgres::kConnectTimeoutSeconds));
  EXPECT_EQ(socket_option(db, SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(socket_option(db, IPPROTO_TCP, TCP_KEEPIDLE), postgres::kKeepaliveIdleSeconds);
  EXPECT_EQ(socket_option(db, IPPROTO_TCP, TCP_KEEPINTVL), postgres::kKeepaliveIntervalSeconds);
  EXPECT_EQ(socket_option(db, IPPROTO_TCP, TCP_KEEPCNT), postgres::kKeepaliveCount);
  EXPECT_EQ(socket_option(db, IPPROTO_TCP, TCP_USER_TIMEOUT), postgres::kTcpUserTimeoutMs);
  // The server's end of the session.
  EXPECT_EQ(server_setting(db, "statement_timeout"), std::to_string(postgres::kStatementTimeoutMs));
  EXPECT_EQ(server_setting(db, "idle_in_transaction_session_timeout"),
            std::to_string(postgres::kIdleInTransactionTimeoutMs));
  EXPECT_EQ(server_setting(db, "tcp_keepalives_idle"),
            std::to_string(postgres::kKeepaliveIdleSeconds));
  EXPECT_EQ(server_setting(db, "tcp_user_timeout"), std::to_string(postgres::kTcpUserTimeoutMs));
}

TEST_F(PostgresStore, TheUrlsOwnConnectionSettingsWin) {
  postgres::Connection db(database_->url() +
                          "?connect_timeout=7&keepalives_idle=20&tcp_user_timeout=0"
                          "&options=-c%20statement_timeout%3D5min");
  EXPECT_EQ(conninfo(db, "connect_timeout"), "7");
  EXPECT_EQ(conninfo(db, "keepalives_idle"), "20");
  EXPECT_EQ(socket_option(db, IPPROTO_TCP, TCP_KEEPIDLE), 20);
  EXPECT_EQ(socket_option(db, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
  EXPECT_EQ(server_setting(db, "statement_timeout"), "300000");
  // What the URL leaves out keeps the engine's value.
  EXPECT_EQ(socket_option(db, IPPROTO_TCP, TCP_KEEPCNT), postgres::kKeepaliveCount);
  EXPECT_EQ(server_setting(db, "idle_in_transaction_session_timeout"),
            std::to_string(postgres::kIdleInTransactionTimeoutMs));
  // A value the server was given for the database (or role, or in postgresql.conf) wins too.
  db.exec("ALTER DATABASE " + db.exec("SELECT current_database()").text(0, 0) +
          " SET idle_in_transaction_session_timeout = '1min'");
  postgres::Connection fresh(database_->url());
  EXPECT_EQ(server_setting(fresh, "idle_in_transaction_session_timeout"), "60000");
}

TEST_F(PostgresStore, ReadsAndWritesStuckBehindALockFailAsUnavailable) {
  // The link is alive but the statement never ends (another session holds the table): the
  // server's statement_timeout, shortened here through the URL, ends it.
  const std::unique_ptr<postgres::PgStore> store =
      std::make_unique<postgres::PgStore>(postgres::PgOptions{
          .url = database_->url() + "?options=-c%20statement_timeout%3D500", .pool_size = 2});
  // The holder stays idle in its transaction as long as the test needs.
  postgres::Connection holder(database_->url() +
                              "?options=-c%20idle_in_transaction_session_timeout%3D0");
  holder.exec("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
  std::future<std::string> read = std::async(std::launch::async, [&store] {
    try {
      store->read([](StoreReader& r) { r.username_exists("alice"); });
      return std::string("success");
    } catch (...) {
      return reason_of(std::current_exception());
    }
  });
  std::future<std::exception_ptr> write = queue_write(*store, [](StoreWriter& w) {
    w.insert_user(NewUser{"alice", "alice@example.com", "h"});
  });
  if (read.wait_for(kWriteHangGuard) != std::future_status::ready ||
      write.wait_for(kWriteHangGuard) != std::future_status::ready) {
    ADD_FAILURE() << "a statement was still waiting for the lock after " << kWriteHangGuard.count()
                  << " s";
    holder.exec("ROLLBACK");  // lets it finish: the test does not hang
  }
  EXPECT_EQ(read.get(), "unavailable");
  EXPECT_EQ(reason_of(write.get()), "unavailable");
  if (holder.in_transaction()) holder.exec("ROLLBACK");
  // The cancelled statements left their connections usable.
  bool exists = true;
  store->read([&](StoreReader& r) { exists = r.username_exists("alice"); });
  EXPECT_FALSE(exists);
  EXPECT_EQ(write_and_wait(*store,
                           [](StoreWriter& w) {
                             w.insert_user(NewUser{"alice", "alice@example.com", "h"});
                           }),
            nullptr);
  store->close();
}

}  // namespace
}  // namespace almanac::store
