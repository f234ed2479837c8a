// The storage contract of store/store.hpp as one value-parameterised suite over engines
// (googletest docs/advanced.md, "Value-Parameterized Tests"). Today it runs on SQLite; a
// PostgreSQL engine joins by adding its Engine to INSTANTIATE_TEST_SUITE_P at the bottom.
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "domain/error.hpp"
#include "domain/event.hpp"
#include "domain/role.hpp"
#include "domain/user.hpp"
#include "store/postgres/pg_db.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"
#include "support/postgres.hpp"
#include "support/store_writes.hpp"
#include "support/temp_dir.hpp"
#include "util/embedded.hpp"

namespace almanac::store {
namespace {

namespace fs = std::filesystem;
using domain::Error;
using domain::ErrorCode;
using domain::NewUser;
using domain::User;
using domain::UserId;

// Only a guard against a hang (a lost `done`), never part of what a test checks: an outcome that
// takes this long is a failure whatever it turns out to be.
constexpr std::chrono::seconds kHangGuard{120};

// --- engines ------------------------------------------------------------------------------------

// One empty database of one engine, made for one test and dropped after it.
class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  // A new store on this database; called again after the previous store was closed.
  virtual std::unique_ptr<Store> open() = 0;
  // The schema version `store` reached after its migrations.
  virtual int schema_version(Store& store) = 0;
  // The migrations recorded as applied (version -> time applied), read behind the store's back.
  virtual std::map<int, std::int64_t> applied_migrations() = 0;
};

struct Engine {
  std::string name;
  std::function<std::unique_ptr<TestDatabase>()> make_database;
};

// Names the engine in test listings and failure messages.
void PrintTo(const Engine& engine, std::ostream* out) { *out << engine.name; }

using almanac::test_support::TempDir;

// SQLite: a database file in a temporary directory of its own.
class SqliteTestDatabase final : public TestDatabase {
 public:
  std::unique_ptr<Store> open() override {
    return std::make_unique<sqlite::SqliteStore>(sqlite::SqliteOptions{.path = path()});
  }

  int schema_version(Store& store) override {
    return dynamic_cast<sqlite::SqliteStore&>(store).schema_version();
  }

  std::map<int, std::int64_t> applied_migrations() override {
    sqlite::Connection db(path(), false);
    std::map<int, std::int64_t> applied;
    auto q = db.prepare("SELECT version, applied_at FROM schema_migrations");
    while (q->step()) applied.emplace(static_cast<int>(q->column_int(0)), q->column_int(1));
    return applied;
  }

  std::string path() const { return (dir_.path() / "almanac.db").string(); }

 private:
  TempDir dir_;
};

Engine sqlite_engine() {
  return {"Sqlite", [] { return std::make_unique<SqliteTestDatabase>(); }};
}

// PostgreSQL: a database of its own on the test server (support/postgres.hpp).
class PgTestDatabase final : public TestDatabase {
 public:
  explicit PgTestDatabase(const std::string& server) : database_(server) {}

  std::unique_ptr<Store> open() override {
    // One write worker: the contract's tests expect jobs queued together to take effect in
    // order, as SQLite's single writer does. Concurrent workers: pg_store_test.cpp.
    return std::make_unique<postgres::PgStore>(
        postgres::PgOptions{.url = database_.url(), .pool_size = 4, .writers = 1});
  }

  int schema_version(Store& store) override {
    return dynamic_cast<postgres::PgStore&>(store).schema_version();
  }

  std::map<int, std::int64_t> applied_migrations() override {
    postgres::Connection db(database_.url());
    std::map<int, std::int64_t> applied;
    const postgres::Result r = db.query("SELECT version, applied_at FROM schema_migrations");
    for (int i = 0; i < r.rows(); ++i) {
      applied.emplace(static_cast<int>(r.integer(i, 0)), r.integer(i, 1));
    }
    return applied;
  }

  const std::string& url() const { return database_.url(); }

 private:
  test_support::TempPgDatabase database_;
};

Engine postgres_engine() {
  return {"Postgres", []() -> std::unique_ptr<TestDatabase> {
            const std::optional<std::string> server = test_support::test_postgres_url();
            if (!server) return nullptr;  // skipped: no test server configured
            return std::make_unique<PgTestDatabase>(*server);
          }};
}

// --- outcomes of write() ------------------------------------------------------------------------

// Queues `work` and returns the future outcome that its `done` delivers.
std::future<std::exception_ptr> queue_write(Store& store, Store::WriteWork work) {
  // Shared, so that an abandoned future (after a hang guard fired) leaves nothing dangling.
  auto outcome = std::make_shared<std::promise<std::exception_ptr>>();
  std::future<std::exception_ptr> future = outcome->get_future();
  // The error is moved, so the writer thread keeps no reference to it (see SqliteStore::run_group).
  store.write(std::move(work),
              [outcome](std::exception_ptr error) { outcome->set_value(std::move(error)); });
  return future;
}

// Waits for an outcome of queue_write().
std::exception_ptr await(std::future<std::exception_ptr>& future) {
  if (future.wait_for(kHangGuard) != std::future_status::ready) {
    ADD_FAILURE() << "write() never called done";
    return std::make_exception_ptr(std::runtime_error("done was never called"));
  }
  return future.get();
}

std::exception_ptr write_and_wait(Store& store, Store::WriteWork work) {
  std::future<std::exception_ptr> future = queue_write(store, std::move(work));
  return await(future);
}

// The domain::Error held by `error`; nullopt when it holds nothing or something else.
std::optional<Error> domain_error(const std::exception_ptr& error) {
  if (!error) return std::nullopt;
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return e;
  } catch (...) {
    return std::nullopt;
  }
}

using test_support::describe_outcome;

// Keeps the writer busy until opened, so that the writes queued meanwhile wait together. Opens
// itself on destruction so that a failed assertion cannot leave the writer stuck.
class WriterGate {
 public:
  WriterGate() : opened_(promise_.get_future().share()) {}
  ~WriterGate() { open(); }
  WriterGate(const WriterGate&) = delete;
  WriterGate& operator=(const WriterGate&) = delete;

