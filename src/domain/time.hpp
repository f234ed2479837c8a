#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace almanac::domain {

using Timestamp = std::int64_t;  // microseconds since the Unix epoch, UTC

inline constexpr Timestamp kMicrosecondsPerSecond = 1'000'000;
inline constexpr Timestamp kMicrosecondsPerDay = 86'400 * kMicrosecondsPerSecond;

// The instants Almanac accepts and prints: 0001-01-01 00:00:00 to 9999-12-31 23:59:59.999999 UTC,
// so that every stored time prints with a four-digit year.
inline constexpr Timestamp kMinTimestamp = -62'135'596'800 * kMicrosecondsPerSecond;
inline constexpr Timestamp kMaxTimestamp = 253'402'300'800 * kMicrosecondsPerSecond - 1;

// A UTC date and time of day in the proleptic Gregorian calendar, broken into its fields.
struct CivilTime {
  int year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int microsecond = 0;  // 0-999999

  friend bool operator==(const CivilTime&, const CivilTime&) = default;
};

// Splits `t` into its UTC calendar fields. Defined for every Timestamp, including those before
// 1970 (rounding toward the past, so -1 is 1969-12-31 23:59:59.999999) and outside
// [kMinTimestamp, kMaxTimestamp].
CivilTime to_civil(Timestamp t);

// The instant of the UTC fields in `civil`. Returns nullopt when a field is out of range: year
// 1-9999, month 1-12, day within that month (29 February only in leap years), hour 0-23, minute
// 0-59, second 0-59, microsecond 0-999999.
std::optional<Timestamp> from_civil(const CivilTime& civil);

// Reads a time as clients send it and returns it as a UTC instant, or nullopt when the text is not
// one of these forms (nothing else, not even surrounding whitespace):
//   2025-04-27 8:05          2025-04-27 08:05          2025-04-27 08:05:00
//   2025-04-27 08:05:00.5    2025-04-27 08:05:00.123456 (1-6 fraction digits; 7 or more: rejected)
//   `T` (or `t`) in place of the space, and at the end an optional `Z` (or `z`) or an offset
//   +05:30, -08:00, +0530 or +05 (hours 00-23, minutes 00-59), which is subtracted to reach UTC.
// Text without `Z` or an offset is UTC. The year has four digits, month and day two, the hour one
// or two, minutes and seconds two; every field is range-checked as from_civil does (no leap second,
// no 24:00), and a date alone is rejected. The UTC result must lie in [kMinTimestamp,
// kMaxTimestamp]. Depends on no locale or TZ setting.
std::optional<Timestamp> parse_time(std::string_view text);

// Prints `t` as `YYYY-MM-DD HH:MM:SS` in UTC (e.g. "2025-04-27 08:05:00"), dropping the fraction
// (rounding toward the past, also before 1970). This is the API's time format everywhere.
std::string format_time(Timestamp t);
// The same, appended to `out`.
void append_time(std::string& out, Timestamp t);

// Prints `t` as ISO 8601 with microseconds in UTC, e.g. "2025-05-23T12:43:04.761531Z" (the
// original's history_date).
std::string format_time_iso_micro(Timestamp t);

}  // namespace almanac::domain
