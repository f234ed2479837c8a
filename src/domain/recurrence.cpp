#include "domain/recurrence.hpp"

#include <libical/ical.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <utility>

namespace almanac::domain {
namespace {

constexpr std::string_view kBlank = "This field may not be blank.";
constexpr std::string_view kTooLong = "Ensure this field has no more than 500 characters.";
constexpr std::string_view kNullCharacter = "Null characters are not allowed.";
constexpr std::string_view kInvalid =
    "Enter daily, weekly, monthly, yearly or a valid RFC 5545 RRULE such as "
    "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10.";
constexpr std::string_view kNoFrequency =
    "An RRULE needs FREQ, such as FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10.";
constexpr std::string_view kTooFrequent = "Repeating more often than hourly is not supported.";
constexpr std::string_view kNoRscale =
    "RSCALE is not supported: Almanac uses the Gregorian calendar.";
constexpr std::string_view kNeverOccurs =
    "This RRULE never produces an occurrence, or combines parts RFC 5545 does not allow together.";

constexpr std::string_view kHourlyWithFilters =
    "With FREQ=HOURLY only INTERVAL, COUNT and UNTIL are supported.";
constexpr std::string_view kSetPositionNeedsPeriod =
    "BYSETPOS is supported with FREQ=MONTHLY or FREQ=YEARLY only.";

constexpr std::string_view kRrulePrefix = "RRULE:";

// libical 3.0 yields no occurrence after this year.
constexpr int kLastYearLibicalCounts = 2582;

// The simple words and the rules they stand for.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kSimpleWords{{
    {"daily", "FREQ=DAILY"},
    {"weekly", "FREQ=WEEKLY"},
    {"monthly", "FREQ=MONTHLY"},
    {"yearly", "FREQ=YEARLY"},
}};

