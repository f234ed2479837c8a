#include "api/error_details.hpp"

#include <boost/json/array.hpp>
#include <cstdint>
#include <string>

#include "api/event_json.hpp"

namespace almanac::api {
namespace {

boost::json::array conflicts_json(const std::vector<domain::ConflictSummary>& conflicts) {
  boost::json::array list;
  list.reserve(conflicts.size());
  for (const domain::ConflictSummary& conflict : conflicts)
    list.emplace_back(conflict_json(conflict));
  return list;
}

boost::json::object fields_json(const domain::FieldErrors& fields) {
  boost::json::object json;
  for (const auto& [name, messages] : fields) {
    boost::json::array list;
    for (const std::string& message : messages) list.emplace_back(message);
    json[name] = std::move(list);
  }
  return json;
}

}  // namespace

boost::json::object batch_item_error_json(const domain::BatchItemError& error) {
  boost::json::object json;
  json["index"] = static_cast<std::uint64_t>(error.index);
  json["error"] = error.error;
  if (!error.fields.empty()) json["fields"] = fields_json(error.fields);
  if (!error.conflicts.empty()) json["conflicts"] = conflicts_json(error.conflicts);
  return json;
}

void append_error_details(const std::any& details, boost::json::object& body) {
  if (const auto* conflicts = std::any_cast<domain::Conflicts>(&details)) {
    body["conflicts"] = conflicts_json(conflicts->visible);
    body["conflict_count"] = conflicts->total;
    return;
  }
  if (const auto* current = std::any_cast<domain::EventView>(&details)) {
    body["current"] = event_json(current->event);  // a 412: the event as it now is
    return;
  }
  if (const auto* batch = std::any_cast<domain::BatchErrors>(&details)) {
    boost::json::array errors;
    errors.reserve(batch->errors.size());
    for (const domain::BatchItemError& error : batch->errors) {
      errors.emplace_back(batch_item_error_json(error));
    }
    body["errors"] = std::move(errors);
  }
}

}  // namespace almanac::api
