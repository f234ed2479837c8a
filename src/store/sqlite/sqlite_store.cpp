#include "store/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <deque>
#include <map>
#include <stdexcept>
#include <string>

#include "util/embedded.hpp"

namespace almanac::store::sqlite {
namespace {

using domain::Error;
using domain::ErrorCode;

// The unit of the participants' boxes (0008_spans_in_participants.sql).
constexpr domain::Timestamp kHour = 3600000000;

// The box of an event's participants in event_participants_by_span: whole hours widened by one on
// each side (min/max: a reversed range stays first <= last), and the bit length of its length,
// so that a box of class c is shorter than 2^c hours (0008_spans_in_participants.sql).
struct Span {
  std::int64_t first_hour = 0;
  std::int64_t last_hour = 0;
  std::int64_t span_class = 0;
};

Span span_of(domain::Timestamp start, domain::Timestamp end) {
  Span span;
  span.first_hour = std::min(start, end) / kHour - 1;
  span.last_hour = std::max(start, end) / kHour + 1;
  span.span_class = static_cast<std::int64_t>(
      std::bit_width(static_cast<std::uint64_t>(span.last_hour - span.first_hour)));
  return span;
}

// The classes of `:user`'s boxes (user_span_classes: a few rows per user, always in the cache),
// and the join of the user's boxes that overlap the hours [:first_hour, :last_hour] to their
// events (p, e). A box of class c that overlaps them starts in [:first_hour - 2^c + 1,
// :last_hour].
constexpr std::string_view kUserClasses =
    "WITH classes(c) AS (SELECT span_class FROM user_span_classes WHERE user_id = :user) ";
constexpr std::string_view kBoxesInWindow =
    " FROM classes CROSS JOIN event_participants p CROSS JOIN events e"
    " WHERE p.user_id = :user AND p.span_class = classes.c"
    " AND p.first_hour BETWEEN :first_hour - (1 << classes.c) + 1 AND :last_hour"
    " AND p.last_hour >= :first_hour AND e.id = p.event_id";

// The exact test of a conflict, on the events that kBoxesInWindow found: a strict overlap of
// [:start, :end) with a non-empty event other than :exclude.
constexpr std::string_view kOverlapsAndNotExcluded =
    "  AND e.start_time < :end AND e.end_time > :start AND e.start_time < e.end_time "
    "  AND e.id != :exclude";

// The rows of the next INSERT of a batch (multi-row VALUES), `left` rows to go: one statement
// execution for 64 rows costs about half of 64 single-row executions. Powers of two, so that a
// connection caches at most 7 sizes of each statement.
std::size_t rows_per_insert(std::size_t left) {
  return std::bit_floor(std::min<std::size_t>(left, 64));
}

// "INSERT ... VALUES row, row, ..." with `rows` copies of `row`.
std::string multi_row_insert(std::string_view insert, std::string_view row, std::size_t rows) {
  std::string sql(insert);
  sql += " VALUES ";
  for (std::size_t i = 0; i < rows; ++i) {
    if (i > 0) sql += ", ";
    sql += row;
  }
  return sql;
}

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The queries of both readers and the writer, over one connection.
class Session final : public StoreWriter {
 public:
  explicit Session(Connection& db) : db_(db) {}

  std::optional<domain::User> find_user(domain::UserId id) override {
    auto q = db_.prepare("SELECT id, username, email, is_active FROM users WHERE id = ?1");
    q->bind(1, id);
    if (!q->step()) return std::nullopt;
    return user_from(*q);
  }

  std::optional<domain::UserCredentials> find_credentials(std::string_view login) override {
    // The username wins over an e-mail that happens to read the same.
    auto q = db_.prepare(
        "SELECT id, username, email, is_active, password_hash FROM users "
        "WHERE username_key = ?1 OR email_key = ?2 "
        "ORDER BY username_key = ?1 DESC LIMIT 1");
    q->bind(1, domain::username_key(login)).bind(2, domain::email_key(login));
    if (!q->step()) return std::nullopt;
    return domain::UserCredentials{user_from(*q), q->column_text(4)};
  }

  bool username_exists(std::string_view username) override {
    auto q = db_.prepare("SELECT 1 FROM users WHERE username_key = ?1");
    q->bind(1, domain::username_key(username));
    return q->step();
  }

  bool email_exists(std::string_view email) override {
    auto q = db_.prepare("SELECT 1 FROM users WHERE email_key = ?1");
    q->bind(1, domain::email_key(email));
    return q->step();
  }

  bool is_token_revoked(std::string_view jti) override {
    auto q = db_.prepare("SELECT 1 FROM revoked_tokens WHERE jti = ?1");
    q->bind(1, jti);
    return q->step();
  }

