// The event methods of store/store.hpp as one value-parameterised contract suite over engines
// (googletest docs/advanced.md, "Value-Parameterized Tests"), like sqlite_store_test.cpp. Today it
// runs on SQLite; a PostgreSQL engine joins by adding its EventEngine to INSTANTIATE_TEST_SUITE_P
// at the bottom. Every test starts on an empty database; every change goes through write().
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "domain/event.hpp"
#include "domain/event_view.hpp"
#include "domain/role.hpp"
#include "domain/time.hpp"
#include "domain/user.hpp"
#include "store/postgres/pg_db.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"
#include "support/postgres.hpp"
#include "support/store_writes.hpp"
#include "support/temp_dir.hpp"

namespace almanac::store {
namespace {

using domain::Conflicts;
using domain::Event;
using domain::EventFields;
using domain::EventId;
using domain::EventListQuery;
using domain::EventOrder;
using domain::EventPage;
using domain::EventVersion;
using domain::EventView;
using domain::HistoryId;
using domain::HistoryType;
using domain::NewUser;
using domain::Role;
using domain::Timestamp;
using domain::User;
using domain::UserId;
using test_support::describe_outcome;
using test_support::write_and_wait;
using test_support::write_or_throw;

constexpr Timestamp kMicrosecond = 1;
constexpr Timestamp kMinute = 60 * domain::kMicrosecondsPerSecond;
constexpr Timestamp kHour = 60 * kMinute;
constexpr Timestamp kDay = domain::kMicrosecondsPerDay;

// The instant of a UTC date and time; the fields must be valid.
Timestamp at(int year, int month, int day, int hour = 0, int minute = 0, int second = 0,
             int microsecond = 0) {
  const std::optional<Timestamp> t =
      domain::from_civil({year, month, day, hour, minute, second, microsecond});
  if (!t) throw std::invalid_argument("not a valid UTC time");
  return *t;
}

// A Sunday in 2025 that most tests schedule on.
Timestamp on_day(int hour, int minute = 0) { return at(2025, 4, 27, hour, minute); }

// A plain one-off event.
EventFields fields(std::string title, Timestamp start, Timestamp end) {
  EventFields f;
  f.title = std::move(title);
  f.start_time = start;
  f.end_time = end;
  return f;
}

std::vector<EventId> ids_of(const std::vector<Event>& events) {
  std::vector<EventId> ids;
  for (const Event& e : events) ids.push_back(e.id);
  return ids;
}

std::vector<EventId> ids_of(const EventPage& page) {
  std::vector<EventId> ids;
  for (const EventView& view : page.results) ids.push_back(view.event.id);
  return ids;
}

// The ids of the conflicts described (visible), in the order given.
std::vector<EventId> visible_ids(const Conflicts& conflicts) {
  std::vector<EventId> ids;
  for (const domain::ConflictSummary& c : conflicts.visible) ids.push_back(c.id);
  return ids;
}

std::vector<EventId> sorted(std::vector<EventId> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

void expect_same_event(const Event& actual, const Event& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.owner_id, expected.owner_id);
  EXPECT_EQ(actual.version, expected.version);
  EXPECT_EQ(actual.fields.title, expected.fields.title);
  EXPECT_EQ(actual.fields.description, expected.fields.description);
  EXPECT_EQ(actual.fields.start_time, expected.fields.start_time);
  EXPECT_EQ(actual.fields.end_time, expected.fields.end_time);
  EXPECT_EQ(actual.fields.location, expected.fields.location);
  EXPECT_EQ(actual.fields.is_recurring, expected.fields.is_recurring);
  EXPECT_EQ(actual.fields.recurrence_pattern, expected.fields.recurrence_pattern);
}

// --- engines ------------------------------------------------------------------------------------

// One empty database of one engine, made for one test and dropped after it.
class EventTestDatabase {
 public:
  virtual ~EventTestDatabase() = default;
  // A new store on this database.
  virtual std::unique_ptr<Store> open() = 0;
  // Tries to change, then to delete, version `history_id` behind the store's back; true when the
  // engine refused both (history is immutable in the database itself, not only in the API).
  virtual bool refuses_to_rewrite_version(domain::HistoryId history_id) = 0;
};

struct EventEngine {
  std::string name;
  std::function<std::unique_ptr<EventTestDatabase>()> make_database;
};

// Names the engine in test listings and failure messages.
void PrintTo(const EventEngine& engine, std::ostream* out) { *out << engine.name; }

// SQLite: a database file in a temporary directory of its own.
class SqliteEventTestDatabase final : public EventTestDatabase {
 public:
  std::unique_ptr<Store> open() override {
    return std::make_unique<sqlite::SqliteStore>(sqlite::SqliteOptions{.path = path()});
  }

  bool refuses_to_rewrite_version(domain::HistoryId history_id) override {
    sqlite::Connection db(path(), false);
    int refused = 0;
    for (const std::string_view sql :
         {std::string_view("UPDATE event_versions SET title = 'forged' WHERE history_id = ?1"),
          std::string_view("DELETE FROM event_versions WHERE history_id = ?1")}) {
      try {
        auto q = db.prepare(sql);
        q->bind(1, history_id);
        q->run();
      } catch (const sqlite::SqliteError&) {
        ++refused;
      }
    }
    return refused == 2;
  }

 private:
  std::string path() const { return (dir_.path() / "almanac.db").string(); }

  test_support::TempDir dir_;
};

EventEngine sqlite_engine() {
  return {"Sqlite", [] { return std::make_unique<SqliteEventTestDatabase>(); }};
}

// PostgreSQL: a database of its own on the test server (support/postgres.hpp).
class PgEventTestDatabase final : public EventTestDatabase {
 public:
  explicit PgEventTestDatabase(const std::string& server) : database_(server) {}

  std::unique_ptr<Store> open() override {
    // One write worker: the contract's tests expect jobs queued together to take effect in
    // order, as SQLite's single writer does. Concurrent workers: pg_store_test.cpp.
    return std::make_unique<postgres::PgStore>(
        postgres::PgOptions{.url = database_.url(), .pool_size = 4, .writers = 1});
  }

  bool refuses_to_rewrite_version(domain::HistoryId history_id) override {
    postgres::Connection db(database_.url());
    int refused = 0;
    for (const std::string& sql :
         {std::string("UPDATE event_versions SET title = 'forged' WHERE history_id = $1::bigint"),
          std::string("DELETE FROM event_versions WHERE history_id = $1::bigint")}) {
      try {
        db.query(sql, postgres::Params().add(history_id));
      } catch (const postgres::PgError&) {
        ++refused;
      }
    }
    return refused == 2;
  }

 private:
  test_support::TempPgDatabase database_;
};

EventEngine postgres_engine() {
  return {"Postgres", []() -> std::unique_ptr<EventTestDatabase> {
            const std::optional<std::string> server = test_support::test_postgres_url();
            if (!server) return nullptr;  // skipped: no test server configured
            return std::make_unique<PgEventTestDatabase>(*server);
          }};
}

// --- the contract -------------------------------------------------------------------------------

class EventStoreContract : public testing::TestWithParam<EventEngine> {
 protected:
  void SetUp() override {
    database_ = GetParam().make_database();
    if (!database_) GTEST_SKIP() << "no PostgreSQL test server (ALMANAC_TEST_POSTGRES)";
    store_ = database_->open();
  }

  void TearDown() override {
    if (store_) store_->close();
  }

  User add_user(const std::string& name) {
    User user;
    write_or_throw(*store_, [&](StoreWriter& w) {
      user = w.insert_user(NewUser{name, name + "@example.com", "$argon2id$hash"});
    });
    return user;
  }

  Event add_event(UserId owner, const EventFields& f) {
    Event event;
    write_or_throw(*store_, [&](StoreWriter& w) { event = w.insert_event(owner, f, {owner, {}}); });
    owners_[event.id] = owner;
    return event;
  }

  // Inserts every one of `all` in one write() job, in order.
  std::vector<Event> add_events(UserId owner, const std::vector<EventFields>& all) {
    std::vector<Event> events;
    write_or_throw(*store_, [&](StoreWriter& w) {
      events.clear();
      for (const EventFields& f : all) events.push_back(w.insert_event(owner, f, {owner, {}}));
    });
    for (const Event& event : events) owners_[event.id] = owner;
    return events;
  }

  // Changes made by the event's owner, without a reason.
  void update_event(EventId id, const EventFields& f, std::int64_t version) {
    write_or_throw(*store_, [&](StoreWriter& w) {
      w.update_event(id, f, version, {owners_.at(id), {}});
    });
  }

  void delete_event(EventId id) {
    write_or_throw(*store_, [&](StoreWriter& w) { w.delete_event(id, {owners_.at(id), {}}); });
  }

  void share(EventId event, UserId user, Role role) {
    write_or_throw(*store_, [&](StoreWriter& w) { w.set_participant(event, user, role); });
  }

  // The result of `query` run inside one read transaction.
  template <typename Query>
  auto read(Query query) {
    std::optional<decltype(query(std::declval<StoreReader&>()))> result;
    store_->read([&](StoreReader& reader) { result.emplace(query(reader)); });
    return std::move(*result);
  }

  std::optional<EventView> find_event_for(UserId user, EventId id) {
    return read([&](StoreReader& r) { return r.find_event_for(user, id); });
  }
  EventPage list(UserId user, const EventListQuery& query) {
    return read([&](StoreReader& r) { return r.list_events(user, query); });
  }
  // Sorted: the contract promises no order.
  std::vector<UserId> participants_of(EventId id) {
    return sorted(read([&](StoreReader& r) { return r.participants_of(id); }));
  }
  Conflicts find_conflicts(const std::vector<UserId>& users, Timestamp start, Timestamp end,
                           EventId exclude, UserId viewer) {
    return read(
        [&](StoreReader& r) { return r.find_conflicts(users, start, end, exclude, viewer); });
  }
  // The conflicts of `user`'s own calendar with [start, end), as `user` sees them.
  Conflicts conflicts_of(UserId user, Timestamp start, Timestamp end, EventId exclude = 0) {
    return find_conflicts({user}, start, end, exclude, user);
  }
  // The ids `user` would be told about for [start, end); checks they are all the conflicts.
  std::vector<EventId> conflict_ids(UserId user, Timestamp start, Timestamp end) {
    const Conflicts c = conflicts_of(user, start, end);
    EXPECT_EQ(c.total, static_cast<std::int64_t>(c.visible.size()));
    return sorted(visible_ids(c));
  }