// libical's error state, memory ring buffers and zone caches are not documented as safe to share
// between threads (Debian's build keeps icalerrno per thread, others need not); every call into
// libical goes through this one lock.
std::mutex& libical_mutex() {
  static std::mutex mutex;
  return mutex;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool icontains(std::string_view text, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
    if (iequals(text.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// The simple word `pattern` spells in any case, or nullptr.
const std::pair<std::string_view, std::string_view>* find_simple_word(std::string_view pattern) {
  for (const auto& entry : kSimpleWords) {
    if (iequals(pattern, entry.first)) return &entry;
  }
  return nullptr;
}

// The RRULE value without an optional `RRULE:` property-name prefix.
std::string_view strip_rrule_prefix(std::string_view pattern) {
  if (pattern.size() >= kRrulePrefix.size() &&
      iequals(pattern.substr(0, kRrulePrefix.size()), kRrulePrefix)) {
    pattern.remove_prefix(kRrulePrefix.size());
  }
  return pattern;
}

struct IteratorDeleter {
  void operator()(icalrecur_iterator* iterator) const { icalrecur_iterator_free(iterator); }
};
using IteratorPtr = std::unique_ptr<icalrecur_iterator, IteratorDeleter>;

// A floating (zone-less) libical date-time; libical compares it with a UTC UNTIL as if it were UTC,
// which it is.
icaltimetype to_ical(const CivilTime& c) {
  icaltimetype t = icaltime_null_time();
  t.year = c.year;
  t.month = c.month;
  t.day = c.day;
  t.hour = c.hour;
  t.minute = c.minute;
  t.second = c.second;
  t.is_date = 0;
  return t;
}

std::optional<Timestamp> from_ical(const icaltimetype& t) {
  return from_civil({.year = t.year,
                     .month = t.month,
                     .day = t.day,
                     .hour = t.hour,
                     .minute = t.minute,
                     .second = t.second,
                     .microsecond = 0});
}

// How many values a libical BY* array holds (it ends at ICAL_RECURRENCE_ARRAY_MAX unless full).
template <std::size_t N>
std::size_t count_of(const short (&values)[N]) {
  std::size_t n = 0;
  while (n < N && values[n] != ICAL_RECURRENCE_ARRAY_MAX) ++n;
  return n;
}

// Whether some month the rule allows has some day BYMONTHDAY names (Feb counted with 29 days).
// libical 3.0 searches until the year 2582 for a rule such as BYMONTH=4;BYMONTHDAY=31 before it
// gives up, which takes from a second (DAILY) to half a minute (HOURLY).
bool has_possible_month_day(const icalrecurrencetype& rule) {
  constexpr int kLongestMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const std::size_t days = count_of(rule.by_month_day);
  if (days == 0) return true;
  const std::size_t months = count_of(rule.by_month);
  for (int index = 0; index < (months == 0 ? 12 : static_cast<int>(months)); ++index) {
    const int month =
        months == 0 ? index + 1 : icalrecurrencetype_month_month(rule.by_month[index]);
    if (month < 1 || month > 12) continue;
    for (std::size_t d = 0; d < days; ++d) {
      if (std::abs(rule.by_month_day[d]) <= kLongestMonth[month - 1]) return true;
    }
  }
  return false;
}

// The most days a MONTHLY or YEARLY period's set can hold before BYSETPOS picks from it: the
// smallest of the bounds each BY* part gives. libical 3.0 picks among days only (BYHOUR and the
// like do not enlarge its sets), so neither does this.
std::size_t max_set_days(const icalrecurrencetype& rule) {
  const bool yearly = rule.freq == ICAL_YEARLY_RECURRENCE;
  const std::size_t months = count_of(rule.by_month);
  const std::size_t months_in_period = yearly ? (months == 0 ? 12 : months) : 1;
  const std::size_t month_days = count_of(rule.by_month_day);
  const std::size_t year_days = count_of(rule.by_year_day);
  const std::size_t week_numbers = count_of(rule.by_week_no);
  const std::size_t weekdays = count_of(rule.by_day);
  if (month_days == 0 && year_days == 0 && week_numbers == 0 && weekdays == 0) {
    return months_in_period;  // the start's day of the month, in each month of the period
  }
  std::size_t days = 31 * months_in_period;
  if (month_days != 0) days = std::min(days, month_days * months_in_period);
  if (year_days != 0) days = std::min(days, year_days);
  if (week_numbers != 0) days = std::min(days, week_numbers * 7);
  if (weekdays != 0) {
    // An ordinal weekday (2MO, -1FR) is one day of the period; a plain one (MO) recurs in it.
    const std::size_t per_weekday = yearly && months == 0 ? 53 : 5 * months_in_period;
    std::size_t from_weekdays = 0;
    for (std::size_t i = 0; i < weekdays; ++i) {
      from_weekdays += icalrecurrencetype_day_position(rule.by_day[i]) == 0 ? per_weekday : 1;
    }
    days = std::min(days, from_weekdays);
  }
  return days;
}

// Whether BYSETPOS can pick something. libical 3.0 honours it only for MONTHLY and YEARLY (it
// silently ignores it otherwise), and searches for seconds when it names a member past the end of
// every set (FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6).
bool has_usable_set_positions(const icalrecurrencetype& rule) {
  const std::size_t positions = count_of(rule.by_set_pos);
  if (positions == 0) return true;
  if (rule.freq != ICAL_MONTHLY_RECURRENCE && rule.freq != ICAL_YEARLY_RECURRENCE) return false;
  const std::size_t limit = max_set_days(rule);
  for (std::size_t i = 0; i < positions; ++i) {
    if (static_cast<std::size_t>(std::abs(rule.by_set_pos[i])) > limit) return false;
  }
  return true;
}

// Whether the rule has any BY* part.
bool has_by_parts(const icalrecurrencetype& rule) {
  return count_of(rule.by_second) + count_of(rule.by_minute) + count_of(rule.by_hour) +
             count_of(rule.by_day) + count_of(rule.by_month_day) + count_of(rule.by_year_day) +
             count_of(rule.by_week_no) + count_of(rule.by_month) + count_of(rule.by_set_pos) !=
         0;
}

// Either the parsed rule or the message that says why there is none.
struct CompiledRule {
  std::optional<icalrecurrencetype> rule;
  std::string_view error;
};

// Checks `pattern` and turns it into a libical rule. `probe` also asks libical to build an
// iterator, which some rules fail; a caller about to build one anyway skips that. The caller holds
// libical_mutex().
CompiledRule compile_locked(std::string_view pattern, bool probe) {
  if (pattern.empty()) return {std::nullopt, kBlank};
  if (pattern.size() > kMaxRecurrencePatternLength) return {std::nullopt, kTooLong};
  // libical reads a C string: an embedded NUL would hide whatever follows it.
  if (pattern.find('\0') != std::string_view::npos) return {std::nullopt, kNullCharacter};

  std::string text;
  if (const auto* word = find_simple_word(pattern)) {
    text = word->second;
  } else {
    const std::string_view body = strip_rrule_prefix(pattern);
    if (!icontains(body, "FREQ=")) return {std::nullopt, kNoFrequency};
    text = body;
  }

  icalerror_clear_errno();
  icalrecurrencetype rule = icalrecurrencetype_from_string(text.c_str());
  const bool parsed = icalerrno == ICAL_NO_ERROR && rule.freq != ICAL_NO_RECURRENCE;
  icalerror_clear_errno();
  if (rule.rscale != nullptr) {
    icalmemory_free_buffer(rule.rscale);
    rule.rscale = nullptr;
    return {std::nullopt, parsed ? kNoRscale : kInvalid};
  }
  if (!parsed) return {std::nullopt, kInvalid};
  if (rule.freq == ICAL_SECONDLY_RECURRENCE || rule.freq == ICAL_MINUTELY_RECURRENCE) {
    return {std::nullopt, kTooFrequent};
  }
  // libical 3.0 walks an HOURLY rule hour by hour through its filters, so filters that rarely or
  // never match cost it up to half a minute, and it does not keep INTERVAL's phase under BYHOUR
  // (INTERVAL=2;BYHOUR=3 from 10:00 yields 03:00 daily; RFC 5545 says never). Plain HOURLY only.
  if (rule.freq == ICAL_HOURLY_RECURRENCE && has_by_parts(rule)) {
    return {std::nullopt, kHourlyWithFilters};
  }
  if (!has_possible_month_day(rule)) return {std::nullopt, kNeverOccurs};
  if (count_of(rule.by_set_pos) != 0 && rule.freq != ICAL_MONTHLY_RECURRENCE &&
      rule.freq != ICAL_YEARLY_RECURRENCE) {
    return {std::nullopt, kSetPositionNeedsPeriod};
  }
  if (!has_usable_set_positions(rule)) return {std::nullopt, kNeverOccurs};
  // libical refuses, when it builds an iterator, parts that do not go together (BYWEEKNO outside
  // YEARLY, BYMONTH=13) and more rules that can never occur (BYYEARDAY=366;BYMONTH=1). Any start
  // will do for that.
  if (probe) {
    const IteratorPtr iterator(
        icalrecur_iterator_new(rule, to_ical({.year = 2000, .month = 1, .day = 1})));
    icalerror_clear_errno();
    if (!iterator) return {std::nullopt, kNeverOccurs};
  }
  return {rule, {}};
}

}  // namespace

RecurrenceCheck check_recurrence_pattern(std::string_view pattern) {
  // The simple words stand for plain rules libical accepts; they need no call into it.
  if (const auto* word = find_simple_word(pattern)) return {std::string(word->first), {}};
  CompiledRule compiled;
  {
    const std::lock_guard lock(libical_mutex());
    compiled = compile_locked(pattern, /*probe=*/true);
  }
  if (!compiled.rule) return {std::nullopt, std::string(compiled.error)};
  return {std::string(pattern), {}};
}

std::vector<Timestamp> expand_occurrences(Timestamp start, std::string_view pattern,
                                          Timestamp window_start, Timestamp window_end,
                                          std::size_t limit) {
  std::vector<Timestamp> occurrences;
  if (limit == 0 || window_start >= window_end) return occurrences;
  if (start < kMinTimestamp || start > kMaxTimestamp) return occurrences;

  // libical counts in whole seconds; the fraction of `start` is carried over to each occurrence.
  const Timestamp fraction = to_civil(start).microsecond;
  const Timestamp series_start = start - fraction;

  const std::lock_guard lock(libical_mutex());
  const CompiledRule compiled = compile_locked(pattern, /*probe=*/false);
  if (!compiled.rule) return occurrences;
  const icalrecurrencetype& rule = *compiled.rule;

  // Nothing past UNTIL (a day's margin covers a DATE-valued UNTIL) or past what libical counts.
  if (!icaltime_is_null_time(rule.until)) {
    const std::optional<Timestamp> until = from_ical(rule.until);
    if (until && window_start > *until + kMicrosecondsPerDay) return occurrences;
  }
  if (to_civil(window_start).year > kLastYearLibicalCounts) return occurrences;

  // Skip ahead to the window instead of walking from `start`, where that keeps the same series.
  // COUNT needs every occurrence from the start. An HOURLY rule (plain, see compile_locked) is
  // restarted at its last whole interval before the window: libical's set_start would lose the
  // phase of INTERVAL.
  const bool skip_ahead = window_start > start && rule.count == 0;
  Timestamp iteration_start = series_start;
  if (skip_ahead && rule.freq == ICAL_HOURLY_RECURRENCE) {
    const Timestamp step = std::max<Timestamp>(rule.interval, 1) * 3600 * kMicrosecondsPerSecond;
    iteration_start += (window_start - series_start) / step * step;
  }
  IteratorPtr iterator(icalrecur_iterator_new(rule, to_ical(to_civil(iteration_start))));
  if (!iterator) return occurrences;
  if (skip_ahead && rule.freq != ICAL_HOURLY_RECURRENCE &&
      icalrecur_iterator_set_start(iterator.get(), to_ical(to_civil(window_start))) == 0) {
    // Refused (the window lies past UNTIL, or past what libical can count): walk from the start.
    iterator.reset(icalrecur_iterator_new(rule, to_ical(to_civil(series_start))));
    if (!iterator) return occurrences;
  }

  for (std::size_t step = 0; step < kMaxExpansionSteps; ++step) {
    const icaltimetype next = icalrecur_iterator_next(iterator.get());
    if (icaltime_is_null_time(next)) break;
    const std::optional<Timestamp> whole = from_ical(next);
    if (!whole) break;
    const Timestamp occurrence = *whole + fraction;
    if (occurrence >= window_end) break;
    if (occurrence < window_start) continue;
    occurrences.push_back(occurrence);
    if (occurrences.size() == limit) break;
  }
  icalerror_clear_errno();
  return occurrences;
}

}  // namespace almanac::domain