  domain::User insert_user(const domain::NewUser& user) override {
    auto q = db_.prepare(
        "INSERT INTO users (username, username_key, email, email_key, password_hash, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    q->bind(1, user.username)
        .bind(2, domain::username_key(user.username))
        .bind(3, user.email)
        .bind(4, domain::email_key(user.email))
        .bind(5, user.password_hash)
        .bind(6, now_micros());
    try {
      q->run();
    } catch (const SqliteError& e) {
      if (e.code() != SQLITE_CONSTRAINT_UNIQUE) throw;
      const bool username = std::string_view(e.what()).find("username_key") != std::string::npos;
      throw Error(ErrorCode::kConflict,
                  username ? "Username already exists" : "Email already exists",
                  username ? "username_taken" : "email_taken");
    }
    return domain::User{db_.last_insert_rowid(), user.username, user.email, true};
  }

  void set_password_hash(domain::UserId id, const std::string& password_hash) override {
    auto q = db_.prepare("UPDATE users SET password_hash = ?2 WHERE id = ?1");
    q->bind(1, id).bind(2, password_hash);
    q->run();
  }

  bool revoke_token(std::string_view jti, domain::UserId user, std::int64_t expires_at) override {
    auto q = db_.prepare(
        "INSERT INTO revoked_tokens (jti, user_id, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (jti) DO NOTHING");
    q->bind(1, jti).bind(2, user).bind(3, expires_at).bind(4, now_micros());
    q->run();
    return db_.changes() > 0;
  }

  bool set_user_active(domain::UserId id, bool active) override {
    auto q = db_.prepare("UPDATE users SET is_active = ?2 WHERE id = ?1");
    q->bind(1, id).bind(2, std::int64_t{active ? 1 : 0});
    q->run();
    return db_.changes() > 0;
  }

  std::vector<domain::User> list_users() override {
    auto q = db_.prepare("SELECT id, username, email, is_active FROM users ORDER BY id");
    std::vector<domain::User> users;
    while (q->step()) users.push_back(user_from(*q));
    return users;
  }

  std::vector<domain::EventId> event_ids_with_history() override {
    // One row per event: the first version (position 1) of each, by the primary key.
    auto q =
        db_.prepare("SELECT event_id FROM event_versions WHERE position = 1 ORDER BY event_id");
    std::vector<domain::EventId> ids;
    while (q->step()) ids.push_back(q->column_int(0));
    return ids;
  }

  std::optional<domain::EventView> find_event_for(domain::UserId user,
                                                  domain::EventId id) override {
    auto q = db_.prepare(
        "SELECT e.id, e.owner_id, e.title, e.description, e.start_time, e.end_time, e.location, "
        "e.is_recurring, e.recurrence_pattern, e.version, p.role "
        "FROM event_participants p JOIN events e ON e.id = p.event_id "
        "WHERE p.user_id = ?1 AND p.event_id = ?2");
    q->bind(1, user).bind(2, id);
    if (!q->step()) return std::nullopt;
    return view_from(*q);
  }

  domain::EventPage list_events(domain::UserId user, const domain::EventListQuery& query) override {
    // Fixed fragments chosen by which filters are present; every value is bound. The shapes
    // below keep a page's cost independent of what other users store, and as small as it can be
    // for a user with many events:
    // - no filter on the events (at most the role): the count comes from user_event_counts, and
    //   the page walks the (user_id, event_id) index in id order, stopping after the page.
    // - a bounded time window of a user with many events (use_spans): the user's boxes around
    //   the window, class by class (kUserClasses), then the exact test on the events. CROSS JOIN
    //   keeps that order; left to itself the planner may start from the user's participant rows
    //   and read every event of the user.
    // - anything else (q, title, is_recurring, other windows): every event of the user is read
    //   to count the matches; the page still stops early in id order.
    const bool filters_events =
        query.start || query.end || query.is_recurring || query.q || query.title;
    const bool spans = use_spans(user, query);
    const std::string with(spans ? kUserClasses : "");
    std::string where;
    if (spans) {
      where = kBoxesInWindow;
    } else {
      where =
          " FROM event_participants p JOIN events e ON e.id = p.event_id"
          " WHERE p.user_id = :user";
    }
    if (query.start) where += " AND e.end_time > :start";
    if (query.end) where += " AND e.start_time < :end";
    // Unary +: "p.role = :role" could imply the WHERE of the partial index one_owner_per_event,
    // so SQLite would prepare the statement again at every new binding of :role (~150 us each).
    if (query.role) where += " AND +p.role = :role";
    if (query.is_recurring) where += " AND e.is_recurring = :recurring";
    if (query.q) {
      where +=
          " AND (instr(lower(e.title), :q) > 0 OR instr(lower(e.description), :q) > 0"
          " OR instr(lower(e.location), :q) > 0)";
    }
    if (query.title) where += " AND instr(lower(e.title), :title) > 0";
    const auto bind_filters = [&](Statement& s) {
      s.bind(":user", user);
      if (query.role) s.bind(":role", domain::to_string(*query.role));
      if (query.is_recurring) s.bind(":recurring", std::int64_t{*query.is_recurring ? 1 : 0});
      if (query.start) s.bind(":start", *query.start);
      if (query.end) s.bind(":end", *query.end);
      if (spans) bind_span_bounds(s, query);
      if (query.q) s.bind(":q", domain::ascii_lower(*query.q));
      if (query.title) s.bind(":title", domain::ascii_lower(*query.title));
    };

    domain::EventPage page;
    if (filters_events) {
      auto count = db_.prepare_dynamic(with + "SELECT count(*)" + where);
      bind_filters(*count);
      if (count->step()) page.count = count->column_int(0);
    } else {
      page.count = count_events_of(user, query.role);
    }
    if (page.count <= (query.page - 1) * query.page_size) return page;

    // p.event_id rather than e.id (the same value): the (user_id, event_id) index then gives the
    // order, and LIMIT stops the walk after the page instead of sorting every event of the user.
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
        column = "e.title COLLATE NOCASE";
        break;
    }
    const char* direction = query.descending ? " DESC" : "";
    std::string order = std::string(" ORDER BY ") + column + direction;
    if (query.order != domain::EventOrder::kId) order += std::string(", p.event_id") + direction;
    auto rows = db_.prepare_dynamic(
        with +
        "SELECT e.id, e.owner_id, e.title, e.description, e.start_time, e.end_time, e.location, "
        "e.is_recurring, e.recurrence_pattern, e.version, p.role" +
        where + order + " LIMIT :limit OFFSET :offset");
    bind_filters(*rows);
    rows->bind(":limit", query.page_size).bind(":offset", (query.page - 1) * query.page_size);
    while (rows->step()) page.results.push_back(view_from(*rows));
    return page;
  }

