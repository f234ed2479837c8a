// The SQLite engine keeps what it derives from event_participants in its own statements: each
// participant's interval box (first_hour, last_hour, span_class, from its event's times:
// 0008_spans_in_participants.sql) and user_event_counts, participations by user and role
// (0007_derived_by_store.sql). After a random sequence of every kind of write the store makes,
// both must hold exactly what event_participants and events say.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "domain/event.hpp"
#include "domain/role.hpp"
#include "domain/time.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/store_writes.hpp"
#include "support/temp_dir.hpp"
#include "util/embedded.hpp"

namespace almanac::store {
namespace {

using domain::EventFields;
using domain::EventId;
using domain::Role;
using domain::Timestamp;
using domain::UserId;

constexpr Timestamp kHour = 3600 * domain::kMicrosecondsPerSecond;

using Rows =
    std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>>;

// The rows of `sql` (five integer columns), in the order the query gives.
Rows rows_of(sqlite::Connection& db, std::string_view sql) {
  Rows rows;
  auto q = db.prepare_dynamic(std::string(sql));
  while (q->step()) {
    rows.emplace_back(q->column_int(0), q->column_int(1), q->column_int(2), q->column_int(3),
                      q->column_int(4));
  }
  return rows;
}

// The class of a box of `hours` hours: the number of bits of `hours`, counted here by halving.
std::int64_t class_of(std::int64_t hours) {
  std::int64_t bits = 0;
  for (; hours > 0; hours /= 2) ++bits;
  return bits;
}

void expect_derived_tables_match(const std::string& path) {
  sqlite::Connection db(path, false);
  // Boxes: (participant id, first hour - 1, last hour + 1, class), a reversed range ordered by
  // min/max; the class holds the box's length in hours (shorter than 2^class).
  Rows expected = rows_of(db,
                          "SELECT p.id, min(e.start_time, e.end_time) / 3600000000 - 1, "
                          "max(e.start_time, e.end_time) / 3600000000 + 1, 0, 0 "
                          "FROM event_participants p JOIN events e ON e.id = p.event_id "
                          "ORDER BY p.id");
  for (auto& [id, first, last, span_class, unused] : expected) {
    span_class = class_of(last - first);
    EXPECT_LT(last - first, std::int64_t{1} << span_class);
  }
  EXPECT_EQ(rows_of(db,
                    "SELECT id, first_hour, last_hour, span_class, 0 FROM event_participants "
                    "ORDER BY id"),
            expected);
  // Classes: every class of a user's boxes is listed (a class no longer used may stay).
  EXPECT_EQ(rows_of(db,
                    "SELECT user_id, span_class, 0, 0, 0 FROM event_participants "
                    "EXCEPT SELECT user_id, span_class, 0, 0, 0 FROM user_span_classes"),
            Rows{});
  // Counts: a row whose n has fallen to 0 reads as no row.
  EXPECT_EQ(
      rows_of(db,
              "SELECT user_id, CASE role WHEN 'OWNER' THEN 0 WHEN 'EDITOR' THEN 1 ELSE 2 END, "
              "n, 0, 0 FROM user_event_counts WHERE n != 0 ORDER BY 1, 2"),
      rows_of(db,
              "SELECT user_id, CASE role WHEN 'OWNER' THEN 0 WHEN 'EDITOR' THEN 1 ELSE 2 END, "
              "count(*), 0, 0 FROM event_participants GROUP BY user_id, role ORDER BY 1, 2"));
}

TEST(SqliteDerivedTables, MatchTheParticipantsAfterEveryKindOfWrite) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "almanac.db").string();
  std::mt19937_64 random(20261129);
  const auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
  };
  const auto random_fields = [&] {
    EventFields f;
    f.title = "Event";
    // Around the epoch, so that negative times and their rounding to whole hours show; some
    // ranges reversed, as imported data may hold.
    f.start_time = static_cast<Timestamp>(pick(600)) * kHour / 2 - 100 * kHour + 17;
    f.end_time = f.start_time + (static_cast<Timestamp>(pick(12)) - 2) * kHour / 3;
    return f;
  };

  sqlite::SqliteStore store(sqlite::SqliteOptions{.path = path});
  std::vector<UserId> users;
  test_support::write_or_throw(store, [&](StoreWriter& w) {
    for (int i = 0; i < 6; ++i) {
      const std::string name = "user" + std::to_string(i);
      users.push_back(w.insert_user({name, name + "@example.com", "hash"}).id);
    }
  });
  std::map<EventId, std::int64_t> versions;  // live events
  std::map<EventId, EventFields> fields;
  const auto any_event = [&] {
    auto it = versions.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(pick(versions.size())));
    return it->first;
  };
  constexpr std::array<Role, 3> kRoles = {Role::kOwner, Role::kEditor, Role::kViewer};

  for (int step = 0; step < 400; ++step) {
    const std::size_t kind = versions.size() < 3 ? 0 : pick(8);
    test_support::write_or_throw(store, [&](StoreWriter& w) {
      const UserId user = users[pick(users.size())];
      switch (kind) {
        case 0:  // create
        {
          const EventFields f = random_fields();
          const EventId id = w.insert_event(user, f, {user, {}}).id;
          versions[id] = 1;
          fields[id] = f;
          break;
        }
        case 1: {  // batch
          std::vector<EventFields> batch;
          for (std::size_t i = 0, n = 1 + pick(4); i < n; ++i) batch.push_back(random_fields());
          for (const auto& e : w.insert_events(user, batch, {user, {}})) {
            versions[e.id] = 1;
            fields[e.id] = e.fields;
          }
          break;
        }
        case 2: {  // update, moving in time or not
          const EventId id = any_event();
          EventFields f = random_fields();
          if (pick(3) == 0) {
            f.start_time = fields[id].start_time;
            f.end_time = fields[id].end_time;
          }
          w.update_event(id, f, ++versions[id], {user, {}});
          fields[id] = f;
          break;
        }
        case 3:
        case 4: {  // share, or change a role (never to a second owner)
          const EventId id = any_event();
          w.set_participant(id, user, kRoles[1 + pick(2)]);
          break;
        }
        case 5:  // transfer ownership
          w.transfer_ownership(any_event(), user);
          break;
        case 6:  // remove a participant (maybe the owner's row: the store does as told)
          w.remove_participant(any_event(), user);
          break;
        case 7: {  // delete
          const EventId id = any_event();
          w.delete_event(id, {user, {}});
          versions.erase(id);
          fields.erase(id);
          break;
        }
      }
    });
    if (step % 50 == 49) expect_derived_tables_match(path);
  }
  expect_derived_tables_match(path);
  store.close();
}

