#include "service/sharing_service.hpp"

#include <algorithm>
#include <functional>

#include "service/access.hpp"
#include "service/async.hpp"

namespace almanac::service {

using domain::Error;
using domain::ErrorCode;
using domain::Role;

namespace {

Error participant_not_found() {
  return Error(ErrorCode::kNotFound, "Participant not found for this event.", "not_found");
}

// The participant `user` of event `id`, or nullopt.
std::optional<domain::Participant> find_participant(store::StoreReader& reader, domain::EventId id,
                                                    domain::UserId user) {
  for (domain::Participant& participant : reader.list_participants(id)) {
    if (participant.user_id == user) return std::move(participant);
  }
  return std::nullopt;
}

// Gives `target` the role `role`, transferring ownership for OWNER, and records it.
void assign(store::StoreWriter& writer, domain::EventId id, domain::UserId actor,
            domain::UserId target, Role role, bool was_participant) {
  if (role == Role::kOwner) {
    writer.transfer_ownership(id, target);
    writer.record_audit(id, actor, domain::AuditAction::kOwnershipTransferred, target, role);
    return;
  }
  writer.set_participant(id, target, role);
  writer.record_audit(
      id, actor, was_participant ? domain::AuditAction::kRoleChanged : domain::AuditAction::kShared,
      target, role);
}

}  // namespace

SharingService::SharingService(store::Store& store) : store_(store) {}

boost::asio::awaitable<std::vector<domain::Participant>> SharingService::share(
    const domain::User& user, domain::EventId id, const std::vector<domain::ShareEntry>& entries) {
  if (entries.size() > domain::kMaxShareEntries) {
    throw Error(ErrorCode::kPayloadTooLarge,
                "At most " + std::to_string(domain::kMaxShareEntries) +
                    " users can be shared with in one request.",
                "payload_too_large");
  }
  std::function<std::vector<domain::Participant>(store::StoreWriter&)> work =
      [&user, id, &entries](store::StoreWriter& writer) {
        require_access(writer, user, id, domain::Action::kShare);
        domain::FieldErrors errors;
        for (std::size_t i = 0; i < entries.size(); ++i) {
          const std::string key = "users[" + std::to_string(i) + "]";
          if (entries[i].user_id == user.id) {
            errors[key].push_back("You cannot share an event with yourself.");
          } else if (!writer.find_user(entries[i].user_id)) {
            errors[key].push_back("User " + std::to_string(entries[i].user_id) +
                                  " does not exist.");
          }
        }
        domain::throw_if_invalid(errors, "Invalid share request.");
        // All or nothing: any failure below undoes the job's savepoint.
        for (const domain::ShareEntry& entry : entries) {
          const bool was_participant = find_participant(writer, id, entry.user_id).has_value();
          assign(writer, id, user.id, entry.user_id, entry.role, was_participant);
        }
        return writer.list_participants(id);
      };
  co_return co_await write(store_, std::move(work));
}

boost::asio::awaitable<std::vector<domain::Participant>> SharingService::participants(
    const domain::User& user, domain::EventId id) {
  std::vector<domain::Participant> participants;
  std::function<void(store::StoreReader&)> work = [&](store::StoreReader& reader) {
    require_access(reader, user, id, domain::Action::kRead);
    participants = reader.list_participants(id);
  };
  co_await read(store_, std::move(work));
  co_return participants;
}

boost::asio::awaitable<domain::Participant> SharingService::change_role(const domain::User& user,
                                                                        domain::EventId id,
                                                                        domain::UserId target,
                                                                        Role role) {
  std::function<domain::Participant(store::StoreWriter&)> work =
      [&user, id, target, role](store::StoreWriter& writer) {
        require_access(writer, user, id, domain::Action::kShare);
        std::optional<domain::Participant> participant = find_participant(writer, id, target);
        if (!participant) throw participant_not_found();
        if (participant->role == role) return std::move(*participant);
        if (participant->role == Role::kOwner) {
          throw Error(ErrorCode::kConflict,
                      "The event must keep an owner; grant OWNER to someone else to hand it over.",
                      "conflict");
        }
        assign(writer, id, user.id, target, role, true);
        participant->role = role;
        return std::move(*participant);
      };
  co_return co_await write(store_, std::move(work));
}

boost::asio::awaitable<void> SharingService::remove(const domain::User& user, domain::EventId id,
                                                    domain::UserId target) {
  std::function<void(store::StoreWriter&)> work = [&user, id, target](store::StoreWriter& writer) {
    require_access(writer, user, id, domain::Action::kShare);
    std::optional<domain::Participant> participant = find_participant(writer, id, target);
    if (!participant) throw participant_not_found();
    if (participant->role == Role::kOwner) {
      throw Error(ErrorCode::kConflict, "The owner cannot be removed; transfer ownership first.",
                  "conflict");
    }
    writer.remove_participant(id, target);
    writer.record_audit(id, user.id, domain::AuditAction::kRemoved, target, std::nullopt);
  };
  co_await write(store_, std::move(work));
}

}  // namespace almanac::service