  // How many events `user` takes part in, with `role` if given: O(1), from user_event_counts.
  std::int64_t count_events_of(domain::UserId user, std::optional<domain::Role> role) {
    if (role) {
      auto q = db_.prepare("SELECT n FROM user_event_counts WHERE user_id = ?1 AND role = ?2");
      q->bind(1, user).bind(2, domain::to_string(*role));
      return q->step() ? q->column_int(0) : 0;
    }
    auto q = db_.prepare("SELECT coalesce(sum(n), 0) FROM user_event_counts WHERE user_id = ?1");
    q->bind(1, user);
    return q->step() ? q->column_int(0) : 0;
  }

  // The hours of kBoxesInWindow for the window of `query` (both bounds given). Boxes are widened
  // by an hour on each side and these bounds by one more: the box test only narrows, the exact
  // test on the events decides. Every row that the exact test keeps (end_time > start,
  // start_time < end) has min(start_time, end_time) < end and max(start_time, end_time) > start,
  // reversed and empty ranges included, so its box passes.
  static void bind_span_bounds(Statement& s, const domain::EventListQuery& query) {
    if (query.start) s.bind(":first_hour", *query.start / kHour - 1);
    if (query.end) s.bind(":last_hour", *query.end / kHour + 1);
  }

  // Whether the user's boxes (kBoxesInWindow) should answer `user`'s listing with the window of
  // `query`: bounded windows (a day, a week, a month of a calendar view) of users with many events.
  // One-sided and longer windows, and small calendars, read the user's events, which costs a few
  // microseconds per event of the user whatever the window.
  bool use_spans(domain::UserId user, const domain::EventListQuery& query) {
    constexpr domain::Timestamp kLongestWindow = domain::Timestamp{31} * 24 * kHour;
    constexpr std::int64_t kFewestEvents = 512;
    return query.start && query.end && *query.end - *query.start <= kLongestWindow &&
           count_events_of(user, std::nullopt) >= kFewestEvents;
  }

  std::vector<domain::UserId> participants_of(domain::EventId id) override {
    auto q = db_.prepare("SELECT user_id FROM event_participants WHERE event_id = ?1");
    q->bind(1, id);
    std::vector<domain::UserId> users;
    while (q->step()) users.push_back(q->column_int(0));
    return users;
  }

  std::vector<domain::Participant> list_participants(domain::EventId id) override {
    auto q = db_.prepare(
        "SELECT p.user_id, u.username, p.role FROM event_participants p "
        "JOIN users u ON u.id = p.user_id WHERE p.event_id = ?1 "
        "ORDER BY p.role = 'OWNER' DESC, p.id");
    q->bind(1, id);
    std::vector<domain::Participant> participants;
    while (q->step()) {
      participants.push_back(
          {q->column_int(0), q->column_text(1),
           domain::parse_role(q->column_text(2)).value_or(domain::Role::kViewer)});
    }
    return participants;
  }

