#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"

namespace almanac::domain {

inline constexpr std::size_t kMaxRecurrencePatternLength = 500;

// Most occurrences one expand_occurrences call generates (counting those before the window), so
// that no rule can hold the libical lock for long.
inline constexpr std::size_t kMaxExpansionSteps = 100'000;

// The outcome of check_recurrence_pattern: `normalized` is the value to store when the pattern is
// acceptable; otherwise it is absent and `error` says why, in words a person can act on.
struct RecurrenceCheck {
  std::optional<std::string> normalized;
  std::string error;

  bool ok() const { return normalized.has_value(); }
};

// Checks a recurrence pattern as a client sent it. Accepted:
//  - `daily`, `weekly`, `monthly` or `yearly` in any case: normalized to lower case;
//  - an RFC 5545 RRULE value such as `FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10`, optionally prefixed with
//    `RRULE:`, that libical parses and can expand: normalized to the input unchanged.
// Rejected, each with a message a person can act on: an empty pattern, one longer than 500 bytes,
// one containing a NUL character, an RRULE without FREQ, anything libical refuses (unknown FREQ or
// parts, BYDAY=XX, COUNT with UNTIL, INTERVAL=0, surrounding whitespace...), and what libical 3.0
// handles wrongly or too slowly to expose to clients: FREQ=SECONDLY and MINUTELY, FREQ=HOURLY with
// any BY* part, BYSETPOS outside MONTHLY and YEARLY or past the end of every set, RSCALE, and
// rules that can never occur (BYMONTH=4;BYMONTHDAY=31). Thread-safe: every libical call goes
// through one lock shared with expand_occurrences.
RecurrenceCheck check_recurrence_pattern(std::string_view pattern);

// The start times of the occurrences of a series that begins at `start` and repeats by `pattern`
// (a pattern check_recurrence_pattern accepts; any other yields an empty result) which fall in
// [window_start, window_end), ascending, at most `limit` of them. A simple word means FREQ=DAILY
// etc. Each occurrence keeps the time of day (and the microseconds) of `start`; `start` itself is
// the first occurrence when the rule matches it (an RRULE that does not, such as BYDAY=MO,WE for a
// Tuesday start, begins at its first match, as libical and python-dateutil do). COUNT counts from
// `start`. Callers who want occurrences *overlapping* a window widen window_start by the event's
// duration. Limits of libical: no occurrence after the year 2582; at most kMaxExpansionSteps
// occurrences are generated per call; a rule whose parts the start never meets
// (MONTHLY;INTERVAL=12; BYMONTHDAY=31 from an April start) costs libical a search of up to ~0.3 s
// before it gives up. Thread-safe (serialised on the libical lock).
std::vector<Timestamp> expand_occurrences(Timestamp start, std::string_view pattern,
                                          Timestamp window_start, Timestamp window_end,
                                          std::size_t limit);

}  // namespace almanac::domain
