#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/sharing_api.hpp"
#include "domain/error.hpp"
#include "domain/event_view.hpp"
#include "domain/role.hpp"
#include "domain/user.hpp"
#include "http/error_response.hpp"

namespace almanac::api::sharing_api {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::FieldErrors;
using domain::Participant;
using domain::Role;
using domain::ShareEntry;

constexpr char kRequired[] = "This field is required.";
constexpr char kNotAList[] = "Expected a list of {user_id, role} objects.";
constexpr char kNoUser[] = "Provide at least one user.";
constexpr char kEntryNotAnObject[] = "Expected an object with user_id and role.";
constexpr char kBadUserId[] = "user_id must be a positive integer.";
constexpr char kBadRole[] = "role must be one of OWNER, EDITOR, VIEWER.";
constexpr char kListedTwice[] = "This user is listed more than once.";

std::vector<ShareEntry> entries_of(std::string_view json) {
  return read_share_entries(boost::json::parse(json));
}

// The error read_share_entries raises for `json`; fails the test when it accepts it.
Error share_error(std::string_view json) {
  try {
    entries_of(json);
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "accepted " << json;
  return Error(ErrorCode::kInternal, "accepted");
}

// The field errors of the 400 "Invalid share request." read_share_entries raises for `json`.
FieldErrors share_fields(std::string_view json) {
  const Error error = share_error(json);
  EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << json;
  EXPECT_EQ(error.message(), "Invalid share request.") << json;
  EXPECT_EQ(error.reason(), "invalid") << json;
  return error.fields();
}

// {"users": [entry]}.
std::string one_entry(std::string_view entry) {
  return R"({"users": [)" + std::string(entry) + "]}";
}

// {"users": [{"user_id": 1, "role": "VIEWER"}, ... `count` of them, ids 1..count]}.
std::string entries_json(std::size_t count) {
  std::string json = R"({"users": [)";
  for (std::size_t i = 1; i <= count; ++i) {
    if (i > 1) json += ", ";
    json += R"({"user_id": )" + std::to_string(i) + R"(, "role": "VIEWER"})";
  }
  return json + "]}";
}

// The error read_role_body raises for `json`; fails the test when it accepts it.
Error role_error(std::string_view json) {
  try {
    read_role_body(boost::json::parse(json));
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "accepted " << json;
  return Error(ErrorCode::kInternal, "accepted");
}

// The entries as (user_id, role) pairs, which compare and print.
using Pairs = std::vector<std::pair<domain::UserId, Role>>;
Pairs pairs_of(const std::vector<ShareEntry>& entries) {
  Pairs pairs;
  for (const ShareEntry& entry : entries) pairs.emplace_back(entry.user_id, entry.role);
  return pairs;
}

// read_share_entries: accepted

TEST(ReadShareEntries, ReadsEveryEntryInOrder) {
  const std::vector<ShareEntry> entries = entries_of(
      R"({"users": [{"user_id": 3, "role": "EDITOR"}, {"user_id": 4, "role": "VIEWER"},
                    {"user_id": 5, "role": "OWNER"}]})");
  EXPECT_EQ(pairs_of(entries), (Pairs{{3, Role::kEditor}, {4, Role::kViewer}, {5, Role::kOwner}}));
}

TEST(ReadShareEntries, IgnoresUnknownMembers) {
  const std::vector<ShareEntry> entries = entries_of(
      R"({"note": "hi", "users": [{"role": "VIEWER", "username": "bob", "user_id": 7}]})");
  EXPECT_EQ(pairs_of(entries), (Pairs{{7, Role::kViewer}}));
}

TEST(ReadShareEntries, AcceptsAHundredEntries) {
  EXPECT_EQ(entries_of(entries_json(domain::kMaxShareEntries)).size(), domain::kMaxShareEntries);
}

TEST(ReadShareEntries, AcceptsTheLargestInt64UserId) {
  const std::vector<ShareEntry> entries =
      entries_of(one_entry(R"({"user_id": 9223372036854775807, "role": "EDITOR"})"));
  EXPECT_EQ(pairs_of(entries), (Pairs{{9223372036854775807, Role::kEditor}}));
}

// read_share_entries: refused

TEST(ReadShareEntries, RefusesABodyThatIsNotAnObject) {
  for (const char* json : {"[]", R"([{"user_id": 3, "role": "EDITOR"}])", "null", "3", R"("x")"}) {
    const Error error = share_error(json);
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << json;
    EXPECT_EQ(error.message(), "Expected a JSON object.") << json;
    EXPECT_EQ(error.reason(), "invalid") << json;
    EXPECT_TRUE(error.fields().empty()) << json;
  }
}

TEST(ReadShareEntries, RequiresUsers) {
  EXPECT_EQ(share_fields("{}"), (FieldErrors{{"users", {kRequired}}}));
  EXPECT_EQ(share_fields(R"({"users": null})"), (FieldErrors{{"users", {kRequired}}}));
  EXPECT_EQ(share_fields(R"({"user": []})"), (FieldErrors{{"users", {kRequired}}}));
}

TEST(ReadShareEntries, RefusesUsersThatIsNotAnArray) {
  for (const char* json : {R"({"users": {"user_id": 3, "role": "EDITOR"}})", R"({"users": 3})",
                           R"({"users": "3"})", R"({"users": true})"}) {
    EXPECT_EQ(share_fields(json), (FieldErrors{{"users", {kNotAList}}})) << json;
  }
}

TEST(ReadShareEntries, RefusesAnEmptyList) {
  EXPECT_EQ(share_fields(R"({"users": []})"), (FieldErrors{{"users", {kNoUser}}}));
}

TEST(ReadShareEntries, RefusesMoreThanAHundredEntriesWith413) {
  const Error error = share_error(entries_json(domain::kMaxShareEntries + 1));
  EXPECT_EQ(error.code(), ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(error.message(), "At most 100 users can be shared with in one request.");
  EXPECT_EQ(error.reason(), "payload_too_large");
  EXPECT_TRUE(error.fields().empty());
  EXPECT_EQ(http::status_of(error.code()), http::Status::payload_too_large);
}

TEST(ReadShareEntries, CountsEntriesBeforeReadingThem) {
  std::string json = R"({"users": [)";
  for (std::size_t i = 0; i <= domain::kMaxShareEntries; ++i) json += i == 0 ? "1" : ", 1";
  json += "]}";
  EXPECT_EQ(share_error(json).code(), ErrorCode::kPayloadTooLarge);
}

TEST(ReadShareEntries, RefusesAnEntryThatIsNotAnObject) {
  for (const char* entry : {"3", R"("3")", "null", "[3, \"EDITOR\"]", "true"}) {
    EXPECT_EQ(share_fields(one_entry(entry)), (FieldErrors{{"users[0]", {kEntryNotAnObject}}}))
        << entry;
  }
}

TEST(ReadShareEntries, RefusesAUserIdThatIsNotAPositiveJsonInteger) {
  for (const char* user_id :
       {R"("3")", "0", "-1", "1.5", "3.0", "1e2", "true", "null", "[3]", "18446744073709551615"}) {
    const std::string entry = R"({"user_id": )" + std::string(user_id) + R"(, "role": "EDITOR"})";
    EXPECT_EQ(share_fields(one_entry(entry)), (FieldErrors{{"users[0]", {kBadUserId}}})) << user_id;
  }
}

TEST(ReadShareEntries, RequiresAUserId) {
  EXPECT_EQ(share_fields(one_entry(R"({"role": "EDITOR"})")),
            (FieldErrors{{"users[0]", {kBadUserId}}}));
}

TEST(ReadShareEntries, RefusesARoleThatIsNotExactlyOneOfTheThree) {
  for (const char* role : {R"("owner")", R"("Editor")", R"("ADMIN")", R"("EDITOR ")",
                           R"(" VIEWER")", R"("")", "1", "null", "true", R"(["EDITOR"])"}) {
    const std::string entry = R"({"user_id": 3, "role": )" + std::string(role) + "}";
    EXPECT_EQ(share_fields(one_entry(entry)), (FieldErrors{{"users[0]", {kBadRole}}})) << role;
  }
}

TEST(ReadShareEntries, RequiresARole) {
  EXPECT_EQ(share_fields(one_entry(R"({"user_id": 3})")), (FieldErrors{{"users[0]", {kBadRole}}}));
}

TEST(ReadShareEntries, AnEmptyEntryGetsBothMessages) {
  EXPECT_EQ(share_fields(one_entry("{}")), (FieldErrors{{"users[0]", {kBadUserId, kBadRole}}}));
}

TEST(ReadShareEntries, RefusesTheLaterOfTwoEntriesForOneUser) {
  EXPECT_EQ(share_fields(R"({"users": [{"user_id": 3, "role": "EDITOR"},
                                       {"user_id": 4, "role": "VIEWER"},
                                       {"user_id": 3, "role": "VIEWER"},
                                       {"user_id": 3, "role": "OWNER"}]})"),
            (FieldErrors{{"users[2]", {kListedTwice}}, {"users[3]", {kListedTwice}}}));
}

