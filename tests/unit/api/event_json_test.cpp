#include "api/event_json.hpp"

#include <gtest/gtest.h>

#include <any>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api/error_details.hpp"
#include "domain/error.hpp"
#include "domain/time.hpp"
#include "http/error_response.hpp"

namespace almanac::api {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::EventDraft;
using domain::EventListQuery;
using domain::EventOrder;
using domain::FieldErrors;
using domain::Role;
using domain::Timestamp;

constexpr char kNotAString[] = "Not a valid string.";
constexpr char kNotABoolean[] = "Must be a valid boolean.";
constexpr char kNotATime[] = "Enter a valid date/time: use YYYY-MM-DD HH:MM[:SS] or ISO 8601.";
constexpr char kNotAPositiveInteger[] = "A valid positive integer is required.";

Timestamp at(std::string_view text) {
  const std::optional<Timestamp> t = domain::parse_time(text);
  EXPECT_TRUE(t.has_value()) << text;
  return t.value_or(0);
}

boost::json::object object_of(std::string_view json) {
  return boost::json::parse(json).as_object();
}

EventDraft draft_of(std::string_view json) { return read_event_draft(object_of(json)); }

// The member names of `object`, in order.
std::vector<std::string> keys_of(const boost::json::object& object) {
  std::vector<std::string> keys;
  for (const auto& member : object) keys.emplace_back(member.key());
  return keys;
}

// A GET request for `target`, as the transport hands it over.
http::Request request_for(std::string_view target) {
  http::BeastRequest raw{http::Verb::get, target, 11};
  return http::Request(std::move(raw), "test-request", "127.0.0.1");
}

EventListQuery query_of(std::string_view query_string) {
  return read_list_query(request_for("/api/events/?" + std::string(query_string)));
}

// The field errors read_list_query raises for `query_string`; fails the test when it accepts it.
FieldErrors query_errors(std::string_view query_string) {
  try {
    query_of(query_string);
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(error.message(), "Invalid query parameters.");
    EXPECT_EQ(error.reason(), "invalid");
    return error.fields();
  }
  ADD_FAILURE() << "accepted ?" << query_string;
  return {};
}

// The seed's created event: id 24, 2025-04-27 08:05 to 08:09, owner 1.
domain::Event seed_event() {
  domain::Event event;
  event.id = 24;
  event.owner_id = 1;
  event.version = 1;
  event.fields = {.title = "lets ssss ds",
                  .description = "aas si event 1",
                  .start_time = at("2025-04-27 08:05"),
                  .end_time = at("2025-04-27 08:09"),
                  .location = "Boarcdd Room",
                  .is_recurring = false,
                  .recurrence_pattern = std::nullopt};
  return event;
}

// read_event_draft

TEST(ReadEventDraftJson, AbsentMembersStayAbsent) {
  const EventDraft draft = draft_of("{}");
  EXPECT_FALSE(draft.title);
  EXPECT_FALSE(draft.description);
  EXPECT_FALSE(draft.start_time);
  EXPECT_FALSE(draft.end_time);
  EXPECT_FALSE(draft.location);
  EXPECT_FALSE(draft.is_recurring);
  EXPECT_FALSE(draft.recurrence_pattern_present);
  EXPECT_FALSE(draft.recurrence_pattern);
  EXPECT_TRUE(draft.null_members.empty());
  EXPECT_TRUE(draft.type_errors.empty());
}

TEST(ReadEventDraftJson, ReadsEveryMemberAsSent) {
  const EventDraft draft = draft_of(R"({"title": "  Standup ", "description": "daily",
      "start_time": "2025-04-27 8:05", "end_time": "2025-04-27T09:00:00+05:30",
      "location": "Zoom", "is_recurring": true, "recurrence_pattern": "WEEKLY"})");
  EXPECT_EQ(draft.title, "  Standup ");
  EXPECT_EQ(draft.description, "daily");
  EXPECT_EQ(draft.start_time, "2025-04-27 8:05");
  EXPECT_EQ(draft.end_time, "2025-04-27T09:00:00+05:30");
  EXPECT_EQ(draft.location, "Zoom");
  EXPECT_EQ(draft.is_recurring, true);
  EXPECT_TRUE(draft.recurrence_pattern_present);
  EXPECT_EQ(draft.recurrence_pattern, "WEEKLY");
  EXPECT_TRUE(draft.null_members.empty());
  EXPECT_TRUE(draft.type_errors.empty());
}

