#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.hpp"
#include "domain/event.hpp"
#include "domain/time.hpp"
#include "domain/user.hpp"

// The version history of events: what one recorded change holds, the rules of change reasons and
// preconditions (If-Match), and the comparison of two versions. Pure rules, no I/O.
namespace almanac::domain {

using HistoryId = std::int64_t;

// What a version records: '+' the event was created, '~' changed (update or rollback), '-'
// deleted.
enum class HistoryType { kCreated, kChanged, kDeleted };

// "+", "~", "-".
std::string_view to_string(HistoryType type);

// The type written as "+", "~" or "-"; nullopt otherwise.
std::optional<HistoryType> parse_history_type(std::string_view text);

inline constexpr std::size_t kMaxChangeReasonLength = 500;  // characters

// Who made a change and why: recorded on the version the change appends.
struct ChangeMeta {
  UserId changed_by = 0;
  std::optional<std::string> change_reason;
};

// The user a version names as its author; nullopt on a version when that user no longer exists.
struct VersionAuthor {
  UserId id = 0;
  std::string username;
};

// One immutable version: the event's fields as the change left them (as they were just before,
// for a '-'), and who changed it, when and why.
struct EventVersion {
  HistoryId history_id = 0;  // one sequence across all events, increasing with each change
  EventId event_id = 0;
  std::int64_t version = 0;  // the event's version (its ETag) after the change
  HistoryType type = HistoryType::kChanged;
  Timestamp history_date = 0;
  std::optional<VersionAuthor> changed_by;
  std::optional<std::string> change_reason;
  UserId owner_id = 0;
  EventFields fields;
};

// Without page/page_size, the history lists the newest kMaxUnpagedVersions versions and the
// changelog the oldest.
inline constexpr std::int64_t kMaxUnpagedVersions = 1000;

// Which versions of an event to list: page `page` of `page_size` (both >= 1), or unpaged.
struct VersionWindow {
  bool paged = false;
  std::int64_t page = 1;
  std::int64_t page_size = kMaxUnpagedVersions;
};

// The positions [first, last] (1 = the event's first version) that `window` selects among
// `count` versions, newest first (history) or oldest first (changelog); first > last when none.
struct PositionRange {
  std::int64_t first = 1;
  std::int64_t last = 0;
};
PositionRange history_positions(const VersionWindow& window, std::int64_t count);
PositionRange changelog_positions(const VersionWindow& window, std::int64_t count);

// One page of versions, in the order the endpoint lists them.
struct VersionPage {
  std::vector<EventVersion> results;
  std::int64_t count = 0;  // all versions of the event
};

// One entry of a changelog: a version and the fields it changed from the version before it
// (none for the first).
struct ChangelogEntry {
  EventVersion version;
  std::vector<std::string> changed;  // field names, in changed_fields() order
  EventFields before;                // the previous version's fields (when changed is not empty)
};

// A change reason as a request gave it (body member or X-Change-Reason header), checked: nullopt
// when absent or empty; otherwise at most kMaxChangeReasonLength characters of valid UTF-8
// without control characters other than tab. Raises Error{kInvalidArgument} with fields
// {"change_reason": [...]} otherwise.
std::optional<std::string> checked_change_reason(std::optional<std::string_view> reason);

// The reason recorded for a rollback to `target` when the request gave none.
std::string rollback_reason(HistoryId target);

// An If-Match precondition on an event's version. Absent (no header) always holds.
struct Precondition {
  bool present = false;
  bool any = false;                    // "*": holds for any existing event
  std::vector<std::int64_t> versions;  // the strong tags "<version>" the client named
};

// Reads an If-Match header value: "*" or a comma-separated list of entity tags. A tag that is
// weak (W/"..."), malformed or not one of ours is kept as matching nothing (RFC 9110: If-Match
// compares strongly), so a client with an unusable tag gets 412, never a blind overwrite.
Precondition parse_if_match(std::string_view header);

// Whether `precondition` holds for an event at `version`.
bool holds(const Precondition& precondition, std::int64_t version);

// The strong entity tag of an event at `version`: "\"<version>\"".
std::string entity_tag(std::int64_t version);

// Whether an If-None-Match header value names `version` (or is "*"), weak tags included
// (RFC 9110 compares weakly for If-None-Match).
bool none_match_fails(std::string_view header, std::int64_t version);

}  // namespace almanac::domain
