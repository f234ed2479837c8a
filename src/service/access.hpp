#pragma once

#include "domain/event_view.hpp"
#include "domain/role.hpp"
#include "domain/user.hpp"
#include "store/store.hpp"

namespace almanac::service {

// The event `id` as `user` sees it, when their role allows `action`. Raises kNotFound "Event not
// found" when it does not exist or `user` takes no part in it (the same answer, so that ids of
// other people's events cannot be probed), and kPermissionDenied when the role does not allow
// `action`. Reads through `reader`, so inside a write job it sees the job's own transaction.
domain::EventView require_access(store::StoreReader& reader, const domain::User& user,
                                 domain::EventId id, domain::Action action);

// kNotFound "Event not found".
domain::Error event_not_found();

}  // namespace almanac::service
