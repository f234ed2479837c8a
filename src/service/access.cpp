#include "service/access.hpp"

namespace almanac::service {

using domain::Error;
using domain::ErrorCode;

Error event_not_found() { return Error(ErrorCode::kNotFound, "Event not found", "not_found"); }

domain::EventView require_access(store::StoreReader& reader, const domain::User& user,
                                 domain::EventId id, domain::Action action) {
  std::optional<domain::EventView> view = reader.find_event_for(user.id, id);
  if (!view) throw event_not_found();
  if (!domain::is_allowed(view->role, action)) {
    throw Error(ErrorCode::kPermissionDenied, std::string(domain::denial_message(action)),
                "permission_denied");
  }
  return std::move(*view);
}

}  // namespace almanac::service
