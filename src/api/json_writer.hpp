#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/time.hpp"
#include "util/json_string.hpp"

namespace almanac::api {

// A JSON text written straight into a string, for the responses on the hot path (an event, a
// page of events): building a boost::json DOM first costs an allocation per member and a second
// pass to serialise it (profiled: a third of a list request's user time). The output is byte for
// byte what boost::json::serialize prints for the same members in the same order (tested).
//
// The caller writes a well-formed sequence: key() before every member of an object, values
// alone in arrays. Nesting depth is at most kMaxDepth.
class JsonWriter {
 public:
  static constexpr int kMaxDepth = 16;

  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // A member name written in the source: checked at compile time to need no escaping, so that
  // writing it is a copy (escaping every name of every event was a tenth of rendering a page).
  class Name {
   public:
    template <std::size_t N>
    consteval Name(const char (&text)[N])  // NOLINT(google-explicit-constructor): literals
        : text_(text, N - 1) {
      for (const char c : text_) {
        if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
          throw "JsonWriter::Name: a member name that needs escaping";
        }
      }
    }
    std::string_view text() const { return text_; }

   private:
    std::string_view text_;
  };

  JsonWriter& key(Name name);  // the next member's name
  JsonWriter& string(std::string_view value);
  JsonWriter& number(std::int64_t value);
  JsonWriter& boolean(bool value);
  JsonWriter& null();
  JsonWriter& time(domain::Timestamp value);  // a string, as domain::format_time prints it

 private:
  void before_value();

  std::string& out_;
  int depth_ = 0;
  bool first_[kMaxDepth + 1] = {true};  // per level: nothing written at this level yet
  bool after_key_ = false;
};

using util::append_json_string;

}  // namespace almanac::api
