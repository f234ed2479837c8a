#include "api/sharing_api.hpp"

#include <boost/json/array.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "api/json_input.hpp"
#include "domain/error.hpp"
#include "domain/user.hpp"

namespace almanac::api::sharing_api {

using domain::Error;
using domain::ErrorCode;
using domain::FieldErrors;
using domain::Participant;
using domain::Role;
using domain::ShareEntry;

namespace {

constexpr std::string_view kNotAnObject = "Expected a JSON object.";
constexpr std::string_view kInvalidShare = "Invalid share request.";
constexpr std::string_view kInvalidRole = "Invalid role.";
constexpr std::string_view kRequired = "This field is required.";
constexpr std::string_view kNotAList = "Expected a list of {user_id, role} objects.";
constexpr std::string_view kNoUser = "Provide at least one user.";
constexpr std::string_view kEntryNotAnObject = "Expected an object with user_id and role.";
constexpr std::string_view kBadUserId = "user_id must be a positive integer.";
constexpr std::string_view kBadRole = "role must be one of OWNER, EDITOR, VIEWER.";
constexpr std::string_view kListedTwice = "This user is listed more than once.";

const boost::json::object& require_object(const boost::json::value& body) {
  const boost::json::object* object = body.if_object();
  if (object == nullptr)
    throw Error(ErrorCode::kInvalidArgument, std::string(kNotAnObject), "invalid");
  return *object;
}

// A positive integer written as a JSON integer; nullopt for anything else, including a number
// with a fraction or exponent (1.0, 1e2: stored as doubles), a string and a boolean, and an
// integer beyond int64 (no user has such an id).
std::optional<domain::UserId> read_user_id(const boost::json::value* value) {
  if (value == nullptr || !value->is_int64()) return std::nullopt;
  const std::int64_t id = value->as_int64();
  if (id <= 0) return std::nullopt;
  return id;
}

// The role named exactly by a JSON string; nullopt for anything else.
std::optional<Role> read_role(const boost::json::value* value) {
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return domain::parse_role(value->as_string());
}

// An array of participant_json.
boost::json::array participants_json(const std::vector<Participant>& participants) {
  boost::json::array json;
  json.reserve(participants.size());
  for (const Participant& participant : participants)
    json.emplace_back(participant_json(participant));
  return json;
}

// The non-empty array "users" of a share body; raises kInvalidShare naming "users" otherwise.
const boost::json::array& read_users(const boost::json::object& body) {
  const boost::json::value* users = body.if_contains("users");
  std::string_view problem;
  if (users == nullptr || users->is_null()) {
    problem = kRequired;
  } else if (!users->is_array()) {
    problem = kNotAList;
  } else if (users->as_array().empty()) {
    problem = kNoUser;
  } else {
    return users->as_array();
  }
  throw Error(ErrorCode::kInvalidArgument, std::string(kInvalidShare), "invalid",
              FieldErrors{{"users", {std::string(problem)}}});
}

}  // namespace

std::vector<ShareEntry> read_share_entries(const boost::json::value& body) {
  const boost::json::array& items = read_users(require_object(body));
  if (items.size() > domain::kMaxShareEntries) {
    throw Error(ErrorCode::kPayloadTooLarge,
                "At most " + std::to_string(domain::kMaxShareEntries) +
                    " users can be shared with in one request.",
                "payload_too_large");
  }

  FieldErrors errors;
  std::vector<ShareEntry> entries;
  entries.reserve(items.size());
  std::set<domain::UserId> listed;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string name = "users[" + std::to_string(i) + "]";
    const boost::json::object* item = items[i].if_object();
    if (item == nullptr) {
      errors[name].emplace_back(kEntryNotAnObject);
      continue;
    }
    const std::optional<domain::UserId> user_id = read_user_id(item->if_contains("user_id"));
    const std::optional<Role> role = read_role(item->if_contains("role"));
    if (!user_id) errors[name].emplace_back(kBadUserId);
    if (!role) errors[name].emplace_back(kBadRole);
    if (user_id && !listed.insert(*user_id).second) errors[name].emplace_back(kListedTwice);
    if (user_id && role) entries.push_back({*user_id, *role});
  }
  domain::throw_if_invalid(errors, std::string(kInvalidShare));
  return entries;
}

Role read_role_body(const boost::json::value& body) {
  const boost::json::object& object = require_object(body);
  const std::optional<Role> role = read_role(object.if_contains("role"));
  if (!role) {
    throw Error(ErrorCode::kInvalidArgument, std::string(kInvalidRole), "invalid",
                FieldErrors{{"role", {std::string(kBadRole)}}});
  }
  return *role;
}

boost::json::object participant_json(const Participant& participant) {
  return boost::json::object{{"user_id", participant.user_id},
                             {"username", participant.username},
                             {"role", domain::to_string(participant.role)}};
}

boost::asio::awaitable<http::Response> share(http::Request& request, Services& services) {
  const boost::json::value body = parse_json(request.body());
  const std::vector<ShareEntry> entries = read_share_entries(body);
  const domain::EventId id = request.id("id");
  const std::vector<Participant> participants =
      co_await services.sharing.share(request.user(), id, entries);
  co_return http::json_response(
      http::Status::ok, boost::json::object{{"message", "Event shared successfully"},
                                            {"permissions", participants_json(participants)}});
}

boost::asio::awaitable<http::Response> list(http::Request& request, Services& services) {
  const std::vector<Participant> participants =
      co_await services.sharing.participants(request.user(), request.id("id"));
  co_return http::json_response(
      http::Status::ok, boost::json::object{{"participants", participants_json(participants)}});
}

boost::asio::awaitable<http::Response> change_role(http::Request& request, Services& services) {
  const boost::json::value body = parse_json(request.body());
  const Role role = read_role_body(body);
  const domain::EventId id = request.id("id");
  const domain::UserId target = request.id("user_id");
  const Participant participant =
      co_await services.sharing.change_role(request.user(), id, target, role);
  co_return http::json_response(http::Status::ok,
                                boost::json::object{{"message", "User permission updated"},
                                                    {"user_id", participant.user_id},
                                                    {"role", domain::to_string(participant.role)}});
}

boost::asio::awaitable<http::Response> remove(http::Request& request, Services& services) {
  const domain::EventId id = request.id("id");
  const domain::UserId target = request.id("user_id");
  co_await services.sharing.remove(request.user(), id, target);
  co_return http::json_response(http::Status::ok,
                                boost::json::object{{"message", "User removed from the event."}});
}

}  // namespace almanac::api::sharing_api