TEST(ReadEventDraftJson, FalseIsReadAsFalse) {
  EXPECT_EQ(draft_of(R"({"is_recurring": false})").is_recurring, false);
}

TEST(ReadEventDraftJson, EmptyStringsAreKeptForValidationToJudge) {
  const EventDraft draft = draft_of(R"({"title": "", "recurrence_pattern": ""})");
  EXPECT_EQ(draft.title, "");
  EXPECT_TRUE(draft.recurrence_pattern_present);
  EXPECT_EQ(draft.recurrence_pattern, "");
}

TEST(ReadEventDraftJson, IgnoresServerSetAndUnknownMembers) {
  const EventDraft draft = draft_of(
      R"({"id": 99, "owner_id": 7, "change_reason": "moved", "colour": "red", "title": "A"})");
  EXPECT_EQ(draft.title, "A");
  EXPECT_TRUE(draft.null_members.empty());
  EXPECT_TRUE(draft.type_errors.empty());
  EXPECT_FALSE(draft.description);
}

TEST(ReadEventDraftJson, ChangeReasonOfAnyTypeIsIgnored) {
  const EventDraft draft = draft_of(R"({"change_reason": 5})");
  EXPECT_TRUE(draft.type_errors.empty());
  EXPECT_TRUE(draft.null_members.empty());
}

TEST(ReadEventDraftJson, NullsAreRecordedAsNullMembers) {
  const EventDraft draft = draft_of(R"({"title": null, "description": null, "start_time": null,
      "end_time": null, "location": null, "is_recurring": null})");
  EXPECT_EQ(draft.null_members, (std::vector<std::string>{"title", "description", "start_time",
                                                          "end_time", "location", "is_recurring"}));
  EXPECT_FALSE(draft.title);
  EXPECT_FALSE(draft.is_recurring);
  EXPECT_TRUE(draft.type_errors.empty());
}

TEST(ReadEventDraftJson, NullRecurrencePatternIsAllowed) {
  const EventDraft draft = draft_of(R"({"recurrence_pattern": null})");
  EXPECT_TRUE(draft.recurrence_pattern_present);
  EXPECT_FALSE(draft.recurrence_pattern);
  EXPECT_TRUE(draft.null_members.empty());
  EXPECT_TRUE(draft.type_errors.empty());
}

TEST(ReadEventDraftJson, AStringForABooleanIsATypeError) {
  for (const char* json :
       {R"({"is_recurring": "yes"})", R"({"is_recurring": "true"})", R"({"is_recurring": 1})",
        R"({"is_recurring": 0})", R"({"is_recurring": []})"}) {
    const EventDraft draft = draft_of(json);
    EXPECT_EQ(draft.type_errors, (FieldErrors{{"is_recurring", {kNotABoolean}}})) << json;
    EXPECT_FALSE(draft.is_recurring) << json;
  }
}

TEST(ReadEventDraftJson, OtherTypesForTextAreTypeErrors) {
  const EventDraft draft = draft_of(R"({"title": 5, "description": ["a"], "location": {"x": 1},
      "recurrence_pattern": true, "start_time": 1745741100, "end_time": 2.5})");
  EXPECT_EQ(draft.type_errors, (FieldErrors{{"description", {kNotAString}},
                                            {"end_time", {kNotATime}},
                                            {"location", {kNotAString}},
                                            {"recurrence_pattern", {kNotAString}},
                                            {"start_time", {kNotATime}},
                                            {"title", {kNotAString}}}));
  EXPECT_FALSE(draft.title);
  EXPECT_FALSE(draft.description);
  EXPECT_FALSE(draft.location);
  EXPECT_FALSE(draft.start_time);
  EXPECT_FALSE(draft.end_time);
  EXPECT_FALSE(draft.recurrence_pattern_present);
  EXPECT_TRUE(draft.null_members.empty());
}

TEST(ReadEventDraftJson, ValidationReportsTypeErrorsWithEveryOtherProblem) {
  const EventDraft draft =
      draft_of(R"({"title": 5, "is_recurring": "yes", "start_time": "2025-04-27 8:05"})");
  const auto result = domain::validate_event(draft, nullptr);
  const auto* errors = std::get_if<FieldErrors>(&result);
  ASSERT_NE(errors, nullptr);
  EXPECT_EQ(errors->at("title"), std::vector<std::string>{kNotAString});
  EXPECT_EQ(errors->at("is_recurring"), std::vector<std::string>{kNotABoolean});
  EXPECT_TRUE(errors->contains("end_time"));
}