  // A write job that blocks until open() is called.
  Store::WriteWork job() {
    return [opened = opened_](StoreWriter&) { opened.wait(); };
  }
  void open() {
    std::call_once(once_, [this] { promise_.set_value(); });
  }

 private:
  std::promise<void> promise_;
  std::shared_future<void> opened_;
  std::once_flag once_;
};

void expect_same_user(const std::optional<User>& actual, const User& expected) {
  ASSERT_TRUE(actual.has_value()) << "no user " << expected.id;
  EXPECT_EQ(actual->id, expected.id);
  EXPECT_EQ(actual->username, expected.username);
  EXPECT_EQ(actual->email, expected.email);
  EXPECT_EQ(actual->is_active, expected.is_active);
}

// --- the contract -------------------------------------------------------------------------------

class StoreContract : public testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    database_ = GetParam().make_database();
    if (!database_) GTEST_SKIP() << "no PostgreSQL test server (ALMANAC_TEST_POSTGRES)";
    store_ = database_->open();
  }

  void TearDown() override {
    if (store_) store_->close();
  }

  // Closes the store and opens a new one on the same database.
  void reopen() {
    store_->close();
    store_.reset();
    store_ = database_->open();
  }

  // Inserts a user through write() and waits; rethrows the write's failure.
  User insert(const std::string& username, const std::string& email,
              const std::string& password_hash = "$argon2id$hash") {
    User user;
    const std::exception_ptr error = write_and_wait(*store_, [&](StoreWriter& writer) {
      user = writer.insert_user(NewUser{username, email, password_hash});
    });
    if (error) std::rethrow_exception(error);
    return user;
  }

  // The result of `query` run inside one read transaction.
  template <typename Query>
  auto read(Query query) {
    std::optional<decltype(query(std::declval<StoreReader&>()))> result;
    store_->read([&](StoreReader& reader) { result.emplace(query(reader)); });
    return std::move(*result);
  }

  bool username_exists(std::string_view username) {
    return read([&](StoreReader& r) { return r.username_exists(username); });
  }
  bool email_exists(std::string_view email) {
    return read([&](StoreReader& r) { return r.email_exists(email); });
  }
  std::optional<User> find_user(UserId id) {
    return read([&](StoreReader& r) { return r.find_user(id); });
  }
  std::optional<domain::UserCredentials> find_credentials(std::string_view login) {
    return read([&](StoreReader& r) { return r.find_credentials(login); });
  }
  bool is_token_revoked(std::string_view jti) {
    return read([&](StoreReader& r) { return r.is_token_revoked(jti); });
  }

  std::unique_ptr<TestDatabase> database_;  // declared first: outlives the store
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContract, PingAnswersTrue) { EXPECT_TRUE(store_->ping()); }

TEST_P(StoreContract, SchemaVersionIsPositiveAfterOpening) {
  const int version = database_->schema_version(*store_);
  EXPECT_GT(version, 0);
  const std::map<int, std::int64_t> applied = database_->applied_migrations();
  ASSERT_FALSE(applied.empty());
  EXPECT_EQ(applied.rbegin()->first, version);
}

TEST_P(StoreContract, ReopeningDoesNotRerunMigrations) {
  const int version = database_->schema_version(*store_);
  const std::map<int, std::int64_t> before = database_->applied_migrations();
  reopen();
  EXPECT_EQ(database_->schema_version(*store_), version);
  EXPECT_EQ(database_->applied_migrations(), before);
  reopen();
  EXPECT_EQ(database_->applied_migrations(), before);
}

TEST_P(StoreContract, InsertedUserIsFoundById) {
  const User alice = insert("Alice", "Alice@Example.com");
  EXPECT_GT(alice.id, 0);
  EXPECT_EQ(alice.username, "Alice");
  EXPECT_EQ(alice.email, "Alice@Example.com");
  EXPECT_TRUE(alice.is_active);
  expect_same_user(find_user(alice.id), alice);
}

TEST_P(StoreContract, UsersGetDistinctIds) {
  const User alice = insert("alice", "alice@example.com");
  const User bob = insert("bob", "bob@example.com");
  EXPECT_NE(alice.id, bob.id);
  expect_same_user(find_user(bob.id), bob);
}

TEST_P(StoreContract, UnknownUserIdIsNotFound) {
  const User alice = insert("alice", "alice@example.com");
  EXPECT_FALSE(find_user(alice.id + 1000).has_value());
  EXPECT_FALSE(find_user(0).has_value());
  EXPECT_FALSE(find_user(-1).has_value());
}

TEST_P(StoreContract, CredentialsAreFoundByUsernameInAnyCase) {
  const User alice = insert("Alice", "alice@example.com", "$argon2id$alice");
  for (const std::string_view login : {"Alice", "alice", "ALICE", "aLiCe"}) {
    const auto credentials = find_credentials(login);
    ASSERT_TRUE(credentials.has_value()) << login;
    expect_same_user(credentials->user, alice);
    EXPECT_EQ(credentials->password_hash, "$argon2id$alice");
  }
}

TEST_P(StoreContract, CredentialsAreFoundByEmailInAnyCase) {
  const User alice = insert("alice", "Alice.Smith@Example.com", "$argon2id$alice");
  for (const std::string_view login :
       {"Alice.Smith@Example.com", "alice.smith@example.com", "ALICE.SMITH@EXAMPLE.COM"}) {
    const auto credentials = find_credentials(login);
    ASSERT_TRUE(credentials.has_value()) << login;
    expect_same_user(credentials->user, alice);
    EXPECT_EQ(credentials->password_hash, "$argon2id$alice");
  }
}

TEST_P(StoreContract, UnknownLoginHasNoCredentials) {
  insert("alice", "alice@example.com");
  EXPECT_FALSE(find_credentials("bob").has_value());
  EXPECT_FALSE(find_credentials("bob@example.com").has_value());
  EXPECT_FALSE(find_credentials("alic").has_value());
  EXPECT_FALSE(find_credentials("").has_value());
}

