#pragma once

#include <optional>
#include <string>

#include "domain/event.hpp"
#include "domain/event_view.hpp"
#include "domain/history.hpp"
#include "domain/user.hpp"
#include "store/store.hpp"

namespace almanac::service {

// What a request says about a write besides its content.
struct WriteOptions {
  bool allow_conflicts = false;              // ?allow_conflicts=true: store an overlap anyway
  domain::Precondition if_match;             // If-Match (absent: always holds)
  std::optional<std::string> change_reason;  // checked (domain::checked_change_reason)
};

// Raises kPreconditionFailed "The event was changed by someone else" carrying `current` (the
// body's "current") and its ETag, unless `options.if_match` holds for it.
void require_precondition(const WriteOptions& options, const domain::EventView& current);

// kConflict "Event overlaps existing event(s)" with the overlapping events as details.
domain::Error conflict_error(domain::Conflicts conflicts);

// Writes `fields` over the event `current` (loaded in this transaction) as `user`: nothing when
// they equal what is stored (no version is recorded, `current` is returned); otherwise, when the
// times moved and conflicts are not allowed, raises conflict_error for an overlap with an event
// any participant takes part in (the event itself excluded); then stores the fields at the next
// version and records its '~' version. Returns the event as stored.
domain::EventView store_change(store::StoreWriter& writer, const domain::User& user,
                               domain::EventView current, domain::EventFields fields,
                               const WriteOptions& options);

}  // namespace almanac::service