// event_json and friends

TEST(EventJson, HasTheSeedShapeInTheSeedOrder) {
  EXPECT_EQ(boost::json::serialize(event_json(seed_event())),
            R"({"id":24,"title":"lets ssss ds","description":"aas si event 1",)"
            R"("start_time":"2025-04-27 08:05:00","end_time":"2025-04-27 08:09:00",)"
            R"("location":"Boarcdd Room","is_recurring":false,"recurrence_pattern":null,)"
            R"("owner_id":1})");
}

TEST(EventJson, PrintsThePatternOfARecurringEvent) {
  domain::Event event = seed_event();
  event.fields.is_recurring = true;
  event.fields.recurrence_pattern = "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10";
  const boost::json::object json = event_json(event);
  EXPECT_EQ(json.at("is_recurring"), boost::json::value(true));
  EXPECT_EQ(json.at("recurrence_pattern"), boost::json::value("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"));
}

TEST(EventJson, PrintsTimesInUtcWithoutFraction) {
  domain::Event event = seed_event();
  event.fields.start_time = at("2025-04-27T08:05:30.75+05:30");
  event.fields.end_time = at("2025-04-27T23:59:59Z");
  const boost::json::object json = event_json(event);
  EXPECT_EQ(json.at("start_time"), boost::json::value("2025-04-27 02:35:30"));
  EXPECT_EQ(json.at("end_time"), boost::json::value("2025-04-27 23:59:59"));
}

TEST(EventJson, ViewAddsTheRoleLast) {
  for (const auto& [role, name] :
       {std::pair{Role::kOwner, "OWNER"}, std::pair{Role::kEditor, "EDITOR"},
        std::pair{Role::kViewer, "VIEWER"}}) {
    std::string text;
    JsonWriter writer(text);
    write_event_view(writer, {seed_event(), role});
    const boost::json::object json = boost::json::parse(text).as_object();
    EXPECT_EQ(keys_of(json), (std::vector<std::string>{"id", "title", "description", "start_time",
                                                       "end_time", "location", "is_recurring",
                                                       "recurrence_pattern", "owner_id", "role"}));
    EXPECT_EQ(json.at("role"), boost::json::value(name));
  }
}

TEST(EventJson, ConflictHasIdTitleAndTimes) {
  const domain::ConflictSummary conflict{7, "Standup", at("2025-04-27 09:00"),
                                         at("2025-04-27 09:15")};
  EXPECT_EQ(boost::json::serialize(conflict_json(conflict)),
            R"({"id":7,"title":"Standup","start_time":"2025-04-27 09:00:00",)"
            R"("end_time":"2025-04-27 09:15:00"})");
}

// append_error_details and the error body it extends

TEST(ErrorDetailsJson, ConflictsListTheVisibleOnesAndCountAll) {
  Error error(ErrorCode::kConflict, "Event overlaps existing event(s)", "conflict");
  error.details =
      domain::Conflicts{{{7, "Standup", at("2025-04-27 09:00"), at("2025-04-27 09:15")}}, 3};
  boost::json::object body = http::error_body(error);
  append_error_details(error.details, body);
  EXPECT_EQ(boost::json::serialize(body),
            R"j({"error":"Event overlaps existing event(s)","code":"conflict",)j"
            R"("conflicts":[{"id":7,"title":"Standup","start_time":"2025-04-27 09:00:00",)"
            R"("end_time":"2025-04-27 09:15:00"}],"conflict_count":3})");
  const http::Response response = http::error_response(error, std::move(body));
  EXPECT_EQ(response.status, http::Status::conflict);
}

TEST(ErrorDetailsJson, BatchErrorsShowFieldsAndConflictsOnlyWhenThereAreSome) {
  domain::BatchErrors batch;
  batch.errors.push_back({0, "Expected a JSON object.", {}, {}});
  batch.errors.push_back({2, "Invalid event.", {{"title", {"This field is required."}}}, {}});
  batch.errors.push_back({5,
                          "Event overlaps existing event(s)",
                          {},
                          {{7, "Standup", at("2025-04-27 09:00"), at("2025-04-27 09:15")}}});
  boost::json::object body;
  append_error_details(std::any(batch), body);
  EXPECT_EQ(
      boost::json::serialize(body),
      R"({"errors":[{"index":0,"error":"Expected a JSON object."},)"
      R"({"index":2,"error":"Invalid event.","fields":{"title":["This field is required."]}},)"
      R"j({"index":5,"error":"Event overlaps existing event(s)","conflicts":[{"id":7,)j"
      R"("title":"Standup","start_time":"2025-04-27 09:00:00",)"
      R"("end_time":"2025-04-27 09:15:00"}]}]})");
}

