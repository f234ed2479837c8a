#include "store/postgres/pg_store.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

#include "util/embedded.hpp"
#include "util/log.hpp"

namespace almanac::store::postgres {
namespace {

using domain::Error;
using domain::ErrorCode;

// How long a reader waits for a connection of a busy pool before answering 503.
constexpr std::chrono::seconds kAcquireTimeout{10};
// Reads waiting for a reader thread (PgOptions::read_pool) before more are refused with 503.
constexpr std::size_t kMaxQueuedReads = 1024;
// Attempts of one write job that keeps meeting serialization failures or lost connections.
constexpr int kMaxAttempts = 20;

// The writers' advisory lock. Every write transaction takes it shared in its first statement
// (sent with BEGIN: one round trip). A job that lost kAttemptsBeforeAlone attempts to
// serialization failures takes it exclusively for its next attempts, on the session and BEFORE
// BEGIN, so that its snapshot is taken after every writer it waited for has finished: it then runs
// alone, in this instance and every other, and commits. PostgreSQL queues new shared requests
// behind a waiting exclusive one, so no job starves under sustained contention. Key: the
// migration lock's + 1.
constexpr int kAttemptsBeforeAlone = 3;
constexpr std::string_view kBegin =
    "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT pg_advisory_xact_lock_shared(27422289782792548)";
constexpr std::string_view kLockAlone = "SELECT pg_advisory_lock(27422289782792548)";
constexpr std::string_view kUnlockAlone = "SELECT pg_advisory_unlock(27422289782792548)";
// The session advisory lock held while migrating: key 0x616c6d616e6163 ("almanac").
constexpr std::string_view kMigrationLockSql = "SELECT pg_advisory_lock(27422289782792547)";
constexpr std::string_view kMigrationUnlockSql = "SELECT pg_advisory_unlock(27422289782792547)";

// A participant's box in the interval index (0001_schema.sql), from the event row `e`.
#define ALMANAC_FIRST_HOUR "least(e.start_time, e.end_time) / 3600000000 - 1"
#define ALMANAC_LAST_HOUR "greatest(e.start_time, e.end_time) / 3600000000 + 1"
// The box expression of the index participant_spans, for the participant row `p`.
#define ALMANAC_SPAN "box(point(p.user_id, p.first_hour), point(p.user_id, p.last_hour))"

constexpr domain::Timestamp kHour = 3600000000;

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error unavailable() {
  Error error(ErrorCode::kUnavailable, "The database is unavailable; try again shortly.",
              "unavailable");
  error.retry_after = 1;
  return error;
}

// A PostgreSQL array literal ("{...}") built element by element, for one parameter that carries
// a column of a batch: strings are quoted with '"' and '\' escaped, nullopt is NULL.
class ArrayLiteral {
 public:
  void add(std::string_view value) {
    separate();
    text_ += '"';
    for (const char c : value) {
      if (c == '"' || c == '\\') text_ += '\\';
      text_ += c;
    }
    text_ += '"';
  }
  void add(const std::string& value) { add(std::string_view(value)); }
  void add(const std::optional<std::string>& value) {
    if (value) {
      add(std::string_view(*value));
    } else {
      separate();
      text_ += "NULL";
    }
  }
  void add(std::int64_t value) {
    separate();
    text_ += std::to_string(value);
  }
  void add(bool value) {
    separate();
    text_ += value ? 't' : 'f';
  }
  std::string text() const { return text_ + '}'; }

 private:
  void separate() {
    if (text_.size() > 1) text_ += ',';
  }
  std::string text_ = "{";
};

// The queries of both readers and writers, over one connection.
class Session final : public StoreWriter {
 public:
  explicit Session(Connection& db) : db_(db) {}

  std::optional<domain::User> find_user(domain::UserId id) override {
    const Result r = db_.query(
        "SELECT id, username, email, is_active FROM users WHERE id = $1::bigint", Params().add(id));
    if (r.rows() == 0) return std::nullopt;
    return user_from(r, 0);
  }

  std::optional<domain::UserCredentials> find_credentials(std::string_view login) override {
    // The username wins over an e-mail that happens to read the same.
    const Result r = db_.query(
        "SELECT id, username, email, is_active, password_hash FROM users "
        "WHERE username_key = $1::text OR email_key = $2::text "
        "ORDER BY (username_key = $1::text) DESC LIMIT 1",
        Params().add(domain::username_key(login)).add(domain::email_key(login)));
    if (r.rows() == 0) return std::nullopt;
    return domain::UserCredentials{user_from(r, 0), r.text(0, 4)};
  }

  bool username_exists(std::string_view username) override {
    return db_.query("SELECT 1 FROM users WHERE username_key = $1::text",
                     Params().add(domain::username_key(username)))
               .rows() > 0;
  }

  bool email_exists(std::string_view email) override {
    return db_.query("SELECT 1 FROM users WHERE email_key = $1::text",
                     Params().add(domain::email_key(email)))
               .rows() > 0;
  }

  bool is_token_revoked(std::string_view jti) override {
    return db_.query("SELECT 1 FROM revoked_tokens WHERE jti = $1::text", Params().add(jti))
               .rows() > 0;
  }