TEST_P(StoreContract, UsernameWinsOverAnEmailThatReadsTheSame) {
  // The e-mail owner is inserted first, so that a lookup ignoring the rule finds the wrong user.
  const User email_owner = insert("bob", "carol@example.com", "$argon2id$bob");
  const User username_owner = insert("Carol@Example.com", "c@example.org", "$argon2id$carol");
  for (const std::string_view login : {"carol@example.com", "CAROL@EXAMPLE.COM"}) {
    const auto credentials = find_credentials(login);
    ASSERT_TRUE(credentials.has_value()) << login;
    expect_same_user(credentials->user, username_owner);
    EXPECT_EQ(credentials->password_hash, "$argon2id$carol");
  }
  const auto by_other_email = find_credentials("c@example.org");
  ASSERT_TRUE(by_other_email.has_value());
  EXPECT_EQ(by_other_email->user.id, username_owner.id);
  EXPECT_EQ(find_credentials("bob")->user.id, email_owner.id);
}

TEST_P(StoreContract, UsernameAndEmailExistRegardlessOfCase) {
  insert("Alice", "Alice@Example.com");
  EXPECT_TRUE(username_exists("Alice"));
  EXPECT_TRUE(username_exists("alice"));
  EXPECT_TRUE(username_exists("ALICE"));
  EXPECT_TRUE(email_exists("alice@example.com"));
  EXPECT_TRUE(email_exists("ALICE@EXAMPLE.COM"));
  EXPECT_FALSE(username_exists("bob"));
  EXPECT_FALSE(username_exists("alice@example.com"));  // an e-mail is not a username
  EXPECT_FALSE(email_exists("alice"));                 // nor a username an e-mail
}

TEST_P(StoreContract, DuplicateUsernameInAnotherCaseIsAConflict) {
  const User alice = insert("alice", "alice@example.com");
  const std::exception_ptr error = write_and_wait(*store_, [](StoreWriter& writer) {
    writer.insert_user(NewUser{"ALICE", "other@example.com", "$argon2id$x"});
  });
  const std::optional<Error> conflict = domain_error(error);
  ASSERT_TRUE(conflict.has_value()) << describe_outcome(error);
  EXPECT_EQ(conflict->code(), ErrorCode::kConflict);
  EXPECT_EQ(conflict->reason(), "username_taken");
  EXPECT_FALSE(email_exists("other@example.com"));
  EXPECT_EQ(find_credentials("alice")->user.id, alice.id);
}

TEST_P(StoreContract, DuplicateEmailInAnotherCaseIsAConflict) {
  insert("alice", "alice@example.com");
  const std::exception_ptr error = write_and_wait(*store_, [](StoreWriter& writer) {
    writer.insert_user(NewUser{"bob", "Alice@EXAMPLE.com", "$argon2id$x"});
  });
  const std::optional<Error> conflict = domain_error(error);
  ASSERT_TRUE(conflict.has_value()) << describe_outcome(error);
  EXPECT_EQ(conflict->code(), ErrorCode::kConflict);
  EXPECT_EQ(conflict->reason(), "email_taken");
  EXPECT_FALSE(username_exists("bob"));
}

TEST_P(StoreContract, ConflictCanBeCaughtInsideTheWork) {
  // A job may catch a conflict and go on; the rest of its changes commit.
  insert("alice", "alice@example.com");
  std::optional<std::string> reason;
  User bob;
  const std::exception_ptr error = write_and_wait(*store_, [&](StoreWriter& writer) {
    try {
      writer.insert_user(NewUser{"Alice", "a2@example.com", "h"});
    } catch (const Error& e) {
      reason = e.reason();
    }
    bob = writer.insert_user(NewUser{"bob", "bob@example.com", "h"});
  });
  EXPECT_EQ(error, nullptr) << describe_outcome(error);
  EXPECT_EQ(reason, "username_taken");
  expect_same_user(find_user(bob.id), bob);
}

TEST_P(StoreContract, FailedInsertInsideWriteLeavesNothingBehind) {
  insert("alice", "alice@example.com");
  UserId bob_id = 0;
  const std::exception_ptr error = write_and_wait(*store_, [&](StoreWriter& writer) {
    bob_id = writer.insert_user(NewUser{"bob", "bob@example.com", "h"}).id;
    writer.insert_user(NewUser{"alice", "alice2@example.com", "h"});  // conflicts
  });
  ASSERT_TRUE(domain_error(error).has_value()) << describe_outcome(error);
  EXPECT_EQ(domain_error(error)->reason(), "username_taken");
  ASSERT_GT(bob_id, 0);
  EXPECT_FALSE(find_user(bob_id).has_value());
  EXPECT_FALSE(username_exists("bob"));
  EXPECT_FALSE(email_exists("bob@example.com"));
  EXPECT_FALSE(email_exists("alice2@example.com"));
  // The store goes on working, and bob can now be inserted for real.
  const User bob = insert("bob", "bob@example.com");
  expect_same_user(find_user(bob.id), bob);
}

TEST_P(StoreContract, WorkThrowingAfterChangesUndoesThemAndReportsItsOwnException) {
  const User alice = insert("alice", "alice@example.com", "old-hash");
  const std::exception_ptr error = write_and_wait(*store_, [&](StoreWriter& writer) {
    writer.insert_user(NewUser{"bob", "bob@example.com", "h"});
    writer.set_password_hash(alice.id, "new-hash");
    writer.revoke_token("jti-1", alice.id, 1'900'000'000);
    throw std::logic_error("changed my mind");
  });
  ASSERT_NE(error, nullptr);
  try {
    std::rethrow_exception(error);
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "changed my mind");
  } catch (...) {
    ADD_FAILURE() << "done received another exception: " << describe_outcome(error);
  }
  EXPECT_FALSE(username_exists("bob"));
  EXPECT_EQ(find_credentials("alice")->password_hash, "old-hash");
  EXPECT_FALSE(is_token_revoked("jti-1"));
}

