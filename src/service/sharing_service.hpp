#pragma once

#include <boost/asio/awaitable.hpp>
#include <vector>

#include "domain/event_view.hpp"
#include "domain/role.hpp"
#include "domain/user.hpp"
#include "store/store.hpp"

namespace almanac::service {

// Who takes part in an event, and as what. Only the OWNER may change it (domain/role); anyone
// taking part may read it; a stranger gets the same 404 as for an event that does not exist.
// Every change is recorded in the audit trail in the same transaction.
class SharingService {
 public:
  explicit SharingService(store::Store& store);

  // Applies every entry, or none. Raises kNotFound "Event not found", kPermissionDenied unless
  // the caller owns the event, kPayloadTooLarge beyond kMaxShareEntries entries, and
  // kInvalidArgument naming the entry ("users[2]") for a user that does not exist or the caller
  // themself. An entry for a participant changes their role; OWNER transfers ownership (the
  // previous owner becomes EDITOR). Returns every participant, the owner first.
  boost::asio::awaitable<std::vector<domain::Participant>> share(
      const domain::User& user, domain::EventId id, const std::vector<domain::ShareEntry>& entries);

  // Every participant, the owner first. Raises kNotFound as share().
  boost::asio::awaitable<std::vector<domain::Participant>> participants(const domain::User& user,
                                                                        domain::EventId id);

  // Changes one participant's role. Raises kNotFound "Event not found" / "Participant not found
  // for this event.", kPermissionDenied unless the caller owns the event, kConflict when the
  // owner's own role would change (the event would have no owner). OWNER transfers ownership.
  boost::asio::awaitable<domain::Participant> change_role(const domain::User& user,
                                                          domain::EventId id, domain::UserId target,
                                                          domain::Role role);

  // Removes a participant, who loses access at once. Raises like change_role(), and kConflict
  // "The owner cannot be removed; transfer ownership first." for the owner.
  boost::asio::awaitable<void> remove(const domain::User& user, domain::EventId id,
                                      domain::UserId target);

 private:
  store::Store& store_;
};

}  // namespace almanac::service
