#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/event.hpp"
#include "domain/role.hpp"

namespace almanac::domain {

// An event as one participant sees it: with their role.
struct EventView {
  Event event;
  Role role = Role::kViewer;
};

enum class EventOrder { kId, kStartTime, kEndTime, kTitle };

inline constexpr std::int64_t kDefaultPageSize = 10;
inline constexpr std::int64_t kMaxPageSize = 100;

// GET /api/events/ as the store answers it: the caller's events (any role), filtered, ordered,
// one page of them.
struct EventListQuery {
  std::int64_t page = 1;                      // >= 1
  std::int64_t page_size = kDefaultPageSize;  // 1..kMaxPageSize
  std::optional<Timestamp> start;             // events overlapping [start, end): end_time > start
  std::optional<Timestamp> end;               //                                  start_time < end
  std::optional<std::string> q;      // case-insensitive substring of title, description, location
  std::optional<std::string> title;  // case-insensitive substring of title
  std::optional<bool> is_recurring;
  std::optional<Role> role;
  EventOrder order = EventOrder::kId;
  bool descending = false;
};

struct EventPage {
  std::vector<EventView> results;
  std::int64_t count = 0;  // all matching events, every page
};

// Someone taking part in an event.
struct Participant {
  UserId user_id = 0;
  std::string username;
  Role role = Role::kViewer;
};

inline constexpr std::size_t kMaxShareEntries = 100;

// One entry of POST /api/events/{id}/share/.
struct ShareEntry {
  UserId user_id = 0;
  Role role = Role::kViewer;
};

// What the audit trail records about who takes part in an event.
enum class AuditAction { kShared, kRoleChanged, kRemoved, kOwnershipTransferred };

// One event that overlaps the one being written. Only events the caller takes part in are
// described; the others are counted.
struct ConflictSummary {
  EventId id = 0;
  std::string title;
  Timestamp start_time = 0;
  Timestamp end_time = 0;
};

inline constexpr std::size_t kMaxConflictsListed = 10;

// The details of a 409 "Event overlaps existing event(s)".
struct Conflicts {
  std::vector<ConflictSummary> visible;  // at most kMaxConflictsListed
  std::int64_t total = 0;                // every overlapping event, visible or not
};

// One item of a batch that was not stored.
struct BatchItemError {
  std::size_t index = 0;
  std::string error;
  FieldErrors fields;
  std::vector<ConflictSummary> conflicts;  // for an item refused for overlapping
};

// The details of a batch refused as a whole (no valid item, or atomic=true with an error).
struct BatchErrors {
  std::vector<BatchItemError> errors;
};

}  // namespace almanac::domain
