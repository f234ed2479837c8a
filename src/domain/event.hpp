#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "domain/error.hpp"
#include "domain/time.hpp"
#include "domain/user.hpp"

namespace almanac::domain {

using EventId = std::int64_t;

// Lengths in Unicode code points (characters), not bytes.
inline constexpr std::size_t kMaxTitleLength = 200;
inline constexpr std::size_t kMaxDescriptionLength = 10'000;
inline constexpr std::size_t kMaxLocationLength = 500;

// What a client may set on an event, valid as validate_event returns it: title trimmed and
// non-blank, end_time > start_time, recurrence_pattern present exactly when is_recurring.
struct EventFields {
  std::string title;
  std::string description;
  Timestamp start_time = 0;
  Timestamp end_time = 0;
  std::string location;
  bool is_recurring = false;
  std::optional<std::string> recurrence_pattern;

  friend bool operator==(const EventFields&, const EventFields&) = default;
};

struct Event {
  EventId id = 0;
  EventFields fields;
  UserId owner_id = 0;
  std::int64_t version = 0;  // bumps on each change (ETag later)

  friend bool operator==(const Event&, const Event&) = default;
};

// What a request asked for, before validation: each member absent when the client did not send it.
// Strings are raw (times unparsed). The JSON reader fills it and leaves every judgement to
// validate_event, so that one response lists every problem.
struct EventDraft {
  std::optional<std::string> title, description, start_time, end_time, location;
  std::optional<bool> is_recurring;
  bool recurrence_pattern_present = false;
  std::optional<std::string> recurrence_pattern;  // present && nullopt == JSON null

  // Members sent as JSON null, other than recurrence_pattern (which may be null). Each is reported
  // "This field may not be null.".
  std::vector<std::string> null_members;
  // Members the reader could not take as their type ("is_recurring": "yes", a number for a
  // title), with the message to show, e.g. {"title": ["Not a valid string."]}. Reported along with
  // every other error; such a member is otherwise treated as not sent.
  FieldErrors type_errors;
};

// Validates a draft into fields. `base` is the current event for an update (absent members keep
// base's values), nullptr for a create (title, start_time and end_time required; description and
// location default to "", is_recurring to false). Returns the fields to store, or every problem
// found, by field name, in messages a person can act on:
//  - title: trimmed of ASCII whitespace, then 1-200 characters ("This field is required.", "This
//    field may not be blank.", "Ensure this field has no more than 200 characters.");
//  - description at most 10,000 characters and location at most 500, kept as sent;
//  - no text member may contain a NUL character ("Null characters are not allowed.");
//  - start_time, end_time: what parse_time accepts ("Enter a valid date/time: ..."); end_time
//    strictly after start_time. When that fails the error names end_time ("must be after
//    start_time"), or start_time alone ("must be before end_time") on an update that moved only
//    the start. An update that sends neither time does not re-check them;
//  - a recurring event needs a pattern check_recurrence_pattern accepts, stored normalized; a
//    non-recurring one stores none: a pattern sent as null or "" becomes nullopt, a non-empty one
//    is an error on recurrence_pattern ("Only a recurring event has a recurrence_pattern."), and an
//    update that turns is_recurring off without sending a pattern drops the stored one;
//  - every name in draft.null_members and draft.type_errors.
std::variant<EventFields, FieldErrors> validate_event(const EventDraft& draft,
                                                      const EventFields* base);

// Whether [a_start, a_end) and [b_start, b_end) share an instant: a_start < b_end and b_start <
// a_end. Ranges that only touch (one ends at 10:00, the other starts at 10:00) do not overlap, and
// an empty range (end <= start, which validate_event never lets through but old data may hold)
// overlaps nothing.
bool overlaps(Timestamp a_start, Timestamp a_end, Timestamp b_start, Timestamp b_end);

// One stored event as the conflict check needs it.
struct ConflictCandidate {
  EventId id = 0;
  Timestamp start_time = 0;
  Timestamp end_time = 0;
};

// The ids of the candidates whose times overlap [start, end) by the rule of overlaps(), in the
// order given, skipping the one whose id is `exclude` (the event being updated; 0 excludes none).
// Overlaps are data, not errors: the service decides they become a 409.
std::vector<EventId> find_conflicts(Timestamp start, Timestamp end,
                                    std::span<const ConflictCandidate> existing,
                                    EventId exclude = 0);

// The names of the members that differ between `a` and `b`, in this fixed order: title,
// description, start_time, end_time, location, is_recurring, recurrence_pattern. Empty when equal.
std::vector<std::string> changed_fields(const EventFields& a, const EventFields& b);

}  // namespace almanac::domain