  domain::User insert_user(const domain::NewUser& user) override {
    // ON CONFLICT DO NOTHING rather than catching the unique violation: an error would abort
    // the whole transaction, and a job may catch the conflict and go on.
    const Result r = db_.query(
        "INSERT INTO users (username, username_key, email, email_key, password_hash, created_at) "
        "VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint) "
        "ON CONFLICT DO NOTHING RETURNING id",
        Params()
            .add(user.username)
            .add(domain::username_key(user.username))
            .add(user.email)
            .add(domain::email_key(user.email))
            .add(user.password_hash)
            .add(now_micros()));
    if (r.rows() == 0) {
      if (username_exists(user.username)) {
        throw Error(ErrorCode::kConflict, "Username already exists", "username_taken");
      }
      throw Error(ErrorCode::kConflict, "Email already exists", "email_taken");
    }
    return domain::User{r.integer(0, 0), user.username, user.email, true};
  }

  void set_password_hash(domain::UserId id, const std::string& password_hash) override {
    db_.query("UPDATE users SET password_hash = $2::text WHERE id = $1::bigint",
              Params().add(id).add(password_hash));
  }

  bool set_user_active(domain::UserId id, bool active) override {
    return db_.query("UPDATE users SET is_active = $2::boolean WHERE id = $1::bigint",
                     Params().add(id).add(active))
               .affected() > 0;
  }

  std::vector<domain::User> list_users() override {
    const Result r = db_.query("SELECT id, username, email, is_active FROM users ORDER BY id");
    std::vector<domain::User> users;
    users.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) users.push_back(user_from(r, row));
    return users;
  }

  std::vector<domain::EventId> event_ids_with_history() override {
    // One row per event: the first version (position 1) of each.
    const Result r =
        db_.query("SELECT event_id FROM event_versions WHERE position = 1 ORDER BY event_id");
    std::vector<domain::EventId> ids;
    ids.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) ids.push_back(r.integer(row, 0));
    return ids;
  }

  bool revoke_token(std::string_view jti, domain::UserId user, std::int64_t expires_at) override {
    return db_.query(
                  "INSERT INTO revoked_tokens (jti, user_id, expires_at, revoked_at) "
                  "VALUES ($1::text, $2::bigint, $3::bigint, $4::bigint) "
                  "ON CONFLICT (jti) DO NOTHING",
                  Params().add(jti).add(user).add(expires_at).add(now_micros()))
               .affected() > 0;
  }

  std::optional<domain::EventView> find_event_for(domain::UserId user,
                                                  domain::EventId id) override {
    const Result r = db_.query(std::string(kViewColumns) +
                                   "FROM event_participants p JOIN events e ON e.id = p.event_id "
                                   "WHERE p.user_id = $1::bigint AND p.event_id = $2::bigint",
                               Params().add(user).add(id));
    if (r.rows() == 0) return std::nullopt;
    return view_from(r, 0);
  }

  domain::EventPage list_events(domain::UserId user, const domain::EventListQuery& query) override {
    // Fixed fragments chosen by which filters are present; every value is a parameter. The cost
    // grows with the user's own participant rows (the (user_id, event_id) index), never with
    // other users'; a bounded window also offers the planner the interval index.
    Params params;
    params.add(user);
    std::string where =
        " FROM event_participants p JOIN events e ON e.id = p.event_id"
        " WHERE p.user_id = $1::bigint";
    if (query.start) {
      params.add(*query.start);
      where += " AND e.end_time > " + params.last() + "::bigint";
    }
    if (query.end) {
      params.add(*query.end);
      where += " AND e.start_time < " + params.last() + "::bigint";
    }
    if (query.start && query.end) {
      // Boxes are widened by an hour on each side and these bounds by one more: the box test
      // only narrows, the exact test above decides (see the SQLite engine's span_bounds).
      params.add(*query.start / kHour - 1);
      const std::string first = params.last();
      params.add(*query.end / kHour + 1);
      where += " AND " ALMANAC_SPAN " && box(point($1::bigint, " + first +
               "::bigint), point($1::bigint, " + params.last() + "::bigint))";
    }
    if (query.role) {
      params.add(domain::to_string(*query.role));
      where += " AND p.role = " + params.last() + "::text";
    }
    if (query.is_recurring) {
      params.add(*query.is_recurring);
      where += " AND e.is_recurring = " + params.last() + "::boolean";
    }
    // lower() under the "C" collation folds ASCII letters only, as SQLite's lower() does.
    if (query.q) {
      params.add(domain::ascii_lower(*query.q));
      const std::string q = params.last() + "::text";
      where += " AND (strpos(lower(e.title COLLATE \"C\"), " + q +
               ") > 0 OR strpos(lower(e.description COLLATE \"C\"), " + q +
               ") > 0 OR strpos(lower(e.location COLLATE \"C\"), " + q + ") > 0)";
    }
    if (query.title) {
      params.add(domain::ascii_lower(*query.title));
      where += " AND strpos(lower(e.title COLLATE \"C\"), " + params.last() + "::text) > 0";
    }

    domain::EventPage page;
    // Without a filter on the event itself, the user's participant rows alone give the count (a
    // deleted event takes its participants with it): no join of 10,000 rows for a busy user's
    // first page. Only the role filter, on those rows, can apply.
    const bool rows_alone =
        !query.start && !query.end && !query.is_recurring && !query.q && !query.title;
    const std::string counted = rows_alone
                                    ? " FROM event_participants p WHERE p.user_id = $1::bigint" +
                                          std::string(query.role ? " AND p.role = $2::text" : "")
                                    : where;
    page.count = db_.query("SELECT count(*)" + counted, params).integer(0, 0);
    if (page.count <= (query.page - 1) * query.page_size) return page;

    const char* column = "p.event_id";
    switch (query.order) {
      case domain::EventOrder::kId:
        column = "p.event_id";
        break;
      case domain::EventOrder::kStartTime:
        column = "e.start_time";
        break;
      case domain::EventOrder::kEndTime:
        column = "e.end_time";
        break;
      case domain::EventOrder::kTitle:
        column = "lower(e.title COLLATE \"C\")";  // SQLite's NOCASE: ASCII folding, then bytes
        break;
    }
    const char* direction = query.descending ? " DESC" : "";
    std::string order = std::string(" ORDER BY ") + column + direction;
    if (query.order != domain::EventOrder::kId) order += std::string(", p.event_id") + direction;
    params.add(query.page_size);
    const std::string limit = params.last();
    params.add((query.page - 1) * query.page_size);
    const Result rows = db_.query(std::string(kViewColumns) + where + order + " LIMIT " + limit +
                                      "::bigint OFFSET " + params.last() + "::bigint",
                                  params);
    for (int i = 0; i < rows.rows(); ++i) page.results.push_back(view_from(rows, i));
    return page;
  }

