#pragma once

#include <boost/asio/awaitable.hpp>

#include "api/services.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

// /api/events/{id}/history/, changelog/, diff/ and rollback/: an event's versions in the seed's
// shapes. Readable by everyone taking part in the event; rollback by those who may edit it.
namespace almanac::api::history_api {

// GET /api/events/{id}/history/[?page&page_size]: 200, newest first, a JSON array of
// history_item_json (at most 1,000) or, when paged, {"results", "count", "num_pages",
// "current_page"}.
boost::asio::awaitable<http::Response> list(http::Request& request, Services& services);

// GET /api/events/{id}/history/{history_id}/: 200 version_json; 404 "Version not found".
boost::asio::awaitable<http::Response> version(http::Request& request, Services& services);

// GET /api/events/{id}/changelog/[?page&page_size]: 200, oldest first, changelog_entry_json
// items, paged like list().
boost::asio::awaitable<http::Response> changelog(http::Request& request, Services& services);

// GET /api/events/{id}/diff/{old_version_id}/{new_version_id}/: 200 diff_json; 404 "One or both
// versions not found".
boost::asio::awaitable<http::Response> diff(http::Request& request, Services& services);

// POST /api/events/{id}/rollback/{history_id}/[?allow_conflicts=true] with an optional body
// {"change_reason"}: 200 {"message": "Event rolled back successfully", "event": event_json} and
// its ETag; 403, 404, 409, 412 as an update.
boost::asio::awaitable<http::Response> rollback(http::Request& request, Services& services);

}  // namespace almanac::api::history_api
