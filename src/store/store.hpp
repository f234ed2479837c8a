#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/event.hpp"
#include "domain/event_view.hpp"
#include "domain/history.hpp"
#include "domain/user.hpp"

// The storage contract, in domain types only: no engine's types or semantics pass through it.
// Every engine (sqlite/, later postgres/) implements it and passes the same contract tests.
namespace almanac::store {

// Queries, valid inside one consistent snapshot (a read transaction).
class StoreReader {
 public:
  virtual ~StoreReader() = default;

  // The user with this id, or nullopt.
  virtual std::optional<domain::User> find_user(domain::UserId id) = 0;

  // The user whose username matches `login` regardless of case, else the one whose e-mail does.
  virtual std::optional<domain::UserCredentials> find_credentials(std::string_view login) = 0;

  // True when a user already holds this username / e-mail (regardless of case).
  virtual bool username_exists(std::string_view username) = 0;
  virtual bool email_exists(std::string_view email) = 0;

  // True when the refresh token with this jti was revoked (logged out).
  virtual bool is_token_revoked(std::string_view jti) = 0;

  // The event `id` with `user`'s role on it, or nullopt when it does not exist or `user` takes
  // no part in it (the two are not told apart).
  virtual std::optional<domain::EventView> find_event_for(domain::UserId user,
                                                          domain::EventId id) = 0;

  // One page of the events `user` takes part in, filtered and ordered as `query` says, and how
  // many match in all. Its cost grows with the user's own events, never with other users'.
  virtual domain::EventPage list_events(domain::UserId user,
                                        const domain::EventListQuery& query) = 0;

  // Everyone taking part in event `id`.
  virtual std::vector<domain::UserId> participants_of(domain::EventId id) = 0;

  // Everyone taking part in event `id` with their usernames and roles: the owner first, then in
  // the order they joined.
  virtual std::vector<domain::Participant> list_participants(domain::EventId id) = 0;

  // The events other than `exclude` that any of `users` takes part in and whose times overlap
  // [start, end) strictly (see domain::overlaps). Describes at most kMaxConflictsListed of those
  // `viewer` takes part in, ordered by start time, and counts them all. Uses an interval index:
  // the cost does not grow with the number of events stored.
  virtual domain::Conflicts find_conflicts(std::span<const domain::UserId> users,
                                           domain::Timestamp start, domain::Timestamp end,
                                           domain::EventId exclude, domain::UserId viewer) = 0;

  // The version `history_id` of event `id`, or nullopt when there is none or it belongs to
  // another event. Versions outlive their event.
  virtual std::optional<domain::EventVersion> find_version(domain::EventId id,
                                                           domain::HistoryId history_id) = 0;

  // How many versions event `id` has. Costs the same for 3 versions or 100,000.
  virtual std::int64_t count_versions(domain::EventId id) = 0;

  // The versions of event `id` at positions [first, last] (1 = its first version), oldest first.
  // Costs what the versions returned cost, wherever the range lies.
  virtual std::vector<domain::EventVersion> versions_at(domain::EventId id, std::int64_t first,
                                                        std::int64_t last) = 0;

  // Operators' queries (`almanac user list`, `almanac export`):

  // Every user, by increasing id.
  virtual std::vector<domain::User> list_users() = 0;

  // The id of every event that has versions, deleted events included, in increasing order.
  virtual std::vector<domain::EventId> event_ids_with_history() = 0;
};

// Changes, valid inside one write transaction; everything done through one StoreWriter in one
// write() call commits or rolls back together.
class StoreWriter : public StoreReader {
 public:
  // Inserts a user. Raises Error{kConflict, reason "username_taken" or "email_taken"} when the
  // username or e-mail is already held (regardless of case).
  virtual domain::User insert_user(const domain::NewUser& user) = 0;

  // Replaces a user's password hash (rehash after the hashing parameters were raised).
  virtual void set_password_hash(domain::UserId id, const std::string& password_hash) = 0;

  // Records that the refresh token `jti` of `user` (valid until `expires_at`, Unix seconds) is
  // revoked. Returns false when it already was.
  virtual bool revoke_token(std::string_view jti, domain::UserId user, std::int64_t expires_at) = 0;

  // Enables or disables user `id` (`almanac user disable`): a disabled user can neither log in
  // nor use the tokens they hold. Returns false when there is no such user.
  virtual bool set_user_active(domain::UserId id, bool active) = 0;

  // Every change to an event below appends its version (a snapshot of the event as the change
  // left it, attributed to `change`) in the same transaction: a change without its version, or a
  // version without its change, cannot be committed. Versions are never changed or deleted.

