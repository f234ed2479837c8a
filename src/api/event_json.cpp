#include "api/event_json.hpp"

#include <algorithm>
#include <boost/json/value.hpp>
#include <cctype>
#include <string>
#include <utility>

#include "domain/error.hpp"
#include "domain/history.hpp"
#include "domain/role.hpp"
#include "domain/time.hpp"

namespace almanac::api {

using domain::Error;
using domain::ErrorCode;
using domain::EventDraft;
using domain::EventListQuery;
using domain::FieldErrors;

namespace {

constexpr std::string_view kNotAString = "Not a valid string.";
constexpr std::string_view kNotABoolean = "Must be a valid boolean.";
constexpr std::string_view kNotATime =
    "Enter a valid date/time: use YYYY-MM-DD HH:MM[:SS] or ISO 8601.";
constexpr std::string_view kNotAPositiveInteger = "A valid positive integer is required.";
constexpr std::string_view kInvalidQuery = "Invalid query parameters.";

void add_error(FieldErrors& errors, std::string_view name, std::string_view message) {
  errors[std::string(name)].emplace_back(message);
}

// A string member of an event body: absent stays absent, null is recorded as such, another
// JSON type is a type error with `type_message`.
void read_string(const boost::json::object& body, std::string_view name,
                 std::string_view type_message, std::optional<std::string>& out,
                 EventDraft& draft) {
  const boost::json::value* value = body.if_contains(name);
  if (value == nullptr) return;
  if (value->is_null()) {
    draft.null_members.emplace_back(name);
  } else if (value->is_string()) {
    out = std::string(value->as_string());
  } else {
    add_error(draft.type_errors, name, type_message);
  }
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// true, false, 1 or 0 in any case; nullopt for anything else.
std::optional<bool> parse_bool(std::string_view text) {
  const std::string lower = lower_ascii(text);
  if (lower == "true" || lower == "1") return true;
  if (lower == "false" || lower == "0") return false;
  return std::nullopt;
}

// Decimal digits only (no sign, no space), value at least 1; a value beyond int64 comes back as
// int64's maximum, which every caller treats as "too large". nullopt when not such a number.
std::optional<std::int64_t> parse_positive_integer(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
  }
  if (value == 0) return std::nullopt;
  return value;
}

// Reads the query parameters of read_list_query, gathering every error.
class QueryReader {
 public:
  explicit QueryReader(const http::Request& request) : request_(request) {}

  std::optional<std::string_view> get(std::string_view name) const { return request_.query(name); }

  std::optional<std::int64_t> positive_integer(std::string_view name) {
    const auto text = get(name);
    if (!text) return std::nullopt;
    const auto value = parse_positive_integer(*text);
    if (!value) add(name, kNotAPositiveInteger);
    return value;
  }

  std::optional<domain::Timestamp> time(std::string_view name) {
    const auto text = get(name);
    if (!text) return std::nullopt;
    const auto value = domain::parse_time(*text);
    if (!value) add(name, kNotATime);
    return value;
  }

  // A substring filter; empty means none.
  std::optional<std::string> text(std::string_view name) const {
    const auto text = get(name);
    if (!text || text->empty()) return std::nullopt;
    return std::string(*text);
  }

  std::optional<bool> boolean(std::string_view name) {
    const auto text = get(name);
    if (!text) return std::nullopt;
    const auto value = parse_bool(*text);
    if (!value) add(name, kNotABoolean);
    return value;
  }

  void add(std::string_view name, std::string_view message) { add_error(errors_, name, message); }

  void finish() const {
    if (!errors_.empty())
      throw Error(ErrorCode::kInvalidArgument, std::string(kInvalidQuery), "invalid", errors_);
  }