  std::unique_ptr<EventTestDatabase> database_;  // declared first: outlives the store
  std::unique_ptr<Store> store_;
  std::map<EventId, UserId> owners_;  // who created each event added through the fixture
};

// --- insert_event, find_event_for, participants_of
// ------------------------------------------------

TEST_P(EventStoreContract, InsertedEventGetsAnIdAndVersionOne) {
  const User alice = add_user("alice");
  EventFields f = fields("Standup", on_day(9), on_day(9, 15));
  f.description = "Daily sync";
  f.location = "Room 1";
  const Event first = add_event(alice.id, f);
  const Event second = add_event(alice.id, fields("Lunch", on_day(12), on_day(13)));
  EXPECT_GT(first.id, 0);
  EXPECT_GT(second.id, 0);
  EXPECT_NE(first.id, second.id);
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(second.version, 1);
  EXPECT_EQ(first.owner_id, alice.id);
  EXPECT_EQ(first.fields, f);
}

TEST_P(EventStoreContract, OwnerFindsTheInsertedEventAsOwner) {
  const User alice = add_user("alice");
  EventFields f = fields("Café ☕ «planning»", on_day(9), on_day(10, 30));
  f.description = "Quotes ' \" and\nnew lines";
  f.location = "Zürich";
  f.is_recurring = true;
  f.recurrence_pattern = "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10";
  const Event event = add_event(alice.id, f);

  const std::optional<EventView> view = find_event_for(alice.id, event.id);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->role, Role::kOwner);
  expect_same_event(view->event, event);
  EXPECT_EQ(view->event.version, 1);
}

TEST_P(EventStoreContract, AbsentRecurrencePatternStaysAbsent) {
  const User alice = add_user("alice");
  const Event event = add_event(alice.id, fields("One-off", on_day(9), on_day(10)));
  const std::optional<EventView> view = find_event_for(alice.id, event.id);
  ASSERT_TRUE(view.has_value());
  EXPECT_FALSE(view->event.fields.is_recurring);
  EXPECT_EQ(view->event.fields.recurrence_pattern, std::nullopt);
  EXPECT_EQ(view->event.fields.description, "");
  EXPECT_EQ(view->event.fields.location, "");
}

TEST_P(EventStoreContract, AnotherUserDoesNotFindTheEvent) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event event = add_event(alice.id, fields("Private", on_day(9), on_day(10)));
  EXPECT_EQ(find_event_for(bob.id, event.id), std::nullopt);
  EXPECT_EQ(find_event_for(bob.id + 1000, event.id), std::nullopt);  // no such user
}

TEST_P(EventStoreContract, MissingEventIsNotFound) {
  const User alice = add_user("alice");
  const Event event = add_event(alice.id, fields("Only one", on_day(9), on_day(10)));
  EXPECT_EQ(find_event_for(alice.id, event.id + 1000), std::nullopt);
  EXPECT_EQ(find_event_for(alice.id, 0), std::nullopt);
  EXPECT_EQ(find_event_for(alice.id, -1), std::nullopt);
}

TEST_P(EventStoreContract, SharedEventIsFoundWithEachParticipantsRole) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const User carol = add_user("carol");
  const Event event = add_event(alice.id, fields("Review", on_day(9), on_day(10)));
  share(event.id, bob.id, Role::kEditor);
  share(event.id, carol.id, Role::kViewer);
  ASSERT_TRUE(find_event_for(bob.id, event.id).has_value());
  EXPECT_EQ(find_event_for(alice.id, event.id)->role, Role::kOwner);
  EXPECT_EQ(find_event_for(bob.id, event.id)->role, Role::kEditor);
  EXPECT_EQ(find_event_for(carol.id, event.id)->role, Role::kViewer);
  expect_same_event(find_event_for(carol.id, event.id)->event, event);
  EXPECT_EQ(find_event_for(carol.id, event.id)->event.owner_id, alice.id);
}

TEST_P(EventStoreContract, ParticipantsOfANewEventAreItsOwnerAlone) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event event = add_event(alice.id, fields("Solo", on_day(9), on_day(10)));
  add_event(bob.id, fields("Bob's own", on_day(9), on_day(10)));
  EXPECT_EQ(participants_of(event.id), std::vector<UserId>{alice.id});
}

TEST_P(EventStoreContract, ParticipantsOfListEveryoneTakingPart) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const User carol = add_user("carol");
  const Event event = add_event(alice.id, fields("Team", on_day(9), on_day(10)));
  share(event.id, bob.id, Role::kEditor);
  share(event.id, carol.id, Role::kViewer);
  EXPECT_EQ(participants_of(event.id), sorted({alice.id, bob.id, carol.id}));
}

TEST_P(EventStoreContract, ParticipantsOfAMissingEventIsEmpty) {
  const User alice = add_user("alice");
  const Event event = add_event(alice.id, fields("Team", on_day(9), on_day(10)));
  EXPECT_TRUE(participants_of(event.id + 1000).empty());
}

TEST_P(EventStoreContract, EventInsertedByAFailedJobLeavesNoTrace) {
  const User alice = add_user("alice");
  EventId id = 0;
  const std::exception_ptr error = write_and_wait(*store_, [&](StoreWriter& w) {
    id = w.insert_event(alice.id, fields("Doomed", on_day(9), on_day(10)), {alice.id, {}}).id;
    throw std::runtime_error("job failed after inserting");
  });
  EXPECT_EQ(describe_outcome(error), "exception: job failed after inserting");
  ASSERT_GT(id, 0);
  EXPECT_EQ(find_event_for(alice.id, id), std::nullopt);
  EXPECT_TRUE(participants_of(id).empty());
  EXPECT_EQ(conflicts_of(alice.id, on_day(9), on_day(10)).total, 0);
  EXPECT_EQ(list(alice.id, {}).count, 0);
}

TEST_P(EventStoreContract, ConflictSearchInTheSameJobSeesEventsInsertedEarlierInIt) {
  // A batch create inserts and checks one item after the other inside one job.
  const User alice = add_user("alice");
  Conflicts before;
  Conflicts after;
  EventId first = 0;
  write_or_throw(*store_, [&](StoreWriter& w) {
    const UserId users[] = {alice.id};
    before = w.find_conflicts(users, on_day(9, 30), on_day(10, 30), 0, alice.id);
    first = w.insert_event(alice.id, fields("First", on_day(9), on_day(10)), {alice.id, {}}).id;
    after = w.find_conflicts(users, on_day(9, 30), on_day(10, 30), 0, alice.id);
  });
  EXPECT_EQ(before.total, 0);
  EXPECT_EQ(after.total, 1);
  EXPECT_EQ(visible_ids(after), std::vector<EventId>{first});
}

// --- update_event -------------------------------------------------------------------------------

TEST_P(EventStoreContract, UpdateReplacesEveryFieldAndSetsTheVersion) {
  const User alice = add_user("alice");
  EventFields original = fields("Draft", on_day(9), on_day(10));
  original.description = "old description";
  original.location = "old room";
  const Event event = add_event(alice.id, original);

  EventFields changed;
  changed.title = "Final";
  changed.description = "new description";
  changed.start_time = at(2026, 1, 2, 14, 15, 16, 17);
  changed.end_time = at(2026, 1, 2, 18, 0);
  changed.location = "new room";
  changed.is_recurring = true;
  changed.recurrence_pattern = "weekly";
  update_event(event.id, changed, 2);

  const std::optional<EventView> view = find_event_for(alice.id, event.id);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->role, Role::kOwner);
  expect_same_event(view->event, Event{event.id, changed, alice.id, 2});

  // And back: a pattern can be removed again, and the version is whatever the caller sets.
  update_event(event.id, original, 7);
  const std::optional<EventView> reverted = find_event_for(alice.id, event.id);
  ASSERT_TRUE(reverted.has_value());
  expect_same_event(reverted->event, Event{event.id, original, alice.id, 7});
}

TEST_P(EventStoreContract, UpdateLeavesOtherEventsAndParticipantsAlone) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event target = add_event(alice.id, fields("Target", on_day(9), on_day(10)));
  const Event other = add_event(alice.id, fields("Other", on_day(11), on_day(12)));
  share(target.id, bob.id, Role::kEditor);
  update_event(target.id, fields("Renamed", on_day(13), on_day(14)), 2);

  expect_same_event(find_event_for(alice.id, other.id)->event, other);
  EXPECT_EQ(participants_of(target.id), sorted({alice.id, bob.id}));
  const std::optional<EventView> seen_by_bob = find_event_for(bob.id, target.id);
  ASSERT_TRUE(seen_by_bob.has_value());
  EXPECT_EQ(seen_by_bob->role, Role::kEditor);
  EXPECT_EQ(seen_by_bob->event.fields.title, "Renamed");
  EXPECT_EQ(seen_by_bob->event.version, 2);
}

// --- delete_event -------------------------------------------------------------------------------

TEST_P(EventStoreContract, DeleteRemovesTheEventItsParticipantsAndItsIndexEntries) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event doomed = add_event(alice.id, fields("Doomed", on_day(9), on_day(10)));
  const Event kept = add_event(alice.id, fields("Kept", on_day(9, 30), on_day(11)));
  share(doomed.id, bob.id, Role::kViewer);
  ASSERT_EQ(conflict_ids(bob.id, on_day(9), on_day(10)), std::vector<EventId>{doomed.id});

  delete_event(doomed.id);

  EXPECT_EQ(find_event_for(alice.id, doomed.id), std::nullopt);
  EXPECT_EQ(find_event_for(bob.id, doomed.id), std::nullopt);
  EXPECT_TRUE(participants_of(doomed.id).empty());
  // Neither the owner's nor the other participant's interval box finds it any more.
  EXPECT_EQ(conflict_ids(alice.id, on_day(9), on_day(10)), std::vector<EventId>{kept.id});
  EXPECT_EQ(conflicts_of(bob.id, on_day(9), on_day(10)).total, 0);
  EXPECT_EQ(find_conflicts({alice.id, bob.id}, on_day(8), on_day(12), 0, bob.id).total, 1);
  // The other event is untouched.
  expect_same_event(find_event_for(alice.id, kept.id)->event, kept);
  EXPECT_EQ(ids_of(list(alice.id, {})), std::vector<EventId>{kept.id});
  EXPECT_EQ(list(bob.id, {}).count, 0);
}

TEST_P(EventStoreContract, DeletedSlotCanBeBookedAgain) {
  // Also shows that nothing of the deleted event's index entry is left to collide with the new
  // event's (an engine may hand the new rows the freed ids).
  const User alice = add_user("alice");
  const Event first = add_event(alice.id, fields("First", on_day(9), on_day(10)));
  delete_event(first.id);
  const Event second = add_event(alice.id, fields("Second", on_day(9), on_day(10)));
  const Conflicts c = conflicts_of(alice.id, on_day(9), on_day(10));
  EXPECT_EQ(c.total, 1);
  ASSERT_EQ(c.visible.size(), 1u);
  EXPECT_EQ(c.visible[0].id, second.id);
  EXPECT_EQ(c.visible[0].title, "Second");
}

TEST_P(EventStoreContract, IdsOfDeletedEventsAreNeverReused) {
  // A client (or a history entry) still holding the old id must not reach a new event, which
  // would also start again at version 1.
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  add_event(alice.id, fields("Older", on_day(8), on_day(9)));
  const Event newest = add_event(alice.id, fields("Newest", on_day(9), on_day(10)));
  delete_event(newest.id);
  const Event next = add_event(bob.id, fields("Bob's", on_day(9), on_day(10)));
  EXPECT_NE(next.id, newest.id);
  EXPECT_GT(next.id, newest.id);
  EXPECT_EQ(find_event_for(alice.id, newest.id), std::nullopt);
}

// --- find_conflicts: the overlap rule -----------------------------------------------------------

TEST_P(EventStoreContract, PartiallyOverlappingRangesConflict) {
  const User alice = add_user("alice");
  const Event e = add_event(alice.id, fields("Meeting", on_day(10), on_day(11)));
  EXPECT_EQ(conflict_ids(alice.id, on_day(10, 30), on_day(11, 30)), std::vector<EventId>{e.id});
  EXPECT_EQ(conflict_ids(alice.id, on_day(9, 30), on_day(10, 30)), std::vector<EventId>{e.id});
}

