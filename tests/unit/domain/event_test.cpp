#include "domain/event.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace almanac::domain {
namespace {

constexpr Timestamp kMinute = 60 * kMicrosecondsPerSecond;
constexpr Timestamp kHour = 60 * kMinute;

constexpr char kRequired[] = "This field is required.";
constexpr char kBlank[] = "This field may not be blank.";
constexpr char kMayNotBeNull[] = "This field may not be null.";
constexpr char kNullCharacter[] = "Null characters are not allowed.";
constexpr char kInvalidTime[] = "Enter a valid date/time: use YYYY-MM-DD HH:MM[:SS] or ISO 8601.";
constexpr char kEndNotAfterStart[] = "must be after start_time";
constexpr char kStartNotBeforeEnd[] = "must be before end_time";
constexpr char kNeedsPattern[] =
    "A recurring event needs a recurrence_pattern: daily, weekly, monthly, yearly or an RRULE.";
constexpr char kOnlyRecurring[] = "Only a recurring event has a recurrence_pattern.";

Timestamp at(std::string_view text) {
  const std::optional<Timestamp> t = parse_time(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(0);
}

// The seed's create request.
EventDraft seed_create() {
  EventDraft draft;
  draft.title = "lets ssss ds";
  draft.description = "dd product design meeting";
  draft.start_time = "2025-04-27 8:05";
  draft.end_time = "2025-04-27 8:09";
  draft.location = "Zoom";
  draft.is_recurring = false;
  return draft;
}

// A stored event to update: 2025-06-01 11:23 to 18:32, recurring weekly.
EventFields stored() {
  return {.title = "testing history",
          .description = "history description",
          .start_time = at("2025-06-01 11:23"),
          .end_time = at("2025-06-01 18:32"),
          .location = "srinagar",
          .is_recurring = true,
          .recurrence_pattern = "weekly"};
}

EventFields valid(const EventDraft& draft, const EventFields* base = nullptr) {
  auto result = validate_event(draft, base);
  if (const auto* errors = std::get_if<FieldErrors>(&result)) {
    std::string text;
    for (const auto& [field, messages] : *errors) {
      for (const std::string& message : messages) text += field + ": " + message + "\n";
    }
    ADD_FAILURE() << "unexpected errors:\n" << text;
    return {};
  }
  return std::get<EventFields>(result);
}

FieldErrors invalid(const EventDraft& draft, const EventFields* base = nullptr) {
  auto result = validate_event(draft, base);
  if (std::holds_alternative<EventFields>(result)) {
    ADD_FAILURE() << "expected errors, the draft was valid";
    return {};
  }
  return std::get<FieldErrors>(result);
}

using Messages = std::vector<std::string>;

std::vector<std::string> names(const FieldErrors& errors) {
  std::vector<std::string> out;
  for (const auto& [field, messages] : errors) out.push_back(field);
  return out;
}

// --- create ---

TEST(ValidateEventCreate, SeedRequestIsValidAndTimesAreUtc) {
  const EventFields fields = valid(seed_create());
  EXPECT_EQ(fields.title, "lets ssss ds");
  EXPECT_EQ(fields.description, "dd product design meeting");
  EXPECT_EQ(format_time(fields.start_time), "2025-04-27 08:05:00");
  EXPECT_EQ(format_time(fields.end_time), "2025-04-27 08:09:00");
  EXPECT_EQ(fields.location, "Zoom");
  EXPECT_FALSE(fields.is_recurring);
  EXPECT_EQ(fields.recurrence_pattern, std::nullopt);
}

TEST(ValidateEventCreate, OptionalMembersTakeTheirDefaults) {
  EventDraft draft;
  draft.title = "Standup";
  draft.start_time = "2025-04-29T09:00:00Z";
  draft.end_time = "2025-04-29T10:00:00Z";
  const EventFields fields = valid(draft);
  EXPECT_EQ(fields.description, "");
  EXPECT_EQ(fields.location, "");
  EXPECT_FALSE(fields.is_recurring);
  EXPECT_EQ(fields.recurrence_pattern, std::nullopt);
}

TEST(ValidateEventCreate, RequiresTitleStartAndEnd) {
  const FieldErrors errors = invalid(EventDraft{});
  EXPECT_EQ(errors,
            (FieldErrors{
                {"end_time", {kRequired}}, {"start_time", {kRequired}}, {"title", {kRequired}}}));
}

TEST(ValidateEventCreate, CollectsEveryErrorAtOnce) {
  EventDraft draft = seed_create();
  draft.title = "   ";
  draft.start_time = "yesterday";
  draft.location = std::string(501, 'x');
  draft.is_recurring = true;
  const FieldErrors errors = invalid(draft);
  EXPECT_EQ(names(errors),
            (std::vector<std::string>{"location", "recurrence_pattern", "start_time", "title"}));
}

TEST(ValidateEventCreate, ConvertsOffsetsBeforeComparingTimes) {
  EventDraft draft = seed_create();
  draft.start_time = "2025-04-27T10:00:00+02:00";  // 08:00 UTC
  draft.end_time = "2025-04-27T08:30:00Z";
  const EventFields fields = valid(draft);
  EXPECT_EQ(fields.end_time - fields.start_time, 30 * kMinute);
}

// --- title ---

TEST(ValidateEventTitle, IsTrimmed) {
  EventDraft draft = seed_create();
  draft.title = " \t fodibbo didi \n";
  EXPECT_EQ(valid(draft).title, "fodibbo didi");
}

TEST(ValidateEventTitle, MayNotBeEmptyOrBlank) {
  for (const std::string title : {"", " ", "\t\n\r "}) {
    EventDraft draft = seed_create();
    draft.title = title;
    EXPECT_EQ(invalid(draft), (FieldErrors{{"title", {kBlank}}})) << '"' << title << '"';
  }
}

TEST(ValidateEventTitle, CountsCharactersNotBytes) {
  std::string accented;
  for (int i = 0; i < 200; ++i) accented += "\xc3\xa9";  // é, two bytes
  EventDraft draft = seed_create();
  draft.title = accented;
  EXPECT_EQ(valid(draft).title, accented);

  std::string emoji;
  for (int i = 0; i < 200; ++i) emoji += "\xf0\x9f\x93\x85";  // 📅, four bytes
  draft.title = emoji;
  EXPECT_EQ(valid(draft).title, emoji);

  draft.title = emoji + "x";
  EXPECT_EQ(invalid(draft),
            (FieldErrors{{"title", {"Ensure this field has no more than 200 characters."}}}));
}

TEST(ValidateEventTitle, AtMostTwoHundredCharactersAfterTrimming) {
  EventDraft draft = seed_create();
  draft.title = "  " + std::string(200, 'a') + "  ";
  EXPECT_EQ(valid(draft).title, std::string(200, 'a'));
  draft.title = std::string(201, 'a');
  EXPECT_EQ(invalid(draft),
            (FieldErrors{{"title", {"Ensure this field has no more than 200 characters."}}}));
}

TEST(ValidateEventTitle, RejectsNulCharacters) {
  EventDraft draft = seed_create();
  draft.title = std::string("Team\0sync", 9);
  EXPECT_EQ(invalid(draft), (FieldErrors{{"title", {kNullCharacter}}}));
}

// --- description and location ---

TEST(ValidateEventDescription, AtMostTenThousandCharacters) {
  EventDraft draft = seed_create();
  draft.description = std::string(10'000, 'd');
  EXPECT_EQ(valid(draft).description.size(), 10'000u);
  draft.description = std::string(10'001, 'd');
  EXPECT_EQ(
      invalid(draft),
      (FieldErrors{{"description", {"Ensure this field has no more than 10000 characters."}}}));
}

TEST(ValidateEventDescription, IsKeptAsSentIncludingWhitespaceAndEmpty) {
  EventDraft draft = seed_create();
  draft.description = "  line one\nline two  ";
  EXPECT_EQ(valid(draft).description, "  line one\nline two  ");
  draft.description = "";
  EXPECT_EQ(valid(draft).description, "");
}

TEST(ValidateEventLocation, AtMostFiveHundredCharacters) {
  std::string location;
  for (int i = 0; i < 500; ++i) location += "\xe2\x82\xac";  // €, three bytes
  EventDraft draft = seed_create();
  draft.location = location;
  EXPECT_EQ(valid(draft).location, location);
  draft.location = location + "x";
  EXPECT_EQ(invalid(draft),
            (FieldErrors{{"location", {"Ensure this field has no more than 500 characters."}}}));
}

TEST(ValidateEventText, RejectsNulCharactersInDescriptionAndLocation) {
  EventDraft draft = seed_create();
  draft.description = std::string("a\0b", 3);
  draft.location = std::string("\0", 1);
  EXPECT_EQ(invalid(draft),
            (FieldErrors{{"description", {kNullCharacter}}, {"location", {kNullCharacter}}}));
}

// --- times ---

TEST(ValidateEventTimes, RejectsUnreadableTimes) {
  EventDraft draft = seed_create();
  draft.start_time = "2025-02-29 10:00";
  draft.end_time = "";
  EXPECT_EQ(invalid(draft),
            (FieldErrors{{"end_time", {kInvalidTime}}, {"start_time", {kInvalidTime}}}));
}

TEST(ValidateEventTimes, EndEqualToStartIsRejectedOnEndTime) {
  EventDraft draft = seed_create();
  draft.end_time = "2025-04-27 08:05:00";
  EXPECT_EQ(invalid(draft), (FieldErrors{{"end_time", {kEndNotAfterStart}}}));
}

TEST(ValidateEventTimes, EndBeforeStartIsRejectedOnEndTime) {
  EventDraft draft = seed_create();
  draft.end_time = "2025-04-27 07:00";
  EXPECT_EQ(invalid(draft), (FieldErrors{{"end_time", {kEndNotAfterStart}}}));
}

TEST(ValidateEventTimes, OneMicrosecondLongIsEnough) {
  EventDraft draft = seed_create();
  draft.start_time = "2025-04-27 08:05:00.000000";
  draft.end_time = "2025-04-27 08:05:00.000001";
  const EventFields fields = valid(draft);
  EXPECT_EQ(fields.end_time - fields.start_time, 1);
}

TEST(ValidateEventTimes, NoOrderErrorWhenATimeIsUnreadable) {
  EventDraft draft = seed_create();
  draft.end_time = "soon";
  EXPECT_EQ(invalid(draft), (FieldErrors{{"end_time", {kInvalidTime}}}));
}

// --- recurrence ---

TEST(ValidateEventRecurrence, RecurringEventNeedsAPattern) {
  EventDraft draft = seed_create();
  draft.is_recurring = true;
  EXPECT_EQ(invalid(draft), (FieldErrors{{"recurrence_pattern", {kNeedsPattern}}}));

  draft.recurrence_pattern_present = true;  // null
  EXPECT_EQ(invalid(draft), (FieldErrors{{"recurrence_pattern", {kNeedsPattern}}}));

  draft.recurrence_pattern = "";
  EXPECT_EQ(invalid(draft), (FieldErrors{{"recurrence_pattern", {kNeedsPattern}}}));
}

TEST(ValidateEventRecurrence, SimpleWordIsStoredInLowerCase) {
  EventDraft draft = seed_create();
  draft.is_recurring = true;
  draft.recurrence_pattern_present = true;
  draft.recurrence_pattern = "Monthly";
  const EventFields fields = valid(draft);
  EXPECT_TRUE(fields.is_recurring);
  EXPECT_EQ(fields.recurrence_pattern, "monthly");
}

TEST(ValidateEventRecurrence, RruleIsStoredAsGiven) {
  EventDraft draft = seed_create();
  draft.is_recurring = true;
  draft.recurrence_pattern_present = true;
  draft.recurrence_pattern = "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10";
  EXPECT_EQ(valid(draft).recurrence_pattern, "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10");
}

TEST(ValidateEventRecurrence, InvalidRruleIsReportedWithItsReason) {
  EventDraft draft = seed_create();
  draft.is_recurring = true;
  draft.recurrence_pattern_present = true;
  draft.recurrence_pattern = "FREQ=SOMETIMES";
  EXPECT_EQ(invalid(draft),
            (FieldErrors{{"recurrence_pattern",
                          {"Enter daily, weekly, monthly, yearly or a valid RFC 5545 RRULE such "
                           "as FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10."}}}));
}

TEST(ValidateEventRecurrence, NonRecurringEventStoresNullForNullOrEmptyPattern) {
  EventDraft draft = seed_create();
  draft.recurrence_pattern_present = true;
  EXPECT_EQ(valid(draft).recurrence_pattern, std::nullopt);
  draft.recurrence_pattern = "";  // the seed's PUT example
  EXPECT_EQ(valid(draft).recurrence_pattern, std::nullopt);
}

TEST(ValidateEventRecurrence, NonRecurringEventRejectsAPattern) {
  EventDraft draft = seed_create();
  draft.recurrence_pattern_present = true;
  draft.recurrence_pattern = "weekly";
  EXPECT_EQ(invalid(draft), (FieldErrors{{"recurrence_pattern", {kOnlyRecurring}}}));
  draft.is_recurring.reset();  // false by default
  EXPECT_EQ(invalid(draft), (FieldErrors{{"recurrence_pattern", {kOnlyRecurring}}}));
}

// --- what the JSON reader could not use ---

TEST(ValidateEventDraft, NullMembersAreReportedAsSuch) {
  EventDraft draft = seed_create();
  draft.title.reset();
  draft.is_recurring.reset();
  draft.null_members = {"title", "is_recurring"};
  EXPECT_EQ(invalid(draft),
            (FieldErrors{{"is_recurring", {kMayNotBeNull}}, {"title", {kMayNotBeNull}}}));
}

TEST(ValidateEventDraft, NullRecurrencePatternListedAsNullIsAllowed) {
  EventDraft draft = seed_create();
  draft.null_members = {"recurrence_pattern"};
  EXPECT_EQ(valid(draft).recurrence_pattern, std::nullopt);
}

TEST(ValidateEventDraft, TypeErrorsAreReportedAlongWithTheRest) {
  EventDraft draft;
  draft.type_errors = {{"title", {"Not a valid string."}},
                       {"is_recurring", {"Must be a valid boolean."}}};
  draft.start_time = "2025-04-27 08:05";
  const FieldErrors errors = invalid(draft);
  EXPECT_EQ(errors, (FieldErrors{{"end_time", {kRequired}},
                                 {"is_recurring", {"Must be a valid boolean."}},
                                 {"title", {"Not a valid string."}}}));
}

TEST(ValidateEventDraft, PatternIsStillCheckedWhenIsRecurringIsUnusable) {
  EventDraft draft = seed_create();
  draft.is_recurring.reset();
  draft.type_errors = {{"is_recurring", {"Must be a valid boolean."}}};
  draft.recurrence_pattern_present = true;
  draft.recurrence_pattern = "FREQ=WEEKLY;BYDAY=XX";
  EXPECT_EQ(names(invalid(draft)),
            (std::vector<std::string>{"is_recurring", "recurrence_pattern"}));
}

// --- update ---

TEST(ValidateEventUpdate, AbsentMembersKeepTheirValues) {
  const EventFields base = stored();
  EventDraft draft;
  draft.title = "renamed";
  EventFields expected = base;
  expected.title = "renamed";
  EXPECT_EQ(valid(draft, &base), expected);
}

TEST(ValidateEventUpdate, EmptyDraftChangesNothing) {
  const EventFields base = stored();
  EXPECT_EQ(valid(EventDraft{}, &base), base);
}

TEST(ValidateEventUpdate, SeedPutReplacesEverything) {
  const EventFields base = stored();
  EventDraft draft;
  draft.title = "fodibbo didi ";
  draft.description = "lwts dajajjaj";
  draft.start_time = "2025-06-01 20:23";
  draft.end_time = "2025-06-01 21:32";
  draft.location = "srinagar";
  draft.is_recurring = false;
  draft.recurrence_pattern_present = true;
  draft.recurrence_pattern = "";
  const EventFields fields = valid(draft, &base);
  EXPECT_EQ(fields.title, "fodibbo didi");
  EXPECT_EQ(format_time(fields.start_time), "2025-06-01 20:23:00");
  EXPECT_EQ(format_time(fields.end_time), "2025-06-01 21:32:00");
  EXPECT_FALSE(fields.is_recurring);
  EXPECT_EQ(fields.recurrence_pattern, std::nullopt);
}

TEST(ValidateEventUpdate, DescriptionMayBeCleared) {
  const EventFields base = stored();
  EventDraft draft;
  draft.description = "";
  EXPECT_EQ(valid(draft, &base).description, "");
}

TEST(ValidateEventUpdate, BlankTitleIsRejected) {
  const EventFields base = stored();
  EventDraft draft;
  draft.title = "  ";
  EXPECT_EQ(invalid(draft, &base), (FieldErrors{{"title", {kBlank}}}));
}

TEST(ValidateEventUpdate, MovingOnlyTheStartPastTheStoredEndNamesStartTime) {
  const EventFields base = stored();  // ends 18:32
  EventDraft draft;
  draft.start_time = "2025-06-01 19:00";
  EXPECT_EQ(invalid(draft, &base), (FieldErrors{{"start_time", {kStartNotBeforeEnd}}}));
}

TEST(ValidateEventUpdate, MovingOnlyTheEndBeforeTheStoredStartNamesEndTime) {
  const EventFields base = stored();  // starts 11:23
  EventDraft draft;
  draft.end_time = "2025-06-01 11:23";
  EXPECT_EQ(invalid(draft, &base), (FieldErrors{{"end_time", {kEndNotAfterStart}}}));
}

TEST(ValidateEventUpdate, InvertedPairNamesEndTime) {
  const EventFields base = stored();
  EventDraft draft;
  draft.start_time = "2025-07-01 12:00";
  draft.end_time = "2025-07-01 11:00";
  EXPECT_EQ(invalid(draft, &base), (FieldErrors{{"end_time", {kEndNotAfterStart}}}));
}

TEST(ValidateEventUpdate, MovingOneTimeWithinTheStoredOtherIsFine) {
  const EventFields base = stored();
  EventDraft draft;
  draft.start_time = "2025-06-01 18:31";
  EXPECT_EQ(valid(draft, &base).start_time, at("2025-06-01 18:31"));
  draft = EventDraft{};
  draft.end_time = "2025-06-01 11:24";
  EXPECT_EQ(valid(draft, &base).end_time, at("2025-06-01 11:24"));
}

TEST(ValidateEventUpdate, MovingBothTimesLaterIsFine) {
  const EventFields base = stored();
  EventDraft draft;
  draft.start_time = "2025-06-02 11:23";
  draft.end_time = "2025-06-02 18:32";
  const EventFields fields = valid(draft, &base);
  EXPECT_EQ(fields.end_time - fields.start_time, base.end_time - base.start_time);
}

TEST(ValidateEventUpdate, StoredTimesLeftAloneAreNotJudgedAgain) {
  EventFields base = stored();
  base.end_time = base.start_time;  // as the original allowed
  EventDraft draft;
  draft.title = "only the title";
  EXPECT_EQ(valid(draft, &base).title, "only the title");
}

TEST(ValidateEventUpdate, RequiredMemberSentAsNullIsRejected) {
  const EventFields base = stored();
  EventDraft draft;
  draft.null_members = {"start_time"};
  EXPECT_EQ(invalid(draft, &base), (FieldErrors{{"start_time", {kMayNotBeNull}}}));
}

TEST(ValidateEventUpdate, KeepsTheStoredPatternWhenRecurrenceIsNotTouched) {
  const EventFields base = stored();
  EventDraft draft;
  draft.location = "Zoom";
  EXPECT_EQ(valid(draft, &base).recurrence_pattern, "weekly");
}

TEST(ValidateEventUpdate, ReplacesThePatternOfARecurringEvent) {
  const EventFields base = stored();
  EventDraft draft;
  draft.recurrence_pattern_present = true;
  draft.recurrence_pattern = "FREQ=DAILY;COUNT=3";
  const EventFields fields = valid(draft, &base);
  EXPECT_TRUE(fields.is_recurring);
  EXPECT_EQ(fields.recurrence_pattern, "FREQ=DAILY;COUNT=3");
}

TEST(ValidateEventUpdate, TurningRecurrenceOffDropsTheStoredPattern) {
  const EventFields base = stored();
  EventDraft draft;
  draft.is_recurring = false;
  const EventFields fields = valid(draft, &base);
  EXPECT_FALSE(fields.is_recurring);
  EXPECT_EQ(fields.recurrence_pattern, std::nullopt);
}

TEST(ValidateEventUpdate, TurningRecurrenceOffWhileSendingAPatternIsRejected) {
  const EventFields base = stored();
  EventDraft draft;
  draft.is_recurring = false;
  draft.recurrence_pattern_present = true;
  draft.recurrence_pattern = "weekly";
  EXPECT_EQ(invalid(draft, &base), (FieldErrors{{"recurrence_pattern", {kOnlyRecurring}}}));
}

TEST(ValidateEventUpdate, TurningRecurrenceOnNeedsAPattern) {
  EventFields base = stored();
  base.is_recurring = false;
  base.recurrence_pattern.reset();
  EventDraft draft;
  draft.is_recurring = true;
  EXPECT_EQ(invalid(draft, &base), (FieldErrors{{"recurrence_pattern", {kNeedsPattern}}}));
  draft.recurrence_pattern_present = true;
  draft.recurrence_pattern = "YEARLY";
  EXPECT_EQ(valid(draft, &base).recurrence_pattern, "yearly");
}

TEST(ValidateEventUpdate, ClearingThePatternOfARecurringEventIsRejected) {
  const EventFields base = stored();
  EventDraft draft;
  draft.recurrence_pattern_present = true;  // null
  EXPECT_EQ(invalid(draft, &base), (FieldErrors{{"recurrence_pattern", {kNeedsPattern}}}));
}

TEST(ValidateEventUpdate, PatternSentToANonRecurringEventIsRejected) {
  EventFields base = stored();
  base.is_recurring = false;
  base.recurrence_pattern.reset();
  EventDraft draft;
  draft.recurrence_pattern_present = true;
  draft.recurrence_pattern = "daily";
  EXPECT_EQ(invalid(draft, &base), (FieldErrors{{"recurrence_pattern", {kOnlyRecurring}}}));
}

// --- overlaps ---

TEST(Overlaps, PartialOverlapOnEitherSideConflicts) {
  EXPECT_TRUE(overlaps(9 * kHour, 11 * kHour, 10 * kHour, 12 * kHour));
  EXPECT_TRUE(overlaps(10 * kHour, 12 * kHour, 9 * kHour, 11 * kHour));
}

TEST(Overlaps, ContainmentConflictsBothWays) {
  EXPECT_TRUE(overlaps(9 * kHour, 17 * kHour, 10 * kHour, 11 * kHour));
  EXPECT_TRUE(overlaps(10 * kHour, 11 * kHour, 9 * kHour, 17 * kHour));
}

TEST(Overlaps, IdenticalRangesConflict) {
  EXPECT_TRUE(overlaps(9 * kHour, 10 * kHour, 9 * kHour, 10 * kHour));
}

TEST(Overlaps, SharedStartOrSharedEndConflicts) {
  EXPECT_TRUE(overlaps(9 * kHour, 10 * kHour, 9 * kHour, 12 * kHour));
  EXPECT_TRUE(overlaps(9 * kHour, 12 * kHour, 11 * kHour, 12 * kHour));
}

TEST(Overlaps, TouchingRangesDoNotConflictEitherWay) {
  EXPECT_FALSE(overlaps(9 * kHour, 10 * kHour, 10 * kHour, 11 * kHour));
  EXPECT_FALSE(overlaps(10 * kHour, 11 * kHour, 9 * kHour, 10 * kHour));
}

TEST(Overlaps, OneMicrosecondOfOverlapConflicts) {
  EXPECT_TRUE(overlaps(9 * kHour, 10 * kHour + 1, 10 * kHour, 11 * kHour));
}

TEST(Overlaps, DisjointRangesDoNotConflict) {
  EXPECT_FALSE(overlaps(9 * kHour, 10 * kHour, 11 * kHour, 12 * kHour));
  EXPECT_FALSE(overlaps(11 * kHour, 12 * kHour, 9 * kHour, 10 * kHour));
}

TEST(Overlaps, ZeroLengthRangeNeverConflicts) {
  EXPECT_FALSE(overlaps(10 * kHour, 10 * kHour, 9 * kHour, 11 * kHour));  // inside another
  EXPECT_FALSE(overlaps(9 * kHour, 11 * kHour, 10 * kHour, 10 * kHour));
  EXPECT_FALSE(overlaps(10 * kHour, 10 * kHour, 10 * kHour, 10 * kHour));  // the same instant
  EXPECT_FALSE(overlaps(10 * kHour, 10 * kHour, 10 * kHour, 11 * kHour));  // at a start
}

TEST(Overlaps, InvertedRangeNeverConflicts) {
  EXPECT_FALSE(overlaps(11 * kHour, 9 * kHour, 8 * kHour, 12 * kHour));
}

TEST(Overlaps, AgreesWithSharingAnInstantOnASmallGrid) {
  for (Timestamp a0 = 0; a0 < 6; ++a0) {
    for (Timestamp a1 = 0; a1 < 6; ++a1) {
      for (Timestamp b0 = 0; b0 < 6; ++b0) {
        for (Timestamp b1 = 0; b1 < 6; ++b1) {
          bool shared = false;
          for (Timestamp t = 0; t < 6; ++t) {
            shared = shared || (a0 <= t && t < a1 && b0 <= t && t < b1);
          }
          ASSERT_EQ(overlaps(a0, a1, b0, b1), shared) << a0 << a1 << b0 << b1;
          ASSERT_EQ(overlaps(a0, a1, b0, b1), overlaps(b0, b1, a0, a1));
        }
      }
    }
  }
}

// --- find_conflicts ---

TEST(FindConflicts, ReturnsOverlappingIdsInTheGivenOrder) {
  const std::vector<ConflictCandidate> existing = {
      {.id = 7, .start_time = 9 * kHour, .end_time = 10 * kHour},        // touches: no
      {.id = 3, .start_time = 10 * kHour, .end_time = 11 * kHour},       // inside: yes
      {.id = 9, .start_time = 8 * kHour, .end_time = 18 * kHour},        // contains: yes
      {.id = 4, .start_time = 12 * kHour, .end_time = 13 * kHour},       // touches: no
      {.id = 5, .start_time = 11 * kHour, .end_time = 12 * kHour + 1}};  // overlaps: yes
  EXPECT_EQ(find_conflicts(10 * kHour, 12 * kHour, existing), (std::vector<EventId>{3, 9, 5}));
}

TEST(FindConflicts, ExcludesTheEventBeingUpdated) {
  const std::vector<ConflictCandidate> existing = {
      {.id = 1, .start_time = 10 * kHour, .end_time = 11 * kHour},
      {.id = 2, .start_time = 10 * kHour, .end_time = 11 * kHour}};
  EXPECT_EQ(find_conflicts(10 * kHour, 11 * kHour, existing, 1), (std::vector<EventId>{2}));
  EXPECT_EQ(find_conflicts(10 * kHour, 11 * kHour, existing), (std::vector<EventId>{1, 2}));
}

TEST(FindConflicts, MovingWithinItsOwnSlotIsNoConflict) {
  const std::vector<ConflictCandidate> existing = {
      {.id = 1, .start_time = 10 * kHour, .end_time = 12 * kHour}};
  EXPECT_TRUE(find_conflicts(10 * kHour + kMinute, 11 * kHour, existing, 1).empty());
}

TEST(FindConflicts, NothingStoredMeansNoConflict) {
  EXPECT_TRUE(find_conflicts(10 * kHour, 11 * kHour, {}).empty());
}

// --- changed_fields ---

TEST(ChangedFields, EqualFieldsHaveNoChanges) {
  EXPECT_TRUE(changed_fields(stored(), stored()).empty());
}

TEST(ChangedFields, NamesEachChangedMember) {
  const EventFields a = stored();
  const auto changed = [&a](auto mutate) {
    EventFields b = a;
    mutate(b);
    return changed_fields(a, b);
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(changed([](EventFields& f) { f.title += "!"; }), Names{"title"});
  EXPECT_EQ(changed([](EventFields& f) { f.description.clear(); }), Names{"description"});
  EXPECT_EQ(changed([](EventFields& f) { f.start_time -= 1; }), Names{"start_time"});
  EXPECT_EQ(changed([](EventFields& f) { f.end_time += 1; }), Names{"end_time"});
  EXPECT_EQ(changed([](EventFields& f) { f.location = "Zoom"; }), Names{"location"});
  EXPECT_EQ(changed([](EventFields& f) { f.is_recurring = false; }), Names{"is_recurring"});
  EXPECT_EQ(changed([](EventFields& f) { f.recurrence_pattern = "daily"; }),
            Names{"recurrence_pattern"});
  EXPECT_EQ(changed([](EventFields& f) { f.recurrence_pattern.reset(); }),
            Names{"recurrence_pattern"});
}

TEST(ChangedFields, ListsChangesInTheFixedOrder) {
  const EventFields a = stored();
  EventFields b;  // differs in every member
  b.title = "x";
  b.start_time = 1;
  b.end_time = 2;
  EXPECT_EQ(changed_fields(a, b),
            (std::vector<std::string>{"title", "description", "start_time", "end_time", "location",
                                      "is_recurring", "recurrence_pattern"}));
  EXPECT_EQ(changed_fields(b, a), changed_fields(a, b));
}

TEST(ChangedFields, NullAndEmptyPatternDiffer) {
  EventFields a = stored();
  a.recurrence_pattern.reset();
  EventFields b = a;
  b.recurrence_pattern = "";
  EXPECT_EQ(changed_fields(a, b), (std::vector<std::string>{"recurrence_pattern"}));
}

}  // namespace
}  // namespace almanac::domain
