#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <utility>
#include <vector>

#include "domain/event.hpp"
#include "domain/event_view.hpp"
#include "domain/history.hpp"
#include "domain/user.hpp"
#include "service/event_change.hpp"
#include "store/store.hpp"

namespace almanac::service {

// The changelog of an event: entries in order, and how many versions it has in all.
struct Changelog {
  std::vector<domain::ChangelogEntry> entries;
  std::int64_t count = 0;
};

// The version history of events: read by anyone taking part in the event (a stranger, or anyone
// after the event was deleted, gets "Event not found"), rolled back by those who may edit it.
// Versions themselves are recorded by the store with every change (store.hpp).
class HistoryService {
 public:
  explicit HistoryService(store::Store& store);

  // The versions `window` selects, newest first, and how many there are.
  boost::asio::awaitable<domain::VersionPage> history(const domain::User& user, domain::EventId id,
                                                      const domain::VersionWindow& window);

  // One version. Raises kNotFound "Version not found" when `history_id` is not a version of
  // this event.
  boost::asio::awaitable<domain::EventVersion> version(const domain::User& user, domain::EventId id,
                                                       domain::HistoryId history_id);

  // The versions `window` selects, oldest first, each with the fields it changed from the
  // version before it (also when that one lies on the previous page).
  boost::asio::awaitable<Changelog> changelog(const domain::User& user, domain::EventId id,
                                              const domain::VersionWindow& window);

  // The two versions to compare, in the order asked. Raises kNotFound "One or both versions not
  // found" unless both are versions of this event.
  boost::asio::awaitable<std::pair<domain::EventVersion, domain::EventVersion>> diff(
      const domain::User& user, domain::EventId id, domain::HistoryId first,
      domain::HistoryId second);

  // Copies the fields of version `history_id` onto the event as an update does (a '~' version,
  // the same conflict rule), with the reason rollback_reason(history_id) unless options gives
  // one. Raises, in this order: kNotFound "Event not found", kPermissionDenied when the role may
  // not edit, kNotFound "Version not found", kPreconditionFailed, kConflict.
  boost::asio::awaitable<domain::EventView> rollback(const domain::User& user, domain::EventId id,
                                                     domain::HistoryId history_id,
                                                     const WriteOptions& options);

 private:
  store::Store& store_;
};

}  // namespace almanac::service
