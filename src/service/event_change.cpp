#include "service/event_change.hpp"

#include <utility>
#include <vector>

namespace almanac::service {

using domain::Error;
using domain::ErrorCode;

void require_precondition(const WriteOptions& options, const domain::EventView& current) {
  if (domain::holds(options.if_match, current.event.version)) return;
  Error error(ErrorCode::kPreconditionFailed, "The event was changed by someone else",
              "precondition_failed");
  error.headers.emplace_back("ETag", domain::entity_tag(current.event.version));
  error.details = current;
  throw error;
}

Error conflict_error(domain::Conflicts conflicts) {
  Error error(ErrorCode::kConflict, "Event overlaps existing event(s)", "conflict");
  error.details = std::move(conflicts);
  return error;
}

domain::EventView store_change(store::StoreWriter& writer, const domain::User& user,
                               domain::EventView current, domain::EventFields fields,
                               const WriteOptions& options) {
  if (fields == current.event.fields) return current;  // nothing changed, nothing recorded
  const bool moved = fields.start_time != current.event.fields.start_time ||
                     fields.end_time != current.event.fields.end_time;
  const domain::EventId id = current.event.id;
  if (moved && !options.allow_conflicts) {
    const std::vector<domain::UserId> users = writer.participants_of(id);
    domain::Conflicts conflicts =
        writer.find_conflicts(users, fields.start_time, fields.end_time, id, user.id);
    if (conflicts.total > 0) throw conflict_error(std::move(conflicts));
  }
  current.event.fields = std::move(fields);
  current.event.version += 1;
  writer.update_event(id, current.event.fields, current.event.version,
                      domain::ChangeMeta{user.id, options.change_reason});
  return current;
}

}  // namespace almanac::service