 private:
  const http::Request& request_;
  FieldErrors errors_;
};

std::string not_a_choice(std::string_view value, std::string_view choices) {
  // Appended piece by piece: g++ 12 at -O3 warns (-Wrestrict) on `"literal" + std::string&&`.
  std::string message = "\"";
  message.append(value).append("\" is not a valid choice: use ").append(choices).append(".");
  return message;
}

// page and page_size as GET /api/events/ reads them: positive integers, page at most kMaxPage,
// page_size clamped to kMaxPageSize. Leaves the outputs alone when absent or bad.
void read_page(QueryReader& reader, std::int64_t& page, std::int64_t& page_size) {
  if (const auto value = reader.positive_integer("page")) {
    if (*value > kMaxPage) {
      reader.add("page",
                 "Ensure this value is less than or equal to " + std::to_string(kMaxPage) + ".");
    } else {
      page = *value;
    }
  }
  if (const auto value = reader.positive_integer("page_size")) {
    page_size = std::min(*value, domain::kMaxPageSize);
  }
}

}  // namespace

EventDraft read_event_draft(const boost::json::object& body) {
  EventDraft draft;
  read_string(body, "title", kNotAString, draft.title, draft);
  read_string(body, "description", kNotAString, draft.description, draft);
  read_string(body, "start_time", kNotATime, draft.start_time, draft);
  read_string(body, "end_time", kNotATime, draft.end_time, draft);
  read_string(body, "location", kNotAString, draft.location, draft);

  if (const boost::json::value* value = body.if_contains("is_recurring")) {
    if (value->is_null()) {
      draft.null_members.emplace_back("is_recurring");
    } else if (value->is_bool()) {
      draft.is_recurring = value->as_bool();
    } else {
      add_error(draft.type_errors, "is_recurring", kNotABoolean);
    }
  }

  if (const boost::json::value* value = body.if_contains("recurrence_pattern")) {
    if (value->is_null()) {
      draft.recurrence_pattern_present = true;
    } else if (value->is_string()) {
      draft.recurrence_pattern_present = true;
      draft.recurrence_pattern = std::string(value->as_string());
    } else {
      add_error(draft.type_errors, "recurrence_pattern", kNotAString);
    }
  }
  return draft;
}

boost::json::object event_json(const domain::Event& event) {
  const domain::EventFields& fields = event.fields;
  boost::json::object json;
  json["id"] = event.id;
  json["title"] = fields.title;
  json["description"] = fields.description;
  json["start_time"] = domain::format_time(fields.start_time);
  json["end_time"] = domain::format_time(fields.end_time);
  json["location"] = fields.location;
  json["is_recurring"] = fields.is_recurring;
  if (fields.recurrence_pattern) {
    json["recurrence_pattern"] = *fields.recurrence_pattern;
  } else {
    json["recurrence_pattern"] = nullptr;
  }
  json["owner_id"] = event.owner_id;
  return json;
}

void write_event_view(JsonWriter& out, const domain::EventView& view) {
  const domain::Event& event = view.event;
  const domain::EventFields& fields = event.fields;
  out.begin_object();
  out.key("id").number(event.id);
  out.key("title").string(fields.title);
  out.key("description").string(fields.description);
  out.key("start_time").time(fields.start_time);
  out.key("end_time").time(fields.end_time);
  out.key("location").string(fields.location);
  out.key("is_recurring").boolean(fields.is_recurring);
  out.key("recurrence_pattern");
  if (fields.recurrence_pattern) {
    out.string(*fields.recurrence_pattern);
  } else {
    out.null();
  }
  out.key("owner_id").number(event.owner_id);
  out.key("role").string(domain::to_string(view.role));
  out.end_object();
}

std::string batch_created_body(std::span<const domain::Event> created) {
  std::string body;
  body.reserve(32 + 96 * created.size());
  JsonWriter out(body);
  out.begin_object().key("created_events").begin_array();
  for (const domain::Event& event : created) {
    out.begin_object()
        .key("id")
        .number(event.id)
        .key("title")
        .string(event.fields.title)
        .key("start_time")
        .time(event.fields.start_time)
        .key("end_time")
        .time(event.fields.end_time)
        .end_object();
  }
  out.end_array().key("errors").begin_array().end_array().end_object();
  return body;
}

boost::json::object conflict_json(const domain::ConflictSummary& conflict) {
  return boost::json::object{{"id", conflict.id},
                             {"title", conflict.title},
                             {"start_time", domain::format_time(conflict.start_time)},
                             {"end_time", domain::format_time(conflict.end_time)}};
}

EventListQuery read_list_query(const http::Request& request) {
  EventListQuery query;
  QueryReader reader(request);

  read_page(reader, query.page, query.page_size);

  query.start = reader.time("start");
  query.end = reader.time("end");
  if (query.start && query.end && *query.end <= *query.start)
    reader.add("end", "must be after start");

  query.q = reader.text("q");
  query.title = reader.text("title");
  query.is_recurring = reader.boolean("is_recurring");

  if (const auto role = reader.get("role")) {
    const std::string lower = lower_ascii(*role);
    if (lower == "owner") {
      query.role = domain::Role::kOwner;
    } else if (lower == "editor") {
      query.role = domain::Role::kEditor;
    } else if (lower == "viewer") {
      query.role = domain::Role::kViewer;
    } else {
      reader.add("role", not_a_choice(*role, "owner, editor or viewer"));
    }
  }

  if (auto ordering = reader.get("ordering")) {
    const std::string_view original = *ordering;
    query.descending = ordering->starts_with('-');
    if (query.descending) ordering->remove_prefix(1);
    if (*ordering == "id") {
      query.order = domain::EventOrder::kId;
    } else if (*ordering == "start_time") {
      query.order = domain::EventOrder::kStartTime;
    } else if (*ordering == "end_time") {
      query.order = domain::EventOrder::kEndTime;
    } else if (*ordering == "title") {
      query.order = domain::EventOrder::kTitle;
    } else {
      reader.add("ordering",
                 not_a_choice(original, "id, start_time, end_time or title, optionally with -"));
    }
  }

  reader.finish();
  return query;
}

std::optional<bool> read_bool_query(const http::Request& request, std::string_view name) {
  QueryReader reader(request);
  const std::optional<bool> value = reader.boolean(name);
  reader.finish();
  return value;
}

domain::VersionWindow read_version_window(const http::Request& request) {
  domain::VersionWindow window;
  if (!request.query("page") && !request.query("page_size")) return window;
  window.paged = true;
  window.page_size = domain::kDefaultPageSize;
  QueryReader reader(request);
  read_page(reader, window.page, window.page_size);
  reader.finish();
  return window;
}

std::optional<std::string> read_change_reason(const http::Request& request,
                                              const boost::json::object* body) {
  if (body != nullptr) {
    if (const boost::json::value* value = body->if_contains("change_reason")) {
      if (value->is_string()) return domain::checked_change_reason(value->as_string());
      if (!value->is_null()) {
        throw Error(ErrorCode::kInvalidArgument, "Invalid change reason.", "invalid",
                    FieldErrors{{"change_reason", {std::string(kNotAString)}}});
      }
    }
  }
  if (request.count_header("X-Change-Reason") == 0) return std::nullopt;
  return domain::checked_change_reason(request.header("X-Change-Reason"));
}

service::WriteOptions read_write_options(const http::Request& request,
                                         const boost::json::object* body) {
  service::WriteOptions options;
  options.allow_conflicts = read_bool_query(request, "allow_conflicts").value_or(false);
  if (request.count_header("If-Match") > 0) {
    options.if_match = domain::parse_if_match(request.header("If-Match"));
  }
  options.change_reason = read_change_reason(request, body);
  return options;
}

service::BatchOptions read_batch_options(const http::Request& request) {
  service::BatchOptions options;
  options.change_reason = read_change_reason(request, nullptr);
  QueryReader reader(request);
  if (const auto conflicts = reader.get("conflicts")) {
    const std::string lower = lower_ascii(*conflicts);
    if (lower == "reject") {
      options.reject_conflicts = true;
    } else if (lower != "allow") {
      reader.add("conflicts", not_a_choice(*conflicts, "reject or allow"));
    }
  }
  options.atomic = reader.boolean("atomic").value_or(false);
  reader.finish();
  return options;
}

}  // namespace almanac::api
