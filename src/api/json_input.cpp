#include "api/json_input.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value_stack.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

namespace almanac::api {

using domain::Error;
using domain::ErrorCode;

namespace {

// Boost.JSON's own parse handler (a value_stack fed by a basic_parser) that also counts the
// members of every object as written. Boost.JSON keeps the last of duplicate keys silently; a
// member count above what the parsed value holds reveals them.
struct CountingHandler {
  // The names are Boost.JSON's handler contract.
  // NOLINTBEGIN(readability-identifier-naming)
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();
  // NOLINTEND(readability-identifier-naming)

  boost::json::value_stack stack;
  std::size_t members = 0;

  using ec_t = boost::json::error_code;
  using sv_t = boost::json::string_view;
  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t&) { return true; }
  bool on_object_end(std::size_t n, ec_t&) {
    members += n;
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(std::size_t n, ec_t&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(sv_t s, std::size_t, ec_t&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(sv_t s, std::size_t, ec_t&) {
    stack.push_key(s);
    return true;
  }
  bool on_string_part(sv_t s, std::size_t, ec_t&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(sv_t s, std::size_t, ec_t&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(sv_t, ec_t&) { return true; }
  bool on_int64(std::int64_t i, sv_t, ec_t&) {
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, sv_t, ec_t&) {
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, sv_t, ec_t&) {
    stack.push_double(d);
    return true;
  }
  bool on_bool(bool b, ec_t&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(ec_t&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(sv_t, ec_t&) { return true; }
  bool on_comment(sv_t, ec_t&) { return true; }
};

// The members of every object in `value` (no deeper than kMaxJsonDepth, so recursion is bounded).
std::size_t count_members(const boost::json::value& value) {
  std::size_t members = 0;
  if (const boost::json::object* object = value.if_object()) {
    members += object->size();
    for (const auto& member : *object) members += count_members(member.value());
  } else if (const boost::json::array* array = value.if_array()) {
    for (const boost::json::value& item : *array) members += count_members(item);
  }
  return members;
}

[[noreturn]] void malformed(std::string_view why) {
  throw Error(ErrorCode::kInvalidArgument, "Malformed JSON: " + std::string(why) + ".",
              "invalid_json");
}

}  // namespace

boost::json::value parse_json(std::string_view body) {
  if (body.empty()) malformed("the body is empty");
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::json::basic_parser<CountingHandler> parser(options);
  // The document's strings, objects and arrays in a few blocks that go together with the value
  // (the value shares the resource), instead of an allocation each: a 1,000-event batch is some
  // 10,000 of them.
  parser.handler().stack.reset(boost::json::make_shared_resource<boost::json::monotonic_resource>(
      std::max<std::size_t>(1024, body.size())));
  boost::json::error_code ec;
  const std::size_t used = parser.write_some(false, body.data(), body.size(), ec);
  if (!ec && used < body.size()) ec = boost::json::error::extra_data;
  if (ec) {
    if (ec == boost::json::error::too_deep) malformed("nesting deeper than 64 levels");
    malformed(ec.message());
  }
  boost::json::value value = parser.handler().stack.release();
  if (count_members(value) != parser.handler().members) {
    malformed("an object names the same key twice");
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