  std::vector<domain::UserId> participants_of(domain::EventId id) override {
    const Result r = db_.query("SELECT user_id FROM event_participants WHERE event_id = $1::bigint",
                               Params().add(id));
    std::vector<domain::UserId> users;
    users.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) users.push_back(r.integer(i, 0));
    return users;
  }

  std::vector<domain::Participant> list_participants(domain::EventId id) override {
    const Result r = db_.query(
        "SELECT p.user_id, u.username, p.role FROM event_participants p "
        "JOIN users u ON u.id = p.user_id WHERE p.event_id = $1::bigint "
        "ORDER BY (p.role = 'OWNER') DESC, p.id",
        Params().add(id));
    std::vector<domain::Participant> participants;
    participants.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      participants.push_back({r.integer(i, 0), r.text(i, 1),
                              domain::parse_role(r.text(i, 2)).value_or(domain::Role::kViewer)});
    }
    return participants;
  }

  domain::Conflicts find_conflicts(std::span<const domain::UserId> users, domain::Timestamp start,
                                   domain::Timestamp end, domain::EventId exclude,
                                   domain::UserId viewer) override {
    // The interval index narrows to the boxes of each user around [start, end); the exact strict
    // overlap test runs on the events themselves.
    domain::Conflicts conflicts;
    if (start >= end) return conflicts;  // an empty range overlaps nothing (domain::overlaps)
    std::map<domain::EventId, std::pair<domain::ConflictSummary, bool>> found;
    for (const domain::UserId user : users) {
      const Result r = db_.query(
          "SELECT e.id, e.title, e.start_time, e.end_time, "
          "  EXISTS (SELECT 1 FROM event_participants v WHERE v.user_id = $1::bigint "
          "          AND v.event_id = e.id) "
          "FROM event_participants p JOIN events e ON e.id = p.event_id "
          "WHERE " ALMANAC_SPAN
          " && box(point($2::bigint, $3::bigint), point($2::bigint, $4::bigint)) "
          "  AND p.user_id = $2::bigint "
          "  AND e.start_time < $6::bigint AND e.end_time > $5::bigint "
          "  AND e.start_time < e.end_time AND e.id <> $7::bigint",
          Params()
              .add(viewer)
              .add(user)
              .add(start / kHour - 1)
              .add(end / kHour + 1)
              .add(start)
              .add(end)
              .add(exclude));
      for (int i = 0; i < r.rows(); ++i) {
        found.try_emplace(r.integer(i, 0),
                          domain::ConflictSummary{r.integer(i, 0), r.text(i, 1), r.integer(i, 2),
                                                  r.integer(i, 3)},
                          r.boolean(i, 4));
      }
    }
    conflicts.total = static_cast<std::int64_t>(found.size());
    for (auto& [id, entry] : found) {
      if (entry.second) conflicts.visible.push_back(std::move(entry.first));
    }
    std::sort(conflicts.visible.begin(), conflicts.visible.end(), [](const auto& a, const auto& b) {
      return std::tie(a.start_time, a.id) < std::tie(b.start_time, b.id);
    });
    if (conflicts.visible.size() > domain::kMaxConflictsListed) {
      conflicts.visible.resize(domain::kMaxConflictsListed);
    }
    return conflicts;
  }

  domain::Event insert_event(domain::UserId owner, const domain::EventFields& fields,
                             const domain::ChangeMeta& change) override {
    return insert_events(owner, std::span<const domain::EventFields>(&fields, 1), change).front();
  }

  std::vector<domain::Event> insert_events(domain::UserId owner,
                                           std::span<const domain::EventFields> events,
                                           const domain::ChangeMeta& change) override {
    // One statement for the whole batch, whatever its size: the fields travel as arrays, one per
    // column, and the events, their OWNER participants (with their boxes) and their '+' versions
    // are inserted from them. The ids are drawn from the sequences first and handed out in
    // increasing order along the batch, so that events and versions are numbered in the order
    // given, as inserting them one by one numbers them.
    std::vector<domain::Event> inserted;
    if (events.empty()) return inserted;
    ArrayLiteral titles, descriptions, starts, ends, locations, recurring, patterns;
    for (const domain::EventFields& f : events) {
      titles.add(f.title);
      descriptions.add(f.description);
      starts.add(f.start_time);
      ends.add(f.end_time);
      locations.add(f.location);
      recurring.add(f.is_recurring);
      patterns.add(f.recurrence_pattern);
    }
    Params params;
    params.add(owner)
        .add(titles.text())
        .add(descriptions.text())
        .add(starts.text())
        .add(ends.text())
        .add(locations.text())
        .add(recurring.text())
        .add(patterns.text())
        .add(now_micros())
        .add(change.changed_by)
        .add(change.change_reason);
    const Result r = db_.query(
        "WITH input AS ("
        "  SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], "
        "    $7::boolean[], $8::text[]) WITH ORDINALITY AS t(title, description, start_time, "
        "    end_time, location, is_recurring, recurrence_pattern, n)), "
        "event_ids AS ("
        "  SELECT row_number() OVER (ORDER BY id) AS n, id FROM ("
        "    SELECT nextval(pg_get_serial_sequence('events', 'id')) AS id FROM input) s), "
        "history_ids AS ("
        "  SELECT row_number() OVER (ORDER BY id) AS n, id FROM ("
        "    SELECT nextval('event_history_ids') AS id FROM input) s), "
        "batch AS ("
        "  SELECT i.n, e.id, h.id AS history_id, i.title, i.description, i.start_time, "
        "    i.end_time, i.location, i.is_recurring, i.recurrence_pattern "
        "  FROM input i JOIN event_ids e ON e.n = i.n JOIN history_ids h ON h.n = i.n), "
        "e AS ("
        "  INSERT INTO events (id, owner_id, title, description, start_time, end_time, location, "
        "    is_recurring, recurrence_pattern, version, created_at, updated_at) "
        "  SELECT b.id, $1::bigint, b.title, b.description, b.start_time, b.end_time, b.location, "
        "    b.is_recurring, b.recurrence_pattern, 1, $9::bigint, $9::bigint "
        "  FROM batch b ORDER BY b.n "
        "  RETURNING id, owner_id, start_time, end_time), "
        "p AS ("
        "  INSERT INTO event_participants (event_id, user_id, role, first_hour, last_hour) "
        "  SELECT e.id, e.owner_id, 'OWNER', " ALMANAC_FIRST_HOUR ", " ALMANAC_LAST_HOUR
        "  FROM e ORDER BY e.id), "
        "v AS ("
        "  INSERT INTO event_versions (history_id, event_id, position, version, history_type, "
        "    history_date, changed_by, change_reason, owner_id, title, description, "
        "    start_time, end_time, location, is_recurring, recurrence_pattern) "
        "  SELECT b.history_id, b.id, 1, 1, '+', $9::bigint, $10::bigint, $11::text, "
        "    $1::bigint, b.title, b.description, b.start_time, b.end_time, b.location, "
        "    b.is_recurring, b.recurrence_pattern FROM batch b ORDER BY b.n) "
        "SELECT id FROM batch ORDER BY n",
        params);
    if (static_cast<std::size_t>(r.rows()) != events.size()) {
      throw std::logic_error("batch insert returned " + std::to_string(r.rows()) + " ids for " +
                             std::to_string(events.size()) + " events");
    }
    inserted.reserve(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      inserted.push_back(domain::Event{r.integer(static_cast<int>(i), 0), events[i], owner, 1});
    }
    return inserted;
  }

  void update_event(domain::EventId id, const domain::EventFields& fields, std::int64_t version,
                    const domain::ChangeMeta& change) override {
    const std::int64_t now = now_micros();
    Params params;
    params.add(id);
    add_fields(params, fields);
    params.add(version).add(now);
    // The event, and its participants' boxes when its times moved.
    db_.query(
        "WITH e AS ("
        "  UPDATE events SET title = $2::text, description = $3::text, start_time = $4::bigint, "
        "    end_time = $5::bigint, location = $6::text, is_recurring = $7::boolean, "
        "    recurrence_pattern = $8::text, version = $9::bigint, updated_at = $10::bigint "
        "  WHERE id = $1::bigint RETURNING id, start_time, end_time) "
        "UPDATE event_participants p SET first_hour = " ALMANAC_FIRST_HOUR
        ", last_hour = " ALMANAC_LAST_HOUR
        " FROM e WHERE p.event_id = e.id "
        "  AND (p.first_hour, p.last_hour) IS DISTINCT FROM (" ALMANAC_FIRST_HOUR
        ", " ALMANAC_LAST_HOUR ")",
        params);
    append_version(id, domain::HistoryType::kChanged, now, change);
  }

  void delete_event(domain::EventId id, const domain::ChangeMeta& change) override {
    append_version(id, domain::HistoryType::kDeleted, now_micros(), change);
    db_.query("DELETE FROM event_participants WHERE event_id = $1::bigint", Params().add(id));
    db_.query("DELETE FROM events WHERE id = $1::bigint", Params().add(id));
  }

  std::optional<domain::EventVersion> find_version(domain::EventId id,
                                                   domain::HistoryId history_id) override {
    const Result r = db_.query(std::string(kVersionColumns) +
                                   "WHERE v.history_id = $2::bigint AND v.event_id = $1::bigint",
                               Params().add(id).add(history_id));
    if (r.rows() == 0) return std::nullopt;
    return version_from(r, 0);
  }

  std::int64_t count_versions(domain::EventId id) override {
    // Positions run 1..n without gaps: the newest one is the count, at the end of the key.
    const Result r = db_.query(
        "SELECT position FROM event_versions WHERE event_id = $1::bigint "
        "ORDER BY position DESC LIMIT 1",
        Params().add(id));
    return r.rows() > 0 ? r.integer(0, 0) : 0;
  }

  std::vector<domain::EventVersion> versions_at(domain::EventId id, std::int64_t first,
                                                std::int64_t last) override {
    std::vector<domain::EventVersion> versions;
    if (first > last) return versions;
    const Result r = db_.query(std::string(kVersionColumns) +
                                   "WHERE v.event_id = $1::bigint "
                                   "AND v.position BETWEEN $2::bigint AND $3::bigint "
                                   "ORDER BY v.position",
                               Params().add(id).add(first).add(last));
    versions.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) versions.push_back(version_from(r, i));
    return versions;
  }

  void set_participant(domain::EventId id, domain::UserId user, domain::Role role) override {
    db_.query(std::string(kAddParticipant) +
                  "ON CONFLICT (user_id, event_id) DO UPDATE SET role = "
                  "excluded.role",
              Params().add(id).add(user).add(domain::to_string(role)));
  }

  void transfer_ownership(domain::EventId id, domain::UserId new_owner) override {
    // Demote first: the index one_owner_per_event holds at every statement.
    db_.query(
        "UPDATE event_participants SET role = 'EDITOR' "
        "WHERE event_id = $1::bigint AND role = 'OWNER'",
        Params().add(id));
    db_.query(std::string(kAddParticipant) +
                  "ON CONFLICT (user_id, event_id) DO UPDATE SET role = "
                  "'OWNER'",
              Params().add(id).add(new_owner).add("OWNER"));
    db_.query("UPDATE events SET owner_id = $2::bigint WHERE id = $1::bigint",
              Params().add(id).add(new_owner));
  }

  bool remove_participant(domain::EventId id, domain::UserId user) override {
    return db_.query(
                  "DELETE FROM event_participants WHERE event_id = $1::bigint "
                  "AND user_id = $2::bigint",
                  Params().add(id).add(user))
               .affected() > 0;
  }

  void record_audit(domain::EventId id, domain::UserId actor, domain::AuditAction action,
                    domain::UserId subject, std::optional<domain::Role> role) override {
    const char* name = "shared";
    switch (action) {
      case domain::AuditAction::kShared:
        name = "shared";
        break;
      case domain::AuditAction::kRoleChanged:
        name = "role_changed";
        break;
      case domain::AuditAction::kRemoved:
        name = "removed";
        break;
      case domain::AuditAction::kOwnershipTransferred:
        name = "ownership_transferred";
        break;
    }
    Params params;
    params.add(id).add(actor).add(name).add(subject);
    if (role) {
      params.add(domain::to_string(*role));
    } else {
      params.add_null();
    }
    params.add(now_micros());
    db_.query(
        "INSERT INTO participant_audit (event_id, actor_id, action, subject_id, role, at) "
        "VALUES ($1::bigint, $2::bigint, $3::text, $4::bigint, $5::text, $6::bigint)",
        params);
  }

 private:
  // Columns: id, owner_id, title, description, start, end, location, is_recurring, pattern,
  // version, role.
  static constexpr std::string_view kViewColumns =
      "SELECT e.id, e.owner_id, e.title, e.description, e.start_time, e.end_time, e.location, "
      "e.is_recurring, e.recurrence_pattern, e.version, p.role ";

  // The SELECT of a version and the username of its author, up to WHERE.
  static constexpr std::string_view kVersionColumns =
      "SELECT v.history_id, v.event_id, v.version, v.history_type, v.history_date, v.changed_by, "
      "u.username, v.change_reason, v.owner_id, v.title, v.description, v.start_time, "
      "v.end_time, v.location, v.is_recurring, v.recurrence_pattern "
      "FROM event_versions v LEFT JOIN users u ON u.id = v.changed_by ";

  // Adds participant $2 with role $3 to event $1, with the box of the event's times; up to ON
  // CONFLICT.
  static constexpr std::string_view kAddParticipant =
      "INSERT INTO event_participants (event_id, user_id, role, first_hour, last_hour) "
      "SELECT e.id, $2::bigint, $3::text, " ALMANAC_FIRST_HOUR ", " ALMANAC_LAST_HOUR
      " FROM events e WHERE e.id = $1::bigint ";

  // Appends a version of event `id` holding its row as it is now, at the next position.
  void append_version(domain::EventId id, domain::HistoryType type, std::int64_t now,
                      const domain::ChangeMeta& change) {
    const Result r = db_.query(
        "INSERT INTO event_versions (event_id, position, version, history_type, history_date, "
        "changed_by, change_reason, owner_id, title, description, start_time, end_time, "
        "location, is_recurring, recurrence_pattern) "
        "SELECT e.id, coalesce((SELECT max(position) FROM event_versions WHERE event_id = e.id), "
        "0) + 1, e.version, $2::text, $3::bigint, $4::bigint, $5::text, e.owner_id, e.title, "
        "e.description, e.start_time, e.end_time, e.location, e.is_recurring, "
        "e.recurrence_pattern FROM events e WHERE e.id = $1::bigint",
        Params()
            .add(id)
            .add(domain::to_string(type))
            .add(now)
            .add(change.changed_by)
            .add(change.change_reason));
    if (r.affected() != 1) {
      std::string message = "no event ";
      message += std::to_string(id);
      message += " to record a version of";
      throw std::logic_error(message);
    }
  }

  // Adds title, description, start, end, location, is_recurring, pattern.
  static void add_fields(Params& params, const domain::EventFields& f) {
    params.add(f.title)
        .add(f.description)
        .add(f.start_time)
        .add(f.end_time)
        .add(f.location)
        .add(f.is_recurring)
        .add(f.recurrence_pattern);
  }

  // Columns: kVersionColumns.
  static domain::EventVersion version_from(const Result& r, int i) {
    domain::EventVersion v;
    v.history_id = r.integer(i, 0);
    v.event_id = r.integer(i, 1);
    v.version = r.integer(i, 2);
    v.type = domain::parse_history_type(r.text(i, 3)).value_or(domain::HistoryType::kChanged);
    v.history_date = r.integer(i, 4);
    if (!r.is_null(i, 5) && !r.is_null(i, 6)) {
      v.changed_by = domain::VersionAuthor{r.integer(i, 5), r.text(i, 6)};
    }
    if (!r.is_null(i, 7)) v.change_reason = r.text(i, 7);
    v.owner_id = r.integer(i, 8);
    v.fields.title = r.text(i, 9);
    v.fields.description = r.text(i, 10);
    v.fields.start_time = r.integer(i, 11);
    v.fields.end_time = r.integer(i, 12);
    v.fields.location = r.text(i, 13);
    v.fields.is_recurring = r.boolean(i, 14);
    if (!r.is_null(i, 15)) v.fields.recurrence_pattern = r.text(i, 15);
    return v;
  }

  // Columns: kViewColumns.
  static domain::EventView view_from(const Result& r, int i) {
    domain::EventView view;
    domain::Event& e = view.event;
    e.id = r.integer(i, 0);
    e.owner_id = r.integer(i, 1);
    e.fields.title = r.text(i, 2);
    e.fields.description = r.text(i, 3);
    e.fields.start_time = r.integer(i, 4);
    e.fields.end_time = r.integer(i, 5);
    e.fields.location = r.text(i, 6);
    e.fields.is_recurring = r.boolean(i, 7);
    if (!r.is_null(i, 8)) e.fields.recurrence_pattern = r.text(i, 8);
    e.version = r.integer(i, 9);
    view.role = domain::parse_role(r.text(i, 10)).value_or(domain::Role::kViewer);
    return view;
  }

  static domain::User user_from(const Result& r, int i) {
    return domain::User{r.integer(i, 0), r.text(i, 1), r.text(i, 2), r.boolean(i, 3)};
  }

  Connection& db_;
};

