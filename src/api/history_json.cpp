#include "api/history_json.hpp"

#include <string>

#include "domain/time.hpp"

namespace almanac::api {

boost::json::value field_json(const domain::EventFields& fields, std::string_view name) {
  if (name == "title") return boost::json::value(fields.title);
  if (name == "description") return boost::json::value(fields.description);
  if (name == "start_time") return boost::json::value(domain::format_time(fields.start_time));
  if (name == "end_time") return boost::json::value(domain::format_time(fields.end_time));
  if (name == "location") return boost::json::value(fields.location);
  if (name == "is_recurring") return boost::json::value(fields.is_recurring);
  if (name == "recurrence_pattern" && fields.recurrence_pattern) {
    return boost::json::value(*fields.recurrence_pattern);
  }
  return boost::json::value(nullptr);
}

boost::json::value author_json(const domain::EventVersion& version) {
  if (!version.changed_by) return boost::json::value(nullptr);
  return boost::json::object{{"id", version.changed_by->id},
                             {"username", version.changed_by->username}};
}

namespace {

boost::json::value reason_json(const domain::EventVersion& version) {
  if (!version.change_reason) return boost::json::value(nullptr);
  return boost::json::value(*version.change_reason);
}

}  // namespace

boost::json::object history_item_json(const domain::EventVersion& version) {
  return boost::json::object{{"version_id", version.history_id},
                             {"event_id", version.event_id},
                             {"history_type", domain::to_string(version.type)},
                             {"history_date", domain::format_time(version.history_date)},
                             {"changed_by", author_json(version)}};
}

boost::json::object version_json(const domain::EventVersion& version) {
  const domain::EventFields& fields = version.fields;
  boost::json::object json;
  json["id"] = version.event_id;
  for (const char* name : {"title", "description", "start_time", "end_time", "location",
                           "is_recurring", "recurrence_pattern"}) {
    json[name] = field_json(fields, name);
  }
  json["history_date"] = domain::format_time_iso_micro(version.history_date);
  json["history_type"] = domain::to_string(version.type);
  json["history_id"] = version.history_id;
  json["changed_by"] = author_json(version);
  json["change_reason"] = reason_json(version);
  return json;
}

boost::json::object changelog_entry_json(const domain::ChangelogEntry& entry) {
  boost::json::object changed;
  for (const std::string& name : entry.changed) {
    changed[name] = boost::json::object{{"from", field_json(entry.before, name)},
                                        {"to", field_json(entry.version.fields, name)}};
  }
  const domain::EventVersion& version = entry.version;
  return boost::json::object{{"history_id", version.history_id},
                             {"history_date", domain::format_time(version.history_date)},
                             {"history_type", domain::to_string(version.type)},
                             {"changed_by", author_json(version)},
                             {"change_reason", reason_json(version)},
                             {"changed_fields", std::move(changed)}};
}

boost::json::object diff_json(const domain::EventVersion& a, const domain::EventVersion& b) {
  boost::json::object diff;
  for (const std::string& name : domain::changed_fields(a.fields, b.fields)) {
    diff[name] = boost::json::object{{"version_1", field_json(a.fields, name)},
                                     {"version_2", field_json(b.fields, name)}};
  }
  return diff;
}

}  // namespace almanac::api