TEST_P(StoreContract, WorkSeesItsOwnChanges) {
  bool seen_by_username = false;
  bool seen_by_email = false;
  std::optional<User> found;
  const std::exception_ptr error = write_and_wait(*store_, [&](StoreWriter& writer) {
    const User user = writer.insert_user(NewUser{"alice", "alice@example.com", "h"});
    seen_by_username = writer.username_exists("ALICE");
    seen_by_email = writer.email_exists("Alice@example.com");
    found = writer.find_user(user.id);
  });
  EXPECT_EQ(error, nullptr) << describe_outcome(error);
  EXPECT_TRUE(seen_by_username);
  EXPECT_TRUE(seen_by_email);
  EXPECT_TRUE(found.has_value());
}

TEST_P(StoreContract, RevokeTokenReturnsTrueThenFalse) {
  const User alice = insert("alice", "alice@example.com");
  std::vector<bool> results;
  for (int i = 0; i < 2; ++i) {
    const std::exception_ptr error = write_and_wait(*store_, [&](StoreWriter& writer) {
      results.push_back(writer.revoke_token("jti-abc", alice.id, 1'900'000'000));
    });
    ASSERT_EQ(error, nullptr) << describe_outcome(error);
  }
  EXPECT_EQ(results, (std::vector<bool>{true, false}));
}

TEST_P(StoreContract, RevokeTokenTwiceInOneWorkReturnsTrueThenFalse) {
  const User alice = insert("alice", "alice@example.com");
  std::vector<bool> results;
  const std::exception_ptr error = write_and_wait(*store_, [&](StoreWriter& writer) {
    results.push_back(writer.revoke_token("jti-abc", alice.id, 1'900'000'000));
    results.push_back(writer.revoke_token("jti-abc", alice.id, 1'900'000'000));
  });
  ASSERT_EQ(error, nullptr) << describe_outcome(error);
  EXPECT_EQ(results, (std::vector<bool>{true, false}));
}

TEST_P(StoreContract, IsTokenRevokedOnlyForRevokedJtis) {
  const User alice = insert("alice", "alice@example.com");
  EXPECT_FALSE(is_token_revoked("jti-1"));
  const std::exception_ptr error = write_and_wait(
      *store_, [&](StoreWriter& writer) { writer.revoke_token("jti-1", alice.id, 1'900'000'000); });
  ASSERT_EQ(error, nullptr) << describe_outcome(error);
  EXPECT_TRUE(is_token_revoked("jti-1"));
  EXPECT_FALSE(is_token_revoked("jti-2"));
  EXPECT_FALSE(is_token_revoked("JTI-1"));  // ids are compared exactly
  EXPECT_FALSE(is_token_revoked(""));
}

TEST_P(StoreContract, SetPasswordHashReplacesOnlyThatUsersHash) {
  const User alice = insert("alice", "alice@example.com", "alice-old");
  insert("bob", "bob@example.com", "bob-old");
  const std::exception_ptr error = write_and_wait(
      *store_, [&](StoreWriter& writer) { writer.set_password_hash(alice.id, "alice-new"); });
  ASSERT_EQ(error, nullptr) << describe_outcome(error);
  EXPECT_EQ(find_credentials("alice")->password_hash, "alice-new");
  EXPECT_EQ(find_credentials("alice@example.com")->password_hash, "alice-new");
  EXPECT_EQ(find_credentials("bob")->password_hash, "bob-old");
}

TEST_P(StoreContract, DataSurvivesClosingAndReopening) {
  const User alice = insert("Alice", "alice@example.com", "first");
  ASSERT_EQ(write_and_wait(*store_,
                           [&](StoreWriter& writer) {
                             writer.set_password_hash(alice.id, "second");
                             writer.revoke_token("jti-kept", alice.id, 1'900'000'000);
                           }),
            nullptr);
  reopen();
  expect_same_user(find_user(alice.id), alice);
  EXPECT_EQ(find_credentials("alice")->password_hash, "second");
  EXPECT_TRUE(is_token_revoked("jti-kept"));
  EXPECT_TRUE(store_->ping());
  // Uniqueness still holds across the restart, and new ids do not reuse old ones.
  EXPECT_EQ(
      domain_error(write_and_wait(*store_,
                                  [](StoreWriter& writer) {
                                    writer.insert_user(NewUser{"ALICE", "x@example.com", "h"});
                                  }))
          ->reason(),
      "username_taken");
  EXPECT_NE(insert("bob", "bob@example.com").id, alice.id);
}

TEST_P(StoreContract, WorkAndDoneRunOnTheWriterThreadNotTheCaller) {
  std::thread::id work_thread;
  std::thread::id done_thread;
  auto outcome = std::make_shared<std::promise<std::exception_ptr>>();
  std::future<std::exception_ptr> future = outcome->get_future();
  store_->write([&](StoreWriter&) { work_thread = std::this_thread::get_id(); },
                [&done_thread, outcome](std::exception_ptr error) {
                  done_thread = std::this_thread::get_id();
                  outcome->set_value(error);
                });
  EXPECT_EQ(await(future), nullptr);
  EXPECT_NE(work_thread, std::thread::id());
  EXPECT_NE(work_thread, std::this_thread::get_id());
  EXPECT_EQ(done_thread, work_thread);
}

TEST_P(StoreContract, ConcurrentWritesFromSeveralThreadsAllCompleteAndAreVisible) {
  constexpr int kThreads = 4;
  constexpr int kWritesPerThread = 25;
  std::vector<std::vector<std::exception_ptr>> outcomes(kThreads);
  std::vector<std::vector<UserId>> ids(kThreads, std::vector<UserId>(kWritesPerThread, 0));
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // Queue every write first, then wait for them all: the writer sees a backlog.
        std::vector<std::future<std::exception_ptr>> futures;
        for (int i = 0; i < kWritesPerThread; ++i) {
          const std::string name = "t" + std::to_string(t) + "_u" + std::to_string(i);
          futures.push_back(queue_write(*store_, [&ids, t, i, name](StoreWriter& writer) {
            ids[t][i] = writer.insert_user(NewUser{name, name + "@example.com", "h"}).id;
          }));
        }
        for (auto& future : futures) outcomes[t].push_back(await(future));
      });
    }
  }  // joins

  std::set<UserId> distinct;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(outcomes[t].size(), static_cast<std::size_t>(kWritesPerThread));
    for (int i = 0; i < kWritesPerThread; ++i) {
      EXPECT_EQ(outcomes[t][i], nullptr)
          << "t" << t << " u" << i << ": " << describe_outcome(outcomes[t][i]);
      distinct.insert(ids[t][i]);
    }
  }
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads * kWritesPerThread));
  EXPECT_EQ(distinct.count(0), 0u);
  store_->read([&](StoreReader& reader) {
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kWritesPerThread; ++i) {
        const std::string name = "t" + std::to_string(t) + "_u" + std::to_string(i);
        const std::optional<User> user = reader.find_user(ids[t][i]);
        ASSERT_TRUE(user.has_value()) << name;
        EXPECT_EQ(user->username, name);
        EXPECT_TRUE(reader.email_exists(name + "@example.com"));
      }
    }
  });
}

TEST_P(StoreContract, FailingJobsDoNotUndoTheOthersQueuedWithThem) {
  // The gate holds the writer while the jobs below queue up, so that they are likely to share
  // one transaction; the test asserts only each job's own outcome, whatever the grouping.
  const User alice = insert("alice", "alice@example.com");
  WriterGate gate;
  std::future<std::exception_ptr> gated = queue_write(*store_, gate.job());

  std::vector<std::future<std::exception_ptr>> jobs;
  jobs.push_back(queue_write(*store_, [](StoreWriter& w) {  // 0: succeeds
    w.insert_user(NewUser{"carol", "carol@example.com", "h"});
  }));
  jobs.push_back(queue_write(*store_, [](StoreWriter& w) {  // 1: throws after a change
    w.insert_user(NewUser{"dave", "dave@example.com", "h"});
    throw std::runtime_error("dave failed");
  }));
  jobs.push_back(queue_write(*store_, [alice](StoreWriter& w) {  // 2: succeeds
    w.insert_user(NewUser{"erin", "erin@example.com", "h"});
    w.revoke_token("jti-erin", alice.id, 1'900'000'000);
  }));
  jobs.push_back(queue_write(*store_, [](StoreWriter& w) {  // 3: conflicts with job 0
    w.insert_user(NewUser{"frank", "frank@example.com", "h"});
    w.insert_user(NewUser{"CAROL", "carol2@example.com", "h"});
  }));
  jobs.push_back(queue_write(*store_, [alice](StoreWriter& w) {  // 4: succeeds
    w.set_password_hash(alice.id, "alice-new");
  }));
  gate.open();

  EXPECT_EQ(await(gated), nullptr);
  std::vector<std::exception_ptr> outcomes;
  for (auto& job : jobs) outcomes.push_back(await(job));
  EXPECT_EQ(outcomes[0], nullptr) << describe_outcome(outcomes[0]);
  EXPECT_EQ(describe_outcome(outcomes[1]), "exception: dave failed");
  EXPECT_EQ(outcomes[2], nullptr) << describe_outcome(outcomes[2]);
  ASSERT_TRUE(domain_error(outcomes[3]).has_value()) << describe_outcome(outcomes[3]);
  EXPECT_EQ(domain_error(outcomes[3])->reason(), "username_taken");
  EXPECT_EQ(outcomes[4], nullptr) << describe_outcome(outcomes[4]);

  EXPECT_TRUE(username_exists("carol"));
  EXPECT_FALSE(username_exists("dave"));
  EXPECT_TRUE(username_exists("erin"));
  EXPECT_TRUE(is_token_revoked("jti-erin"));
  EXPECT_FALSE(username_exists("frank"));
  EXPECT_FALSE(email_exists("carol2@example.com"));
  EXPECT_EQ(find_credentials("alice")->password_hash, "alice-new");

  // And the outcomes are durable: they are all still there after a restart.
  reopen();
  EXPECT_TRUE(username_exists("carol"));
  EXPECT_TRUE(username_exists("erin"));
  EXPECT_FALSE(username_exists("dave"));
  EXPECT_FALSE(username_exists("frank"));
}

TEST_P(StoreContract, CloseFinishesWritesQueuedBeforeIt) {
  constexpr int kWrites = 20;
  std::atomic<int> done_calls{0};
  std::vector<std::future<std::exception_ptr>> futures;
  for (int i = 0; i < kWrites; ++i) {
    auto outcome = std::make_shared<std::promise<std::exception_ptr>>();
    futures.push_back(outcome->get_future());
    const std::string name = "queued" + std::to_string(i);
    store_->write(
        [name](StoreWriter& w) {
          w.insert_user(NewUser{name, name + "@example.com", "h"});
        },
        [outcome, &done_calls](std::exception_ptr error) {
          ++done_calls;
          outcome->set_value(error);
        });
  }
  store_->close();
  EXPECT_EQ(done_calls.load(), kWrites) << "close() returned before finishing queued writes";
  for (auto& future : futures) EXPECT_EQ(await(future), nullptr);

  reopen();
  for (int i = 0; i < kWrites; ++i) EXPECT_TRUE(username_exists("queued" + std::to_string(i))) << i;
}

TEST_P(StoreContract, WriteAfterCloseCallsDoneWithAnError) {
  store_->close();
  bool work_ran = false;
  const std::exception_ptr error = write_and_wait(*store_, [&](StoreWriter&) { work_ran = true; });
  ASSERT_NE(error, nullptr);
  EXPECT_FALSE(work_ran);
  const std::optional<Error> unavailable = domain_error(error);
  ASSERT_TRUE(unavailable.has_value()) << describe_outcome(error);
  EXPECT_EQ(unavailable->code(), ErrorCode::kUnavailable);
}

TEST_P(StoreContract, CloseTwiceIsHarmless) {
  store_->close();
  EXPECT_NO_THROW(store_->close());
  bool work_ran = false;
  EXPECT_NE(write_and_wait(*store_, [&](StoreWriter&) { work_ran = true; }), nullptr);
  EXPECT_FALSE(work_ran);
}

TEST_P(StoreContract, ReadPropagatesTheWorksExceptionAndStaysUsable) {
  insert("alice", "alice@example.com");
  EXPECT_THROW(store_->read([](StoreReader& reader) {
    reader.username_exists("alice");
    throw std::out_of_range("from the reader");
  }),
               std::out_of_range);
  // The transaction was closed: the next read on this thread starts cleanly.
  EXPECT_TRUE(username_exists("alice"));
  EXPECT_NO_THROW(insert("bob", "bob@example.com"));
  EXPECT_TRUE(username_exists("bob"));
}

TEST_P(StoreContract, ReadSeesOneSnapshotWhileWritesCommit) {
  insert("alice", "alice@example.com");
  UserId bob_id = 0;
  store_->read([&](StoreReader& reader) {
    ASSERT_TRUE(reader.username_exists("alice"));  // the snapshot is taken by now
    bob_id = insert("bob", "bob@example.com").id;  // committed by the writer meanwhile
    EXPECT_FALSE(reader.username_exists("bob"));
    EXPECT_FALSE(reader.find_user(bob_id).has_value());
  });
  EXPECT_TRUE(username_exists("bob"));
  EXPECT_TRUE(find_user(bob_id).has_value());
}

TEST_P(StoreContract, ReadsOnOtherThreadsSeeCommittedWrites) {
  const User alice = insert("alice", "alice@example.com");
  std::vector<std::optional<User>> seen(3);
  // Not vector<bool>: its elements share words, so threads setting their own would race.
  std::vector<char> pinged(3, 0);
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < seen.size(); ++t) {
      threads.emplace_back([&, t] {
        store_->read([&](StoreReader& reader) { seen[t] = reader.find_user(alice.id); });
        pinged[t] = store_->ping() ? 1 : 0;
      });
    }
  }
  for (std::size_t t = 0; t < seen.size(); ++t) {
    expect_same_user(seen[t], alice);
    EXPECT_EQ(pinged[t], 1) << t;
  }
}