TEST(ErrorDetailsJson, NoOrUnknownDetailsAddNothing) {
  boost::json::object body{{"error", "x"}};
  append_error_details(std::any(), body);
  append_error_details(std::any(42), body);
  EXPECT_EQ(boost::json::serialize(body), R"({"error":"x"})");
}

TEST(ErrorDetailsJson, InternalErrorsNeverShowTheirBody) {
  const Error error(ErrorCode::kInternal, "sqlite said no");
  boost::json::object body = http::error_body(error);
  body["secret"] = "x";
  const http::Response response = http::error_response(error, std::move(body));
  EXPECT_EQ(response.status, http::Status::internal_server_error);
  EXPECT_EQ(response.body, R"({"error":"Internal error.","code":"internal"})");
}

// read_list_query

TEST(ReadListQuery, DefaultsWithoutAQueryString) {
  const EventListQuery query = read_list_query(request_for("/api/events/"));
  EXPECT_EQ(query.page, 1);
  EXPECT_EQ(query.page_size, 10);
  EXPECT_FALSE(query.start);
  EXPECT_FALSE(query.end);
  EXPECT_FALSE(query.q);
  EXPECT_FALSE(query.title);
  EXPECT_FALSE(query.is_recurring);
  EXPECT_FALSE(query.role);
  EXPECT_EQ(query.order, EventOrder::kId);
  EXPECT_FALSE(query.descending);
}

TEST(ReadListQuery, ReadsPageAndPageSize) {
  const EventListQuery query = query_of("page=3&page_size=25");
  EXPECT_EQ(query.page, 3);
  EXPECT_EQ(query.page_size, 25);
}

TEST(ReadListQuery, AcceptsAPageFarPastTheEnd) {
  EXPECT_EQ(query_of("page=1000000").page, 1000000);
}

TEST(ReadListQuery, AcceptsLeadingZeros) { EXPECT_EQ(query_of("page=007").page, 7); }

TEST(ReadListQuery, ClampsPageSizeToOneHundred) {
  EXPECT_EQ(query_of("page_size=100").page_size, 100);
  EXPECT_EQ(query_of("page_size=101").page_size, 100);
  EXPECT_EQ(query_of("page_size=99999999999999999999999").page_size, 100);
  EXPECT_EQ(query_of("page_size=1").page_size, 1);
}

TEST(ReadListQuery, RefusesAPageWhoseOffsetWouldOverflow) {
  EXPECT_EQ(query_of("page=" + std::to_string(kMaxPage)).page, kMaxPage);
  EXPECT_TRUE(query_errors("page=" + std::to_string(kMaxPage + 1)).contains("page"));
  EXPECT_TRUE(query_errors("page=99999999999999999999999").contains("page"));
}

class NotAPositiveInteger : public testing::TestWithParam<std::string_view> {};

TEST_P(NotAPositiveInteger, IsRefusedAsPage) {
  const std::string value(GetParam());
  EXPECT_EQ(query_errors("page=" + value), (FieldErrors{{"page", {kNotAPositiveInteger}}}));
}

TEST_P(NotAPositiveInteger, IsRefusedAsPageSize) {
  const std::string value(GetParam());
  EXPECT_EQ(query_errors("page_size=" + value),
            (FieldErrors{{"page_size", {kNotAPositiveInteger}}}));
}

// As they appear in a query string: %2B is a plus sign, %20 and + a space.
INSTANTIATE_TEST_SUITE_P(ReadListQuery, NotAPositiveInteger,
                         testing::Values("0", "00", "-1", "abc", "1.5", "", "%2B1", "+1", "%201",
                                         "1e3", "0x10", "1a", "%EF%BC%91"));

TEST(ReadListQuery, AnEmptyNamedParameterIsRefused) {
  EXPECT_TRUE(query_errors("page").contains("page"));
}

TEST(ReadListQuery, ReadsStartAndEndAsUtc) {
  const EventListQuery query = query_of("start=2025-04-27%2008:05&end=2025-04-28T10:00:00%2B05:30");
  EXPECT_EQ(query.start, at("2025-04-27 08:05"));
  EXPECT_EQ(query.end, at("2025-04-28 04:30"));
}

