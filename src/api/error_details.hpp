#pragma once

#include <any>
#include <boost/json/object.hpp>

#include "domain/event_view.hpp"

// The domain data an Error carries in `details`, as the response body shows it.
namespace almanac::api {

// Adds the members `details` stands for to an error body:
//  - domain::Conflicts: "conflicts": [{"id", "title", "start_time", "end_time"}, ...] (the events
//    the caller may see) and "conflict_count": every overlapping event;
//  - domain::BatchErrors: "errors": [batch_item_error_json(...), ...];
//  - domain::EventView (a 412): "current": the event as it now is (event_json).
// Details of any other type (or none) add nothing. Raises nothing.
void append_error_details(const std::any& details, boost::json::object& body);

// One refused batch item: {"index", "error", "fields" (only when there are some), "conflicts"
// (only when there are some)}.
boost::json::object batch_item_error_json(const domain::BatchItemError& error);

}  // namespace almanac::api
