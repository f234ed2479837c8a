#include "api/json_input.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

namespace almanac::api {

using domain::Error;
using domain::ErrorCode;

boost::json::value parse_json(std::string_view body) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(body, ec, {}, options);
  if (ec) {
    std::string why = ec.message();
    if (ec == boost::json::error::too_deep) why = "nesting deeper than 64 levels";
    if (body.empty()) why = "the body is empty";
    throw Error(ErrorCode::kInvalidArgument, "Malformed JSON: " + why + ".", "invalid_json");
  }
  return value;
}

boost::json::object parse_json_object(std::string_view body) {
  boost::json::value value = parse_json(body);
  if (!value.is_object()) {
    throw Error(ErrorCode::kInvalidArgument, "Expected a JSON object.", "invalid");
  }
  return std::move(value.as_object());
}

std::optional<std::string> FieldReader::string(std::string_view name, bool required) {
  const boost::json::value* value = object_.if_contains(name);
  if (value == nullptr || value->is_null()) {
    if (required) add_error(name, "This field is required.");
    return std::nullopt;
  }
  if (!value->is_string()) {
    add_error(name, "Not a valid string.");
    return std::nullopt;
  }
  return std::string(value->as_string());
}

void FieldReader::add_error(std::string_view name, std::string message) {
  errors_[std::string(name)].push_back(std::move(message));
}

void FieldReader::finish() const { domain::throw_if_invalid(errors_); }

}  // namespace almanac::api
