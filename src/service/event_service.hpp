#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "domain/event.hpp"
#include "domain/event_view.hpp"
#include "domain/user.hpp"
#include "service/event_change.hpp"
#include "store/store.hpp"

namespace almanac::service {

struct BatchOptions {
  bool reject_conflicts = false;  // ?conflicts=reject: check each item against stored events and
                                  // the earlier items of the batch
  bool atomic = false;            // ?atomic=true: any error stores nothing
  std::optional<std::string> change_reason;  // recorded on every created event's first version
};

struct BatchResult {
  std::vector<domain::Event> created;
  std::vector<domain::BatchItemError> errors;
};

// Events: create, read, update, delete, list, batch. Every write is one transaction on the
// store's single writer, so a conflict check and the write it guards cannot be interleaved with
// another request's (race-free conflict detection).
class EventService {
 public:
  explicit EventService(store::Store& store, std::size_t max_batch = 1000);

  // Creates an event owned by `user`, with its '+' version. Raises kInvalidArgument with fields
  // for a bad draft, and kConflict with domain::Conflicts details when it overlaps an event `user`
  // takes part in (unless options.allow_conflicts). options.if_match is not consulted.
  boost::asio::awaitable<domain::EventView> create(const domain::User& user,
                                                   const domain::EventDraft& draft,
                                                   const WriteOptions& options);

  // The event as `user` sees it. Raises kNotFound "Event not found" when it does not exist or
  // `user` takes no part in it.
  boost::asio::awaitable<domain::EventView> get(const domain::User& user, domain::EventId id);

  // Applies `draft` over the stored event (absent members keep their values) and records a '~'
  // version. Raises, in this order: kNotFound as get(), kPermissionDenied when the role may not
  // edit, kPreconditionFailed when options.if_match does not hold, kInvalidArgument, and
  // kConflict as store_change(). An update that changes nothing writes nothing and returns the
  // event as it is.
  boost::asio::awaitable<domain::EventView> update(const domain::User& user, domain::EventId id,
                                                   const domain::EventDraft& draft,
                                                   const WriteOptions& options);

  // Deletes the event, recording a '-' version. Raises kNotFound as get(), kPermissionDenied
  // unless `user` owns it, kPreconditionFailed when options.if_match does not hold.
  boost::asio::awaitable<void> remove(const domain::User& user, domain::EventId id,
                                      const WriteOptions& options);

  // One page of `user`'s events. `query` must be valid (the api layer checks it).
  boost::asio::awaitable<domain::EventPage> list(const domain::User& user,
                                                 const domain::EventListQuery& query);

  // Validates each draft alone and stores the valid ones in one transaction. Raises
  // kPayloadTooLarge beyond max_batch items (nothing stored); kInvalidArgument (or kConflict when
  // every error is an overlap) with domain::BatchErrors details when no item is valid, or, with
  // options.atomic, when any item is not.
  boost::asio::awaitable<BatchResult> create_batch(const domain::User& user,
                                                   const std::vector<domain::EventDraft>& drafts,
                                                   const BatchOptions& options);

  std::size_t max_batch() const { return max_batch_; }

 private:
  store::Store& store_;
  std::size_t max_batch_;
};

}  // namespace almanac::service
