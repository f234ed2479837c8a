#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "api/json_writer.hpp"
#include "domain/event.hpp"
#include "domain/event_view.hpp"
#include "domain/history.hpp"
#include "http/request.hpp"
#include "service/event_service.hpp"

// Events as the API reads and writes them: the seed's shapes, and the list's query string.
namespace almanac::api {

// Reads an event body ({"title", "description", "start_time", "end_time", "location",
// "is_recurring", "recurrence_pattern"}) into a draft, judging nothing but JSON types, so that
// domain::validate_event reports every problem at once:
//  - a member absent from `body` stays absent in the draft;
//  - JSON null goes to draft.null_members, except for recurrence_pattern, which may be null
//    (recurrence_pattern_present with no value);
//  - a member of the wrong JSON type goes to draft.type_errors: "Not a valid string." (title,
//    description, location, recurrence_pattern), "Enter a valid date/time: ..." (start_time,
//    end_time: a number is not a time we read), "Must be a valid boolean." (is_recurring, which
//    must be a JSON true or false; "yes" or "true" are not).
// `id` and `owner_id` are server-set and ignored, as is any unknown member; `change_reason` is
// read by read_change_reason. Raises nothing.
domain::EventDraft read_event_draft(const boost::json::object& body);

// The seed's event, members in this order: id, title, description, start_time, end_time (both
// "YYYY-MM-DD HH:MM:SS" UTC), location, is_recurring, recurrence_pattern (string or null),
// owner_id.
boost::json::object event_json(const domain::Event& event);

// event_json's members plus "role": the caller's role on it, "OWNER", "EDITOR" or "VIEWER",
// written straight to `out` (the hot path: GET of an event, a list page).
void write_event_view(JsonWriter& out, const domain::EventView& view);

// The 201 body of a batch whose every item was stored: {"created_events": [{id, title,
// start_time, end_time}, ...], "errors": []}, written without a DOM.
std::string batch_created_body(std::span<const domain::Event> created);

// {"id", "title", "start_time", "end_time"}: an event named in a 409, and a created batch item.
boost::json::object conflict_json(const domain::ConflictSummary& conflict);

// The query string of GET /api/events/, checked:
//  - page (default 1) and page_size (default 10): positive decimal integers ("A valid positive
//    integer is required."); a page_size above 100 is taken as 100; a page above kMaxPage is
//    refused, so that no offset overflows;
//  - start, end: times as domain::parse_time reads them (note that a `+` in a query string means a
//    space: send an offset's plus sign as %2B); end must be after start when both are given;
//  - q, title: substrings to look for; empty means no filter;
//  - is_recurring: true, false, 1 or 0, in any case;
//  - role: owner, editor or viewer, in any case;
//  - ordering: id, start_time, end_time or title, optionally preceded by `-` for descending.
// Other parameters are ignored. Raises Error{kInvalidArgument, "Invalid query parameters.",
// "invalid"} with every bad parameter in fields.
domain::EventListQuery read_list_query(const http::Request& request);

// The largest page read_list_query accepts: (page - 1) * kMaxPageSize fits in an int64.
inline constexpr std::int64_t kMaxPage =
    std::numeric_limits<std::int64_t>::max() / domain::kMaxPageSize;

// Reads the boolean query parameter `name` as true, false, 1 or 0 in any case; nullopt when it
// is absent. Raises Error{kInvalidArgument, "Invalid query parameters."} naming it otherwise.
std::optional<bool> read_bool_query(const http::Request& request, std::string_view name);

// The options of POST /api/events/batch/: conflicts=reject or allow (any case; default allow) and
// atomic as read_bool_query reads it (default false). Raises Error{kInvalidArgument, "Invalid
// query parameters."} naming every bad one.
// And X-Change-Reason, as read_change_reason reads it (for every item).
service::BatchOptions read_batch_options(const http::Request& request);

// Which versions GET .../history/ and .../changelog/ list: unpaged unless `page` or `page_size`
// is given, then read as read_list_query reads them (page_size default 10, at most 100). Raises
// Error{kInvalidArgument, "Invalid query parameters."} naming every bad one.
domain::VersionWindow read_version_window(const http::Request& request);

// The change reason of a write: the body's "change_reason" member when it is a string (null or
// absent: none), else the X-Change-Reason header; checked by domain::checked_change_reason.
// Raises Error{kInvalidArgument} with fields {"change_reason": [...]} for a member that is not
// a string or a reason the domain refuses.
std::optional<std::string> read_change_reason(const http::Request& request,
                                              const boost::json::object* body);

// allow_conflicts (query, as read_bool_query), If-Match (header, domain::parse_if_match) and the
// change reason (read_change_reason) of a write.
service::WriteOptions read_write_options(const http::Request& request,
                                         const boost::json::object* body);

}  // namespace almanac::api