  domain::Conflicts find_conflicts(std::span<const domain::UserId> users, domain::Timestamp start,
                                   domain::Timestamp end, domain::EventId exclude,
                                   domain::UserId viewer) override {
    // The user's boxes around [start, end), class by class, narrow to a few candidates; the
    // exact strict overlap test runs on the events themselves. The last column: whether the
    // viewer takes part in the event (its summary is listed), known without a lookup when the
    // viewer is the user whose boxes found it (a conflict check of one's own calendar; at a
    // million events, these lookups were a fifth of the pages a check read).
    static const std::string kAnyUser =
        std::string(kUserClasses) +
        "SELECT e.id, e.title, e.start_time, e.end_time, "
        "  EXISTS (SELECT 1 FROM event_participants v WHERE v.user_id = :viewer "
        "          AND v.event_id = e.id)" +
        std::string(kBoxesInWindow) + std::string(kOverlapsAndNotExcluded);
    static const std::string kViewer =
        std::string(kUserClasses) + "SELECT e.id, e.title, e.start_time, e.end_time, 1" +
        std::string(kBoxesInWindow) + std::string(kOverlapsAndNotExcluded);
    domain::Conflicts conflicts;
    if (start >= end) return conflicts;  // an empty range overlaps nothing (domain::overlaps)
    std::map<domain::EventId, std::pair<domain::ConflictSummary, bool>> found;
    for (const domain::UserId user : users) {
      auto q = db_.prepare(user == viewer ? kViewer : kAnyUser);
      if (user != viewer) q->bind(":viewer", viewer);
      q->bind(":user", user)
          .bind(":first_hour", start / kHour - 1)
          .bind(":last_hour", end / kHour + 1)
          .bind(":start", start)
          .bind(":end", end)
          .bind(":exclude", exclude);
      while (q->step()) {
        found.try_emplace(q->column_int(0),
                          domain::ConflictSummary{q->column_int(0), q->column_text(1),
                                                  q->column_int(2), q->column_int(3)},
                          q->column_int(4) != 0);
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
    std::vector<domain::Event> inserted;
    if (events.empty()) return inserted;
    inserted.reserve(events.size());
    const std::int64_t now = now_micros();
    // Many rows per statement (rows_per_insert). One writer, AUTOINCREMENT: the ids of one job
    // are consecutive, the last one known after each statement.
    for (std::size_t done = 0; done < events.size();) {
      const std::size_t rows = rows_per_insert(events.size() - done);
      auto q = db_.prepare_dynamic(multi_row_insert(
          "INSERT INTO events (owner_id, title, description, start_time, end_time, location, "
          "is_recurring, recurrence_pattern, version, created_at, updated_at)",
          "(?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)", rows));
      for (std::size_t i = 0; i < rows; ++i) {
        const int at = static_cast<int>(i) * 10;
        q->bind(at + 1, owner);
        bind_fields(*q, events[done + i], at + 2);
        q->bind(at + 9, now).bind(at + 10, now);
      }
      q->run();
      const domain::EventId last = db_.last_insert_rowid();
      for (std::size_t i = 0; i < rows; ++i) {
        const domain::EventId id = last - static_cast<domain::EventId>(rows - 1 - i);
        inserted.push_back(domain::Event{id, events[done + i], owner, 1});
      }
      done += rows;
    }
    // Each statement below covers every event of the job at once (or many): one statement
    // journal for all rows instead of one per event, which was most of a batch's cost.
    const domain::EventId first = inserted.front().id;
    const domain::EventId last = inserted.back().id;
    if (last - first + 1 != static_cast<std::int64_t>(inserted.size())) {
      throw std::logic_error("batch insert: event ids are not consecutive");
    }
    std::uint64_t classes = 0;  // bit c: a box of class c was written
    for (std::size_t done = 0; done < inserted.size();) {
      const std::size_t rows = rows_per_insert(inserted.size() - done);
      auto q = db_.prepare_dynamic(multi_row_insert(
          "INSERT INTO event_participants (event_id, user_id, role, first_hour, last_hour, "
          "span_class)",
          "(?, ?, 'OWNER', ?, ?, ?)", rows));
      for (std::size_t i = 0; i < rows; ++i) {
        const domain::Event& event = inserted[done + i];
        const Span span = span_of(event.fields.start_time, event.fields.end_time);
        classes |= std::uint64_t{1} << span.span_class;
        const int at = static_cast<int>(i) * 5;
        q->bind(at + 1, event.id)
            .bind(at + 2, owner)
            .bind(at + 3, span.first_hour)
            .bind(at + 4, span.last_hour)
            .bind(at + 5, span.span_class);
      }
      q->run();
      done += rows;
    }
    for (std::int64_t c = 0; classes != 0; ++c, classes >>= 1) {
      if ((classes & 1) != 0) note_span_class(owner, c);
    }
    count_participations(owner, domain::Role::kOwner, last - first + 1);
    std::int64_t next_history_id = 1;
    {
      auto q = db_.prepare("SELECT coalesce(max(history_id), 0) + 1 FROM event_versions");
      if (q->step()) next_history_id = q->column_int(0);
    }
    auto versions = db_.prepare(
        "INSERT INTO event_versions (event_id, position, history_id, version, history_type, "
        "history_date, changed_by, change_reason, owner_id, title, description, start_time, "
        "end_time, location, is_recurring, recurrence_pattern) "
        "SELECT e.id, 1, ?3 + e.id - ?1, 1, '+', ?4, ?5, ?6, e.owner_id, e.title, "
        "e.description, e.start_time, e.end_time, e.location, e.is_recurring, "
        "e.recurrence_pattern FROM events e WHERE e.id BETWEEN ?1 AND ?2 ORDER BY e.id");
    versions->bind(1, first).bind(2, last).bind(3, next_history_id).bind(4, now);
    versions->bind(5, change.changed_by);
    bind_optional(*versions, 6, change.change_reason);
    versions->run();
    return inserted;
  }

  void update_event(domain::EventId id, const domain::EventFields& fields, std::int64_t version,
                    const domain::ChangeMeta& change) override {
    const std::int64_t now = now_micros();
    auto q = db_.prepare(
        "UPDATE events SET title = ?2, description = ?3, start_time = ?4, end_time = ?5, "
        "location = ?6, is_recurring = ?7, recurrence_pattern = ?8, version = ?9, "
        "updated_at = ?10 WHERE id = ?1");
    q->bind(1, id);
    bind_fields(*q, fields, 2);
    q->bind(9, version).bind(10, now);
    q->run();
    move_spans(id, fields);
    append_version(id, domain::HistoryType::kChanged, now, change);
  }

  void delete_event(domain::EventId id, const domain::ChangeMeta& change) override {
    append_version(id, domain::HistoryType::kDeleted, now_micros(), change);
    for (const Participation& p : participations(id)) forget(p);
    auto participants = db_.prepare("DELETE FROM event_participants WHERE event_id = ?1");
    participants->bind(1, id);
    participants->run();
    auto event = db_.prepare("DELETE FROM events WHERE id = ?1");
    event->bind(1, id);
    event->run();
  }

  std::optional<domain::EventVersion> find_version(domain::EventId id,
                                                   domain::HistoryId history_id) override {
    static const std::string kSql =
        std::string(kVersionColumns) + "WHERE v.history_id = ?2 AND v.event_id = ?1";
    auto q = db_.prepare_dynamic(kSql);
    q->bind(1, id).bind(2, history_id);
    if (!q->step()) return std::nullopt;
    return version_from(*q);
  }

  std::int64_t count_versions(domain::EventId id) override {
    // Positions run 1..n without gaps: the newest one is the count, found at the end of the
    // (event_id, position) index.
    auto q = db_.prepare(
        "SELECT position FROM event_versions WHERE event_id = ?1 ORDER BY position DESC LIMIT 1");
    q->bind(1, id);
    return q->step() ? q->column_int(0) : 0;
  }

  std::vector<domain::EventVersion> versions_at(domain::EventId id, std::int64_t first,
                                                std::int64_t last) override {
    std::vector<domain::EventVersion> versions;
    if (first > last) return versions;
    static const std::string kSql = std::string(kVersionColumns) +
                                    "WHERE v.event_id = ?1 AND v.position BETWEEN ?2 AND ?3 "
                                    "ORDER BY v.position";
    auto q = db_.prepare_dynamic(kSql);
    q->bind(1, id).bind(2, first).bind(3, last);
    versions.reserve(static_cast<std::size_t>(std::min<std::int64_t>(last - first + 1, 1024)));
    while (q->step()) versions.push_back(version_from(*q));
    return versions;
  }

  void set_participant(domain::EventId id, domain::UserId user, domain::Role role) override {
    if (const std::optional<Participation> present = participation(id, user)) {
      change_role(*present, role);
      return;
    }
    auto times = db_.prepare("SELECT start_time, end_time FROM events WHERE id = ?1");
    times->bind(1, id);
    if (!times->step()) {
      throw std::logic_error("no event " + std::to_string(id) + " to add a participant to");
    }
    const Span span = span_of(times->column_int(0), times->column_int(1));
    auto q = db_.prepare(
        "INSERT INTO event_participants (event_id, user_id, role, first_hour, last_hour, "
        "span_class) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    q->bind(1, id)
        .bind(2, user)
        .bind(3, domain::to_string(role))
        .bind(4, span.first_hour)
        .bind(5, span.last_hour)
        .bind(6, span.span_class);
    q->run();
    note_span_class(user, span.span_class);
    count_participations(user, role, 1);
  }

  void transfer_ownership(domain::EventId id, domain::UserId new_owner) override {
    // Demote first: the index one_owner_per_event holds at every statement.
    for (const Participation& p : participations(id)) {
      if (p.role == domain::Role::kOwner && p.user != new_owner) {
        change_role(p, domain::Role::kEditor);
      }
    }
    set_participant(id, new_owner, domain::Role::kOwner);
    auto owner = db_.prepare("UPDATE events SET owner_id = ?2 WHERE id = ?1");
    owner->bind(1, id).bind(2, new_owner);
    owner->run();
  }

  bool remove_participant(domain::EventId id, domain::UserId user) override {
    const std::optional<Participation> present = participation(id, user);
    if (!present) return false;
    forget(*present);
    auto q = db_.prepare("DELETE FROM event_participants WHERE id = ?1");
    q->bind(1, present->id);
    q->run();
    return true;
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
    auto q = db_.prepare(
        "INSERT INTO participant_audit (event_id, actor_id, action, subject_id, role, at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    q->bind(1, id).bind(2, actor).bind(3, std::string_view(name)).bind(4, subject);
    if (role) {
      q->bind(5, domain::to_string(*role));
    } else {
      q->bind_null(5);
    }
    q->bind(6, now_micros());
    q->run();
  }

 private:
  // The SELECT of a version and the username of its author, up to WHERE.
  static constexpr std::string_view kVersionColumns =
      "SELECT v.history_id, v.event_id, v.version, v.history_type, v.history_date, v.changed_by, "
      "u.username, v.change_reason, v.owner_id, v.title, v.description, v.start_time, "
      "v.end_time, v.location, v.is_recurring, v.recurrence_pattern "
      "FROM event_versions v LEFT JOIN users u ON u.id = v.changed_by ";

  // A row of event_participants. The store writes its box (first_hour, last_hour, span_class:
  // span_of its event's times) with it, and keeps user_event_counts (participations by user and
  // role) in step with these rows in the statements below; 0007_derived_by_store.sql says why
  // not by triggers.
  struct Participation {
    std::int64_t id = 0;
    domain::UserId user = 0;
    domain::Role role = domain::Role::kViewer;
  };

  std::optional<Participation> participation(domain::EventId id, domain::UserId user) {
    auto q =
        db_.prepare("SELECT id, role FROM event_participants WHERE event_id = ?1 AND user_id = ?2");
    q->bind(1, id).bind(2, user);
    if (!q->step()) return std::nullopt;
    return Participation{q->column_int(0), user, role_from(q->column_text(1))};
  }

  std::vector<Participation> participations(domain::EventId id) {
    auto q = db_.prepare("SELECT id, user_id, role FROM event_participants WHERE event_id = ?1");
    q->bind(1, id);
    std::vector<Participation> all;
    while (q->step()) {
      all.push_back(
          Participation{q->column_int(0), q->column_int(1), role_from(q->column_text(2))});
    }
    return all;
  }

  static domain::Role role_from(const std::string& text) {
    const std::optional<domain::Role> role = domain::parse_role(text);
    if (!role) throw std::logic_error("event_participants holds an unknown role: " + text);
    return *role;
  }

  void change_role(const Participation& p, domain::Role role) {
    if (p.role == role) return;
    auto q = db_.prepare("UPDATE event_participants SET role = ?2 WHERE id = ?1");
    q->bind(1, p.id).bind(2, domain::to_string(role));
    q->run();
    count_participations(p.user, p.role, -1);
    count_participations(p.user, role, 1);
  }

  // Drops what the store derived from participation `p` (its count), before the row itself goes.
  void forget(const Participation& p) { count_participations(p.user, p.role, -1); }

  void count_participations(domain::UserId user, domain::Role role, std::int64_t delta) {
    auto q = db_.prepare(
        "INSERT INTO user_event_counts (user_id, role, n) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (user_id, role) DO UPDATE SET n = n + excluded.n");
    q->bind(1, user).bind(2, domain::to_string(role)).bind(3, delta);
    q->run();
  }

  // Moves the boxes of event `id`'s participants to its new times; boxes already in place (the
  // times moved within the same hours, or not at all) are left alone.
  void move_spans(domain::EventId id, const domain::EventFields& fields) {
    const Span span = span_of(fields.start_time, fields.end_time);
    auto q = db_.prepare(
        "UPDATE event_participants SET first_hour = ?2, last_hour = ?3, span_class = ?4 "
        "WHERE event_id = ?1 AND (first_hour != ?2 OR last_hour != ?3)");
    q->bind(1, id).bind(2, span.first_hour).bind(3, span.last_hour).bind(4, span.span_class);
    q->run();
    if (db_.changes() == 0) return;
    auto classes = db_.prepare(
        "INSERT OR IGNORE INTO user_span_classes (user_id, span_class) "
        "SELECT user_id, ?2 FROM event_participants WHERE event_id = ?1");
    classes->bind(1, id).bind(2, span.span_class);
    classes->run();
  }

  // Records that `user` has a box of class `span_class` (user_span_classes). Rows are never
  // taken away: a class the user no longer has costs a conflict check one empty seek.
  void note_span_class(domain::UserId user, std::int64_t span_class) {
    auto q = db_.prepare(
        "INSERT OR IGNORE INTO user_span_classes (user_id, span_class) VALUES (?1, ?2)");
    q->bind(1, user).bind(2, span_class);
    q->run();
  }

  // Appends a version of event `id` holding its row as it is now, at the next position.
  void append_version(domain::EventId id, domain::HistoryType type, std::int64_t now,
                      const domain::ChangeMeta& change) {
    auto q = db_.prepare(
        "INSERT INTO event_versions (event_id, position, history_id, version, history_type, "
        "history_date, changed_by, change_reason, owner_id, title, description, start_time, "
        "end_time, location, is_recurring, recurrence_pattern) "
        "SELECT e.id, coalesce((SELECT position FROM event_versions WHERE event_id = e.id "
        "ORDER BY position DESC LIMIT 1), 0) + 1, "
        "(SELECT coalesce(max(history_id), 0) + 1 FROM event_versions), e.version, ?2, ?3, ?4, "
        "?5, e.owner_id, e.title, e.description, e.start_time, e.end_time, e.location, "
        "e.is_recurring, e.recurrence_pattern FROM events e WHERE e.id = ?1");
    q->bind(1, id).bind(2, domain::to_string(type)).bind(3, now).bind(4, change.changed_by);
    bind_optional(*q, 5, change.change_reason);
    q->run();
    if (db_.changes() != 1) {
      throw std::logic_error("no event " + std::to_string(id) + " to record a version of");
    }
  }

  static void bind_optional(Statement& s, int index, const std::optional<std::string>& value) {
    if (value) {
      s.bind(index, *value);
    } else {
      s.bind_null(index);
    }
  }

  // Columns: kVersionColumns.
  static domain::EventVersion version_from(Statement& row) {
    domain::EventVersion v;
    v.history_id = row.column_int(0);
    v.event_id = row.column_int(1);
    v.version = row.column_int(2);
    v.type = domain::parse_history_type(row.column_text(3)).value_or(domain::HistoryType::kChanged);
    v.history_date = row.column_int(4);
    if (!row.column_is_null(5) && !row.column_is_null(6)) {
      v.changed_by = domain::VersionAuthor{row.column_int(5), row.column_text(6)};
    }
    if (!row.column_is_null(7)) v.change_reason = row.column_text(7);
    v.owner_id = row.column_int(8);
    v.fields.title = row.column_text(9);
    v.fields.description = row.column_text(10);
    v.fields.start_time = row.column_int(11);
    v.fields.end_time = row.column_int(12);
    v.fields.location = row.column_text(13);
    v.fields.is_recurring = row.column_int(14) != 0;
    if (!row.column_is_null(15)) v.fields.recurrence_pattern = row.column_text(15);
    return v;
  }

  // Binds title, description, start, end, location, is_recurring, pattern from index `first`.
  static void bind_fields(Statement& s, const domain::EventFields& f, int first) {
    s.bind(first, f.title)
        .bind(first + 1, f.description)
        .bind(first + 2, f.start_time)
        .bind(first + 3, f.end_time)
        .bind(first + 4, f.location)
        .bind(first + 5, std::int64_t{f.is_recurring ? 1 : 0});
    bind_optional(s, first + 6, f.recurrence_pattern);
  }

  // Columns: id, owner_id, title, description, start, end, location, is_recurring, pattern,
  // version, role.
  static domain::EventView view_from(Statement& row) {
    domain::EventView view;
    domain::Event& e = view.event;
    e.id = row.column_int(0);
    e.owner_id = row.column_int(1);
    e.fields.title = row.column_text(2);
    e.fields.description = row.column_text(3);
    e.fields.start_time = row.column_int(4);
    e.fields.end_time = row.column_int(5);
    e.fields.location = row.column_text(6);
    e.fields.is_recurring = row.column_int(7) != 0;
    if (!row.column_is_null(8)) e.fields.recurrence_pattern = row.column_text(8);
    e.version = row.column_int(9);
    view.role = domain::parse_role(row.column_text(10)).value_or(domain::Role::kViewer);
    return view;
  }

  static domain::User user_from(Statement& row) {
    return domain::User{row.column_int(0), row.column_text(1), row.column_text(2),
                        row.column_int(3) != 0};
  }

  Connection& db_;
};

std::atomic<std::uint64_t> g_next_store_id{1};

// An exception object of its own carrying the same error: when a commit fails, every job of the
// group is told, and the threads that read those errors must not share one object (its reference
// count lives where ThreadSanitizer cannot see it, and nothing orders the readers' releases).
std::exception_ptr copy_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const SqliteError& e) {
    return std::make_exception_ptr(SqliteError(e.code(), e.what()));
  } catch (const Error& e) {
    return std::make_exception_ptr(Error(e));
  } catch (const std::exception& e) {
    return std::make_exception_ptr(std::runtime_error(e.what()));
  } catch (...) {
    return std::make_exception_ptr(std::runtime_error("unknown failure"));
  }
}

}  // namespace

// Each thread keeps its own reader connection per store. Entries are keyed by a store id that is
// never reused, so the entry of a closed store is never dereferenced again. The connection's read
// transaction stays open between read() calls while nothing has committed since it began
// (`commits_seen`), for at most SqliteStore::kReadsPerSnapshot calls, until the thread goes
// idle.
struct ThreadReader {
  std::uint64_t store_id;
  Connection* connection;
  bool open = false;               // a read transaction is open on `connection`
  std::uint64_t commits_seen = 0;  // g_commits when it began
  unsigned reads = 0;              // read() calls it has served
  bool in_read = false;            // a read() of this thread is running on it
};
namespace {

// A deque: a read() holds a reference to its entry while its work runs, and that work may read
// from another store, which adds an entry (a vector would move the others).
thread_local std::deque<ThreadReader> t_readers;

// Commits by every SqliteStore of this process (two stores may share a file). Incremented after
// COMMIT returned and before any writer is told, so that a read which begins after a write was
// acknowledged finds it changed and takes a new snapshot.
std::atomic<std::uint64_t> g_commits{0};

}  // namespace

int migrate(Connection& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  int version = 0;
  {
    auto q = db.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (q->step()) version = static_cast<int>(q->column_int(0));
  }
  for (const embedded::Migration& migration : embedded::sqlite_migrations()) {
    if (migration.version <= version) continue;
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(migration.sql);
      auto q = db.prepare(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)");
      q->bind(1, migration.version).bind(2, migration.name).bind(3, now_micros());
      q->run();
      db.exec("COMMIT");
    } catch (...) {
      if (db.in_transaction()) db.exec("ROLLBACK");
      throw;
    }
    version = migration.version;
  }
  return version;
}

SqliteStore::SqliteStore(SqliteOptions options)
    : options_(std::move(options)), id_(g_next_store_id.fetch_add(1)) {
  writer_ = std::make_unique<Connection>(options_.path, options_.synchronous_full);
  writer_->exec("PRAGMA journal_mode = WAL");
  // A checkpoint that resets the WAL truncates the file to this size: a burst of writes (or a
  // reader that held a snapshot) no longer leaves its high-water mark on disk for good.
  writer_->exec("PRAGMA journal_size_limit = " + std::to_string(kWalSizeLimit));
  migrate(*writer_);
  writer_thread_ = std::thread([this] { writer_loop(); });
}

SqliteStore::~SqliteStore() { close(); }

int SqliteStore::schema_version() {
  int version = 0;
  read([&](StoreReader&) {
    auto q = reader_connection().prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (q->step()) version = static_cast<int>(q->column_int(0));
  });
  return version;
}

Connection& SqliteStore::reader_connection() { return *thread_reader().connection; }

ThreadReader& SqliteStore::thread_reader() {
  if (closed_) throw Error(ErrorCode::kUnavailable, "The database is closed.", "unavailable");
  for (ThreadReader& entry : t_readers) {
    if (entry.store_id == id_) return entry;
  }
  auto connection = std::make_unique<Connection>(options_.path, options_.synchronous_full);
  Connection* raw = connection.get();
  {
    const std::lock_guard lock(readers_mutex_);
    readers_.push_back(std::move(connection));
  }
  t_readers.push_back({id_, raw});
  return t_readers.back();
}

// A point read inside an open read transaction costs about a third of one that opens its own
// (BEGIN takes the WAL read lock through fcntl() and reads the WAL index; COMMIT gives them back),
// so the transaction is kept for the thread's next read() unless something committed since.
void SqliteStore::read(const std::function<void(StoreReader&)>& work) {
  ThreadReader& reader = thread_reader();
  Connection& db = *reader.connection;
  const std::uint64_t commits = g_commits.load(std::memory_order_acquire);
  if (reader.open && (reader.commits_seen != commits || reader.reads >= kReadsPerSnapshot)) {
    end_read(reader);
  }
  if (!reader.open) {
    db.run("BEGIN");
    reader.open = true;
    reader.commits_seen = commits;  // loaded before the snapshot is taken: never newer than it
    reader.reads = 0;
  }
  ++reader.reads;
  Session session(db);
  struct InRead {  // a write queued by `work` must not end the snapshot `work` is reading
    bool& flag;
    explicit InRead(bool& f) : flag(f) { flag = true; }
    ~InRead() { flag = false; }
    InRead(const InRead&) = delete;
    InRead& operator=(const InRead&) = delete;
  };
  try {
    const InRead in_read(reader.in_read);
    work(session);
  } catch (const SqliteError&) {
    end_read(reader);  // a failed statement: start the next read afresh
    throw;
  } catch (...) {
    if (!db.in_transaction()) reader.open = false;
    throw;
  }
}

void SqliteStore::end_read(ThreadReader& reader) {
  reader.open = false;
  Connection& db = *reader.connection;
  if (!db.in_transaction()) return;
  try {
    db.run("COMMIT");  // a read transaction: nothing to lose
  } catch (...) {
    try {
      if (db.in_transaction()) db.exec("ROLLBACK");
    } catch (...) {  // the next BEGIN reports whatever is wrong with the connection
    }
  }
}

void SqliteStore::end_thread_snapshot(bool only_if_stale) {
  if (closed_) return;
  const std::uint64_t commits = g_commits.load(std::memory_order_acquire);
  for (ThreadReader& entry : t_readers) {
    if (entry.store_id == id_ && entry.open && !entry.in_read &&
        (!only_if_stale || entry.commits_seen != commits)) {
      end_read(entry);
    }
  }
}

void SqliteStore::on_thread_idle() { end_thread_snapshot(false); }

// Without it the WAL grew without bound under steady writes: seeding 300,000 events through the
// batch endpoint left a 52-124 MB WAL beside a 101 MB database (5 MB when every read ended its
// transaction), because the I/O threads, busy parsing batches and seldom reading, kept snapshots
// from before many commits and the writer's checkpoints could not pass them.
void SqliteStore::on_request_done() { end_thread_snapshot(true); }

bool SqliteStore::ping() {
  try {
    auto q = reader_connection().prepare("SELECT 1");
    return q->step() && q->column_int(0) == 1;
  } catch (const std::exception&) {
    return false;
  }
}

void SqliteStore::write(WriteWork work, WriteDone done) {
  // The write will commit, which makes a snapshot this thread kept stale; kept while the request
  // waits for the writer (a batch: tens of milliseconds, with other requests' commits in between),
  // it would stop every checkpoint at its frame and the WAL would grow: seeding 1,000,000 events
  // through 4 connections left a 373-529 MB WAL.
  end_thread_snapshot(false);
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

void SqliteStore::writer_loop() {
  std::vector<Job> group;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing and drained
      while (!queue_.empty() && group.size() < options_.max_group) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    run_group(group);
    group.clear();
  }
}

// One transaction for the whole group; a savepoint per job isolates each job's failure. If SQLite
// abandons the transaction itself (an I/O error rolls it back), the jobs already applied in it are
// lost, so they fail too; the remaining jobs go on in a new transaction.
void SqliteStore::run_group(std::vector<Job>& jobs) {
  Connection& db = *writer_;
  Session session(db);
  std::vector<std::exception_ptr> outcomes(jobs.size());
  std::vector<std::size_t> pending;  // jobs applied in the open transaction

  const auto fail_pending = [&](const std::exception_ptr& error) {
    for (const std::size_t i : pending) outcomes[i] = copy_of(error);
    pending.clear();
  };
  std::exception_ptr begin_error;
  const auto begin = [&]() -> bool {
    try {
      db.run("BEGIN IMMEDIATE");
      return true;
    } catch (...) {
      begin_error = std::current_exception();
      return false;
    }
  };

  bool open = begin();
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (!open && !(open = begin())) {
      outcomes[i] = copy_of(begin_error);
      continue;
    }
    try {
      db.run("SAVEPOINT job");
      jobs[i].work(session);
      db.run("RELEASE job");
      pending.push_back(i);
    } catch (...) {
      outcomes[i] = std::current_exception();
      if (db.in_transaction()) {
        try {
          // Cached statements: a refused job (a conflict, a stale If-Match) is a common answer,
          // and parsing these each time was 7 % of the writer's work on a stream of 409s.
          db.run("ROLLBACK TO job");
          db.run("RELEASE job");
        } catch (...) {
          fail_pending(std::current_exception());
          try {
            db.exec("ROLLBACK");
          } catch (...) {
          }
          open = false;
        }
      } else {
        fail_pending(outcomes[i]);
        open = false;
      }
    }
  }
  if (open) {
    const auto commit_started = std::chrono::steady_clock::now();
    try {
      db.run("COMMIT");
      g_commits.fetch_add(1, std::memory_order_release);  // before any job is answered
      if (options_.observer != nullptr) {
        options_.observer->group_committed(jobs.size(),
                                           std::chrono::steady_clock::now() - commit_started);
      }
    } catch (...) {
      fail_pending(std::current_exception());
      if (db.in_transaction()) {
        try {
          db.exec("ROLLBACK");
        } catch (...) {
        }
      }
    }
  }
  // Each error is moved to its job, not copied: the writer keeps no reference to an error it has
  // handed over, so the thread that reads it is the one that frees it. (The reference count of
  // std::exception_ptr lives in libstdc++.so, which ThreadSanitizer does not see; a free here,
  // after the reader is done with it, is reported as a race.)
  for (std::size_t i = 0; i < jobs.size(); ++i) jobs[i].done(std::move(outcomes[i]));
}

void SqliteStore::close() {
  {
    const std::lock_guard lock(queue_mutex_);
    if (closing_) return;
    closing_ = true;
    queue_ready_.notify_all();
  }
  if (writer_thread_.joinable()) writer_thread_.join();
  closed_ = true;
  writer_.reset();
  // Readers still running on other threads would use freed handles: close() is called once the
  // server has stopped, and later reads fail at the closed_ check above.
  const std::lock_guard lock(readers_mutex_);
  readers_.clear();
}

}  // namespace almanac::store::sqlite
