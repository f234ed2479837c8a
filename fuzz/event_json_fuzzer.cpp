// Fuzz target: an event body as the API reads it (api/json_input.cpp, api/event_json.cpp) and
// validates it (domain/event.cpp), for a create and for an update of a stored event. Malformed
// input must end in domain::Error (a 400), never in anything else; valid fields must satisfy
// the rules validate_event states.
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "api/event_json.hpp"
#include "api/json_input.hpp"
#include "domain/error.hpp"
#include "domain/event.hpp"
#include "domain/time.hpp"

namespace {

using almanac::domain::EventFields;
using almanac::domain::FieldErrors;

void check_fields(const EventFields& fields) {
  if (fields.end_time <= fields.start_time) std::abort();
  if (fields.start_time < almanac::domain::kMinTimestamp ||
      fields.end_time > almanac::domain::kMaxTimestamp) {
    std::abort();
  }
  if (fields.title.empty() || fields.title.find('\0') != std::string::npos) std::abort();
  if (!fields.is_recurring && fields.recurrence_pattern) std::abort();
  // What the API prints must read back as the same object.
  const boost::json::object printed =
      almanac::api::event_json(almanac::domain::Event{1, fields, 1, 1});
  if (almanac::api::parse_json_object(boost::json::serialize(printed)) != printed) std::abort();
}

void validate(const almanac::domain::EventDraft& draft, const EventFields* base) {
  const auto result = almanac::domain::validate_event(draft, base);
  if (const auto* fields = std::get_if<EventFields>(&result)) {
    check_fields(*fields);
  } else if (std::get<FieldErrors>(result).empty()) {
    std::abort();  // a refusal names at least one field
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  boost::json::object object;
  try {
    object = almanac::api::parse_json_object(body);
  } catch (const almanac::domain::Error&) {
    return 0;  // 400: malformed JSON or not an object
  }
  const almanac::domain::EventDraft draft = almanac::api::read_event_draft(object);
  validate(draft, nullptr);
  EventFields base;
  base.title = "Stored";
  base.start_time = 1767225600LL * 1'000'000;
  base.end_time = base.start_time + 3600LL * 1'000'000;
  validate(draft, &base);
  return 0;
}