// Rolls back an open transaction; a connection that cannot is left broken or discarded. A
// failed COMMIT has already ended its transaction: nothing to roll back then.
void rollback(ConnectionPool::Lease& connection) noexcept {
  try {
    if (!connection->in_transaction()) return;
    connection->exec("ROLLBACK");
  } catch (...) {
    connection.discard();
  }
}

}  // namespace

// --- the pool -----------------------------------------------------------------------------------

ConnectionPool::ConnectionPool(std::string url, std::size_t size)
    : url_(std::move(url)), size_(std::max<std::size_t>(size, 1)) {}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(std::move(connection_));
}

ConnectionPool::Lease ConnectionPool::acquire() {
  std::unique_lock lock(mutex_);
  if (!returned_.wait_for(lock, kAcquireTimeout, [&] { return !idle_.empty() || open_ < size_; })) {
    Error busy(ErrorCode::kUnavailable, "The server is busy; try again shortly.", "busy");
    busy.retry_after = 1;
    throw busy;
  }
  if (!idle_.empty()) {
    std::unique_ptr<Connection> connection = std::move(idle_.back());
    idle_.pop_back();
    return Lease(*this, std::move(connection));
  }
  ++open_;
  lock.unlock();
  try {
    return Lease(*this, std::make_unique<Connection>(url_));
  } catch (const PgError& e) {
    util::log(util::LogLevel::kError, "cannot connect to PostgreSQL",
              {util::field("error", e.what())});
    release(nullptr);
    throw unavailable();
  }
}