TEST_P(EventStoreContract, ContainedAndContainingRangesConflict) {
  const User alice = add_user("alice");
  const Event e = add_event(alice.id, fields("Meeting", on_day(10), on_day(11)));
  EXPECT_EQ(conflict_ids(alice.id, on_day(10, 15), on_day(10, 45)), std::vector<EventId>{e.id});
  EXPECT_EQ(conflict_ids(alice.id, on_day(9), on_day(12)), std::vector<EventId>{e.id});
  EXPECT_EQ(conflict_ids(alice.id, at(2025, 1, 1), at(2026, 1, 1)), std::vector<EventId>{e.id});
}

TEST_P(EventStoreContract, IdenticalRangesConflict) {
  const User alice = add_user("alice");
  const Event e = add_event(alice.id, fields("Meeting", on_day(10), on_day(11)));
  const Conflicts c = conflicts_of(alice.id, on_day(10), on_day(11));
  EXPECT_EQ(c.total, 1);
  ASSERT_EQ(c.visible.size(), 1u);
  EXPECT_EQ(c.visible[0].id, e.id);
  EXPECT_EQ(c.visible[0].title, "Meeting");
  EXPECT_EQ(c.visible[0].start_time, on_day(10));
  EXPECT_EQ(c.visible[0].end_time, on_day(11));
}

TEST_P(EventStoreContract, TouchingRangesDoNotConflict) {
  const User alice = add_user("alice");
  add_event(alice.id, fields("Meeting", on_day(10), on_day(11)));
  EXPECT_EQ(conflicts_of(alice.id, on_day(11), on_day(12)).total, 0);  // starts as it ends
  EXPECT_EQ(conflicts_of(alice.id, on_day(9), on_day(10)).total, 0);   // ends as it starts
}

TEST_P(EventStoreContract, OneMicrosecondOfOverlapConflicts) {
  const User alice = add_user("alice");
  const Event e = add_event(alice.id, fields("Meeting", on_day(10), on_day(11)));
  EXPECT_EQ(conflict_ids(alice.id, on_day(11) - kMicrosecond, on_day(12)),
            std::vector<EventId>{e.id});
  EXPECT_EQ(conflict_ids(alice.id, on_day(9), on_day(10) + kMicrosecond),
            std::vector<EventId>{e.id});
}

TEST_P(EventStoreContract, SubHourGapsAreExactAcrossTheHourlyIndex) {
  // The index is in whole hours; the exact test must still separate ranges inside one hour.
  const User alice = add_user("alice");
  const Event late = add_event(alice.id, fields("Late half", on_day(10, 30), on_day(11)));
  EXPECT_EQ(conflicts_of(alice.id, on_day(10), on_day(10, 30)).total, 0);
  EXPECT_EQ(conflict_ids(alice.id, on_day(10), on_day(10, 31)), std::vector<EventId>{late.id});

  const Event early = add_event(alice.id, fields("Early half", on_day(14), on_day(14, 30)));
  EXPECT_EQ(conflicts_of(alice.id, on_day(14, 30), on_day(15)).total, 0);
  EXPECT_EQ(conflict_ids(alice.id, on_day(14, 29), on_day(15)), std::vector<EventId>{early.id});

  // Neighbours in adjacent hours share widened index boxes but not a single instant.
  add_event(alice.id, fields("Just before", on_day(16, 50), on_day(16, 55)));
  EXPECT_EQ(conflicts_of(alice.id, on_day(17, 5), on_day(17, 10)).total, 0);
}

TEST_P(EventStoreContract, RangesOnExactHourBoundariesAreExact) {
  const User alice = add_user("alice");
  const Event e = add_event(alice.id, fields("Three hours", on_day(10), on_day(13)));
  EXPECT_EQ(conflicts_of(alice.id, on_day(13), on_day(14)).total, 0);
  EXPECT_EQ(conflicts_of(alice.id, on_day(7), on_day(10)).total, 0);
  EXPECT_EQ(conflict_ids(alice.id, on_day(12), on_day(13)), std::vector<EventId>{e.id});
  EXPECT_EQ(conflict_ids(alice.id, on_day(10), on_day(11)), std::vector<EventId>{e.id});
  EXPECT_EQ(conflict_ids(alice.id, on_day(11), on_day(12)), std::vector<EventId>{e.id});
  EXPECT_EQ(conflict_ids(alice.id, on_day(13) - kMicrosecond, on_day(13)),
            std::vector<EventId>{e.id});
}

TEST_P(EventStoreContract, ZeroLengthStoredRangesNeverConflict) {
  const User alice = add_user("alice");
  add_event(alice.id, fields("Instant inside an hour", on_day(10, 30), on_day(10, 30)));
  add_event(alice.id, fields("Instant on the hour", on_day(11), on_day(11)));
  EXPECT_EQ(conflicts_of(alice.id, on_day(10), on_day(12)).total, 0);
  EXPECT_EQ(conflicts_of(alice.id, on_day(10, 30), on_day(10, 31)).total, 0);
  EXPECT_EQ(conflicts_of(alice.id, on_day(10, 29), on_day(10, 30)).total, 0);
  EXPECT_EQ(conflicts_of(alice.id, on_day(11), on_day(11, 1)).total, 0);
}

TEST_P(EventStoreContract, EmptyCandidateRangeConflictsWithNothing) {
  // find_conflicts follows domain::overlaps, where an empty range overlaps nothing.
  const User alice = add_user("alice");
  add_event(alice.id, fields("Meeting", on_day(10), on_day(11)));
  EXPECT_EQ(conflicts_of(alice.id, on_day(10, 30), on_day(10, 30)).total, 0);
  EXPECT_EQ(conflicts_of(alice.id, on_day(10, 45), on_day(10, 15)).total, 0);
}

TEST_P(EventStoreContract, ExcludedEventDoesNotConflictWithItself) {
  const User alice = add_user("alice");
  const Event moving = add_event(alice.id, fields("Moving", on_day(10), on_day(11)));
  const Event other = add_event(alice.id, fields("Other", on_day(10, 30), on_day(12)));
  EXPECT_EQ(visible_ids(conflicts_of(alice.id, on_day(10), on_day(11), moving.id)),
            std::vector<EventId>{other.id});
  EXPECT_EQ(conflicts_of(alice.id, on_day(10), on_day(10, 30), moving.id).total, 0);
  // Excluding an id nobody holds excludes nothing.
  EXPECT_EQ(conflicts_of(alice.id, on_day(10), on_day(11), other.id + 1000).total, 2);
}

TEST_P(EventStoreContract, AnotherUsersEventsNeverConflictWithMine) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event bobs = add_event(bob.id, fields("Bob's", on_day(10), on_day(11)));
  EXPECT_EQ(conflicts_of(alice.id, on_day(10), on_day(11)).total, 0);
  EXPECT_EQ(conflict_ids(bob.id, on_day(10), on_day(11)), std::vector<EventId>{bobs.id});
  const User no_events = add_user("carol");
  EXPECT_EQ(conflicts_of(no_events.id, on_day(0), on_day(23)).total, 0);
  EXPECT_EQ(find_conflicts({}, on_day(0), on_day(23), 0, alice.id).total, 0);
}

TEST_P(EventStoreContract, EventsSharedWithMeConflictWithMine) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event bobs = add_event(bob.id, fields("Bob's, shared", on_day(10), on_day(11)));
  share(bobs.id, alice.id, Role::kViewer);
  EXPECT_EQ(conflict_ids(alice.id, on_day(10, 30), on_day(12)), std::vector<EventId>{bobs.id});
}

// An engine may search a user's events by their length (SQLite: by the class of their box); an
// event whose length is new to a user, by an update or by a share, is found like any other.
TEST_P(EventStoreContract, EventsOfALengthNewToTheUserAreFound) {
  const auto hour = [](std::int64_t h) { return on_day(0) + h * 3'600'000'000; };
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event meeting = add_event(alice.id, fields("Meeting", hour(9), hour(10)));
  const Event bobs = add_event(bob.id, fields("Bob's fortnight", hour(200), hour(500)));
  // A week long: a length none of alice's events had.
  update_event(meeting.id, fields("Offsite", hour(30), hour(30 + 7 * 24)), 2);
  EXPECT_EQ(conflict_ids(alice.id, hour(100), hour(101)), std::vector<EventId>{meeting.id});
  EXPECT_EQ(conflicts_of(alice.id, hour(9), hour(10)).total, 0);
  share(bobs.id, alice.id, Role::kViewer);  // twelve days long, also new to alice
  EXPECT_EQ(conflict_ids(alice.id, hour(300), hour(301)), std::vector<EventId>{bobs.id});
}

TEST_P(EventStoreContract, SeveralUsersInTheSpanAreUnitedAndDeduplicated) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const User carol = add_user("carol");
  const Event shared = add_event(alice.id, fields("Shared", on_day(10), on_day(11)));
  share(shared.id, bob.id, Role::kEditor);
  share(shared.id, carol.id, Role::kViewer);
  const Event bobs = add_event(bob.id, fields("Bob's", on_day(10, 30), on_day(11, 30)));
  const Event carols = add_event(carol.id, fields("Carol's", on_day(9), on_day(10, 15)));
  add_event(carol.id, fields("Carol's later", on_day(11), on_day(12)));  // touches only

  const Conflicts c =
      find_conflicts({alice.id, bob.id, carol.id}, on_day(10), on_day(11), 0, carol.id);
  EXPECT_EQ(c.total, 3);  // `shared` once, though all three take part in it
  EXPECT_EQ(visible_ids(c), (std::vector<EventId>{carols.id, shared.id}));

  // The same user twice in the span counts nothing twice.
  const Conflicts twice = find_conflicts({bob.id, bob.id}, on_day(10), on_day(11), 0, bob.id);
  EXPECT_EQ(twice.total, 2);
  EXPECT_EQ(visible_ids(twice), (std::vector<EventId>{shared.id, bobs.id}));
}

TEST_P(EventStoreContract, ConflictsOutsideTheViewersEventsAreCountedButNotDescribed) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event alices = add_event(alice.id, fields("Alice's", on_day(10), on_day(11)));
  const Event bobs = add_event(bob.id, fields("Bob's private", on_day(9), on_day(10, 30)));
  const Event shared = add_event(bob.id, fields("Bob's, shared", on_day(10, 45), on_day(12)));
  share(shared.id, alice.id, Role::kViewer);

  const std::vector<UserId> both = {alice.id, bob.id};
  const Conflicts as_alice = find_conflicts(both, on_day(10), on_day(11), 0, alice.id);
  EXPECT_EQ(as_alice.total, 3);
  EXPECT_EQ(visible_ids(as_alice), (std::vector<EventId>{alices.id, shared.id}));

  const Conflicts as_bob = find_conflicts(both, on_day(10), on_day(11), 0, bob.id);
  EXPECT_EQ(as_bob.total, 3);
  EXPECT_EQ(visible_ids(as_bob), (std::vector<EventId>{bobs.id, shared.id}));

  // A viewer who takes part in none of them is told only how many there are.
  const User carol = add_user("carol");
  const Conflicts as_carol = find_conflicts(both, on_day(10), on_day(11), 0, carol.id);
  EXPECT_EQ(as_carol.total, 3);
  EXPECT_TRUE(as_carol.visible.empty());
}

