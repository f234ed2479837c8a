#include "domain/time.hpp"

#include <cstddef>

namespace almanac::domain {
namespace {

constexpr std::int64_t kSecondsPerDay = 86'400;

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date
// (https://howardhinnant.github.io/date_algorithms.html). Exact for any year an int holds.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);                 // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146'097 + static_cast<std::int64_t>(doe) - 719'468;
}

// The inverse of days_from_civil.
struct Date {
  std::int64_t year;
  unsigned month;
  unsigned day;
};
constexpr Date civil_from_days(std::int64_t z) {
  z += 719'468;
  const std::int64_t era = (z >= 0 ? z : z - 146'096) / 146'097;
  const auto doe = static_cast<unsigned>(z - era * 146'097);                   // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                       // [0, 11]
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;               // [1, 31]
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;                  // [1, 12]
  return {m <= 2 ? y + 1 : y, m, d};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(1, 1, 1) * kSecondsPerDay * kMicrosecondsPerSecond == kMinTimestamp);
static_assert(days_from_civil(10000, 1, 1) * kMicrosecondsPerDay - 1 == kMaxTimestamp);

constexpr bool is_leap_year(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int days_in_month(int y, int m) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

// Division rounding toward negative infinity, for splitting negative timestamps.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// A cursor over the text being parsed; every read either consumes what it matched or fails.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool at_end() const { return pos_ == text_.size(); }

  bool accept(char c) {
    if (at_end() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // Reads between `min` and `max` ASCII digits (stopping at the first non-digit) into `value`.
  bool digits(std::size_t min, std::size_t max, int& value) {
    std::size_t n = 0;
    int v = 0;
    while (n < max && !at_end() && is_digit(text_[pos_])) {
      v = v * 10 + (text_[pos_] - '0');
      ++pos_;
      ++n;
    }
    value = v;
    return n >= min;
  }

  // How many ASCII digits follow the cursor.
  std::size_t digit_run() const {
    std::size_t n = 0;
    while (pos_ + n < text_.size() && is_digit(text_[pos_ + n])) ++n;
    return n;
  }

 private:
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Reads the fraction after the '.': 1-6 digits, scaled to microseconds.
bool read_fraction(Reader& in, int& microsecond) {
  const std::size_t n = in.digit_run();
  if (n < 1 || n > 6) return false;
  int value = 0;
  in.digits(n, n, value);
  for (std::size_t i = n; i < 6; ++i) value *= 10;
  microsecond = value;
  return true;
}

// Reads `Z`, `+HH:MM`, `+HHMM` or `+HH` (and the `-` forms) into a signed offset in seconds east of
// UTC. No designator at all is an offset of zero.
bool read_offset(Reader& in, std::int64_t& offset_seconds) {
  offset_seconds = 0;
  if (in.at_end()) return true;
  if (in.accept('Z') || in.accept('z')) return true;
  int sign = 0;
  if (in.accept('+')) {
    sign = 1;
  } else if (in.accept('-')) {
    sign = -1;
  } else {
    return false;
  }
  int hours = 0;
  int minutes = 0;
  if (!in.digits(2, 2, hours) || hours > 23) return false;
  // Minutes follow a colon (+05:30), directly (+0530), or not at all (+05).
  const bool has_minutes = in.accept(':') || !in.at_end();
  if (has_minutes && !in.digits(2, 2, minutes)) return false;
  if (minutes > 59) return false;
  offset_seconds = sign * (std::int64_t{hours} * 3600 + std::int64_t{minutes} * 60);
  return true;
}

// Writes `value` as exactly `width` decimal digits (value must fit).
void put_digits(std::string& out, std::int64_t value, int width) {
  char buffer[20];
  for (int i = width - 1; i >= 0; --i) {
    buffer[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buffer, static_cast<std::size_t>(width));
}

// A year with at least four digits, and a sign when negative (only for instants outside the range
// Almanac accepts; the API never prints those).
void put_year(std::string& out, std::int64_t year) {
  if (year < 0) {
    out.push_back('-');
    year = -year;
  }
  int width = 4;
  for (std::int64_t rest = year / 10'000; rest > 0; rest /= 10) ++width;
  put_digits(out, year, width);
}

// `YYYY-MM-DD<sep>HH:MM:SS` of `c`.
void put_date_time(std::string& out, const CivilTime& c, char separator) {
  put_year(out, c.year);
  out.push_back('-');
  put_digits(out, c.month, 2);
  out.push_back('-');
  put_digits(out, c.day, 2);
  out.push_back(separator);
  put_digits(out, c.hour, 2);
  out.push_back(':');
  put_digits(out, c.minute, 2);
  out.push_back(':');
  put_digits(out, c.second, 2);
}

}  // namespace

CivilTime to_civil(Timestamp t) {
  // Both without overflow, even for the smallest Timestamp.
  const std::int64_t days = floor_div(t, kMicrosecondsPerDay);
  const std::int64_t remainder = t % kMicrosecondsPerDay;
  const std::int64_t in_day = remainder < 0 ? remainder + kMicrosecondsPerDay : remainder;
  const Date date = civil_from_days(days);
  const std::int64_t seconds = in_day / kMicrosecondsPerSecond;
  return {.year = static_cast<int>(date.year),
          .month = static_cast<int>(date.month),
          .day = static_cast<int>(date.day),
          .hour = static_cast<int>(seconds / 3600),
          .minute = static_cast<int>(seconds / 60 % 60),
          .second = static_cast<int>(seconds % 60),
          .microsecond = static_cast<int>(in_day % kMicrosecondsPerSecond)};
}

std::optional<Timestamp> from_civil(const CivilTime& c) {
  if (c.year < 1 || c.year > 9999 || c.month < 1 || c.month > 12) return std::nullopt;
  if (c.day < 1 || c.day > days_in_month(c.year, c.month)) return std::nullopt;
  if (c.hour < 0 || c.hour > 23 || c.minute < 0 || c.minute > 59 || c.second < 0 || c.second > 59 ||
      c.microsecond < 0 || c.microsecond > 999'999) {
    return std::nullopt;
  }
  const std::int64_t days =
      days_from_civil(c.year, static_cast<unsigned>(c.month), static_cast<unsigned>(c.day));
  const std::int64_t seconds =
      days * kSecondsPerDay + std::int64_t{c.hour} * 3600 + std::int64_t{c.minute} * 60 + c.second;
  return seconds * kMicrosecondsPerSecond + c.microsecond;
}

std::optional<Timestamp> parse_time(std::string_view text) {
  Reader in(text);
  CivilTime c;
  if (!in.digits(4, 4, c.year) || !in.accept('-') || !in.digits(2, 2, c.month) || !in.accept('-') ||
      !in.digits(2, 2, c.day)) {
    return std::nullopt;
  }
  if (!in.accept(' ') && !in.accept('T') && !in.accept('t')) return std::nullopt;
  if (in.digit_run() > 2 || !in.digits(1, 2, c.hour) || !in.accept(':') ||
      !in.digits(2, 2, c.minute)) {
    return std::nullopt;
  }
  if (in.accept(':')) {
    if (!in.digits(2, 2, c.second)) return std::nullopt;
    if (in.accept('.') && !read_fraction(in, c.microsecond)) return std::nullopt;
  }
  std::int64_t offset_seconds = 0;
  if (!read_offset(in, offset_seconds) || !in.at_end()) return std::nullopt;

  const std::optional<Timestamp> local = from_civil(c);
  if (!local) return std::nullopt;
  const Timestamp utc = *local - offset_seconds * kMicrosecondsPerSecond;
  if (utc < kMinTimestamp || utc > kMaxTimestamp) return std::nullopt;
  return utc;
}

std::string format_time(Timestamp t) {
  std::string out;
  out.reserve(19);
  append_time(out, t);
  return out;
}

void append_time(std::string& out, Timestamp t) { put_date_time(out, to_civil(t), ' '); }

std::string format_time_iso_micro(Timestamp t) {
  const CivilTime c = to_civil(t);
  std::string out;
  out.reserve(27);
  put_date_time(out, c, 'T');
  out.push_back('.');
  put_digits(out, c.microsecond, 6);
  out.push_back('Z');
  return out;
}

}  // namespace almanac::domain