// Without a reader pool (SQLite always; PostgreSQL by default), read_async is read() on the
// caller's thread, `done` called there before it returns.
TEST_P(StoreContract, ReadAsyncWithoutAReaderPoolRunsOnTheCallersThread) {
  const User alice = insert("alice", "alice@example.com");
  EXPECT_FALSE(store_->reads_off_thread());
  std::optional<User> seen;
  std::thread::id work_thread;
  std::thread::id done_thread;
  bool done = false;
  std::exception_ptr error;
  store_->read_async(
      [&](StoreReader& reader) {
        work_thread = std::this_thread::get_id();
        seen = reader.find_user(alice.id);
      },
      [&](std::exception_ptr e) {
        done_thread = std::this_thread::get_id();
        error = std::move(e);
        done = true;
      });
  ASSERT_TRUE(done);
  EXPECT_EQ(error, nullptr);
  expect_same_user(seen, alice);
  EXPECT_EQ(work_thread, std::this_thread::get_id());
  EXPECT_EQ(done_thread, std::this_thread::get_id());
}

TEST_P(StoreContract, ReadAsyncDeliversTheWorksExceptionToDone) {
  std::exception_ptr error;
  store_->read_async([](StoreReader&) { throw std::out_of_range("from the reader"); },
                     [&](std::exception_ptr e) { error = std::move(e); });
  EXPECT_EQ(describe_outcome(error), "exception: from the reader");
  EXPECT_FALSE(username_exists("alice"));  // and the store reads on
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreContract,
                         testing::Values(sqlite_engine(), postgres_engine()),
                         [](const testing::TestParamInfo<Engine>& info) {
                           return info.param.name;
                         });

