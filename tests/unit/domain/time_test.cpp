#include "domain/time.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace almanac::domain {
namespace {

constexpr Timestamp kSecond = kMicrosecondsPerSecond;
constexpr Timestamp kMinute = 60 * kSecond;
constexpr Timestamp kHour = 60 * kMinute;

// 2025-04-27 08:05:00 UTC, as `date -u -d '2025-04-27 08:05:00' +%s` prints it.
constexpr Timestamp kSeedStart = 1'745'741'100 * kSecond;
// 2024-02-29 00:00:00 UTC.
constexpr Timestamp kLeapDay2024 = 1'709'164'800 * kSecond;

Timestamp at(int year, int month, int day, int hour, int minute, int second = 0,
             int microsecond = 0) {
  const std::optional<Timestamp> t =
      from_civil({year, month, day, hour, minute, second, microsecond});
  EXPECT_TRUE(t.has_value()) << year << "-" << month << "-" << day;
  return t.value_or(0);
}

// The UTC text parse_time makes of `text`, or "rejected".
std::string parsed(std::string_view text) {
  const std::optional<Timestamp> t = parse_time(text);
  return t ? format_time_iso_micro(*t) : "rejected";
}

TEST(ParseTime, EpochIsZero) { EXPECT_EQ(parse_time("1970-01-01 00:00"), 0); }

TEST(ParseTime, AcceptsTheSeedsSingleDigitHour) {
  EXPECT_EQ(parse_time("2025-04-27 8:05"), kSeedStart);
  EXPECT_EQ(parse_time("2025-04-27 8:09"), kSeedStart + 4 * kMinute);
}

TEST(ParseTime, AcceptsTwoDigitHourWithAndWithoutSeconds) {
  EXPECT_EQ(parse_time("2025-04-27 08:05"), kSeedStart);
  EXPECT_EQ(parse_time("2025-04-27 08:05:00"), kSeedStart);
  EXPECT_EQ(parse_time("2025-04-27 08:05:59"), kSeedStart + 59 * kSecond);
}

TEST(ParseTime, AcceptsIsoSeparatorAndZuluAsInTheSeedsBatch) {
  EXPECT_EQ(parse_time("2025-04-27T08:05:00Z"), kSeedStart);
  EXPECT_EQ(parse_time("2025-04-27T08:05Z"), kSeedStart);
  EXPECT_EQ(parse_time("2025-04-27T08:05:00"), kSeedStart);
  EXPECT_EQ(parse_time("2025-04-27 08:05:00Z"), kSeedStart);
  EXPECT_EQ(parse_time("2025-04-27T8:05Z"), kSeedStart);
}

TEST(ParseTime, AcceptsLowerCaseSeparatorAndZuluAsRfc3339Allows) {
  EXPECT_EQ(parse_time("2025-04-27t08:05:00z"), kSeedStart);
}

TEST(ParseTime, AcceptsOneToSixFractionDigits) {
  EXPECT_EQ(parse_time("2025-04-27 08:05:00.5"), kSeedStart + 500'000);
  EXPECT_EQ(parse_time("2025-04-27 08:05:00.05"), kSeedStart + 50'000);
  EXPECT_EQ(parse_time("2025-04-27 08:05:00.123"), kSeedStart + 123'000);
  EXPECT_EQ(parse_time("2025-04-27 08:05:00.123456"), kSeedStart + 123'456);
  EXPECT_EQ(parse_time("2025-04-27 08:05:00.000001"), kSeedStart + 1);
  EXPECT_EQ(parse_time("2025-04-27T08:05:00.999999Z"), kSeedStart + 999'999);
}

TEST(ParseTime, RejectsSevenOrMoreFractionDigits) {
  EXPECT_EQ(parse_time("2025-04-27 08:05:00.1234567"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27T08:05:00.0000000Z"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 08:05:00.123456789"), std::nullopt);
}

TEST(ParseTime, RejectsMalformedFractions) {
  EXPECT_EQ(parse_time("2025-04-27 08:05:00."), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 08:05:00.Z"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 08:05.5"), std::nullopt);     // fraction without seconds
  EXPECT_EQ(parse_time("2025-04-27 08:05:00,5"), std::nullopt);  // comma
}

TEST(ParseTime, ConvertsOffsetsToUtc) {
  EXPECT_EQ(parsed("2025-04-27T13:35:00+05:30"), "2025-04-27T08:05:00.000000Z");
  EXPECT_EQ(parsed("2025-04-27T13:35:00+0530"), "2025-04-27T08:05:00.000000Z");
  EXPECT_EQ(parsed("2025-04-27T00:05:00-08:00"), "2025-04-27T08:05:00.000000Z");
  EXPECT_EQ(parsed("2025-04-27T00:05:00-0800"), "2025-04-27T08:05:00.000000Z");
  EXPECT_EQ(parsed("2025-04-27T10:05+02"), "2025-04-27T08:05:00.000000Z");
  EXPECT_EQ(parsed("2025-04-27 13:35:00.25+05:30"), "2025-04-27T08:05:00.250000Z");
  EXPECT_EQ(parsed("2025-04-27T08:05:00+00:00"), "2025-04-27T08:05:00.000000Z");
  EXPECT_EQ(parsed("2025-04-27T08:05:00-00:00"), "2025-04-27T08:05:00.000000Z");
}

TEST(ParseTime, OffsetConversionCrossesMidnight) {
  EXPECT_EQ(parsed("2025-04-27T23:30:00-01:00"), "2025-04-28T00:30:00.000000Z");
  EXPECT_EQ(parsed("2025-04-27T00:30:00+01:00"), "2025-04-26T23:30:00.000000Z");
  EXPECT_EQ(parsed("2025-04-30T22:00:00-05:00"), "2025-05-01T03:00:00.000000Z");
}

TEST(ParseTime, OffsetConversionCrossesYearBoundary) {
  EXPECT_EQ(parsed("2024-12-31T23:00:00-02:00"), "2025-01-01T01:00:00.000000Z");
  EXPECT_EQ(parsed("2025-01-01T00:15:00+00:30"), "2024-12-31T23:45:00.000000Z");
  EXPECT_EQ(parsed("2025-01-01T05:29:59.999999+05:30"), "2024-12-31T23:59:59.999999Z");
}

TEST(ParseTime, OffsetConversionLandsOnLeapDay) {
  EXPECT_EQ(parsed("2024-02-28T23:00:00-02:00"), "2024-02-29T01:00:00.000000Z");
  EXPECT_EQ(parsed("2024-03-01T01:00:00+02:00"), "2024-02-29T23:00:00.000000Z");
  EXPECT_EQ(parsed("2025-03-01T01:00:00+02:00"), "2025-02-28T23:00:00.000000Z");
}

TEST(ParseTime, RejectsMalformedOffsets) {
  for (const std::string_view text :
       {"2025-04-27T08:05:00+5:30", "2025-04-27T08:05:00+05:3", "2025-04-27T08:05:00+053",
        "2025-04-27T08:05:00+05300", "2025-04-27T08:05:00+24:00", "2025-04-27T08:05:00+05:60",
        "2025-04-27T08:05:00+", "2025-04-27T08:05:00 +05:30", "2025-04-27T08:05:00+05:30Z",
        "2025-04-27T08:05:00Z+05:30", "2025-04-27T08:05:00ZZ", "2025-04-27T08:05:00UTC",
        "2025-04-27T08:05:00 GMT", "2025-04-27T08:05:00+05:30:00"}) {
    EXPECT_EQ(parse_time(text), std::nullopt) << text;
  }
}

TEST(ParseTime, AcceptsLeapDayInLeapYears) {
  EXPECT_EQ(parse_time("2024-02-29 00:00"), kLeapDay2024);
  EXPECT_NE(parse_time("2000-02-29 12:00"), std::nullopt);  // divisible by 400
  EXPECT_NE(parse_time("2400-02-29 12:00"), std::nullopt);
}

TEST(ParseTime, RejectsLeapDayInCommonYears) {
  EXPECT_EQ(parse_time("2025-02-29 00:00"), std::nullopt);
  EXPECT_EQ(parse_time("1900-02-29 00:00"), std::nullopt);  // divisible by 100, not 400
  EXPECT_EQ(parse_time("2100-02-29 00:00"), std::nullopt);
  EXPECT_EQ(parse_time("2024-02-30 00:00"), std::nullopt);
}

TEST(ParseTime, RejectsDaysPastTheEndOfTheMonth) {
  EXPECT_NE(parse_time("2025-04-30 08:05"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-31 08:05"), std::nullopt);
  EXPECT_NE(parse_time("2025-12-31 08:05"), std::nullopt);
  EXPECT_EQ(parse_time("2025-01-32 08:05"), std::nullopt);
  EXPECT_EQ(parse_time("2025-06-31 08:05"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-00 08:05"), std::nullopt);
}

TEST(ParseTime, RejectsMonthsOutsideOneToTwelve) {
  EXPECT_EQ(parse_time("2025-00-10 08:05"), std::nullopt);
  EXPECT_EQ(parse_time("2025-13-10 08:05"), std::nullopt);
}

TEST(ParseTime, RejectsTimesOfDayOutOfRange) {
  EXPECT_NE(parse_time("2025-04-27 23:59:59"), std::nullopt);
  EXPECT_NE(parse_time("2025-04-27 00:00:00"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 24:00"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 08:60"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 08:05:60"), std::nullopt);  // no leap seconds
  EXPECT_EQ(parse_time("2025-04-27 99:99"), std::nullopt);
}

TEST(ParseTime, AcceptsYearsOneToNineThousandNineHundredNinetyNine) {
  EXPECT_EQ(parse_time("0001-01-01 00:00"), kMinTimestamp);
  EXPECT_EQ(parse_time("9999-12-31 23:59:59.999999"), kMaxTimestamp);
  EXPECT_EQ(parse_time("0000-12-31 23:59"), std::nullopt);
  EXPECT_EQ(parse_time("10000-01-01 00:00"), std::nullopt);
  EXPECT_EQ(parse_time("999-01-01 00:00"), std::nullopt);
  EXPECT_EQ(parse_time("-001-01-01 00:00"), std::nullopt);
}

TEST(ParseTime, RejectsOffsetsThatLeaveTheSupportedRange) {
  EXPECT_EQ(parse_time("0001-01-01T00:30:00+01:00"), std::nullopt);
  EXPECT_EQ(parse_time("9999-12-31T23:30:00-01:00"), std::nullopt);
  EXPECT_EQ(parse_time("0001-01-01T01:00:00+01:00"), kMinTimestamp);
}

TEST(ParseTime, RejectsSurroundingOrDoubledWhitespace) {
  for (const std::string_view text :
       {" 2025-04-27 08:05", "2025-04-27 08:05 ", "2025-04-27  08:05", "\t2025-04-27 08:05",
        "2025-04-27 08:05\n", "2025-04-27\t08:05", "2025-04-27\n08:05", "2025-04-27 08: 05"}) {
    EXPECT_EQ(parse_time(text), std::nullopt) << text;
  }
}

TEST(ParseTime, RejectsADateWithoutATime) {
  EXPECT_EQ(parse_time("2025-04-27"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27T"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 "), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 08"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 08:"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27T08Z"), std::nullopt);
}

TEST(ParseTime, RejectsEmptyAndNonsense) {
  for (const std::string_view text :
       {"", " ", "now", "tomorrow 8am", "2025", "2025-04", "27/04/2025 08:05", "1745741100",
        "2025-04-27 8:05 AM", "Sun, 27 Apr 2025 08:05:00 GMT"}) {
    EXPECT_EQ(parse_time(text), std::nullopt) << text;
  }
}

TEST(ParseTime, RejectsTrailingGarbage) {
  EXPECT_EQ(parse_time("2025-04-27 08:05:00abc"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 08:05:00:00"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 08:051"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27 08:05:001"), std::nullopt);
  EXPECT_EQ(parse_time("2025-04-27T08:05:00Z "), std::nullopt);
}

TEST(ParseTime, RejectsWrongFieldWidthsAndSeparators) {
  for (const std::string_view text :
       {"2025-4-27 08:05", "2025-04-7 08:05", "2025-04-27 008:05", "2025-04-27 08:5",
        "2025-04-27 08:05:0", "25-04-27 08:05", "2025/04/27 08:05", "2025.04.27 08:05",
        "2025-04-27_08:05", "20250427T080500Z", "2025-04-27 08.05", "2025-04-27 +8:05",
        "2025-04-27 -8:05", "2025-+4-27 08:05"}) {
    EXPECT_EQ(parse_time(text), std::nullopt) << text;
  }
}

TEST(ParseTime, RejectsEmbeddedNulCharacters) {
  EXPECT_EQ(parse_time(std::string_view("2025-04-27 08:05\0", 17)), std::nullopt);
  EXPECT_EQ(parse_time(std::string_view("2025-04-27\0 08:05", 17)), std::nullopt);
  EXPECT_EQ(parse_time(std::string_view("\0", 1)), std::nullopt);
}

TEST(FormatTime, PrintsTheSeedsFormat) {
  EXPECT_EQ(format_time(kSeedStart), "2025-04-27 08:05:00");
  EXPECT_EQ(format_time(0), "1970-01-01 00:00:00");
  EXPECT_EQ(format_time(kLeapDay2024 + 23 * kHour + 59 * kMinute + 59 * kSecond),
            "2024-02-29 23:59:59");
}

TEST(FormatTime, DropsTheFraction) {
  EXPECT_EQ(format_time(kSeedStart + 999'999), "2025-04-27 08:05:00");
  EXPECT_EQ(format_time(kSeedStart + 1), "2025-04-27 08:05:00");
}

TEST(FormatTime, RoundsBeforeTheEpochTowardThePast) {
  EXPECT_EQ(format_time(-1), "1969-12-31 23:59:59");
  EXPECT_EQ(format_time(-kSecond), "1969-12-31 23:59:59");
  EXPECT_EQ(format_time(-kSecond - 1), "1969-12-31 23:59:58");
  EXPECT_EQ(format_time(-kMicrosecondsPerDay), "1969-12-31 00:00:00");
  EXPECT_EQ(format_time(-kMicrosecondsPerDay - 1), "1969-12-30 23:59:59");
}

TEST(FormatTime, PrintsTheEndsOfTheSupportedRange) {
  EXPECT_EQ(format_time(kMinTimestamp), "0001-01-01 00:00:00");
  EXPECT_EQ(format_time(kMaxTimestamp), "9999-12-31 23:59:59");
}

TEST(FormatTime, PrintsInstantsOutsideTheRangeWithoutCrashing) {
  EXPECT_EQ(format_time(kMaxTimestamp + 1), "10000-01-01 00:00:00");
  EXPECT_EQ(format_time(kMinTimestamp - 1), "0000-12-31 23:59:59");
  EXPECT_FALSE(format_time(std::numeric_limits<Timestamp>::min()).empty());
  EXPECT_FALSE(format_time(std::numeric_limits<Timestamp>::max()).empty());
}

TEST(FormatTimeIsoMicro, PrintsTheSeedsHistoryDate) {
  const std::optional<Timestamp> t = parse_time("2025-05-23T12:43:04.761531Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_time_iso_micro(*t), "2025-05-23T12:43:04.761531Z");
}

TEST(FormatTimeIsoMicro, PadsTheFractionToSixDigits) {
  EXPECT_EQ(format_time_iso_micro(kSeedStart), "2025-04-27T08:05:00.000000Z");
  EXPECT_EQ(format_time_iso_micro(kSeedStart + 500'000), "2025-04-27T08:05:00.500000Z");
  EXPECT_EQ(format_time_iso_micro(kSeedStart + 7), "2025-04-27T08:05:00.000007Z");
}

TEST(FormatTimeIsoMicro, PrintsInstantsBeforeTheEpoch) {
  EXPECT_EQ(format_time_iso_micro(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_time_iso_micro(-kSecond + 1), "1969-12-31T23:59:59.000001Z");
}

TEST(TimeRoundTrip, FormattedTimesParseBackToTheSameSecond) {
  // A stride that is prime in seconds and not a whole number of days visits every time of day.
  constexpr Timestamp kStride = 7'777'777 * kSecond + 123'457;
  for (Timestamp t = kMinTimestamp; t <= kMaxTimestamp - kStride; t += kStride) {
    const std::optional<Timestamp> back = parse_time(format_time(t));
    ASSERT_TRUE(back.has_value()) << format_time(t);
    ASSERT_EQ(*back, t - to_civil(t).microsecond) << format_time(t);
    ASSERT_EQ(parse_time(format_time_iso_micro(t)), t) << format_time_iso_micro(t);
  }
}

TEST(TimeRoundTrip, CanonicalTextSurvivesParseAndFormat) {
  for (const std::string_view text :
       {"2025-04-27 08:05:00", "2024-02-29 23:59:59", "0001-01-01 00:00:00", "9999-12-31 23:59:59",
        "1969-12-31 23:59:59", "1970-01-01 00:00:00", "2000-03-01 12:34:56"}) {
    const std::optional<Timestamp> t = parse_time(text);
    ASSERT_TRUE(t.has_value()) << text;
    EXPECT_EQ(format_time(*t), text);
  }
}

TEST(CivilTime, EveryDayOfTheRangeConvertsBothWays) {
  CivilTime previous = to_civil(kMinTimestamp - kMicrosecondsPerDay);
  EXPECT_EQ(previous, (CivilTime{0, 12, 31, 0, 0, 0, 0}));
  for (Timestamp t = kMinTimestamp; t <= kMaxTimestamp; t += kMicrosecondsPerDay) {
    const CivilTime c = to_civil(t);
    const bool next_day =
        c.year == previous.year && c.month == previous.month && c.day == previous.day + 1;
    const bool next_month = c.year == previous.year && c.month == previous.month + 1 && c.day == 1;
    const bool next_year = c.year == previous.year + 1 && c.month == 1 && c.day == 1 &&
                           previous.month == 12 && previous.day == 31;
    ASSERT_TRUE(next_day || next_month || next_year) << format_time(t);
    ASSERT_EQ(from_civil(c), t) << format_time(t);
    previous = c;
  }
  EXPECT_EQ(previous, (CivilTime{9999, 12, 31, 0, 0, 0, 0}));
}

TEST(CivilTime, FromCivilRejectsFieldsOutOfRange) {
  EXPECT_EQ(from_civil({2025, 4, 27, 8, 5, 0, 0}), kSeedStart);
  EXPECT_EQ(from_civil({2025, 4, 27, 8, 5, 0, 1'000'000}), std::nullopt);
  EXPECT_EQ(from_civil({2025, 4, 27, 8, 5, 0, -1}), std::nullopt);
  EXPECT_EQ(from_civil({2025, 4, 27, -1, 5, 0, 0}), std::nullopt);
  EXPECT_EQ(from_civil({2025, 4, 27, 8, -5, 0, 0}), std::nullopt);
  EXPECT_EQ(from_civil({2025, 4, 27, 8, 5, -1, 0}), std::nullopt);
  EXPECT_EQ(from_civil({2025, 4, 0, 8, 5, 0, 0}), std::nullopt);
  EXPECT_EQ(from_civil({0, 1, 1, 0, 0, 0, 0}), std::nullopt);
  EXPECT_EQ(from_civil({10000, 1, 1, 0, 0, 0, 0}), std::nullopt);
}

TEST(CivilTime, ToCivilSplitsMicroseconds) {
  EXPECT_EQ(to_civil(kSeedStart + 761'531), (CivilTime{2025, 4, 27, 8, 5, 0, 761'531}));
  EXPECT_EQ(to_civil(-1), (CivilTime{1969, 12, 31, 23, 59, 59, 999'999}));
  EXPECT_EQ(at(2025, 4, 27, 8, 5), kSeedStart);
}

}  // namespace
}  // namespace almanac::domain
