// The SQLite engine keeps two tables derived from event_participants in its own statements
// (0007_derived_by_store.sql): participant_spans, one interval box per participant, and
// user_event_counts, participations by user and role. After a random sequence of every kind of
// write the store makes, both must hold exactly what event_participants and events say.
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

void expect_derived_tables_match(const std::string& path) {
  sqlite::Connection db(path, false);
  // Boxes: (participant id, user, user, first hour - 1, last hour + 1), a reversed range
  // ordered by min/max as the index needs.
  EXPECT_EQ(rows_of(db,
                    "SELECT id, min_user, max_user, first_hour, last_hour FROM participant_spans "
                    "ORDER BY id"),
            rows_of(db,
                    "SELECT p.id, p.user_id, p.user_id, "
                    "min(e.start_time, e.end_time) / 3600000000 - 1, "
                    "max(e.start_time, e.end_time) / 3600000000 + 1 "
                    "FROM event_participants p JOIN events e ON e.id = p.event_id ORDER BY p.id"));
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

}  // namespace
}  // namespace almanac::store
