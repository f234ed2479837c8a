#pragma once

#include <boost/asio/awaitable.hpp>
#include <string_view>

#include "api/services.hpp"
#include "domain/event.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

// /api/events/: create, read, update, delete, list and batch create, in the seed's shapes.
// Every handler runs after authentication. Errors are the service's, plus 400 for a body or query
// string the handler cannot read.
namespace almanac::api::events_api {

// Every write takes a change reason (body member "change_reason" or header X-Change-Reason,
// read_change_reason), recorded on the version it appends. Every response carrying an event
// carries its ETag; PUT, PATCH and DELETE honour If-Match (412 with "current" when stale).

// {"message": message, "event": event_json} with the event's ETag.
http::Response event_envelope(http::Status status, std::string_view message,
                              const domain::Event& event);

// POST /api/events/[?allow_conflicts=true]: 201 {"message": "Event created successfully",
// "event": event_json}. 400 with fields for a bad body, 409 with "conflicts" for an overlap.
boost::asio::awaitable<http::Response> create(http::Request& request, Services& services);

// GET /api/events/{id}/: 200 event_view_json (the event and the caller's role); 304 without a
// body when If-None-Match names its ETag; 404 "Event not found" when it does not exist or the
// caller takes no part in it.
boost::asio::awaitable<http::Response> get(http::Request& request, Services& services);

// PUT and PATCH /api/events/{id}/[?allow_conflicts=true]: the members sent replace the stored
// ones. 200 {"message": "Event updated successfully", "event": event_json}; 400, 403, 404, 409,
// 412.
boost::asio::awaitable<http::Response> update(http::Request& request, Services& services);

// DELETE /api/events/{id}/: 200 {"message": "Event deleted successfully"}; 403, 404, 412.
boost::asio::awaitable<http::Response> remove(http::Request& request, Services& services);

// GET /api/events/?page&page_size&start&end&q&title&is_recurring&role&ordering (see
// read_list_query): 200 {"results": [event_view_json...], "count", "num_pages", "current_page"}.
boost::asio::awaitable<http::Response> list(http::Request& request, Services& services);

// POST /api/events/batch/[?conflicts=reject|allow][&atomic=true|false] with a JSON array of event
// bodies: 201 {"created_events": [{"id", "title", "start_time", "end_time"}...], "errors":
// [{"index", "error", "fields"?, "conflicts"?}...]}. 400 when the body is not a non-empty array,
// 413 beyond services.events.max_batch() items (nothing read or stored), 400 (409 when every
// error is an overlap) with "errors" when nothing was stored.
boost::asio::awaitable<http::Response> batch(http::Request& request, Services& services);

}  // namespace almanac::api::events_api