void ConnectionPool::release(std::unique_ptr<Connection> connection) {
  {
    const std::lock_guard lock(mutex_);
    if (connection && !connection->broken()) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;  // the slot is opened afresh by the next acquire()
    }
  }
  returned_.notify_one();
}

void ConnectionPool::clear() {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    const std::lock_guard lock(mutex_);
    open_ -= idle_.size();
    closing.swap(idle_);
  }
  returned_.notify_all();
}

// --- migrations ---------------------------------------------------------------------------------

int migrate(Connection& db) {
  // A migration may rewrite a large table, and waiting for another instance's takes as long as
  // that does: no statement bound on this connection.
  db.exec("SET statement_timeout = 0");
  // Several instances may start together: one migrates, the others wait and find nothing to do.
  db.exec(kMigrationLockSql);
  try {
    db.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "  version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)");
    int version = static_cast<int>(
        db.query("SELECT coalesce(max(version), 0) FROM schema_migrations").integer(0, 0));
    for (const embedded::Migration& migration : embedded::postgres_migrations()) {
      if (migration.version <= version) continue;
      db.exec("BEGIN");
      try {
        db.exec(migration.sql);
        db.query(
            "INSERT INTO schema_migrations (version, name, applied_at) "
            "VALUES ($1::integer, $2::text, $3::bigint)",
            Params().add(std::int64_t{migration.version}).add(migration.name).add(now_micros()));
        db.exec("COMMIT");
      } catch (...) {
        try {
          db.exec("ROLLBACK");
        } catch (...) {
        }
        throw;
      }
      version = migration.version;
    }
    db.exec(kMigrationUnlockSql);
    return version;
  } catch (...) {
    try {
      db.exec(kMigrationUnlockSql);
    } catch (...) {
    }
    throw;
  }
}

