#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "domain/error.hpp"

namespace almanac::api {

inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses a request body as JSON: strict RFC 8259, valid UTF-8, at most 64 levels deep. Raises
// Error{kInvalidArgument, "invalid_json"} saying what is wrong.
boost::json::value parse_json(std::string_view body);

// The body as a JSON object; raises kInvalidArgument "invalid" when it is another JSON type.
boost::json::object parse_json_object(std::string_view body);

// Reads typed fields out of a JSON object, collecting one message per bad field, so that a
// client learns about every problem at once. finish() raises them together.
class FieldReader {
 public:
  explicit FieldReader(const boost::json::object& object) : object_(object) {}

  // A string field. Absent (or null) and `required`: "This field is required."; not a string:
  // "Not a valid string.". Returns nullopt in both cases.
  std::optional<std::string> string(std::string_view name, bool required = true);

  void add_error(std::string_view name, std::string message);
  bool has_error(std::string_view name) const { return errors_.contains(std::string(name)); }
  const domain::FieldErrors& errors() const { return errors_; }

  // Raises Error{kInvalidArgument} with every collected field message, if any.
  void finish() const;

 private:
  const boost::json::object& object_;
  domain::FieldErrors errors_;
};

}  // namespace almanac::api