TEST_P(EventStoreContract, AtMostTenConflictsAreDescribedEarliestFirstAndAllAreCounted) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  // Inserted latest first, so that id order is the reverse of start order.
  std::vector<EventFields> mine;
  for (int i = 11; i >= 0; --i) {
    mine.push_back(
        fields("Mine " + std::to_string(i), on_day(10) + i * kMinute, on_day(11) + i * kMinute));
  }
  const std::vector<Event> alices = add_events(alice.id, mine);
  // Bob's start earliest of all, but alice cannot see them: they must not take visible slots.
  std::vector<EventFields> his;
  for (int i = 0; i < 3; ++i) {
    his.push_back(fields("His " + std::to_string(i), on_day(9) + i * kMinute, on_day(10, 30)));
  }
  add_events(bob.id, his);

  const Conflicts c =
      find_conflicts({alice.id, bob.id}, on_day(10, 20), on_day(10, 40), 0, alice.id);
  EXPECT_EQ(c.total, 15);
  ASSERT_EQ(c.visible.size(), domain::kMaxConflictsListed);
  for (std::size_t i = 0; i < c.visible.size(); ++i) {
    // alices[11 - i] starts at 10:00 + i minutes.
    EXPECT_EQ(c.visible[i].id, alices[11 - i].id) << i;
    EXPECT_EQ(c.visible[i].start_time, on_day(10) + static_cast<Timestamp>(i) * kMinute) << i;
  }

  const Conflicts own = conflicts_of(alice.id, on_day(10, 20), on_day(10, 40));
  EXPECT_EQ(own.total, 12);
  EXPECT_EQ(own.visible.size(), domain::kMaxConflictsListed);
}

TEST_P(EventStoreContract, ExactlyTenConflictsAreAllDescribed) {
  const User alice = add_user("alice");
  std::vector<EventFields> ten;
  for (int i = 0; i < 10; ++i) {
    ten.push_back(fields("E" + std::to_string(i), on_day(10) + i * kMinute, on_day(12)));
  }
  const std::vector<Event> events = add_events(alice.id, ten);
  const Conflicts c = conflicts_of(alice.id, on_day(11), on_day(11, 30));
  EXPECT_EQ(c.total, 10);
  EXPECT_EQ(visible_ids(c), ids_of(events));
}

// --- find_conflicts: far and extreme times ------------------------------------------------------

TEST_P(EventStoreContract, EventsYearsApartAreFoundOnlyWhereTheyAre) {
  const User alice = add_user("alice");
  const Event y1975 = add_event(alice.id, fields("1975", at(1975, 6, 1, 10), at(1975, 6, 1, 11)));
  const Event y2025 = add_event(alice.id, fields("2025", on_day(10), on_day(11)));
  const Event y2075 = add_event(alice.id, fields("2075", at(2075, 6, 1, 10), at(2075, 6, 1, 11)));
  const Event y2500 = add_event(alice.id, fields("2500", at(2500, 2, 28, 23), at(2500, 3, 1, 1)));

  EXPECT_EQ(conflict_ids(alice.id, on_day(10, 30), on_day(12)), std::vector<EventId>{y2025.id});
  EXPECT_EQ(conflict_ids(alice.id, at(1975, 6, 1, 10, 59), at(1975, 6, 1, 12)),
            std::vector<EventId>{y1975.id});
  EXPECT_EQ(conflict_ids(alice.id, at(2500, 3, 1), at(2500, 3, 1, 0, 1)),
            std::vector<EventId>{y2500.id});
  // The same time of day in another year is free.
  EXPECT_EQ(conflicts_of(alice.id, at(2024, 4, 27, 10), at(2024, 4, 27, 11)).total, 0);
  EXPECT_EQ(conflicts_of(alice.id, at(2075, 6, 2, 10), at(2075, 6, 2, 11)).total, 0);
  // A range of centuries finds every one of them.
  EXPECT_EQ(conflict_ids(alice.id, at(1970, 1, 1), at(2600, 1, 1)),
            sorted({y1975.id, y2025.id, y2075.id, y2500.id}));
  EXPECT_EQ(conflict_ids(alice.id, at(2000, 1, 1), at(2100, 1, 1)), sorted({y2025.id, y2075.id}));
}

TEST_P(EventStoreContract, EventsBefore1970AreExact) {
  const User alice = add_user("alice");
  const Event epoch = add_event(alice.id, fields("Across the epoch", -30 * kMinute, 30 * kMinute));
  const Event y1960 =
      add_event(alice.id, fields("1960", at(1960, 6, 1, 10), at(1960, 6, 1, 10, 30)));
  ASSERT_LT(y1960.fields.start_time, 0);

  EXPECT_EQ(conflict_ids(alice.id, -kMicrosecond, 0), std::vector<EventId>{epoch.id});
  EXPECT_EQ(conflict_ids(alice.id, -31 * kMinute, -29 * kMinute), std::vector<EventId>{epoch.id});
  EXPECT_EQ(conflict_ids(alice.id, 29 * kMinute, kHour), std::vector<EventId>{epoch.id});
  EXPECT_EQ(conflicts_of(alice.id, -kHour, -30 * kMinute).total, 0);
  EXPECT_EQ(conflicts_of(alice.id, 30 * kMinute, kHour).total, 0);

  EXPECT_EQ(conflicts_of(alice.id, at(1960, 6, 1, 10, 30), at(1960, 6, 1, 11)).total, 0);
  EXPECT_EQ(conflicts_of(alice.id, at(1960, 6, 1, 9), at(1960, 6, 1, 10)).total, 0);
  EXPECT_EQ(conflict_ids(alice.id, at(1960, 6, 1, 10, 30) - kMicrosecond, at(1960, 6, 1, 11)),
            std::vector<EventId>{y1960.id});
  EXPECT_EQ(conflict_ids(alice.id, at(1960, 6, 1, 10, 29), at(1960, 6, 1, 10, 31)),
            std::vector<EventId>{y1960.id});
  EXPECT_EQ(conflict_ids(alice.id, at(1960, 6, 1, 10, 10), at(1960, 6, 1, 10, 20)),
            std::vector<EventId>{y1960.id});
  EXPECT_EQ(conflict_ids(alice.id, at(1900, 1, 1), at(2000, 1, 1)), sorted({epoch.id, y1960.id}));
}

TEST_P(EventStoreContract, EventsAtTheEdgesOfTheAcceptedYearsAreExact) {
  const User alice = add_user("alice");
  const Event first_hour =
      add_event(alice.id, fields("Year 1", domain::kMinTimestamp, domain::kMinTimestamp + kHour));
  const Event last_hours =
      add_event(alice.id, fields("Year 9999", at(9999, 12, 31, 22), domain::kMaxTimestamp));

  EXPECT_EQ(conflict_ids(alice.id, domain::kMinTimestamp + 59 * kMinute,
                         domain::kMinTimestamp + 2 * kHour),
            std::vector<EventId>{first_hour.id});
  EXPECT_EQ(conflicts_of(alice.id, domain::kMinTimestamp + kHour, domain::kMinTimestamp + 2 * kHour)
                .total,
            0);

  EXPECT_EQ(conflict_ids(alice.id, domain::kMaxTimestamp - kMicrosecond, domain::kMaxTimestamp),
            std::vector<EventId>{last_hours.id});
  EXPECT_EQ(conflict_ids(alice.id, at(9999, 12, 31, 21, 30), at(9999, 12, 31, 22, 0, 0, 1)),
            std::vector<EventId>{last_hours.id});
  EXPECT_EQ(conflicts_of(alice.id, at(9999, 12, 31, 21), at(9999, 12, 31, 22)).total, 0);

  EXPECT_EQ(conflict_ids(alice.id, domain::kMinTimestamp, domain::kMaxTimestamp),
            sorted({first_hour.id, last_hours.id}));
}

// --- find_conflicts: the index follows changes ---------------------------------------------------

TEST_P(EventStoreContract, MovingAnEventMovesItsIndexEntry) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event e = add_event(alice.id, fields("Movable", on_day(10), on_day(11)));
  share(e.id, bob.id, Role::kViewer);

  EventFields moved = e.fields;
  moved.start_time = on_day(14, 30);
  moved.end_time = on_day(15, 10);
  update_event(e.id, moved, 2);

  for (const UserId user : {alice.id, bob.id}) {
    EXPECT_EQ(conflicts_of(user, on_day(10), on_day(11)).total, 0) << user;
    EXPECT_EQ(conflicts_of(user, on_day(14), on_day(14, 30)).total, 0) << user;
    EXPECT_EQ(conflicts_of(user, on_day(15, 10), on_day(16)).total, 0) << user;
    EXPECT_EQ(conflict_ids(user, on_day(15), on_day(16)), std::vector<EventId>{e.id}) << user;
  }
  // The old slot can be booked without a conflict.
  EXPECT_EQ(find_conflicts({alice.id, bob.id}, on_day(10), on_day(11), 0, alice.id).total, 0);
}

TEST_P(EventStoreContract, MovingAnEventYearsAwayLeavesNothingBehind) {
  const User alice = add_user("alice");
  const Event e = add_event(alice.id, fields("Far mover", on_day(10), on_day(11)));
  EventFields moved = e.fields;
  moved.start_time = at(1950, 1, 1, 10);
  moved.end_time = at(1950, 1, 1, 11);
  update_event(e.id, moved, 2);
  EXPECT_EQ(conflicts_of(alice.id, on_day(0), on_day(23)).total, 0);
  EXPECT_EQ(conflict_ids(alice.id, at(1950, 1, 1, 10, 59), at(1950, 1, 1, 12)),
            std::vector<EventId>{e.id});

  // Growing it in place widens its entry.
  moved.end_time = at(1950, 1, 3, 11);
  update_event(e.id, moved, 3);
  EXPECT_EQ(conflict_ids(alice.id, at(1950, 1, 2, 23), at(1950, 1, 2, 23, 1)),
            std::vector<EventId>{e.id});
}

TEST_P(EventStoreContract, UpdateThatKeepsTheTimesKeepsTheIndexEntry) {
  const User alice = add_user("alice");
  const Event e = add_event(alice.id, fields("Renamed", on_day(10), on_day(11)));
  EventFields renamed = e.fields;
  renamed.title = "New name";
  update_event(e.id, renamed, 2);
  const Conflicts c = conflicts_of(alice.id, on_day(10, 30), on_day(12));
  ASSERT_EQ(visible_ids(c), std::vector<EventId>{e.id});
  EXPECT_EQ(c.visible[0].title, "New name");
}

// --- list_events --------------------------------------------------------------------------------

TEST_P(EventStoreContract, ListHoldsOnlyTheUsersEvents) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event a1 = add_event(alice.id, fields("A1", on_day(9), on_day(10)));
  const Event b1 = add_event(bob.id, fields("B1", on_day(9), on_day(10)));
  const Event a2 = add_event(alice.id, fields("A2", on_day(11), on_day(12)));
  const Event b2 = add_event(bob.id, fields("B2", on_day(11), on_day(12)));

  const EventPage alices = list(alice.id, {});
  EXPECT_EQ(alices.count, 2);
  EXPECT_EQ(ids_of(alices), (std::vector<EventId>{a1.id, a2.id}));
  for (const EventView& view : alices.results) EXPECT_EQ(view.role, Role::kOwner);
  expect_same_event(alices.results[1].event, a2);

  EXPECT_EQ(ids_of(list(bob.id, {})), (std::vector<EventId>{b1.id, b2.id}));
  const User carol = add_user("carol");
  const EventPage carols = list(carol.id, {});
  EXPECT_EQ(carols.count, 0);
  EXPECT_TRUE(carols.results.empty());
}