// --- the store ----------------------------------------------------------------------------------

namespace {
std::size_t writer_count(const PgOptions& o) {
  const std::size_t pool = std::max<std::size_t>(o.pool_size, 2);
  const std::size_t writers = o.writers != 0 ? o.writers : pool / 2;
  return std::clamp<std::size_t>(writers, 1, pool - 1);
}
}  // namespace

PgStore::PgStore(PgOptions options)
    : options_(std::move(options)),
      readers_(options_.url, std::max<std::size_t>(options_.pool_size, 2) - writer_count(options_)),
      writers_(options_.url, writer_count(options_)) {
  {
    Connection db(options_.url);
    migrate(db);
  }
  const std::size_t count = writer_count(options_);
  workers_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) workers_.emplace_back([this] { worker_loop(); });
  if (options_.read_pool) {
    const std::size_t readers = std::max<std::size_t>(options_.pool_size, 2) - count;
    read_pool_ = std::make_unique<util::WorkerPool>(readers, kMaxQueuedReads);
  }
}

PgStore::~PgStore() { close(); }

int PgStore::schema_version() {
  ConnectionPool::Lease db = readers_.acquire();
  return static_cast<int>(
      db->query("SELECT coalesce(max(version), 0) FROM schema_migrations").integer(0, 0));
}

