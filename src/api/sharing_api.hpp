#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <vector>

#include "api/services.hpp"
#include "domain/event_view.hpp"
#include "domain/role.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

// /api/events/{id}/share/ and /api/events/{id}/permissions/: who takes part in an event, and as
// what. Every handler runs after authentication. Errors are the service's (404 for a stranger or
// a missing event, 403 unless the caller owns it, 409 for the owner's own role), plus 400 and 413
// for a body the handler cannot read.
namespace almanac::api::sharing_api {

// POST /api/events/{id}/share/ {"users": [{"user_id", "role"}...]}: 200 {"message": "Event shared
// successfully", "permissions": [participant_json...]}, every participant, the owner first.
// 400 naming the entry ("users[2]"), 413 beyond domain::kMaxShareEntries entries.
boost::asio::awaitable<http::Response> share(http::Request& request, Services& services);

// GET /api/events/{id}/permissions/: 200 {"participants": [participant_json...]}, the owner
// first.
boost::asio::awaitable<http::Response> list(http::Request& request, Services& services);

// PUT /api/events/{id}/permissions/{user_id}/ {"role"}: 200 {"message": "User permission updated",
// "user_id", "role"}. 400 for a bad role, 404 when user_id takes no part in the event, 409 for
// the owner's own role.
boost::asio::awaitable<http::Response> change_role(http::Request& request, Services& services);

// DELETE /api/events/{id}/permissions/{user_id}/: 200 {"message": "User removed from the event."}.
// 404 when user_id takes no part in the event, 409 for the owner.
boost::asio::awaitable<http::Response> remove(http::Request& request, Services& services);

// Reads the body of POST /api/events/{id}/share/, judging its shape only (whether the users exist,
// and whether the caller lists themself, is the service's to say). Raises:
//  - Error{kInvalidArgument, "Expected a JSON object.", "invalid"} when `body` is not an object;
//  - Error{kPayloadTooLarge, "At most 100 users can be shared with in one request.",
//    "payload_too_large"} when "users" holds more than kMaxShareEntries entries, before any entry
//    is read;
//  - Error{kInvalidArgument, "Invalid share request.", "invalid", fields} with every problem:
//    fields["users"] when "users" is absent or null ("This field is required."), not an array
//    ("Expected a list of {user_id, role} objects.") or empty ("Provide at least one user.");
//    fields["users[i]"] for entry i when it is not an object, when its user_id is not a positive
//    integer written as a JSON integer ("3", 1.0, true are refused), when its role is not exactly
//    "OWNER", "EDITOR" or "VIEWER", and when its user_id was already listed by an earlier entry.
// Unknown members, at the top or in an entry, are ignored. Returns the entries in order.
std::vector<domain::ShareEntry> read_share_entries(const boost::json::value& body);

// Reads the body of PUT /api/events/{id}/permissions/{user_id}/: {"role": "OWNER" | "EDITOR" |
// "VIEWER"}, exactly. Raises Error{kInvalidArgument, "Expected a JSON object.", "invalid"} when
// `body` is not an object, and Error{kInvalidArgument, "Invalid role.", "invalid", fields} with
// fields["role"] when role is absent, null, not a string or not one of the three.
domain::Role read_role_body(const boost::json::value& body);

// {"user_id", "username", "role"}, members in this order.
boost::json::object participant_json(const domain::Participant& participant);

}  // namespace almanac::api::sharing_api