TEST_P(EventStoreContract, ListIncludesEventsSharedWithTheUserWithTheirRole) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event own = add_event(alice.id, fields("Own", on_day(9), on_day(10)));
  const Event shared = add_event(bob.id, fields("Shared", on_day(11), on_day(12)));
  add_event(bob.id, fields("Bob only", on_day(13), on_day(14)));
  share(shared.id, alice.id, Role::kEditor);

  const EventPage page = list(alice.id, {});
  EXPECT_EQ(page.count, 2);
  ASSERT_EQ(ids_of(page), (std::vector<EventId>{own.id, shared.id}));
  EXPECT_EQ(page.results[0].role, Role::kOwner);
  EXPECT_EQ(page.results[1].role, Role::kEditor);
  EXPECT_EQ(page.results[1].event.owner_id, bob.id);
}

class EventListPaging : public EventStoreContract {
 protected:
  // 25 events for alice, interleaved with 25 of bob's, each of alice's one hour later.
  void SetUp() override {
    EventStoreContract::SetUp();
    if (IsSkipped()) return;
    alice_ = add_user("alice");
    bob_ = add_user("bob");
    for (int i = 0; i < 25; ++i) {
      const Timestamp start = on_day(0) + i * kHour;
      alices_.push_back(add_event(alice_.id, fields("A" + std::to_string(i), start, start + 1)).id);
      add_event(bob_.id, fields("B" + std::to_string(i), start, start + 1));
    }
  }

  EventPage page(std::int64_t number, std::int64_t size) {
    EventListQuery query;
    query.page = number;
    query.page_size = size;
    return list(alice_.id, query);
  }

  // alice's ids [first, first + n).
  std::vector<EventId> slice(std::size_t first, std::size_t n) const {
    return {alices_.begin() + static_cast<std::ptrdiff_t>(first),
            alices_.begin() + static_cast<std::ptrdiff_t>(first + n)};
  }

  User alice_;
  User bob_;
  std::vector<EventId> alices_;
};

TEST_P(EventListPaging, DefaultQueryGivesTheFirstTenByIdAndCountsAll) {
  const EventPage first = list(alice_.id, {});
  EXPECT_EQ(first.count, 25);
  EXPECT_EQ(ids_of(first), slice(0, 10));
}

TEST_P(EventListPaging, PagesFollowEachOtherWithTheSameCount) {
  EXPECT_EQ(ids_of(page(2, 10)), slice(10, 10));
  const EventPage last = page(3, 10);
  EXPECT_EQ(last.count, 25);
  EXPECT_EQ(ids_of(last), slice(20, 5));
}

TEST_P(EventListPaging, PagePastTheEndIsEmptyButCountsAll) {
  for (const auto& [number, size] :
       std::vector<std::pair<std::int64_t, std::int64_t>>{{4, 10}, {2, 25}, {26, 1}, {1000, 100}}) {
    const EventPage empty = page(number, size);
    EXPECT_TRUE(empty.results.empty()) << number << "x" << size;
    EXPECT_EQ(empty.count, 25) << number << "x" << size;
  }
}

TEST_P(EventListPaging, PageSizeEdges) {
  EXPECT_EQ(ids_of(page(1, 1)), slice(0, 1));
  EXPECT_EQ(ids_of(page(25, 1)), slice(24, 1));
  EXPECT_EQ(ids_of(page(1, 25)), slice(0, 25));
  EXPECT_EQ(ids_of(page(1, 24)), slice(0, 24));
  EXPECT_EQ(ids_of(page(2, 24)), slice(24, 1));
  const EventPage all = page(1, domain::kMaxPageSize);
  EXPECT_EQ(all.count, 25);
  EXPECT_EQ(ids_of(all), slice(0, 25));
}

TEST_P(EventListPaging, FiltersCountEveryMatchWhilePaging) {
  EventListQuery query;
  query.start = on_day(5);  // A5..A24 end after 05:00
  query.page = 2;
  query.page_size = 8;
  const EventPage p = list(alice_.id, query);
  EXPECT_EQ(p.count, 20);
  EXPECT_EQ(ids_of(p), slice(13, 8));
}

// Five events whose every property differs, so that each filter picks its own subset.
class EventListFilters : public EventStoreContract {
 protected:
  void SetUp() override {
    EventStoreContract::SetUp();
    if (IsSkipped()) return;
    alice_ = add_user("alice");
    bob_ = add_user("bob");
    carol_ = add_user("carol");

    EventFields standup = fields("Team Standup", on_day(9), on_day(10));
    standup.description = "Discuss the ROADMAP";
    standup.location = "Room 5";
    standup.is_recurring = true;
    standup.recurrence_pattern = "daily";
    standup_ = add_event(alice_.id, standup).id;

    EventFields review = fields("Budget review", on_day(10), on_day(11));
    review.description = "Numbers: 50% done, under_score";
    review.location = "Boardroom";
    review_ = add_event(alice_.id, review).id;

    EventFields lunch = fields("lunch with TEAM", on_day(10, 30), on_day(10, 45));
    lunch.location = "Cafeteria";
    lunch_ = add_event(alice_.id, lunch).id;

    // Bob's, shared with alice as EDITOR.
    EventFields planning = fields("Roadmap planning", on_day(11), on_day(12));
    planning.is_recurring = true;
    planning.recurrence_pattern = "FREQ=WEEKLY;BYDAY=FR";
    planning_ = add_event(bob_.id, planning).id;
    share(planning_, alice_.id, Role::kEditor);

    // Carol's, shared with alice as VIEWER: spans the whole working day.
    EventFields offsite = fields("Offsite", on_day(8), on_day(13));
    offsite.description = "bring a laptop";
    offsite.location = "Team building venue";
    offsite_ = add_event(carol_.id, offsite).id;
    share(offsite_, alice_.id, Role::kViewer);

    // Noise that no query of alice's may return.
    EventFields bobs = fields("Team roadmap (Bob only)", on_day(9), on_day(12));
    bobs.is_recurring = true;
    bobs.recurrence_pattern = "daily";
    add_event(bob_.id, bobs);
  }

  // The ids alice gets for `query` (one page, large enough); checks count matches.
  std::vector<EventId> matching(EventListQuery query) {
    query.page_size = domain::kMaxPageSize;
    const EventPage page = list(alice_.id, query);
    EXPECT_EQ(page.count, static_cast<std::int64_t>(page.results.size()));
    return ids_of(page);
  }

  User alice_, bob_, carol_;
  EventId standup_ = 0, review_ = 0, lunch_ = 0, planning_ = 0, offsite_ = 0;
};

TEST_P(EventListFilters, NoFilterGivesEveryEventOfTheUser) {
  EXPECT_EQ(matching({}), (std::vector<EventId>{standup_, review_, lunch_, planning_, offsite_}));
}

TEST_P(EventListFilters, StartKeepsEventsEndingAfterIt) {
  EventListQuery query;
  query.start = on_day(10);  // standup ends exactly then: out
  EXPECT_EQ(matching(query), (std::vector<EventId>{review_, lunch_, planning_, offsite_}));
  query.start = on_day(12);
  EXPECT_EQ(matching(query), (std::vector<EventId>{offsite_}));
  query.start = on_day(13);
  EXPECT_TRUE(matching(query).empty());
}

TEST_P(EventListFilters, EndKeepsEventsStartingBeforeIt) {
  EventListQuery query;
  query.end = on_day(11);  // planning starts exactly then: out
  EXPECT_EQ(matching(query), (std::vector<EventId>{standup_, review_, lunch_, offsite_}));
  query.end = on_day(9);
  EXPECT_EQ(matching(query), (std::vector<EventId>{offsite_}));
  query.end = on_day(8);
  EXPECT_TRUE(matching(query).empty());
}

TEST_P(EventListFilters, StartAndEndKeepEventsOverlappingTheWindow) {
  EventListQuery query;
  query.start = on_day(10);
  query.end = on_day(11);
  EXPECT_EQ(matching(query), (std::vector<EventId>{review_, lunch_, offsite_}));
  query.start = on_day(10, 15);
  query.end = on_day(10, 30);  // lunch starts exactly then: out
  EXPECT_EQ(matching(query), (std::vector<EventId>{review_, offsite_}));
  query.start = on_day(13);
  query.end = on_day(14);
  EXPECT_TRUE(matching(query).empty());
}

TEST_P(EventListFilters, QMatchesTitleDescriptionOrLocationInAnyCase) {
  EventListQuery query;
  query.q = "team";  // standup's and lunch's titles, offsite's location
  EXPECT_EQ(matching(query), (std::vector<EventId>{standup_, lunch_, offsite_}));
  query.q = "ROADMAP";  // standup's description, planning's title
  EXPECT_EQ(matching(query), (std::vector<EventId>{standup_, planning_}));
  query.q = "bOaRdRoOm";  // review's location
  EXPECT_EQ(matching(query), (std::vector<EventId>{review_}));
  query.q = "LAPTOP";  // offsite's description
  EXPECT_EQ(matching(query), (std::vector<EventId>{offsite_}));
  query.q = "nothing like it";
  EXPECT_TRUE(matching(query).empty());
}

TEST_P(EventListFilters, QTakesWildcardCharactersLiterally) {
  EventListQuery query;
  query.q = "50%";
  EXPECT_EQ(matching(query), (std::vector<EventId>{review_}));
  query.q = "%";
  EXPECT_EQ(matching(query), (std::vector<EventId>{review_}));
  query.q = "_";
  EXPECT_EQ(matching(query), (std::vector<EventId>{review_}));
  query.q = "r_om";
  EXPECT_TRUE(matching(query).empty());
}

TEST_P(EventListFilters, TitleMatchesTheTitleAloneInAnyCase) {
  EventListQuery query;
  query.title = "TEAM";
  EXPECT_EQ(matching(query), (std::vector<EventId>{standup_, lunch_}));  // not offsite's location
  query.title = "roadmap";
  EXPECT_EQ(matching(query), (std::vector<EventId>{planning_}));  // not standup's description
  query.title = "Budget Review";
  EXPECT_EQ(matching(query), (std::vector<EventId>{review_}));
  query.title = "laptop";
  EXPECT_TRUE(matching(query).empty());
}

TEST_P(EventListFilters, IsRecurringSelectsEitherKind) {
  EventListQuery query;
  query.is_recurring = true;
  EXPECT_EQ(matching(query), (std::vector<EventId>{standup_, planning_}));
  query.is_recurring = false;
  EXPECT_EQ(matching(query), (std::vector<EventId>{review_, lunch_, offsite_}));
}

TEST_P(EventListFilters, RoleSelectsTheUsersRole) {
  EventListQuery query;
  query.role = Role::kOwner;
  EXPECT_EQ(matching(query), (std::vector<EventId>{standup_, review_, lunch_}));
  query.role = Role::kEditor;
  EXPECT_EQ(matching(query), (std::vector<EventId>{planning_}));
  query.role = Role::kViewer;
  const EventPage viewer = list(alice_.id, query);
  ASSERT_EQ(ids_of(viewer), (std::vector<EventId>{offsite_}));
  EXPECT_EQ(viewer.results[0].role, Role::kViewer);
  // Bob owns planning: the role is the listing user's, not the event's owner's.
  EXPECT_EQ(ids_of(list(bob_.id, query)), std::vector<EventId>{});
}