TEST(ReadListQuery, StartAloneOrEndAloneIsAFilter) {
  EXPECT_EQ(query_of("start=2025-04-27T08:05Z").start, at("2025-04-27 08:05"));
  EXPECT_FALSE(query_of("start=2025-04-27T08:05Z").end);
  EXPECT_EQ(query_of("end=2025-04-27T08:05Z").end, at("2025-04-27 08:05"));
}

TEST(ReadListQuery, RefusesBadTimes) {
  EXPECT_EQ(query_errors("start=tomorrow"), (FieldErrors{{"start", {kNotATime}}}));
  EXPECT_EQ(query_errors("end=2025-02-30%2010:00"), (FieldErrors{{"end", {kNotATime}}}));
  EXPECT_EQ(query_errors("start="), (FieldErrors{{"start", {kNotATime}}}));
  EXPECT_EQ(query_errors("start=2025-04-27"), (FieldErrors{{"start", {kNotATime}}}));
  // An unencoded `+` is a space: the offset must be sent as %2B.
  EXPECT_EQ(query_errors("start=2025-04-27T08:05:00+05:30"), (FieldErrors{{"start", {kNotATime}}}));
}

TEST(ReadListQuery, RefusesAnEndThatIsNotAfterStart) {
  EXPECT_EQ(query_errors("start=2025-04-27%2010:00&end=2025-04-27%2010:00"),
            (FieldErrors{{"end", {"must be after start"}}}));
  EXPECT_EQ(query_errors("start=2025-04-27%2010:00&end=2025-04-27%2009:00"),
            (FieldErrors{{"end", {"must be after start"}}}));
}

TEST(ReadListQuery, ReadsTextFiltersDecoded) {
  const EventListQuery query = query_of("q=team+meeting&title=caf%C3%A9%20%26%20co");
  EXPECT_EQ(query.q, "team meeting");
  EXPECT_EQ(query.title, "café & co");
}

TEST(ReadListQuery, EmptyTextFiltersFilterNothing) {
  const EventListQuery query = query_of("q=&title=");
  EXPECT_FALSE(query.q);
  EXPECT_FALSE(query.title);
}

TEST(ReadListQuery, ReadsIsRecurring) {
  EXPECT_EQ(query_of("is_recurring=true").is_recurring, true);
  EXPECT_EQ(query_of("is_recurring=1").is_recurring, true);
  EXPECT_EQ(query_of("is_recurring=TRUE").is_recurring, true);
  EXPECT_EQ(query_of("is_recurring=false").is_recurring, false);
  EXPECT_EQ(query_of("is_recurring=0").is_recurring, false);
  EXPECT_EQ(query_of("is_recurring=False").is_recurring, false);
}

TEST(ReadListQuery, RefusesOtherIsRecurringValues) {
  for (const char* value : {"yes", "no", "2", "", "t", "truee"}) {
    EXPECT_EQ(query_errors(std::string("is_recurring=") + value),
              (FieldErrors{{"is_recurring", {kNotABoolean}}}))
        << value;
  }
}

TEST(ReadListQuery, ReadsRoleInAnyCase) {
  EXPECT_EQ(query_of("role=owner").role, Role::kOwner);
  EXPECT_EQ(query_of("role=EDITOR").role, Role::kEditor);
  EXPECT_EQ(query_of("role=Viewer").role, Role::kViewer);
}

TEST(ReadListQuery, RefusesOtherRoles) {
  for (const char* value : {"admin", "", "owners", "%20owner"}) {
    const FieldErrors errors = query_errors(std::string("role=") + value);
    ASSERT_TRUE(errors.contains("role")) << value;
    EXPECT_EQ(errors.size(), 1U);
  }
  EXPECT_EQ(
      query_errors("role=admin"),
      (FieldErrors{{"role", {"\"admin\" is not a valid choice: use owner, editor or viewer."}}}));
}

struct OrderingCase {
  std::string_view text;
  EventOrder order;
  bool descending;
};

void PrintTo(const OrderingCase& c, std::ostream* out) { *out << c.text; }

class ReadListQueryOrdering : public testing::TestWithParam<OrderingCase> {};

TEST_P(ReadListQueryOrdering, IsAccepted) {
  const EventListQuery query = query_of("ordering=" + std::string(GetParam().text));
  EXPECT_EQ(query.order, GetParam().order);
  EXPECT_EQ(query.descending, GetParam().descending);
}

