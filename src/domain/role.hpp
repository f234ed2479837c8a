#pragma once

#include <optional>
#include <string_view>

namespace almanac::domain {

// A participant's role on one event. The rights of each role are one table (role.cpp) that every
// service consults; nothing else decides who may do what.
enum class Role { kOwner, kEditor, kViewer };

// "OWNER", "EDITOR", "VIEWER".
std::string_view to_string(Role role);

// The role named exactly (case-sensitive) "OWNER", "EDITOR" or "VIEWER"; nullopt otherwise.
std::optional<Role> parse_role(std::string_view text);

enum class Action {
  kRead,    // the event, its history, its participants
  kEdit,    // update, roll back
  kDelete,  // delete the event
  kShare,   // share, change a role, remove a participant
};

// Whether `role` may perform `action` on its event.
bool is_allowed(Role role, Action action);

// The message of the 403 a participant without the right gets, e.g. "You do not have permission
// to edit this event.".
std::string_view denial_message(Action action);

}  // namespace almanac::domain