  // Stores a new event owned by `owner` (who becomes its OWNER participant), at version 1, and
  // its '+' version.
  virtual domain::Event insert_event(domain::UserId owner, const domain::EventFields& fields,
                                     const domain::ChangeMeta& change) = 0;

  // The same as insert_event for each of `events` in order, in bulk: a batch create's fast path
  // (a few statements for all the participants and versions instead of one per event).
  virtual std::vector<domain::Event> insert_events(domain::UserId owner,
                                                   std::span<const domain::EventFields> events,
                                                   const domain::ChangeMeta& change) = 0;

  // Replaces the fields of event `id`, sets its version and appends a '~' version.
  virtual void update_event(domain::EventId id, const domain::EventFields& fields,
                            std::int64_t version, const domain::ChangeMeta& change) = 0;

  // Appends a '-' version holding the event as it was, then deletes event `id` and its
  // participants.
  virtual void delete_event(domain::EventId id, const domain::ChangeMeta& change) = 0;

  // Gives `user` the role `role` on event `id`, adding them when they take no part yet. Never
  // makes an OWNER: use transfer_ownership.
  virtual void set_participant(domain::EventId id, domain::UserId user, domain::Role role) = 0;

  // Makes `new_owner` the OWNER of event `id` (added if needed) and the previous owner an
  // EDITOR; the event has exactly one owner before and after.
  virtual void transfer_ownership(domain::EventId id, domain::UserId new_owner) = 0;

  // Removes `user` from event `id`. Returns false when they took no part in it.
  virtual bool remove_participant(domain::EventId id, domain::UserId user) = 0;

  // Appends to the audit trail: `actor` did `action` to `subject` on event `id` (with the role
  // given, if any), now.
  virtual void record_audit(domain::EventId id, domain::UserId actor, domain::AuditAction action,
                            domain::UserId subject, std::optional<domain::Role> role) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `work` inside a read transaction on the calling thread and returns when it is done.
  // Exceptions from `work` propagate. `work` sees every write whose `done` was called before
  // read() began, in this process; an engine may serve several read() calls of one thread from
  // one snapshot as long as no write committed in between (see on_thread_idle()).
  virtual void read(const std::function<void(StoreReader&)>& work) = 0;

  // The calling thread has no request in progress: give back whatever its reads keep open
  // between calls (the SQLite engine's read transaction, which would otherwise hold back WAL
  // checkpoints and hide other processes' writes). Cheap when there is nothing to give back.
  virtual void on_thread_idle() {}

  // The calling thread finished a request: give back what its reads keep open if a write has
  // committed since (a snapshot older than the newest commit keeps the SQLite engine's WAL
  // checkpoints from completing; busy threads seldom go idle). Called after every request, so it
  // must be cheap.
  virtual void on_request_done() {}

  // Whether a read should run off the calling (I/O) thread: false when read() costs the caller
  // no more than the query itself (SQLite, in process), true when it would wait for a database
  // round trip that another thread can wait for instead (PostgreSQL with pooled reads).
  virtual bool reads_off_thread() const { return false; }

  // Runs `work` inside a read transaction, on the calling thread or on one of the store's reader
  // threads (see reads_off_thread), and calls `done` where it ran, with nullptr or the exception
  // from `work` (or from the store: e.g. kUnavailable when its readers are all busy).
  using ReadWork = std::function<void(StoreReader&)>;
  using ReadDone = std::function<void(std::exception_ptr)>;
  // By value: sink parameters, which the engines that queue them move to their reader threads.
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  virtual void read_async(ReadWork work, ReadDone done) {
    std::exception_ptr error;
    try {
      read(work);
    } catch (...) {
      error = std::current_exception();
    }
    done(std::move(error));
  }

  // Queues `work` for the single writer. `work` runs on the writer's thread inside a transaction
  // that may also hold other requests' work (group commit); each work item is isolated by a
  // savepoint, so an exception from it undoes only its own changes. `done` is called on the
  // writer's thread once the outcome is durable: with nullptr after the commit that holds the
  // work, or with the exception (the work's own, or the commit's failure).
  using WriteWork = std::function<void(StoreWriter&)>;
  using WriteDone = std::function<void(std::exception_ptr)>;
  virtual void write(WriteWork work, WriteDone done) = 0;

  // A trivial query: true when the database answers.
  virtual bool ping() = 0;

  // Finishes queued writes and closes every connection. Later calls to write() fail.
  virtual void close() = 0;
};

}  // namespace almanac::store