// 0008_spans_in_participants.sql rebuilds event_participants with the boxes on its rows and
// event_versions with cheaper CHECKs, and 0009_span_classes.sql lists the classes of each user's
// boxes, on a database that holds data: every row is kept as it was (ids, roles, versions), the
// boxes and classes are taken from the events, conflicts are found through them, and versions
// stay immutable.
TEST(SqliteDerivedTables, SpansMigrationKeepsTheRowsAndComputesTheBoxes) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "old.db").string();
  {
    sqlite::Connection db(path, false);
    db.exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at INTEGER NOT NULL)");
    for (const embedded::Migration& migration : embedded::sqlite_migrations()) {
      if (migration.version >= 8) break;
      db.exec(migration.sql);
      auto q = db.prepare("INSERT INTO schema_migrations VALUES (?1, ?2, 0)");
      q->bind(1, migration.version).bind(2, migration.name);
      q->run();
    }
    // Event 3: 09:00-10:30 on 1970-01-01; event 5: 400,000 hours long; event 6: reversed, before
    // 1970.
    db.exec(
        "INSERT INTO users (id, username, username_key, email, email_key, password_hash, "
        "created_at) VALUES (7, 'alice', 'alice', 'a@x', 'a@x', 'h', 0), "
        "(8, 'bob', 'bob', 'b@x', 'b@x', 'h', 0);"
        "INSERT INTO events (id, owner_id, title, start_time, end_time, version, created_at, "
        "updated_at) VALUES (3, 7, 'Meeting', 32400000000, 37800000000, 1, 0, 0), "
        "(5, 7, 'Long', 0, 1440000000000000, 1, 0, 0), "
        "(6, 8, 'Old', -3600000000, -7200000000, 1, 0, 0);"
        "INSERT INTO event_participants (id, event_id, user_id, role) VALUES "
        "(10, 3, 7, 'OWNER'), (11, 5, 7, 'OWNER'), (12, 6, 8, 'OWNER'), (14, 3, 8, 'VIEWER');"
        "INSERT INTO user_event_counts (user_id, role, n) VALUES (7, 'OWNER', 2), "
        "(8, 'OWNER', 1), (8, 'VIEWER', 1);"
        "INSERT INTO event_versions (event_id, position, history_id, version, history_type, "
        "history_date, changed_by, change_reason, owner_id, title, description, start_time, "
        "end_time, location, is_recurring, recurrence_pattern) VALUES "
        "(3, 1, 1, 1, '+', 0, 7, NULL, 7, 'Meeting', '', 32400000000, 37800000000, '', 0, NULL),"
        "(3, 2, 4, 2, '~', 5, 7, 'why', 7, 'Meeting', '', 32400000000, 37800000000, '', 0, "
        "NULL);");
  }
  sqlite::SqliteStore store(sqlite::SqliteOptions{.path = path});
  EXPECT_EQ(store.schema_version(), embedded::sqlite_migrations().back().version);
  domain::Conflicts bob_at_nine;
  domain::Conflicts alice_next_year;
  std::int64_t versions = 0;
  store.read([&](StoreReader& r) {
    const UserId bob[] = {8};
    bob_at_nine = r.find_conflicts(bob, 32400000000, 36000000000, 0, 8);
    const UserId alice[] = {7};
    alice_next_year = r.find_conflicts(alice, 1000000000000000, 1000003600000000, 0, 7);
    versions = r.count_versions(3);
  });
  ASSERT_EQ(bob_at_nine.visible.size(), 1u);
  EXPECT_EQ(bob_at_nine.visible[0].id, 3);
  ASSERT_EQ(alice_next_year.visible.size(), 1u);
  EXPECT_EQ(alice_next_year.visible[0].id, 5);
  EXPECT_EQ(versions, 2);
  store.close();

  sqlite::Connection db(path, false);
  EXPECT_EQ(rows_of(db,
                    "SELECT id, event_id, user_id, role = 'OWNER', 0 FROM event_participants "
                    "ORDER BY id"),
            (Rows{{10, 3, 7, 1, 0}, {11, 5, 7, 1, 0}, {12, 6, 8, 1, 0}, {14, 3, 8, 0, 0}}));
  expect_derived_tables_match(path);
  EXPECT_EQ(rows_of(db,
                    "SELECT event_id, position, history_id, version, 0 FROM event_versions "
                    "ORDER BY event_id, position"),
            (Rows{{3, 1, 1, 1, 0}, {3, 2, 4, 2, 0}}));
  EXPECT_THROW(db.exec("UPDATE event_versions SET title = 'x'"), sqlite::SqliteError);
  EXPECT_THROW(db.exec("DELETE FROM event_versions"), sqlite::SqliteError);
  EXPECT_THROW(db.exec("INSERT INTO event_participants (event_id, user_id, role, first_hour, "
                       "last_hour, span_class) VALUES (5, 8, 'GUEST', 0, 2, 2)"),
               sqlite::SqliteError);
  auto rtree = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'participant_spans'");
  ASSERT_TRUE(rtree->step());
  EXPECT_EQ(rtree->column_int(0), 0);
}

}  // namespace
}  // namespace almanac::store
