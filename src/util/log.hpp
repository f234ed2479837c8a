#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace almanac::util {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

// A key/value pair of a structured log line. Values are rendered as strings, except where noted.
struct LogField {
  std::string_view key;
  std::string value;
  bool numeric = false;  // rendered without quotes in JSON
};

inline LogField field(std::string_view key, std::string value) { return {key, std::move(value)}; }
inline LogField field(std::string_view key, std::string_view value) {
  return {key, std::string(value)};
}
inline LogField field(std::string_view key, const char* value) { return {key, std::string(value)}; }
template <typename Int>
requires std::is_arithmetic_v<Int> LogField field(std::string_view key, Int value) {
  return {key, std::to_string(value), true};
}

// Configures the process-wide logger. Not thread-safe: call once at start-up before any log().
void configure_logging(LogFormat format, LogLevel level);

// True when a line at `level` would be written; lets callers skip building expensive fields.
bool log_enabled(LogLevel level);

// Writes one line to stderr: text `2026-11-28T10:00:00.123Z INFO message key=value ...` or one JSON
// object per line. Lines from different threads never interleave. Never log secrets, passwords,
// tokens or request bodies.
void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

}  // namespace almanac::util