TEST(ReadShareEntries, ADuplicateWithABadRoleGetsBothMessages) {
  EXPECT_EQ(share_fields(R"({"users": [{"user_id": 3, "role": "EDITOR"},
                                       {"user_id": 3, "role": "editor"}]})"),
            (FieldErrors{{"users[1]", {kBadRole, kListedTwice}}}));
}

TEST(ReadShareEntries, CollectsTheErrorsOfEveryEntry) {
  EXPECT_EQ(share_fields(R"({"users": [{"user_id": 3, "role": "EDITOR"}, 5,
                                       {"user_id": "4", "role": "VIEWER"},
                                       {"user_id": 5, "role": "ADMIN"},
                                       {"user_id": 6, "role": "VIEWER"}]})"),
            (FieldErrors{{"users[1]", {kEntryNotAnObject}},
                         {"users[2]", {kBadUserId}},
                         {"users[3]", {kBadRole}}}));
}

TEST(ReadShareEntries, RendersAsA400WithFields) {
  const Error error = share_error(one_entry(R"({"user_id": 0, "role": "EDITOR"})"));
  EXPECT_EQ(http::status_of(error.code()), http::Status::bad_request);
  EXPECT_EQ(boost::json::serialize(http::error_body(error)),
            R"({"error":"Invalid share request.","code":"invalid","fields":)"
            R"({"users[0]":["user_id must be a positive integer."]}})");
}

