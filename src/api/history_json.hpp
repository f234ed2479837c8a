#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "domain/event.hpp"
#include "domain/history.hpp"

// Versions as the history endpoints show them: the seed's shapes, plus attribution.
namespace almanac::api {

// The value of member `name` (one of domain::changed_fields' names) of `fields` as the event's
// JSON shows it: times "YYYY-MM-DD HH:MM:SS", booleans and null as JSON.
boost::json::value field_json(const domain::EventFields& fields, std::string_view name);

// {"id", "username"}, or null when the author no longer exists.
boost::json::value author_json(const domain::EventVersion& version);

// An entry of GET .../history/: {"version_id", "event_id", "history_type", "history_date"
// ("YYYY-MM-DD HH:MM:SS"), "changed_by"}.
boost::json::object history_item_json(const domain::EventVersion& version);

// GET .../history/{history_id}/: the event's fields, then "history_date" (ISO 8601 with
// microseconds and Z), "history_type", "history_id", "changed_by", "change_reason".
boost::json::object version_json(const domain::EventVersion& version);

// An entry of GET .../changelog/: {"history_id", "history_date", "history_type", "changed_by",
// "change_reason", "changed_fields": {"<field>": {"from", "to"}}}.
boost::json::object changelog_entry_json(const domain::ChangelogEntry& entry);

// GET .../diff/{a}/{b}/: {"<field>": {"version_1": <in a>, "version_2": <in b>}} for each field
// that differs.
boost::json::object diff_json(const domain::EventVersion& a, const domain::EventVersion& b);

}  // namespace almanac::api