// --- SQLite only --------------------------------------------------------------------------------

TEST(SqliteStore, OpeningInAMissingDirectoryThrowsSqliteError) {
  const TempDir dir;
  const std::string path = (dir.path() / "no-such-dir" / "almanac.db").string();
  EXPECT_THROW(sqlite::SqliteStore(sqlite::SqliteOptions{.path = path}), sqlite::SqliteError);
}

TEST(SqliteStore, MigrateOnAnUpToDateDatabaseChangesNothing) {
  SqliteTestDatabase database;
  int version = 0;
  {
    const std::unique_ptr<Store> store = database.open();
    version = database.schema_version(*store);
    store->close();
  }
  const std::map<int, std::int64_t> before = database.applied_migrations();
  sqlite::Connection connection(database.path(), false);
  EXPECT_EQ(sqlite::migrate(connection), version);
  EXPECT_EQ(sqlite::migrate(connection), version);
  EXPECT_EQ(database.applied_migrations(), before);
}

TEST(SqliteStore, MigrateCreatesTheSchemaOnAnEmptyFile) {
  const TempDir dir;
  const std::string path = (dir.path() / "fresh.db").string();
  sqlite::Connection connection(path, false);
  const int version = sqlite::migrate(connection);
  EXPECT_GT(version, 0);
  auto q = connection.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'users'");
  ASSERT_TRUE(q->step());
  EXPECT_EQ(q->column_int(0), 1);
}

TEST(SqliteStore, EventsStoredBeforeHistoryExistedGetTheirFirstVersion) {
  // A database as the migrations before event_versions left it, holding two events, one of
  // them already changed twice (version 3).
  const TempDir dir;
  const std::string path = (dir.path() / "old.db").string();
  {
    sqlite::Connection db(path, false);
    db.exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at INTEGER NOT NULL)");
    for (const embedded::Migration& migration : embedded::sqlite_migrations()) {
      if (migration.name.find("event_versions") != std::string_view::npos) break;
      db.exec(migration.sql);
      auto q = db.prepare("INSERT INTO schema_migrations VALUES (?1, ?2, 0)");
      q->bind(1, migration.version).bind(2, migration.name);
      q->run();
    }
    db.exec(
        "INSERT INTO users (id, username, username_key, email, email_key, password_hash, "
        "created_at) VALUES (7, 'alice', 'alice', 'a@example.com', 'a@example.com', 'h', 0);"
        "INSERT INTO events (id, owner_id, title, start_time, end_time, version, created_at, "
        "updated_at) VALUES (3, 7, 'Old', 100, 200, 3, 42, 43), (5, 7, 'New', 300, 400, 1, 44, "
        "44);");
  }
  sqlite::SqliteStore store(sqlite::SqliteOptions{.path = path});
  std::vector<domain::EventVersion> old_versions;
  std::vector<domain::EventVersion> new_versions;
  store.read([&](StoreReader& r) {
    old_versions = r.versions_at(3, 1, 10);
    new_versions = r.versions_at(5, 1, 10);
  });
  store.close();
  ASSERT_EQ(old_versions.size(), 1u);
  ASSERT_EQ(new_versions.size(), 1u);
  const domain::EventVersion& v = old_versions[0];
  EXPECT_EQ(v.type, domain::HistoryType::kCreated);
  EXPECT_EQ(v.version, 3);
  EXPECT_EQ(v.history_date, 42);
  EXPECT_EQ(v.fields.title, "Old");
  ASSERT_TRUE(v.changed_by.has_value());
  EXPECT_EQ(v.changed_by->username, "alice");
  EXPECT_LT(v.history_id, new_versions[0].history_id);
}

