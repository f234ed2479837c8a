#include "domain/recurrence.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace almanac::domain {
namespace {

constexpr Timestamp kDay = kMicrosecondsPerDay;

Timestamp at(std::string_view text) {
  const std::optional<Timestamp> t = parse_time(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(0);
}

std::vector<std::string> formatted(const std::vector<Timestamp>& times) {
  std::vector<std::string> out;
  for (const Timestamp t : times) out.push_back(format_time(t));
  return out;
}

// The error check_recurrence_pattern gives, or "" when it accepts the pattern.
std::string error_of(std::string_view pattern) {
  const RecurrenceCheck check = check_recurrence_pattern(pattern);
  EXPECT_EQ(check.ok(), check.error.empty()) << pattern;
  return check.error;
}

constexpr char kGenericError[] =
    "Enter daily, weekly, monthly, yearly or a valid RFC 5545 RRULE such as "
    "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10.";

TEST(CheckRecurrencePattern, SimpleWordsInAnyCaseAreNormalizedToLowerCase) {
  EXPECT_EQ(check_recurrence_pattern("daily").normalized, "daily");
  EXPECT_EQ(check_recurrence_pattern("Weekly").normalized, "weekly");
  EXPECT_EQ(check_recurrence_pattern("MONTHLY").normalized, "monthly");
  EXPECT_EQ(check_recurrence_pattern("yEaRlY").normalized, "yearly");
}

TEST(CheckRecurrencePattern, ValidRruleIsKeptAsGiven) {
  for (const std::string_view rule :
       {"FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10", "FREQ=DAILY", "FREQ=HOURLY;INTERVAL=5",
        "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=DAILY;UNTIL=20250502T090000Z",
        "FREQ=DAILY;UNTIL=20250502", "FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU,TH",
        "freq=weekly;byday=mo", "INTERVAL=2;FREQ=DAILY", "FREQ=DAILY;COUNT=3;"}) {
    const RecurrenceCheck check = check_recurrence_pattern(rule);
    EXPECT_EQ(check.normalized, std::string(rule)) << check.error;
  }
}

TEST(CheckRecurrencePattern, AcceptsTheRrulePropertyPrefixAndKeepsIt) {
  EXPECT_EQ(check_recurrence_pattern("RRULE:FREQ=DAILY;COUNT=5").normalized,
            "RRULE:FREQ=DAILY;COUNT=5");
  EXPECT_EQ(check_recurrence_pattern("rrule:FREQ=DAILY").normalized, "rrule:FREQ=DAILY");
  EXPECT_EQ(error_of("RRULE:"), "An RRULE needs FREQ, such as FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10.");
  EXPECT_EQ(error_of("RRULE:RRULE:FREQ=DAILY"), kGenericError);
}

TEST(CheckRecurrencePattern, RejectsEmptyPattern) {
  EXPECT_EQ(error_of(""), "This field may not be blank.");
}

TEST(CheckRecurrencePattern, RejectsUnknownFrequency) {
  EXPECT_EQ(error_of("FREQ=SOMETIMES"), kGenericError);
  EXPECT_EQ(error_of("FREQ="), kGenericError);
}

TEST(CheckRecurrencePattern, RejectsUnknownWeekday) {
  EXPECT_EQ(error_of("FREQ=WEEKLY;BYDAY=XX"), kGenericError);
  EXPECT_EQ(error_of("FREQ=WEEKLY;BYDAY=MO,"), kGenericError);
  EXPECT_EQ(error_of("FREQ=WEEKLY;WKST=XX"), kGenericError);
}

TEST(CheckRecurrencePattern, RejectsRruleWithoutFrequency) {
  EXPECT_EQ(error_of("COUNT=10"), "An RRULE needs FREQ, such as FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10.");
  EXPECT_EQ(error_of("BYDAY=MO,WE"),
            "An RRULE needs FREQ, such as FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10.");
}

TEST(CheckRecurrencePattern, RejectsWhatLibicalRefuses) {
  for (const std::string_view rule :
       {"FREQ=DAILY;COUNT=3;UNTIL=20250101T000000Z", "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;INTERVAL=-1", "FREQ=DAILY;COUNT=abc", "FREQ=DAILY;COUNT=-3",
        "FREQ=DAILY;COUNT=0", "FREQ=DAILY;FOO=BAR", "FREQ=DAILY;BYHOUR=25",
        "FREQ=MONTHLY;BYMONTHDAY=32", "FREQ=DAILY;UNTIL=garbage", "FREQ=DAILY;FREQ=WEEKLY",
        "FREQ=MONTHLY;BYSETPOS=0", "FREQ=DAILY FREQ=WEEKLY"}) {
    EXPECT_EQ(error_of(rule), kGenericError) << rule;
  }
}

TEST(CheckRecurrencePattern, RejectsRulesThatNeverOccurOrMixIncompatibleParts) {
  const std::string never =
      "This RRULE never produces an occurrence, or combines parts RFC 5545 does not allow "
      "together.";
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4"), never);
  EXPECT_EQ(error_of("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"), never);
  EXPECT_EQ(error_of("FREQ=DAILY;BYMONTHDAY=-30;BYMONTH=2"), never);
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYWEEKNO=1"), never);
  EXPECT_EQ(error_of("FREQ=WEEKLY;BYMONTHDAY=1"), never);
  EXPECT_EQ(error_of("FREQ=YEARLY;BYMONTH=13"), never);
}

TEST(CheckRecurrencePattern, RejectsSetPositionsNoSetCanReach) {
  const std::string never =
      "This RRULE never produces an occurrence, or combines parts RFC 5545 does not allow "
      "together.";
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6"), never);  // at most 5 Mondays
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-6"), never);
  EXPECT_EQ(error_of("FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=3;BYSETPOS=3"), never);
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYMONTHDAY=1;BYSETPOS=2"), never);
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5"), "");  // months with five Mondays
  EXPECT_EQ(error_of("FREQ=YEARLY;BYMONTH=3;BYDAY=MO,TU;BYSETPOS=10"), "");
  // libical picks among days: two hours a day do not make ten Mondays.
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYDAY=MO;BYHOUR=9,17;BYSETPOS=10"), never);
}

TEST(CheckRecurrencePattern, RejectsSetPositionsOutsideMonthlyAndYearly) {
  // libical 3.0 would silently ignore them and yield every day.
  EXPECT_EQ(error_of("FREQ=DAILY;BYSETPOS=2"),
            "BYSETPOS is supported with FREQ=MONTHLY or FREQ=YEARLY only.");
  EXPECT_EQ(error_of("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"),
            "BYSETPOS is supported with FREQ=MONTHLY or FREQ=YEARLY only.");
}

// Each of these made libical 3.0 search for between a third of a second and half a minute.
TEST(CheckRecurrencePattern, AnswersRulesThatStallLibicalQuickly) {
  for (const std::string_view rule :
       {"FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=HOURLY;BYMONTHDAY=31;BYMONTH=4",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;BYMONTHDAY=-30;BYMONTH=2", "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30,31",
        "FREQ=MONTHLY;BYDAY=MO;BYHOUR=9,17;BYSETPOS=10"}) {
    const auto begin = std::chrono::steady_clock::now();
    EXPECT_FALSE(check_recurrence_pattern(rule).ok()) << rule;
    EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::milliseconds(100)) << rule;
  }
}

TEST(CheckRecurrencePattern, AcceptsRareButPossibleDays) {
  EXPECT_EQ(error_of("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"), "");
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYDAY=5MO;BYMONTH=2"), "");
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYMONTHDAY=-1"), "");
  EXPECT_EQ(error_of("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-29"), "");
}

TEST(CheckRecurrencePattern, AcceptsHourlyOnlyWithoutByParts) {
  EXPECT_EQ(error_of("FREQ=HOURLY;INTERVAL=4;COUNT=6"), "");
  EXPECT_EQ(error_of("FREQ=HOURLY;UNTIL=20250502T090000Z"), "");
  for (const std::string_view rule :
       {"FREQ=HOURLY;BYHOUR=9,17", "FREQ=HOURLY;INTERVAL=2;BYHOUR=3", "FREQ=HOURLY;BYDAY=MO",
        "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO"}) {
    EXPECT_EQ(error_of(rule), "With FREQ=HOURLY only INTERVAL, COUNT and UNTIL are supported.")
        << rule;
  }
}

TEST(CheckRecurrencePattern, RejectsRepeatingMoreOftenThanHourly) {
  EXPECT_EQ(error_of("FREQ=SECONDLY"), "Repeating more often than hourly is not supported.");
  EXPECT_EQ(error_of("FREQ=MINUTELY;INTERVAL=30"),
            "Repeating more often than hourly is not supported.");
  EXPECT_EQ(error_of("FREQ=HOURLY"), "");
}

TEST(CheckRecurrencePattern, RejectsRscale) {
  EXPECT_EQ(error_of("FREQ=DAILY;RSCALE=GREGORIAN"),
            "RSCALE is not supported: Almanac uses the Gregorian calendar.");
}

TEST(CheckRecurrencePattern, RejectsSurroundingWhitespaceAndNearMisses) {
  for (const std::string_view pattern :
       {" weekly", "weekly ", " FREQ=DAILY", "FREQ=DAILY ", "biweekly", "week", "every day",
        "FREQ = DAILY", "hourly", "daily;", "RRULE: FREQ=DAILY"}) {
    EXPECT_FALSE(check_recurrence_pattern(pattern).ok()) << pattern;
  }
}

TEST(CheckRecurrencePattern, RejectsNulCharactersEvenAfterAValidPrefix) {
  EXPECT_EQ(error_of(std::string_view("FREQ=DAILY\0;junk", 16)),
            "Null characters are not allowed.");
  EXPECT_EQ(error_of(std::string_view("weekly\0", 7)), "Null characters are not allowed.");
}

TEST(CheckRecurrencePattern, RejectsPatternsLongerThanFiveHundredCharacters) {
  // FREQ=YEARLY;BYYEARDAY=1,2,3,... is valid at any length; cut it as close to 500 as it goes.
  std::string rule = "FREQ=YEARLY;BYYEARDAY=1";
  for (int day = 2; rule.size() + 1 + std::to_string(day).size() <= 500; ++day) {
    rule += "," + std::to_string(day);
  }
  ASSERT_LE(rule.size(), 500u);
  ASSERT_GT(rule.size(), 495u);
  EXPECT_EQ(error_of(rule), "");
  const std::string longer = rule + ",300,301";
  EXPECT_EQ(error_of(longer), "Ensure this field has no more than 500 characters.");
  EXPECT_EQ(error_of(std::string(501, 'x')), "Ensure this field has no more than 500 characters.");
}

TEST(CheckRecurrencePattern, GivesTheSameAnswersFromManyThreadsAtOnce) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10", true},
      {"FREQ=SOMETIMES", false},
      {"weekly", true},
      {"FREQ=WEEKLY;BYDAY=XX", false},
      {"FREQ=MONTHLY;BYDAY=-1FR", true},
      {"FREQ=DAILY;INTERVAL=0", false}};
  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < mismatches.size(); ++i) {
    threads.emplace_back([&cases, &mismatches, i] {
      for (int round = 0; round < 200; ++round) {
        for (const auto& [pattern, ok] : cases) {
          if (check_recurrence_pattern(pattern).ok() != ok) ++mismatches[i];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const int count : mismatches) EXPECT_EQ(count, 0);
}

TEST(ExpandOccurrences, DailyRepeatsEveryDayFromTheStart) {
  const Timestamp start = at("2025-04-29 09:00");
  EXPECT_EQ(formatted(expand_occurrences(start, "daily", start, start + 4 * kDay, 100)),
            (std::vector<std::string>{"2025-04-29 09:00:00", "2025-04-30 09:00:00",
                                      "2025-05-01 09:00:00", "2025-05-02 09:00:00"}));
}

TEST(ExpandOccurrences, LimitCapsTheResult) {
  const Timestamp start = at("2025-04-29 09:00");
  EXPECT_EQ(formatted(expand_occurrences(start, "DAILY", start, start + 365 * kDay, 2)),
            (std::vector<std::string>{"2025-04-29 09:00:00", "2025-04-30 09:00:00"}));
  EXPECT_TRUE(expand_occurrences(start, "daily", start, start + kDay, 0).empty());
}

TEST(ExpandOccurrences, WindowIsHalfOpen) {
  const Timestamp start = at("2025-04-29 09:00");
  // [day 1 09:00, day 3 09:00): the occurrence at the end is outside.
  EXPECT_EQ(formatted(expand_occurrences(start, "daily", start + kDay, start + 3 * kDay, 10)),
            (std::vector<std::string>{"2025-04-30 09:00:00", "2025-05-01 09:00:00"}));
  EXPECT_TRUE(expand_occurrences(start, "daily", start + 1, start + kDay, 10).empty());
  EXPECT_TRUE(expand_occurrences(start, "daily", start, start, 10).empty());
  EXPECT_TRUE(expand_occurrences(start, "daily", start + kDay, start, 10).empty());
}

TEST(ExpandOccurrences, NothingBeforeTheStart) {
  const Timestamp start = at("2025-04-29 09:00");
  EXPECT_EQ(formatted(expand_occurrences(start, "daily", start - 10 * kDay, start + kDay, 10)),
            (std::vector<std::string>{"2025-04-29 09:00:00"}));
}

TEST(ExpandOccurrences, WeeklyKeepsTheWeekdayOfTheStart) {
  const Timestamp start = at("2025-04-29 09:00");  // a Tuesday
  EXPECT_EQ(formatted(expand_occurrences(start, "weekly", start, start + 21 * kDay + 1, 10)),
            (std::vector<std::string>{"2025-04-29 09:00:00", "2025-05-06 09:00:00",
                                      "2025-05-13 09:00:00", "2025-05-20 09:00:00"}));
}

TEST(ExpandOccurrences, WeeklyByDayStopsAfterCount) {
  const Timestamp start = at("2025-04-28 09:00");  // a Monday
  EXPECT_EQ(
      formatted(expand_occurrences(start, "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10", start,
                                   start + 365 * kDay, 100)),
      (std::vector<std::string>{"2025-04-28 09:00:00", "2025-04-30 09:00:00", "2025-05-05 09:00:00",
                                "2025-05-07 09:00:00", "2025-05-12 09:00:00", "2025-05-14 09:00:00",
                                "2025-05-19 09:00:00", "2025-05-21 09:00:00", "2025-05-26 09:00:00",
                                "2025-05-28 09:00:00"}));
}

TEST(ExpandOccurrences, CountCountsFromTheStartNotFromTheWindow) {
  const Timestamp start = at("2025-04-28 09:00");
  EXPECT_EQ(formatted(expand_occurrences(start, "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
                                         at("2025-05-20 00:00"), start + 365 * kDay, 100)),
            (std::vector<std::string>{"2025-05-21 09:00:00", "2025-05-26 09:00:00",
                                      "2025-05-28 09:00:00"}));
}

TEST(ExpandOccurrences, RuleNotMatchingTheStartBeginsAtItsFirstMatch) {
  const Timestamp start = at("2025-04-29 09:00");  // a Tuesday, not in MO,WE
  EXPECT_EQ(
      formatted(expand_occurrences(start, "FREQ=WEEKLY;BYDAY=MO,WE", start, start + 7 * kDay, 100)),
      (std::vector<std::string>{"2025-04-30 09:00:00", "2025-05-05 09:00:00"}));
}

TEST(ExpandOccurrences, UntilWithATimeIsInclusive) {
  const Timestamp start = at("2025-04-29 09:00");
  EXPECT_EQ(formatted(expand_occurrences(start, "FREQ=DAILY;UNTIL=20250502T090000Z", start,
                                         start + 365 * kDay, 100)),
            (std::vector<std::string>{"2025-04-29 09:00:00", "2025-04-30 09:00:00",
                                      "2025-05-01 09:00:00", "2025-05-02 09:00:00"}));
}

TEST(ExpandOccurrences, UntilAsADateEndsAtItsMidnight) {
  const Timestamp start = at("2025-04-29 09:00");
  EXPECT_EQ(formatted(expand_occurrences(start, "FREQ=DAILY;UNTIL=20250502", start,
                                         start + 365 * kDay, 100)),
            (std::vector<std::string>{"2025-04-29 09:00:00", "2025-04-30 09:00:00",
                                      "2025-05-01 09:00:00"}));
}

TEST(ExpandOccurrences, WindowAfterUntilIsEmpty) {
  const Timestamp start = at("2025-04-29 09:00");
  EXPECT_TRUE(expand_occurrences(start, "FREQ=DAILY;UNTIL=20250502T090000Z", at("2026-01-01 00:00"),
                                 at("2027-01-01 00:00"), 100)
                  .empty());
}

TEST(ExpandOccurrences, MonthlyOnThe31stSkipsShorterMonths) {
  const Timestamp start = at("2025-01-31 09:00");
  EXPECT_EQ(
      formatted(expand_occurrences(start, "monthly", start, at("2025-09-01 00:00"), 100)),
      (std::vector<std::string>{"2025-01-31 09:00:00", "2025-03-31 09:00:00", "2025-05-31 09:00:00",
                                "2025-07-31 09:00:00", "2025-08-31 09:00:00"}));
}

TEST(ExpandOccurrences, YearlyOnLeapDayOccursInLeapYearsOnly) {
  const Timestamp start = at("2024-02-29 09:00");
  EXPECT_EQ(formatted(expand_occurrences(start, "yearly", start, at("2033-01-01 00:00"), 100)),
            (std::vector<std::string>{"2024-02-29 09:00:00", "2028-02-29 09:00:00",
                                      "2032-02-29 09:00:00"}));
}

TEST(ExpandOccurrences, AcceptsTheRrulePrefix) {
  const Timestamp start = at("2025-04-29 09:00");
  EXPECT_EQ(
      expand_occurrences(start, "RRULE:FREQ=DAILY;COUNT=3", start, start + 30 * kDay, 100).size(),
      3u);
}

TEST(ExpandOccurrences, KeepsTheMicrosecondsOfTheStart) {
  const Timestamp start = at("2025-04-29 09:00:00.250000");
  const std::vector<Timestamp> got =
      expand_occurrences(start, "daily", start, start + 2 * kDay, 10);
  EXPECT_EQ(got, (std::vector<Timestamp>{start, start + kDay}));
}

TEST(ExpandOccurrences, InvalidPatternYieldsNothing) {
  const Timestamp start = at("2025-04-29 09:00");
  for (const std::string_view pattern :
       {"", "FREQ=SOMETIMES", "FREQ=WEEKLY;BYDAY=XX", "sometimes", "FREQ=SECONDLY"}) {
    EXPECT_TRUE(expand_occurrences(start, pattern, start, start + 30 * kDay, 100).empty())
        << pattern;
  }
}

TEST(ExpandOccurrences, StopsAtTheLastYearLibicalCounts) {
  const Timestamp start = at("2582-12-30 09:00");
  EXPECT_EQ(formatted(expand_occurrences(start, "daily", start, at("2583-12-31 00:00"), 100)),
            (std::vector<std::string>{"2582-12-30 09:00:00", "2582-12-31 09:00:00"}));
  EXPECT_TRUE(expand_occurrences(at("2600-01-01 09:00"), "daily", at("2600-01-01 00:00"),
                                 at("2600-02-01 00:00"), 100)
                  .empty());
}

// A window far from the start takes a shortcut (libical's set_start, or a restart on the HOURLY
// grid); it must give what walking every occurrence from the start gives.
class FarWindow : public testing::TestWithParam<std::string_view> {};

TEST_P(FarWindow, MatchesWalkingFromTheStart) {
  const Timestamp start = at("2025-04-29 09:17:03.5");
  for (const std::string_view window_text :
       {"2027-03-15 10:30", "2027-03-15 00:00", "2027-03-15 09:17:03.5", "2025-04-29 09:17:04",
        "2025-05-01 00:00"}) {
    const Timestamp window_start = at(window_text);
    const Timestamp window_end = window_start + 40 * kDay;
    std::vector<Timestamp> walked =
        expand_occurrences(start, GetParam(), start, window_end, kMaxExpansionSteps);
    std::erase_if(walked, [&](Timestamp t) { return t < window_start; });
    if (walked.size() > 6) walked.resize(6);
    EXPECT_EQ(formatted(expand_occurrences(start, GetParam(), window_start, window_end, 6)),
              formatted(walked))
        << GetParam() << " from " << window_text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, FarWindow,
    testing::Values("daily", "weekly", "monthly", "yearly", "FREQ=DAILY;INTERVAL=3",
                    "FREQ=WEEKLY;INTERVAL=2", "FREQ=WEEKLY;BYDAY=MO,WE",
                    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR", "FREQ=MONTHLY;INTERVAL=5",
                    "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
                    "FREQ=YEARLY;INTERVAL=3", "FREQ=HOURLY", "FREQ=HOURLY;INTERVAL=5",
                    "FREQ=HOURLY;INTERVAL=7", "FREQ=HOURLY;INTERVAL=5;UNTIL=20270401T000000Z",
                    "FREQ=DAILY;UNTIL=20270401T000000Z", "FREQ=DAILY;COUNT=800"));

}  // namespace
}  // namespace almanac::domain
