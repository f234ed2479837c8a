#include "api/json_writer.hpp"

#include <charconv>
#include <stdexcept>

namespace almanac::api {

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_[depth_]) out_.push_back(',');
  first_[depth_] = false;
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  if (depth_ == kMaxDepth) throw std::logic_error("JsonWriter: nested too deep");
  out_.push_back('{');
  first_[++depth_] = true;
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_.push_back('}');
  --depth_;
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  if (depth_ == kMaxDepth) throw std::logic_error("JsonWriter: nested too deep");
  out_.push_back('[');
  first_[++depth_] = true;
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_.push_back(']');
  --depth_;
  return *this;
}

JsonWriter& JsonWriter::key(Name name) {
  before_value();
  out_.push_back('"');
  out_.append(name.text());
  out_.append("\":", 2);
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view value) {
  before_value();
  append_json_string(out_, value);
  return *this;
}

JsonWriter& JsonWriter::number(std::int64_t value) {
  before_value();
  char buffer[24];
  out_.append(buffer, std::to_chars(buffer, buffer + sizeof(buffer), value).ptr);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool value) {
  before_value();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::time(domain::Timestamp value) {
  before_value();
  out_.push_back('"');
  domain::append_time(out_, value);  // digits, '-', ' ' and ':' only: nothing to escape
  out_.push_back('"');
  return *this;
}

}  // namespace almanac::api