void PgStore::read(const std::function<void(StoreReader&)>& work) {
  {
    const std::lock_guard lock(queue_mutex_);
    if (closed_) throw Error(ErrorCode::kUnavailable, "The database is closed.", "unavailable");
  }
  // A connection that broke while idle (the server restarted) fails at BEGIN, before any work
  // ran: it is dropped and the next one tried.
  for (int attempt = 0;; ++attempt) {
    ConnectionPool::Lease db = readers_.acquire();
    try {
      db->query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    } catch (const PgError& e) {
      db.discard();
      if (e.connection_lost() && attempt < kMaxAttempts) continue;
      throw unavailable();
    }
    Session session(*db);
    try {
      work(session);
    } catch (const PgError& e) {
      if (e.connection_lost()) {
        db.discard();
        throw unavailable();
      }
      rollback(db);
      if (e.cancelled()) throw unavailable();  // statement_timeout: the database is too slow
      throw;
    } catch (...) {
      rollback(db);
      throw;
    }
    try {
      db->query("COMMIT");
    } catch (const PgError&) {
      db.discard();
      throw unavailable();
    }
    return;
  }
}

void PgStore::read_async(ReadWork work, ReadDone done) {
  if (!read_pool_) {
    Store::read_async(std::move(work), std::move(done));
    return;
  }
  // One thread per reader connection: a read never waits for a connection, only in the queue.
  auto finish = std::make_shared<ReadDone>(std::move(done));
  const bool queued = read_pool_->try_submit([this, work = std::move(work), finish] {
    std::exception_ptr error;
    try {
      read(work);
    } catch (...) {
      error = std::current_exception();
    }
    (*finish)(std::move(error));
  });
  if (!queued) {
    Error busy(ErrorCode::kUnavailable, "The server is busy; try again shortly.", "busy");
    busy.retry_after = 1;
    (*finish)(std::make_exception_ptr(busy));
  }
}