INSTANTIATE_TEST_SUITE_P(EveryOrdering, ReadListQueryOrdering,
                         testing::Values(OrderingCase{"id", EventOrder::kId, false},
                                         OrderingCase{"-id", EventOrder::kId, true},
                                         OrderingCase{"start_time", EventOrder::kStartTime, false},
                                         OrderingCase{"-start_time", EventOrder::kStartTime, true},
                                         OrderingCase{"end_time", EventOrder::kEndTime, false},
                                         OrderingCase{"-end_time", EventOrder::kEndTime, true},
                                         OrderingCase{"title", EventOrder::kTitle, false},
                                         OrderingCase{"-title", EventOrder::kTitle, true}));

TEST(ReadListQuery, RefusesOtherOrderings) {
  for (const char* value :
       {"", "-", "--id", "ID", "+id", "%2Bid", "location", "start", "id,title"}) {
    const FieldErrors errors = query_errors(std::string("ordering=") + value);
    ASSERT_TRUE(errors.contains("ordering")) << value;
    EXPECT_EQ(errors.size(), 1U) << value;
  }
}

TEST(ReadListQuery, ReportsEveryBadParameterAtOnce) {
  const FieldErrors errors = query_errors(
      "page=0&page_size=abc&start=x&end=y&is_recurring=maybe&role=boss&ordering=colour");
  std::vector<std::string> names;
  for (const auto& [name, messages] : errors) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"end", "is_recurring", "ordering", "page", "page_size",
                                             "role", "start"}));
}

TEST(ReadListQuery, IgnoresUnknownParameters) {
  const EventListQuery query = query_of("format=json&limit=abc&page=2");
  EXPECT_EQ(query.page, 2);
}

TEST(ReadListQuery, TheFirstOfARepeatedParameterCounts) {
  EXPECT_EQ(query_of("page=2&page=abc").page, 2);
}

// The other query strings of /api/events/.

TEST(ReadBoolQuery, AbsentIsNullopt) {
  EXPECT_FALSE(read_bool_query(request_for("/api/events/"), "allow_conflicts"));
}

TEST(ReadBoolQuery, ReadsTrueFalseOneAndZero) {
  EXPECT_EQ(read_bool_query(request_for("/?allow_conflicts=true"), "allow_conflicts"), true);
  EXPECT_EQ(read_bool_query(request_for("/?allow_conflicts=1"), "allow_conflicts"), true);
  EXPECT_EQ(read_bool_query(request_for("/?allow_conflicts=false"), "allow_conflicts"), false);
  EXPECT_EQ(read_bool_query(request_for("/?allow_conflicts=0"), "allow_conflicts"), false);
}

TEST(ReadBoolQuery, RefusesAnythingElseNamingTheParameter) {
  try {
    read_bool_query(request_for("/?allow_conflicts=yes"), "allow_conflicts");
    ADD_FAILURE() << "accepted yes";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(error.fields(), (FieldErrors{{"allow_conflicts", {kNotABoolean}}}));
  }
}

TEST(ReadBatchOptionsQuery, DefaultsAllowConflictsAndAreNotAtomic) {
  const service::BatchOptions options = read_batch_options(request_for("/api/events/batch/"));
  EXPECT_FALSE(options.reject_conflicts);
  EXPECT_FALSE(options.atomic);
}

TEST(ReadBatchOptionsQuery, ReadsConflictsAndAtomic) {
  const service::BatchOptions options =
      read_batch_options(request_for("/api/events/batch/?conflicts=reject&atomic=true"));
  EXPECT_TRUE(options.reject_conflicts);
  EXPECT_TRUE(options.atomic);
  EXPECT_FALSE(read_batch_options(request_for("/?conflicts=allow&atomic=0")).reject_conflicts);
  EXPECT_TRUE(read_batch_options(request_for("/?conflicts=REJECT")).reject_conflicts);
}

TEST(ReadBatchOptionsQuery, ReportsBothBadParametersAtOnce) {
  try {
    read_batch_options(request_for("/?conflicts=ignore&atomic=perhaps"));
    ADD_FAILURE() << "accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(
        error.fields(),
        (FieldErrors{{"atomic", {kNotABoolean}},
                     {"conflicts", {"\"ignore\" is not a valid choice: use reject or allow."}}}));
  }
}

}  // namespace
}  // namespace almanac::api