TEST_P(EventListFilters, FiltersCombineWithAnd) {
  EventListQuery query;
  query.q = "team";
  query.is_recurring = false;
  EXPECT_EQ(matching(query), (std::vector<EventId>{lunch_, offsite_}));
  query.role = Role::kOwner;
  EXPECT_EQ(matching(query), (std::vector<EventId>{lunch_}));
  query.start = on_day(10, 45);  // lunch ends exactly then
  EXPECT_TRUE(matching(query).empty());

  EventListQuery window;
  window.start = on_day(9, 30);
  window.end = on_day(11, 30);
  window.title = "N";  // "Team Standup", "lunch with TEAM", "Roadmap planning"
  EXPECT_EQ(matching(window), (std::vector<EventId>{standup_, lunch_, planning_}));
  window.is_recurring = true;
  EXPECT_EQ(matching(window), (std::vector<EventId>{standup_, planning_}));
  window.role = Role::kEditor;
  EXPECT_EQ(matching(window), (std::vector<EventId>{planning_}));
  window.q = "weekly";  // the pattern is not searched
  EXPECT_TRUE(matching(window).empty());
}

TEST_P(EventListFilters, FilteredCountIgnoresThePage) {
  EventListQuery query;
  query.q = "team";
  query.page_size = 2;
  query.page = 2;
  const EventPage page = list(alice_.id, query);
  EXPECT_EQ(page.count, 3);
  EXPECT_EQ(ids_of(page), std::vector<EventId>{offsite_});
  query.page = 3;
  const EventPage past = list(alice_.id, query);
  EXPECT_EQ(past.count, 3);
  EXPECT_TRUE(past.results.empty());
}

// Five events with ties in title (differing in case only), start and end, so that each order and
// its tie-breaker show.
class EventListOrdering : public EventStoreContract {
 protected:
  void SetUp() override {
    EventStoreContract::SetUp();
    if (IsSkipped()) return;
    alice_ = add_user("alice");
    const std::vector<Event> events =
        add_events(alice_.id, {
                                  fields("banana", on_day(10), on_day(12)),  // e[0]
                                  fields("Apple", on_day(9), on_day(12)),    // e[1]
                                  fields("cherry", on_day(10), on_day(11)),  // e[2]
                                  fields("apple", on_day(8), on_day(13)),    // e[3]
                                  fields("Banana", on_day(9), on_day(11)),   // e[4]
                              });
    e_ = ids_of(events);
  }

  std::vector<EventId> ordered(EventOrder order, bool descending) {
    EventListQuery query;
    query.order = order;
    query.descending = descending;
    query.page_size = domain::kMaxPageSize;
    return ids_of(list(alice_.id, query));
  }
  // The ids of e_ at these positions.
  std::vector<EventId> at_positions(std::initializer_list<std::size_t> positions) const {
    std::vector<EventId> ids;
    for (const std::size_t p : positions) ids.push_back(e_[p]);
    return ids;
  }

  User alice_;
  std::vector<EventId> e_;
};

TEST_P(EventListOrdering, ById) {
  EXPECT_EQ(ordered(EventOrder::kId, false), at_positions({0, 1, 2, 3, 4}));
  EXPECT_EQ(ordered(EventOrder::kId, true), at_positions({4, 3, 2, 1, 0}));
}

TEST_P(EventListOrdering, ByStartTimeWithIdBreakingTies) {
  EXPECT_EQ(ordered(EventOrder::kStartTime, false), at_positions({3, 1, 4, 0, 2}));
  EXPECT_EQ(ordered(EventOrder::kStartTime, true), at_positions({2, 0, 4, 1, 3}));
}

TEST_P(EventListOrdering, ByEndTimeWithIdBreakingTies) {
  EXPECT_EQ(ordered(EventOrder::kEndTime, false), at_positions({2, 4, 0, 1, 3}));
  EXPECT_EQ(ordered(EventOrder::kEndTime, true), at_positions({3, 1, 0, 4, 2}));
}

TEST_P(EventListOrdering, ByTitleIgnoringCaseWithIdBreakingTies) {
  EXPECT_EQ(ordered(EventOrder::kTitle, false), at_positions({1, 3, 0, 4, 2}));
  EXPECT_EQ(ordered(EventOrder::kTitle, true), at_positions({2, 4, 0, 3, 1}));
}

TEST_P(EventListOrdering, OrderHoldsAcrossPages) {
  EventListQuery query;
  query.order = EventOrder::kTitle;
  query.page_size = 2;
  std::vector<EventId> all;
  for (std::int64_t page = 1; page <= 3; ++page) {
    query.page = page;
    const EventPage p = list(alice_.id, query);
    EXPECT_EQ(p.count, 5);
    const std::vector<EventId> ids = ids_of(p);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(all, at_positions({1, 3, 0, 4, 2}));
}

// --- list_events: counts and windows against brute force ----------------------------------------

// SQLite keeps the counts of unfiltered and role-filtered listings apart from the rows they count
// (user_event_counts): after every kind of change they must still be the rows listed.
TEST_P(EventStoreContract, ListCountsFollowInsertsDeletesSharesAndOwnershipChanges) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const User carol = add_user("carol");
  // Counts by role, checked against the rows listed for each role and in all.
  const auto expect_counts = [&](const User& user, std::int64_t owner, std::int64_t editor,
                                 std::int64_t viewer) {
    SCOPED_TRACE(user.username);
    EventListQuery query;
    query.page_size = domain::kMaxPageSize;
    const EventPage all = list(user.id, query);
    EXPECT_EQ(all.count, owner + editor + viewer);
    EXPECT_EQ(all.count, static_cast<std::int64_t>(all.results.size()));
    for (const auto& [role, n] : {std::pair{Role::kOwner, owner}, std::pair{Role::kEditor, editor},
                                  std::pair{Role::kViewer, viewer}}) {
      query.role = role;
      const EventPage page = list(user.id, query);
      EXPECT_EQ(page.count, n) << domain::to_string(role);
      EXPECT_EQ(page.count, static_cast<std::int64_t>(page.results.size()));
      for (const EventView& view : page.results) EXPECT_EQ(view.role, role);
    }
  };

  std::vector<EventId> a;
  std::vector<EventId> b;
  write_or_throw(*store_, [&](StoreWriter& w) {
    a.clear();
    b.clear();
    for (int i = 0; i < 3; ++i)
      a.push_back(w.insert_event(alice.id, fields("A", 0, 1), {alice.id, {}}).id);
    for (int i = 0; i < 2; ++i)
      b.push_back(w.insert_event(bob.id, fields("B", 0, 1), {bob.id, {}}).id);
  });
  expect_counts(alice, 3, 0, 0);
  expect_counts(bob, 2, 0, 0);
  expect_counts(carol, 0, 0, 0);

  write_or_throw(*store_, [&](StoreWriter& w) {  // sharing
    w.set_participant(b[0], alice.id, Role::kEditor);
    w.set_participant(b[1], alice.id, Role::kViewer);
    w.set_participant(b[1], carol.id, Role::kViewer);
  });
  expect_counts(alice, 3, 1, 1);
  expect_counts(carol, 0, 0, 1);

  write_or_throw(*store_, [&](StoreWriter& w) {  // a role change
    w.set_participant(b[0], alice.id, Role::kViewer);
  });
  expect_counts(alice, 3, 0, 2);

  write_or_throw(*store_, [&](StoreWriter& w) {  // alice becomes an editor of a[0], bob its owner
    w.transfer_ownership(a[0], bob.id);
  });
  expect_counts(alice, 2, 1, 2);
  expect_counts(bob, 3, 0, 0);

  write_or_throw(*store_,
                 [&](StoreWriter& w) { EXPECT_TRUE(w.remove_participant(a[0], alice.id)); });
  expect_counts(alice, 2, 0, 2);

  // alice's and carol's VIEWER rows go with it
  write_or_throw(*store_, [&](StoreWriter& w) { w.delete_event(b[1], {bob.id, {}}); });
  expect_counts(alice, 2, 0, 1);
  expect_counts(bob, 2, 0, 0);
  expect_counts(carol, 0, 0, 0);

  share(a[1], carol.id, Role::kViewer);
  expect_counts(carol, 0, 0, 1);
  share(a[1], carol.id, Role::kEditor);  // a new role moves the count
  expect_counts(carol, 0, 1, 0);
  share(a[1], carol.id, Role::kEditor);  // the same role again counts nothing
  expect_counts(carol, 0, 1, 0);
}

// Random events (fixed seed) within 300 h of the Unix epoch, so that negative times and their
// rounding to whole hours show, some with empty or reversed ranges as imported data may hold;
// random windows, one- or two-sided, narrow and wide, with roles, orders and pages. Every answer
// must be what a plain filter and sort of the known events gives.
TEST_P(EventStoreContract, ListMatchesABruteForceFilterOnRandomData) {
  struct Known {
    EventId id = 0;
    Timestamp start = 0;
    Timestamp end = 0;
    std::string title;
    Role role = Role::kOwner;
  };
  std::mt19937_64 random(20250427);
  const auto uniform = [&](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random);
  };
  const std::vector<std::string> titles = {"alpha", "Alpha", "beta", "BETA", "gamma"};
  const auto random_fields = [&] {
    const Timestamp start = uniform(-300 * 60, 300 * 60) * kMinute;
    const Timestamp length = uniform(-120, 180) * kMinute;  // reversed, empty or plain
    return fields(titles[static_cast<std::size_t>(uniform(0, 4))], start, start + length);
  };

  const User alice = add_user("alice");
  const User bob = add_user("bob");
  std::vector<Known> known;  // what alice sees
  write_or_throw(*store_, [&](StoreWriter& w) {
    known.clear();
    for (int i = 0; i < 800; ++i) {  // enough for SQLite to answer short windows from its R*Tree
      const EventFields f = random_fields();
      if (i % 4 != 3) {
        known.push_back(
            {w.insert_event(alice.id, f, {alice.id, {}}).id, f.start_time, f.end_time, f.title});
        continue;
      }
      const EventId id = w.insert_event(bob.id, f, {bob.id, {}}).id;  // bob's, shared with alice
      const Role role = uniform(0, 1) == 0 ? Role::kEditor : Role::kViewer;
      w.set_participant(id, alice.id, role);
      known.push_back({id, f.start_time, f.end_time, f.title, role});
    }
    for (int i = 0; i < 100; ++i)
      w.insert_event(bob.id, random_fields(), {bob.id, {}});  // bob's alone
  });

  const auto lower = [](std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  for (int round = 0; round < 400; ++round) {
    EventListQuery query;
    const Timestamp from = uniform(-310 * 60, 310 * 60) * kMinute;
    if (uniform(0, 9) < 7) query.start = from;
    if (uniform(0, 9) < 7) query.end = from + uniform(1, 40 * 60) * kMinute;
    if (uniform(0, 3) == 0) query.role = static_cast<Role>(uniform(0, 2));
    query.order = static_cast<EventOrder>(uniform(0, 3));
    query.descending = uniform(0, 1) == 1;
    query.page_size = uniform(1, 20);
    query.page = uniform(1, 3);

    std::vector<Known> expected;
    for (const Known& k : known) {
      if (query.start && !(k.end > *query.start)) continue;
      if (query.end && !(k.start < *query.end)) continue;
      if (query.role && k.role != *query.role) continue;
      expected.push_back(k);
    }
    // Whether x comes before y in ascending order: by the key, then by id.
    const auto before = [&](const Known& x, const Known& y) {
      switch (query.order) {
        case EventOrder::kStartTime:
          if (x.start != y.start) return x.start < y.start;
          break;
        case EventOrder::kEndTime:
          if (x.end != y.end) return x.end < y.end;
          break;
        case EventOrder::kTitle:
          if (lower(x.title) != lower(y.title)) return lower(x.title) < lower(y.title);
          break;
        case EventOrder::kId:
          break;
      }
      return x.id < y.id;
    };
    std::sort(expected.begin(), expected.end(), [&](const Known& x, const Known& y) {
      return query.descending ? before(y, x) : before(x, y);
    });
    std::vector<EventId> wanted;
    const std::size_t first = static_cast<std::size_t>((query.page - 1) * query.page_size);
    for (std::size_t i = first;
         i < expected.size() && i < first + static_cast<std::size_t>(query.page_size); ++i) {
      wanted.push_back(expected[i].id);
    }

    const EventPage page = list(alice.id, query);
    SCOPED_TRACE(testing::Message()
                 << "round " << round << ": start " << (query.start ? *query.start : -1) << " end "
                 << (query.end ? *query.end : -1) << " order " << static_cast<int>(query.order));
    EXPECT_EQ(page.count, static_cast<std::int64_t>(expected.size()));
    EXPECT_EQ(ids_of(page), wanted);
  }
}