// read_role_body

TEST(SharingReadRoleBody, ReadsEachRole) {
  EXPECT_EQ(read_role_body(boost::json::parse(R"({"role": "OWNER"})")), Role::kOwner);
  EXPECT_EQ(read_role_body(boost::json::parse(R"({"role": "EDITOR"})")), Role::kEditor);
  EXPECT_EQ(read_role_body(boost::json::parse(R"({"role": "VIEWER", "user_id": 9})")),
            Role::kViewer);
}

TEST(SharingReadRoleBody, RefusesABodyThatIsNotAnObject) {
  for (const char* json : {R"("VIEWER")", R"(["VIEWER"])", "null"}) {
    const Error error = role_error(json);
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << json;
    EXPECT_EQ(error.message(), "Expected a JSON object.") << json;
    EXPECT_TRUE(error.fields().empty()) << json;
  }
}

TEST(SharingReadRoleBody, RefusesAMissingOrInvalidRole) {
  for (const char* json : {"{}", R"({"role": null})", R"({"role": 1})", R"({"role": "viewer"})",
                           R"({"role": "ADMIN"})", R"({"role": "VIEWER "})", R"({"role": ""})",
                           R"({"Role": "VIEWER"})"}) {
    const Error error = role_error(json);
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << json;
    EXPECT_EQ(error.reason(), "invalid") << json;
    EXPECT_EQ(error.fields(), (FieldErrors{{"role", {kBadRole}}})) << json;
  }
}

// participant_json

TEST(SharingParticipantJson, HasUserIdUsernameAndRoleInOrder) {
  const Participant participant{.user_id = 3, .username = "alice", .role = Role::kEditor};
  EXPECT_EQ(boost::json::serialize(participant_json(participant)),
            R"({"user_id":3,"username":"alice","role":"EDITOR"})");
}

TEST(SharingParticipantJson, NamesEachRole) {
  EXPECT_EQ(participant_json({1, "o", Role::kOwner}).at("role"), "OWNER");
  EXPECT_EQ(participant_json({2, "v", Role::kViewer}).at("role"), "VIEWER");
}

}  // namespace
}  // namespace almanac::api::sharing_api
