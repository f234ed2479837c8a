// JsonWriter and write_event_view print byte for byte what boost::json::serialize prints for the
// same members in the same order: the reference here is a boost::json DOM built the slow way.
#include "api/json_writer.hpp"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "api/event_json.hpp"
#include "domain/event.hpp"
#include "domain/event_view.hpp"
#include "domain/role.hpp"
#include "domain/time.hpp"

namespace almanac::api {
namespace {

namespace json = boost::json;

std::string written_string(std::string_view value) {
  std::string out;
  append_json_string(out, value);
  return out;
}

std::string reference_string(std::string_view value) {
  return json::serialize(json::value(json::string(value)));
}

TEST(JsonWriter, EveryAsciiCharacterIsEscapedAsBoostJsonDoes) {
  for (int c = 0; c < 128; ++c) {
    const std::string one(1, static_cast<char>(c));
    EXPECT_EQ(written_string(one), reference_string(one)) << "character " << c;
    const std::string framed = "a" + one + "b" + one;
    EXPECT_EQ(written_string(framed), reference_string(framed)) << "character " << c;
  }
}

TEST(JsonWriter, Utf8PassesThroughUnchanged) {
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC";
  EXPECT_EQ(written_string(text), "\"" + text + "\"");
  EXPECT_EQ(written_string(text), reference_string(text));
  EXPECT_EQ(written_string(""), "\"\"");
}

// Random text: ASCII of every kind (control characters, quotes, backslashes) and valid UTF-8.
std::string random_text(std::mt19937_64& random) {
  static const std::vector<std::string> pieces = {"\"",
                                                  "\\",
                                                  "\n",
                                                  "\t",
                                                  "\r",
                                                  "\b",
                                                  "\f",
                                                  std::string(1, '\0'),
                                                  "\x01",
                                                  "\x1F",
                                                  "\x7F",
                                                  "/",
                                                  "<",
                                                  "a",
                                                  "Z",
                                                  " ",
                                                  "0",
                                                  "\xC3\xA9",
                                                  "\xE2\x82\xAC",
                                                  "\xF0\x9F\x98\x80",
                                                  "'"};
  std::string text;
  const std::size_t length = random() % 24;
  for (std::size_t i = 0; i < length; ++i) text += pieces[random() % pieces.size()];
  return text;
}

TEST(JsonWriter, RandomTextIsEscapedAsBoostJsonDoes) {
  std::mt19937_64 random(20261129);
  for (int i = 0; i < 5000; ++i) {
    const std::string text = random_text(random);
    ASSERT_EQ(written_string(text), reference_string(text)) << i;
  }
}

TEST(JsonWriter, NestedValuesGetTheirCommasAndColons) {
  std::string out;
  JsonWriter writer(out);
  writer.begin_object();
  writer.key("a").begin_array();
  writer.number(1).number(-2).number(std::numeric_limits<std::int64_t>::min());
  writer.begin_object().end_object();
  writer.begin_array().end_array();
  writer.begin_object().key("x").null().key("y").boolean(true).key("z").boolean(false).end_object();
  writer.end_array();
  writer.key("b").string("s").key("c").time(0);
  writer.key("d").begin_object().key("e").begin_array().string("f").end_array().end_object();
  writer.end_object();

  const json::value reference = json::object{
      {"a", json::array{1, -2, std::numeric_limits<std::int64_t>::min(), json::object{},
                        json::array{}, json::object{{"x", nullptr}, {"y", true}, {"z", false}}}},
      {"b", "s"},
      {"c", "1970-01-01 00:00:00"},
      {"d", json::object{{"e", json::array{"f"}}}}};
  EXPECT_EQ(out, json::serialize(reference));
}

TEST(JsonWriter, NestingBeyondTheLimitIsRefused) {
  std::string out;
  JsonWriter writer(out);
  for (int i = 0; i < JsonWriter::kMaxDepth; ++i) writer.begin_array();
  EXPECT_THROW(writer.begin_array(), std::logic_error);
}

// The reference: event_json (the DOM every other response uses) plus the role.
std::string reference_event_view(const domain::EventView& view) {
  json::object object = event_json(view.event);
  object["role"] = domain::to_string(view.role);
  return json::serialize(object);
}

std::string written_event_view(const domain::EventView& view) {
  std::string out;
  JsonWriter writer(out);
  write_event_view(writer, view);
  return out;
}

TEST(JsonWriter, RandomEventsAreWrittenAsTheirDomRendering) {
  std::mt19937_64 random(7);
  std::uniform_int_distribution<domain::Timestamp> times(domain::kMinTimestamp,
                                                         domain::kMaxTimestamp);
  const domain::Role roles[] = {domain::Role::kOwner, domain::Role::kEditor, domain::Role::kViewer};
  for (int i = 0; i < 2000; ++i) {
    domain::EventView view;
    view.event.id = static_cast<std::int64_t>(random() >> 1);
    view.event.owner_id = static_cast<std::int64_t>(random() % 1000) + 1;
    view.event.version = 1;
    view.event.fields.title = random_text(random);
    view.event.fields.description = random_text(random);
    view.event.fields.location = random_text(random);
    view.event.fields.start_time = times(random);
    view.event.fields.end_time = times(random);
    view.event.fields.is_recurring = random() % 2 == 0;
    if (random() % 2 == 0) view.event.fields.recurrence_pattern = random_text(random);
    view.role = roles[random() % 3];
    ASSERT_EQ(written_event_view(view), reference_event_view(view)) << i;
  }
}

}  // namespace
}  // namespace almanac::api