// --- scale (a sanity check of results, not a timing) --------------------------------------------

TEST_P(EventStoreContract, FiveThousandEventsPerUserInOneJobStillGiveExactAnswers) {
  constexpr int kPerUser = 5'000;
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Timestamp base = at(2030, 1, 1);
  // alice's i-th event is [base + i h, base + i h + 30 min); bob's is the same shifted by 15 min.
  std::vector<EventId> alices;
  std::vector<EventId> bobs;
  write_or_throw(*store_, [&](StoreWriter& w) {
    alices.clear();
    bobs.clear();
    for (int i = 0; i < kPerUser; ++i) {
      const Timestamp start = base + i * kHour;
      alices.push_back(w.insert_event(alice.id,
                                      fields("A" + std::to_string(i), start, start + 30 * kMinute),
                                      {alice.id, {}})
                           .id);
      bobs.push_back(
          w.insert_event(
               bob.id, fields("B" + std::to_string(i), start + 15 * kMinute, start + 45 * kMinute),
               {bob.id, {}})
              .id);
    }
  });
  ASSERT_EQ(alices.size(), static_cast<std::size_t>(kPerUser));

  // [base + 100 h + 10 min, base + 102 h + 10 min): alice's 100, 101, 102; bob's 100, 101.
  const Timestamp from = base + 100 * kHour + 10 * kMinute;
  const Timestamp to = base + 102 * kHour + 10 * kMinute;
  EXPECT_EQ(conflict_ids(alice.id, from, to),
            (std::vector<EventId>{alices[100], alices[101], alices[102]}));
  EXPECT_EQ(conflict_ids(bob.id, from, to), (std::vector<EventId>{bobs[100], bobs[101]}));
  const Conflicts both = find_conflicts({alice.id, bob.id}, from, to, alices[101], alice.id);
  EXPECT_EQ(both.total, 4);
  EXPECT_EQ(visible_ids(both), (std::vector<EventId>{alices[100], alices[102]}));
  // The last hour, the gaps and the time after all of them.
  const Timestamp last = base + (kPerUser - 1) * kHour;
  EXPECT_EQ(conflict_ids(alice.id, last, last + kHour), std::vector<EventId>{alices.back()});
  EXPECT_EQ(conflicts_of(alice.id, base + 30 * kMinute, base + kHour).total, 0);
  EXPECT_EQ(conflicts_of(alice.id, last + kHour, last + 1000 * kDay).total, 0);
  EXPECT_EQ(conflicts_of(alice.id, base - kDay, base).total, 0);
  // A wide window counts every one, and still describes ten.
  const Conflicts wide = conflicts_of(alice.id, base, base + 1000 * kHour);
  EXPECT_EQ(wide.total, 1000);
  EXPECT_EQ(visible_ids(wide), std::vector<EventId>(alices.begin(), alices.begin() + 10));

  EventListQuery query;
  query.page = 50;
  query.page_size = domain::kMaxPageSize;
  const EventPage last_page = list(alice.id, query);
  EXPECT_EQ(last_page.count, kPerUser);
  EXPECT_EQ(ids_of(last_page), std::vector<EventId>(alices.end() - 100, alices.end()));

  EventListQuery window;
  window.start = from;
  window.end = to;
  EXPECT_EQ(ids_of(list(bob.id, window)), (std::vector<EventId>{bobs[100], bobs[101]}));
  window.start = base + 4'000 * kHour;
  window.end = std::nullopt;
  window.order = EventOrder::kStartTime;
  window.descending = true;
  window.page_size = 3;
  const EventPage late = list(alice.id, window);
  EXPECT_EQ(late.count, 1'000);
  EXPECT_EQ(ids_of(late), (std::vector<EventId>{alices[4999], alices[4998], alices[4997]}));

  EventListQuery titled;
  titled.title = "a4999";
  EXPECT_EQ(ids_of(list(alice.id, titled)), std::vector<EventId>{alices.back()});
  EXPECT_EQ(list(bob.id, titled).count, 0);
}

// --- versions ------------------------------------------------------------------------------------

class EventHistoryContract : public EventStoreContract {
 protected:
  std::int64_t count_versions(EventId id) {
    return read([&](StoreReader& r) { return r.count_versions(id); });
  }
  std::vector<EventVersion> versions_at(EventId id, std::int64_t first, std::int64_t last) {
    return read([&](StoreReader& r) { return r.versions_at(id, first, last); });
  }
  std::vector<EventVersion> all_versions(EventId id) {
    return versions_at(id, 1, count_versions(id));
  }
  std::optional<EventVersion> find_version(EventId id, HistoryId history_id) {
    return read([&](StoreReader& r) { return r.find_version(id, history_id); });
  }
  void update_as(UserId by, EventId id, const EventFields& f, std::int64_t version,
                 std::optional<std::string> reason = {}) {
    write_or_throw(*store_, [&](StoreWriter& w) { w.update_event(id, f, version, {by, reason}); });
  }
  static std::vector<HistoryId> history_ids(const std::vector<EventVersion>& versions) {
    std::vector<HistoryId> ids;
    for (const EventVersion& v : versions) ids.push_back(v.history_id);
    return ids;
  }
};

TEST_P(EventHistoryContract, InsertRecordsTheFirstVersionWithItsAuthorAndReason) {
  const User alice = add_user("alice");
  const EventFields f = fields("Kick-off", on_day(9), on_day(10));
  Event event;
  write_or_throw(*store_, [&](StoreWriter& w) {
    event = w.insert_event(alice.id, f, {alice.id, "planned"});
  });
  ASSERT_EQ(count_versions(event.id), 1);
  const std::vector<EventVersion> versions = all_versions(event.id);
  ASSERT_EQ(versions.size(), 1u);
  const EventVersion& v = versions[0];
  EXPECT_GT(v.history_id, 0);
  EXPECT_EQ(v.event_id, event.id);
  EXPECT_EQ(v.version, 1);
  EXPECT_EQ(v.type, HistoryType::kCreated);
  ASSERT_TRUE(v.changed_by.has_value());
  EXPECT_EQ(v.changed_by->id, alice.id);
  EXPECT_EQ(v.changed_by->username, "alice");
  EXPECT_EQ(v.change_reason, std::optional<std::string>("planned"));
  EXPECT_EQ(v.owner_id, alice.id);
  EXPECT_EQ(v.fields, f);
  EXPECT_GT(v.history_date, 0);
  const std::optional<EventVersion> found = find_version(event.id, v.history_id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->fields, f);
  EXPECT_EQ(found->history_id, v.history_id);
}

TEST_P(EventHistoryContract, EachUpdateAppendsASnapshotAttributedToWhoeverMadeIt) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event event = add_event(alice.id, fields("One", on_day(9), on_day(10)));
  const EventFields two = fields("Two", on_day(9), on_day(11));
  EventFields three = two;
  three.location = "Room 3";
  three.is_recurring = true;
  three.recurrence_pattern = "weekly";
  update_as(bob.id, event.id, two, 2, "longer");
  update_as(alice.id, event.id, three, 3);

  const std::vector<EventVersion> versions = all_versions(event.id);
  ASSERT_EQ(versions.size(), 3u);
  EXPECT_EQ(versions[0].type, HistoryType::kCreated);
  EXPECT_EQ(versions[1].type, HistoryType::kChanged);
  EXPECT_EQ(versions[2].type, HistoryType::kChanged);
  EXPECT_EQ(versions[1].fields, two);
  EXPECT_EQ(versions[2].fields, three);
  EXPECT_EQ(versions[1].version, 2);
  EXPECT_EQ(versions[2].version, 3);
  EXPECT_EQ(versions[1].changed_by->username, "bob");
  EXPECT_EQ(versions[1].change_reason, std::optional<std::string>("longer"));
  EXPECT_EQ(versions[2].changed_by->username, "alice");
  EXPECT_EQ(versions[2].change_reason, std::nullopt);
  EXPECT_LT(versions[0].history_id, versions[1].history_id);
  EXPECT_LT(versions[1].history_id, versions[2].history_id);
  EXPECT_LE(versions[0].history_date, versions[2].history_date);
}

TEST_P(EventHistoryContract, PositionsSelectAnyRangeOfVersionsOldestFirst) {
  const User alice = add_user("alice");
  const Event event = add_event(alice.id, fields("v1", on_day(9), on_day(10)));
  for (int v = 2; v <= 7; ++v) {
    update_as(alice.id, event.id, fields("v" + std::to_string(v), on_day(9), on_day(10)), v);
  }
  ASSERT_EQ(count_versions(event.id), 7);
  const std::vector<EventVersion> middle = versions_at(event.id, 3, 5);
  ASSERT_EQ(middle.size(), 3u);
  EXPECT_EQ(middle[0].fields.title, "v3");
  EXPECT_EQ(middle[2].fields.title, "v5");
  EXPECT_EQ(versions_at(event.id, 6, 100).size(), 2u);  // clipped at the newest
  EXPECT_TRUE(versions_at(event.id, 5, 4).empty());
  EXPECT_TRUE(versions_at(event.id, 8, 9).empty());
  EXPECT_TRUE(versions_at(event.id + 1000, 1, 10).empty());
  EXPECT_EQ(count_versions(event.id + 1000), 0);
}

TEST_P(EventHistoryContract, HistoryIdsAreOneSequenceAcrossEvents) {
  const User alice = add_user("alice");
  const Event a = add_event(alice.id, fields("A", on_day(9), on_day(10)));
  const Event b = add_event(alice.id, fields("B", on_day(11), on_day(12)));
  update_as(alice.id, a.id, fields("A2", on_day(9), on_day(10)), 2);
  update_as(alice.id, b.id, fields("B2", on_day(11), on_day(12)), 2);
  const std::vector<HistoryId> of_a = history_ids(all_versions(a.id));
  const std::vector<HistoryId> of_b = history_ids(all_versions(b.id));
  ASSERT_EQ(of_a.size(), 2u);
  ASSERT_EQ(of_b.size(), 2u);
  // In the order the changes were made: a+, b+, a~, b~.
  EXPECT_LT(of_a[0], of_b[0]);
  EXPECT_LT(of_b[0], of_a[1]);
  EXPECT_LT(of_a[1], of_b[1]);
}