bool PgStore::ping() {
  try {
    bool ok = false;
    read([&](StoreReader&) { ok = true; });
    return ok;
  } catch (const std::exception&) {
    return false;
  }
}

void PgStore::write(WriteWork work, WriteDone done) {
  {
    const std::lock_guard lock(queue_mutex_);
    if (!closing_) {
      queue_.push_back(Job{std::move(work), std::move(done)});
      queue_ready_.notify_one();
      return;
    }
  }
  done(std::make_exception_ptr(
      Error(ErrorCode::kUnavailable, "The server is shutting down.", "unavailable")));
}

void PgStore::worker_loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.done(run_job(job.work));
  }
}

namespace {

// Holds the writers' lock exclusively on `db`'s session for one attempt (kLockAlone) and gives it
// back afterwards; a connection that cannot give it back is dropped, which releases it.
class RunAlone {
 public:
  explicit RunAlone(ConnectionPool::Lease& db) : db_(db) { db_->exec(kLockAlone); }
  RunAlone(const RunAlone&) = delete;
  RunAlone& operator=(const RunAlone&) = delete;
  ~RunAlone() {
    if (db_.discarded()) return;  // the session ended, and its lock with it
    try {
      db_->exec(kUnlockAlone);
    } catch (...) {
      db_.discard();
    }
  }

 private:
  ConnectionPool::Lease& db_;
};

}  // namespace

// One SERIALIZABLE transaction per attempt, each on a fresh copy of the job (an attempt may have
// changed the job's own state before it failed).
std::exception_ptr PgStore::run_job(const WriteWork& work) {
  std::minstd_rand random(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt >= kMaxAttempts;
    std::optional<ConnectionPool::Lease> lease;
    try {
      lease.emplace(writers_.acquire());
    } catch (...) {
      return std::current_exception();  // kUnavailable: no connection could be opened
    }
    ConnectionPool::Lease& db = *lease;
    std::optional<RunAlone> alone;  // released before the lease is handed back
    bool committing = false;
    try {
      if (attempt > kAttemptsBeforeAlone) alone.emplace(db);
      db->exec(kBegin);
      Session session(*db);
      WriteWork copy = work;
      copy(session);
      committing = true;
      const auto commit_started = std::chrono::steady_clock::now();
      db->query("COMMIT");
      if (options_.observer != nullptr) {
        options_.observer->group_committed(1, std::chrono::steady_clock::now() - commit_started);
      }
      return nullptr;
    } catch (const PgError& e) {
      if (e.connection_lost()) {
        db.discard();
        if (committing) {
          // The COMMIT may or may not have happened: report a failure, never a false success.
          util::log(util::LogLevel::kError, "connection lost during COMMIT",
                    {util::field("error", e.what())});
          return std::make_exception_ptr(unavailable());
        }
        if (last) return std::make_exception_ptr(unavailable());
        // Nothing was committed: run the job again on a new connection.
        if (options_.observer != nullptr) {
          options_.observer->write_retried(WriteObserver::Retry::kConnectionLost);
        }
        continue;
      }
      rollback(db);
      if (e.cancelled()) return std::make_exception_ptr(unavailable());  // nothing committed
      if (!e.retryable()) return std::current_exception();
      // Lost every attempt to concurrent writers of the same rows: nothing was committed, so the
      // client may try again, as after any 503 (not a 500: the server is not broken, just busy).
      if (last) {
        util::log(util::LogLevel::kWarn, "write gave up after serialization failures",
                  {util::field("attempts", attempt)});
        Error busy(ErrorCode::kUnavailable,
                   "Too many concurrent changes to the same data; try again shortly.", "busy");
        busy.retry_after = 1;
        return std::make_exception_ptr(busy);
      }
      if (options_.observer != nullptr) {
        options_.observer->write_retried(WriteObserver::Retry::kSerialization);
      }
    } catch (...) {
      rollback(db);
      return std::current_exception();
    }
    // Serialization failure or deadlock: back off a little, at random, then try again.
    const int ceiling = std::min(1 << std::min(attempt, 7), 100);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, ceiling)(random)));
  }
}

void PgStore::close() {
  {
    const std::lock_guard lock(queue_mutex_);
    if (closing_) return;
    closing_ = true;
    queue_ready_.notify_all();
  }
  if (read_pool_) read_pool_->stop();  // the reads already queued still run
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  {
    const std::lock_guard lock(queue_mutex_);
    closed_ = true;
  }
  readers_.clear();
  writers_.clear();
}

}  // namespace almanac::store::postgres
