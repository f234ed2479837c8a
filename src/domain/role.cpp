#include "domain/role.hpp"

#include <array>

namespace almanac::domain {
namespace {

// The role matrix: rows are actions, columns OWNER, EDITOR, VIEWER.
constexpr std::array<std::array<bool, 3>, 4> kMatrix = {{
    /* kRead   */ {true, true, true},
    /* kEdit   */ {true, true, false},
    /* kDelete */ {true, false, false},
    /* kShare  */ {true, false, false},
}};

}  // namespace

std::string_view to_string(Role role) {
  switch (role) {
    case Role::kOwner:
      return "OWNER";
    case Role::kEditor:
      return "EDITOR";
    case Role::kViewer:
      return "VIEWER";
  }
  return "VIEWER";
}

std::optional<Role> parse_role(std::string_view text) {
  if (text == "OWNER") return Role::kOwner;
  if (text == "EDITOR") return Role::kEditor;
  if (text == "VIEWER") return Role::kViewer;
  return std::nullopt;
}

bool is_allowed(Role role, Action action) {
  return kMatrix[static_cast<std::size_t>(action)][static_cast<std::size_t>(role)];
}

std::string_view denial_message(Action action) {
  switch (action) {
    case Action::kRead:
      return "You do not have permission to view this event.";
    case Action::kEdit:
      return "You do not have permission to edit this event.";
    case Action::kDelete:
      return "Only the owner can delete this event.";
    case Action::kShare:
      return "Only the owner can manage who takes part in this event.";
  }
  return "You do not have permission to do this.";
}

}  // namespace almanac::domain