// 0004_list_counts.sql counts the participant rows that exist when it runs: run again on a database
// whose counts were dropped, it gives back the counts that the triggers had kept.
TEST(SqliteStore, ListCountsMigrationCountsExistingParticipants) {
  SqliteTestDatabase database;
  {
    const std::unique_ptr<Store> store = database.open();
    ASSERT_EQ(
        write_and_wait(
            *store,
            [](StoreWriter& w) {
              const UserId alice = w.insert_user(NewUser{"alice", "alice@example.com", "h"}).id;
              const UserId bob = w.insert_user(NewUser{"bob", "bob@example.com", "h"}).id;
              domain::EventFields f;
              f.title = "x";
              f.start_time = 0;
              f.end_time = 1;
              for (int i = 0; i < 3; ++i) w.insert_event(alice, f, {alice, {}});
              const domain::EventId shared = w.insert_event(bob, f, {bob, {}}).id;
              w.set_participant(shared, alice, domain::Role::kViewer);
            }),
        nullptr);
    store->close();
  }
  const auto counts = [&] {
    sqlite::Connection db(database.path(), false);
    std::map<std::pair<UserId, std::string>, std::int64_t> found;
    auto q = db.prepare("SELECT user_id, role, n FROM user_event_counts WHERE n != 0");
    while (q->step()) found[{q->column_int(0), q->column_text(1)}] = q->column_int(2);
    return found;
  };
  const auto expected = counts();
  ASSERT_EQ(expected.size(), 3u);  // alice OWNER 3 and VIEWER 1, bob OWNER 1
  {
    sqlite::Connection db(database.path(), false);
    // Back to before 0004 (its triggers are gone since 0007), then 0004 again.
    db.exec("DROP TABLE user_event_counts");
    const auto& migrations = embedded::sqlite_migrations();
    const auto list_counts = std::find_if(migrations.begin(), migrations.end(),
                                          [](const auto& m) { return m.version == 4; });
    ASSERT_NE(list_counts, migrations.end());
    db.exec(list_counts->sql);
  }
  EXPECT_EQ(counts(), expected);
}

TEST(SqliteStore, StoresOnDifferentFilesAreIndependent) {
  SqliteTestDatabase first;
  SqliteTestDatabase second;
  const std::unique_ptr<Store> a = first.open();
  const std::unique_ptr<Store> b = second.open();
  ASSERT_EQ(write_and_wait(*a,
                           [](StoreWriter& w) {
                             w.insert_user(NewUser{"alice", "alice@example.com", "h"});
                           }),
            nullptr);
  bool in_a = false;
  bool in_b = true;
  a->read([&](StoreReader& r) { in_a = r.username_exists("alice"); });
  b->read([&](StoreReader& r) { in_b = r.username_exists("alice"); });
  EXPECT_TRUE(in_a);
  EXPECT_FALSE(in_b);
  a->close();
  b->close();
}

// --- the read transaction a thread keeps between read() calls ----------------------------------

// A user written behind the store's back, as another process (`almanac user create`) would.
void insert_user_directly(const std::string& path, const std::string& name) {
  sqlite::Connection db(path, false);
  db.exec(
      "INSERT INTO users (username, username_key, email, email_key, password_hash, "
      "created_at) VALUES ('" +
      name + "', '" + name + "', '" + name + "@example.com', '" + name + "@example.com', 'h', 0)");
}

bool exists(Store& store, const std::string& name) {
  bool found = false;
  store.read([&](StoreReader& r) { found = r.username_exists(name); });
  return found;
}

TEST(SqliteStoreSnapshot, AnotherProcesssWriteIsSeenOnceTheThreadWentIdle) {
  SqliteTestDatabase database;
  const std::unique_ptr<Store> store = database.open();
  ASSERT_FALSE(exists(*store, "carol"));  // this thread's read transaction is kept open
  insert_user_directly(database.path(), "carol");
  EXPECT_FALSE(exists(*store, "carol"));  // served from the kept snapshot
  store->on_thread_idle();
  EXPECT_TRUE(exists(*store, "carol"));
  store->close();
}

// Whether a TRUNCATE checkpoint by another connection could complete: it cannot pass a reader's
// snapshot that is older than the WAL's last commit.
bool checkpoint_completes(const std::string& path) {
  sqlite::Connection db(path, false);
  db.exec("PRAGMA busy_timeout = 0");
  auto q = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  return q->step() && q->column_int(0) == 0;  // the first column is "busy"
}

// Adds user `name` through a write queued by a thread of its own (whose snapshots are not the
// caller's), and waits for it.
void insert_user_from_another_thread(Store& store, const std::string& name) {
  std::exception_ptr error;
  std::thread([&] {
    error = write_and_wait(store, [name](StoreWriter& w) {
      w.insert_user(NewUser{name, name + "@example.com", "h"});
    });
  }).join();
  ASSERT_EQ(error, nullptr);
}

// Leaves the calling thread keeping a snapshot older than a commit (user "erin", added by another
// thread), which holds back a checkpoint.
void keep_a_snapshot_older_than_a_commit(Store& store, const std::string& path) {
  ASSERT_FALSE(exists(store, "erin"));  // this thread now keeps a snapshot
  insert_user_from_another_thread(store, "erin");
  EXPECT_FALSE(checkpoint_completes(path));  // held back by the kept snapshot
}

