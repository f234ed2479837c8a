#include "domain/history.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace almanac::domain {
namespace {

// The messages of the change_reason field of the error `reason` raises; empty when it raises none.
std::vector<std::string> reason_errors(std::string_view reason) {
  try {
    checked_change_reason(reason);
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    const auto found = error.fields().find("change_reason");
    if (found == error.fields().end()) return {"(no change_reason field)"};
    return found->second;
  }
  return {};
}

TEST(HistoryType, ReadsAndWritesTheSeedsSymbols) {
  for (const HistoryType type :
       {HistoryType::kCreated, HistoryType::kChanged, HistoryType::kDeleted}) {
    EXPECT_EQ(parse_history_type(to_string(type)), type);
  }
  EXPECT_EQ(to_string(HistoryType::kCreated), "+");
  EXPECT_EQ(to_string(HistoryType::kChanged), "~");
  EXPECT_EQ(to_string(HistoryType::kDeleted), "-");
  EXPECT_EQ(parse_history_type("*"), std::nullopt);
  EXPECT_EQ(parse_history_type(""), std::nullopt);
}

TEST(ChangeReason, AbsentOrEmptyMeansNone) {
  EXPECT_EQ(checked_change_reason(std::nullopt), std::nullopt);
  EXPECT_EQ(checked_change_reason(""), std::nullopt);
}

TEST(ChangeReason, KeepsTextAsGiven) {
  EXPECT_EQ(checked_change_reason("Moved to Friday\tafter the call"),
            std::optional<std::string>("Moved to Friday\tafter the call"));
  EXPECT_EQ(checked_change_reason("Réunion déplacée"),
            std::optional<std::string>("Réunion déplacée"));
}

TEST(ChangeReason, CountsCharactersNotBytes) {
  std::string accents;
  for (int i = 0; i < 500; ++i) accents += "é";  // 1,000 bytes, 500 characters
  EXPECT_TRUE(reason_errors(accents).empty());
  EXPECT_EQ(reason_errors(accents + "é"),
            std::vector<std::string>{"Ensure this field has no more than 500 characters."});
  EXPECT_TRUE(reason_errors(std::string(500, 'x')).empty());
  EXPECT_FALSE(reason_errors(std::string(501, 'x')).empty());
}

TEST(ChangeReason, RefusesInvalidUtf8AndControlCharacters) {
  EXPECT_EQ(reason_errors("caf\xC3"), std::vector<std::string>{"Must be valid UTF-8 text."});
  EXPECT_EQ(reason_errors("\xC0\xAF"), std::vector<std::string>{"Must be valid UTF-8 text."});
  EXPECT_EQ(reason_errors("\xED\xA0\x80"), std::vector<std::string>{"Must be valid UTF-8 text."});
  EXPECT_EQ(reason_errors("\xF4\x90\x80\x80"),
            std::vector<std::string>{"Must be valid UTF-8 text."});
  EXPECT_EQ(reason_errors("line\nbreak"),
            std::vector<std::string>{"Control characters are not allowed."});
  EXPECT_EQ(reason_errors(std::string("nul\0byte", 8)),
            std::vector<std::string>{"Control characters are not allowed."});
}

TEST(ChangeReason, RollbackNamesItsTarget) {
  EXPECT_EQ(rollback_reason(42), "Rollback to version 42");
}

TEST(EntityTag, IsTheQuotedVersion) {
  EXPECT_EQ(entity_tag(1), "\"1\"");
  EXPECT_EQ(entity_tag(1234567), "\"1234567\"");
}

TEST(IfMatch, AbsentAlwaysHolds) { EXPECT_TRUE(holds(Precondition{}, 7)); }

TEST(IfMatch, HoldsForTheCurrentVersionOnly) {
  const Precondition p = parse_if_match("\"3\"");
  EXPECT_TRUE(holds(p, 3));
  EXPECT_FALSE(holds(p, 4));
  EXPECT_FALSE(holds(p, 2));
}

TEST(IfMatch, AcceptsAListAndStar) {
  const Precondition list = parse_if_match(" \"1\" , \"5\",\"9\" ");
  EXPECT_TRUE(holds(list, 5));
  EXPECT_TRUE(holds(list, 9));
  EXPECT_FALSE(holds(list, 2));
  EXPECT_TRUE(holds(parse_if_match("*"), 123));
}

TEST(IfMatch, WeakOrMalformedTagsMatchNothing) {
  for (const std::string_view header : {"W/\"3\"", "3", "\"\"", "\"", "\"03\"", "\"3 \"", "\"-3\"",
                                        "\"0\"", "", "\"99999999999999999999999\""}) {
    EXPECT_FALSE(holds(parse_if_match(header), 3)) << header;
  }
}

TEST(IfNoneMatch, MatchesStrongWeakAndStar) {
  EXPECT_TRUE(none_match_fails("\"4\"", 4));
  EXPECT_TRUE(none_match_fails("W/\"4\"", 4));
  EXPECT_TRUE(none_match_fails("\"1\", \"4\"", 4));
  EXPECT_TRUE(none_match_fails("*", 4));
  EXPECT_FALSE(none_match_fails("\"3\"", 4));
  EXPECT_FALSE(none_match_fails("4", 4));
  EXPECT_FALSE(none_match_fails("", 4));
}

TEST(VersionPositions, HistoryPagesRunNewestFirst) {
  const VersionWindow unpaged;
  EXPECT_EQ(history_positions(unpaged, 3).first, 1);
  EXPECT_EQ(history_positions(unpaged, 3).last, 3);
  const PositionRange capped = history_positions(unpaged, 2500);
  EXPECT_EQ(capped.first, 1501);
  EXPECT_EQ(capped.last, 2500);

  const VersionWindow page2{.paged = true, .page = 2, .page_size = 10};
  const PositionRange r = history_positions(page2, 25);
  EXPECT_EQ(r.first, 6);
  EXPECT_EQ(r.last, 15);
  const PositionRange tail = history_positions({.paged = true, .page = 3, .page_size = 10}, 25);
  EXPECT_EQ(tail.first, 1);
  EXPECT_EQ(tail.last, 5);
  const PositionRange past = history_positions({.paged = true, .page = 4, .page_size = 10}, 25);
  EXPECT_GT(past.first, past.last);
  const PositionRange none = history_positions(unpaged, 0);
  EXPECT_GT(none.first, none.last);
}

TEST(VersionPositions, ChangelogPagesRunOldestFirst) {
  const PositionRange capped = changelog_positions(VersionWindow{}, 2500);
  EXPECT_EQ(capped.first, 1);
  EXPECT_EQ(capped.last, 1000);
  const PositionRange r = changelog_positions({.paged = true, .page = 3, .page_size = 10}, 25);
  EXPECT_EQ(r.first, 21);
  EXPECT_EQ(r.last, 25);
  const PositionRange past = changelog_positions({.paged = true, .page = 4, .page_size = 10}, 25);
  EXPECT_GT(past.first, past.last);
}

}  // namespace
}  // namespace almanac::domain