TEST_P(EventHistoryContract, AVersionIsFoundOnlyThroughItsOwnEvent) {
  const User alice = add_user("alice");
  const Event a = add_event(alice.id, fields("A", on_day(9), on_day(10)));
  const Event b = add_event(alice.id, fields("B", on_day(11), on_day(12)));
  const HistoryId of_a = all_versions(a.id).at(0).history_id;
  EXPECT_TRUE(find_version(a.id, of_a).has_value());
  EXPECT_EQ(find_version(b.id, of_a), std::nullopt);
  EXPECT_EQ(find_version(a.id, of_a + 1000), std::nullopt);
}

TEST_P(EventHistoryContract, DeleteRecordsTheEventAsItWasAndKeepsItsHistory) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const EventFields f = fields("Doomed", on_day(9), on_day(10));
  const Event event = add_event(alice.id, f);
  write_or_throw(*store_, [&](StoreWriter& w) { w.delete_event(event.id, {bob.id, "cancelled"}); });
  EXPECT_EQ(find_event_for(alice.id, event.id), std::nullopt);
  const std::vector<EventVersion> versions = all_versions(event.id);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[1].type, HistoryType::kDeleted);
  EXPECT_EQ(versions[1].fields, f);
  EXPECT_EQ(versions[1].owner_id, alice.id);
  EXPECT_EQ(versions[1].changed_by->id, bob.id);
  EXPECT_EQ(versions[1].change_reason, std::optional<std::string>("cancelled"));
  // A later event never takes a history id already given.
  const Event next = add_event(alice.id, f);
  EXPECT_GT(all_versions(next.id).at(0).history_id, versions[1].history_id);
}

TEST_P(EventHistoryContract, AFailedJobLeavesNoVersionBehind) {
  const User alice = add_user("alice");
  const Event kept = add_event(alice.id, fields("Kept", on_day(9), on_day(10)));
  EventId doomed = 0;
  const std::exception_ptr error = write_and_wait(*store_, [&](StoreWriter& w) {
    doomed = w.insert_event(alice.id, fields("Doomed", on_day(11), on_day(12)), {alice.id, {}}).id;
    w.update_event(kept.id, fields("Changed", on_day(9), on_day(10)), 2, {alice.id, {}});
    throw std::runtime_error("job failed after writing");
  });
  EXPECT_EQ(describe_outcome(error), "exception: job failed after writing");
  EXPECT_EQ(count_versions(doomed), 0);
  const std::vector<EventVersion> versions = all_versions(kept.id);
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].fields.title, "Kept");
}

TEST_P(EventHistoryContract, BulkInsertStoresWhatInsertingOneByOneStores) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  add_event(bob.id, fields("Bob's", on_day(9), on_day(10)));  // history ids already taken
  std::vector<EventFields> batch;
  for (int i = 0; i < 5; ++i) {
    EventFields f = fields("Item " + std::to_string(i), on_day(9 + 2 * i), on_day(10 + 2 * i));
    if (i == 3) {
      f.is_recurring = true;
      f.recurrence_pattern = "weekly";
    }
    batch.push_back(f);
  }
  std::vector<Event> inserted;
  write_or_throw(*store_, [&](StoreWriter& w) {
    inserted = w.insert_events(alice.id, batch, {alice.id, "imported"});
  });
  ASSERT_EQ(inserted.size(), batch.size());
  std::vector<HistoryId> ids;
  for (std::size_t i = 0; i < inserted.size(); ++i) {
    const Event& event = inserted[i];
    EXPECT_EQ(event.fields, batch[i]);
    EXPECT_EQ(event.owner_id, alice.id);
    EXPECT_EQ(event.version, 1);
    const std::optional<EventView> view = find_event_for(alice.id, event.id);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->role, Role::kOwner);
    EXPECT_EQ(view->event.fields, batch[i]);
    const std::vector<EventVersion> versions = all_versions(event.id);
    ASSERT_EQ(versions.size(), 1u);
    EXPECT_EQ(versions[0].type, HistoryType::kCreated);
    EXPECT_EQ(versions[0].fields, batch[i]);
    EXPECT_EQ(versions[0].changed_by->id, alice.id);
    EXPECT_EQ(versions[0].change_reason, std::optional<std::string>("imported"));
    ids.push_back(versions[0].history_id);
    // The interval index knows it: its own slot conflicts with it.
    EXPECT_EQ(conflict_ids(alice.id, batch[i].start_time, batch[i].end_time),
              std::vector<EventId>{event.id});
  }
  for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i], ids[i - 1] + 1);
  EXPECT_EQ(list(alice.id, {}).count, 5);
  // The next change takes the next history id.
  const Event after = add_event(alice.id, fields("After", on_day(22), on_day(23)));
  EXPECT_EQ(all_versions(after.id).at(0).history_id, ids.back() + 1);
}

TEST_P(EventHistoryContract, BulkInsertOfNothingStoresNothing) {
  const User alice = add_user("alice");
  std::vector<Event> inserted{Event{}};
  write_or_throw(*store_, [&](StoreWriter& w) {
    inserted = w.insert_events(alice.id, {}, {alice.id, {}});
  });
  EXPECT_TRUE(inserted.empty());
  EXPECT_EQ(list(alice.id, {}).count, 0);
}

// A batch as large as the API allows (--max-batch 1000) plus some, with text that any quoting of
// the engine's bulk path must carry unchanged: every event keeps its own fields, the ids and the
// version ids follow the batch's order, and each event has its owner and one '+' version.
TEST_P(EventHistoryContract, BulkInsertOfAThousandKeepsOrderFieldsAndVersions) {
  const User alice = add_user("alice");
  const User bob = add_user("bob");
  const Event before = add_event(bob.id, fields("Bob's", on_day(9), on_day(10)));
  const std::vector<std::string> texts = {
      "",     "plain", "\"quoted\"", "back\\slash", "{braces}",  "a,b",  "NULL", "null",
      "  x ", "ünï ∑", "'single'",   "tab\there",   "new\nline", "\\\"", "()",   "[1,2]"};
  std::vector<EventFields> batch;
  constexpr int kCount = 1'200;
  for (int i = 0; i < kCount; ++i) {
    const Timestamp start = at(2026, 1, 1) + i * kHour + (i % 7) * kMinute;
    EventFields f = fields(texts[i % texts.size()] + std::to_string(i), start,
                           start + (1 + i % 3) * 15 * kMinute);
    f.description = texts[(i + 3) % texts.size()];
    f.location = texts[(i + 7) % texts.size()];
    f.is_recurring = i % 5 == 0;
    if (i % 4 == 1) f.recurrence_pattern = texts[(i + 11) % texts.size()];
    batch.push_back(f);
  }
  std::vector<Event> inserted;
  write_or_throw(*store_, [&](StoreWriter& w) {
    inserted = w.insert_events(alice.id, batch, {alice.id, std::nullopt});
  });
  ASSERT_EQ(inserted.size(), batch.size());
  std::vector<std::optional<EventView>> views;
  std::vector<std::vector<UserId>> participants;
  std::vector<std::vector<EventVersion>> versions;
  store_->read([&](StoreReader& r) {
    for (const Event& event : inserted) {
      views.push_back(r.find_event_for(alice.id, event.id));
      participants.push_back(r.participants_of(event.id));
      versions.push_back(r.versions_at(event.id, 1, r.count_versions(event.id)));
    }
  });
  for (std::size_t i = 0; i < inserted.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    EXPECT_EQ(inserted[i].fields, batch[i]);
    EXPECT_EQ(inserted[i].version, 1);
    if (i == 0) {
      EXPECT_GT(inserted[i].id, before.id);
    } else {
      EXPECT_GT(inserted[i].id, inserted[i - 1].id);
    }
    ASSERT_TRUE(views[i].has_value());
    EXPECT_EQ(views[i]->event.fields, batch[i]);
    EXPECT_EQ(views[i]->event.owner_id, alice.id);
    EXPECT_EQ(views[i]->role, Role::kOwner);
    EXPECT_EQ(participants[i], std::vector<UserId>{alice.id});
    ASSERT_EQ(versions[i].size(), 1u);
    EXPECT_EQ(versions[i][0].type, HistoryType::kCreated);
    EXPECT_EQ(versions[i][0].version, 1);
    EXPECT_EQ(versions[i][0].fields, batch[i]);
    EXPECT_EQ(versions[i][0].change_reason, std::nullopt);
    if (i > 0) {
      EXPECT_EQ(versions[i][0].history_id, versions[i - 1][0].history_id + 1);
    }
  }
  EXPECT_EQ(list(alice.id, {}).count, kCount);
  // The interval index holds them all: a slot of the batch conflicts with its event alone.
  EXPECT_EQ(conflict_ids(alice.id, batch[600].start_time, batch[600].end_time),
            std::vector<EventId>{inserted[600].id});
}

TEST_P(EventHistoryContract, TheDatabaseRefusesToRewriteOrDeleteAVersion) {
  const User alice = add_user("alice");
  const Event event = add_event(alice.id, fields("Fixed", on_day(9), on_day(10)));
  const HistoryId id = all_versions(event.id).at(0).history_id;
  EXPECT_TRUE(database_->refuses_to_rewrite_version(id));
  const std::optional<EventVersion> after = find_version(event.id, id);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->fields.title, "Fixed");
}

TEST_P(EventHistoryContract, CountingAndPagingCostTheSameAtAnyDepth) {
  // Not a timing test: with 2,000 versions the answers at both ends are exact, and the engine's
  // query plans (checked by the benchmark) make them index ranges.
  const User alice = add_user("alice");
  const Event event = add_event(alice.id, fields("t1", on_day(9), on_day(10)));
  write_or_throw(*store_, [&](StoreWriter& w) {
    for (int v = 2; v <= 2000; ++v) {
      w.update_event(event.id, fields("t" + std::to_string(v), on_day(9), on_day(10)), v,
                     {alice.id, {}});
    }
  });
  EXPECT_EQ(count_versions(event.id), 2000);
  const std::vector<EventVersion> newest = versions_at(event.id, 1991, 2000);
  ASSERT_EQ(newest.size(), 10u);
  EXPECT_EQ(newest.back().fields.title, "t2000");
  EXPECT_EQ(newest.back().version, 2000);
  EXPECT_EQ(versions_at(event.id, 1, 1).at(0).fields.title, "t1");
}

INSTANTIATE_TEST_SUITE_P(Engines, EventStoreContract,
                         testing::Values(sqlite_engine(), postgres_engine()),
                         [](const testing::TestParamInfo<EventEngine>& info) {
                           return info.param.name;
                         });
INSTANTIATE_TEST_SUITE_P(Engines, EventHistoryContract,
                         testing::Values(sqlite_engine(), postgres_engine()),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Engines, EventListPaging,
                         testing::Values(sqlite_engine(), postgres_engine()),
                         [](const testing::TestParamInfo<EventEngine>& info) {
                           return info.param.name;
                         });
INSTANTIATE_TEST_SUITE_P(Engines, EventListFilters,
                         testing::Values(sqlite_engine(), postgres_engine()),
                         [](const testing::TestParamInfo<EventEngine>& info) {
                           return info.param.name;
                         });
INSTANTIATE_TEST_SUITE_P(Engines, EventListOrdering,
                         testing::Values(sqlite_engine(), postgres_engine()),
                         [](const testing::TestParamInfo<EventEngine>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace almanac::store