TEST(SqliteStoreSnapshot, AFinishedRequestGivesBackASnapshotOlderThanACommit) {
  SqliteTestDatabase database;
  const std::unique_ptr<Store> store = database.open();
  keep_a_snapshot_older_than_a_commit(*store, database.path());
  store->on_request_done();
  EXPECT_TRUE(checkpoint_completes(database.path()));
  EXPECT_TRUE(exists(*store, "erin"));
  store->close();
}

// A request that reads and then waits for its write (a batch waits tens of milliseconds while
// other requests commit) gives its snapshot back when it hands the write over, not at its end.
TEST(SqliteStoreSnapshot, AWriteGivesBackTheSnapshotOfTheThreadThatQueuesIt) {
  SqliteTestDatabase database;
  const std::unique_ptr<Store> store = database.open();
  keep_a_snapshot_older_than_a_commit(*store, database.path());
  // Queued by this thread, with no read in between and no on_request_done(): only the hand-over
  // can have given the snapshot back.
  const std::exception_ptr error = write_and_wait(*store, [](StoreWriter& w) {
    w.insert_user(NewUser{"fay", "fay@example.com", "h"});
  });
  ASSERT_EQ(error, nullptr);
  EXPECT_TRUE(checkpoint_completes(database.path()));
  EXPECT_TRUE(exists(*store, "erin"));
  EXPECT_TRUE(exists(*store, "fay"));
  store->close();
}

TEST(SqliteStoreSnapshot, AFinishedRequestKeepsASnapshotNoCommitMadeOld) {
  SqliteTestDatabase database;
  const std::unique_ptr<Store> store = database.open();
  ASSERT_FALSE(exists(*store, "carol"));
  insert_user_directly(database.path(), "carol");  // another process: not a commit of ours
  store->on_request_done();
  EXPECT_FALSE(exists(*store, "carol"));  // still served from the kept snapshot
  store->on_thread_idle();
  EXPECT_TRUE(exists(*store, "carol"));
  store->close();
}

TEST(SqliteStoreSnapshot, AKeptSnapshotServesAtMostItsNumberOfReads) {
  SqliteTestDatabase database;
  const std::unique_ptr<Store> store = database.open();
  ASSERT_FALSE(exists(*store, "carol"));
  insert_user_directly(database.path(), "carol");
  unsigned stale_reads = 0;
  while (!exists(*store, "carol") && stale_reads <= sqlite::SqliteStore::kReadsPerSnapshot) {
    ++stale_reads;
  }
  EXPECT_EQ(stale_reads + 1, sqlite::SqliteStore::kReadsPerSnapshot);  // the first read counted
  store->close();
}

// A read whose work reads from another store (the thread's first read of it) keeps its own
// snapshot and connection (under ASan, a use after free if opening the second one moved the
// first's bookkeeping).
TEST(SqliteStoreSnapshot, AReadInsideAReadOfAnotherStore) {
  SqliteTestDatabase first_database;
  SqliteTestDatabase second_database;
  const std::unique_ptr<Store> first = first_database.open();
  const std::unique_ptr<Store> second = second_database.open();
  insert_user_from_another_thread(*first, "erin");
  insert_user_from_another_thread(*second, "fay");
  std::thread([&] {
    first->read([&](StoreReader& outer) {
      EXPECT_TRUE(outer.username_exists("erin"));
      for (int i = 0; i < 4; ++i) {
        second->read([](StoreReader& inner) {
          EXPECT_TRUE(inner.username_exists("fay"));
          EXPECT_FALSE(inner.username_exists("erin"));
        });
      }
      EXPECT_TRUE(outer.username_exists("erin"));
      EXPECT_FALSE(outer.username_exists("fay"));
    });
    first->on_thread_idle();
    second->on_thread_idle();
  }).join();
  first->close();
  second->close();
}

// A thread whose snapshot was taken before a commit of this process reads the commit next time,
// whichever store of the process made it (two stores may share a file).
void expect_commit_seen_by_a_waiting_thread(Store& reader_store, Store& writer_store) {
  std::promise<void> first_read_done;
  std::promise<void> written;
  bool before = true;
  bool after = false;
  std::thread reader([&] {
    before = exists(reader_store, "dave");
    first_read_done.set_value();
    written.get_future().wait();
    after = exists(reader_store, "dave");
  });
  first_read_done.get_future().wait();
  const std::exception_ptr error = write_and_wait(writer_store, [](StoreWriter& w) {
    w.insert_user(NewUser{"dave", "dave@example.com", "h"});
  });
  written.set_value();
  reader.join();
  EXPECT_EQ(error, nullptr);
  EXPECT_FALSE(before);
  EXPECT_TRUE(after);
}

TEST(SqliteStoreSnapshot, ACommitEndsTheKeptSnapshotOfEveryThread) {
  SqliteTestDatabase database;
  const std::unique_ptr<Store> store = database.open();
  expect_commit_seen_by_a_waiting_thread(*store, *store);
  store->close();
}

TEST(SqliteStoreSnapshot, ACommitOfAnotherStoreOnTheSameFileIsSeenToo) {
  SqliteTestDatabase database;
  const std::unique_ptr<Store> first = database.open();
  const std::unique_ptr<Store> second = database.open();
  expect_commit_seen_by_a_waiting_thread(*first, *second);
  first->close();
  second->close();
}

TEST(SqliteStoreSnapshot, AnErrorInsideTheWorkKeepsTheStoreUsable) {
  SqliteTestDatabase database;
  const std::unique_ptr<Store> store = database.open();
  EXPECT_THROW(store->read([](StoreReader& r) {
    r.username_exists("x");
    throw Error(ErrorCode::kNotFound, "not found");
  }),
               Error);
  insert_user_directly(database.path(), "erin");
  store->on_thread_idle();
  EXPECT_TRUE(exists(*store, "erin"));
  store->close();
}

}  // namespace
}  // namespace almanac::store
