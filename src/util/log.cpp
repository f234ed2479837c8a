#include "util/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "util/json_string.hpp"

namespace almanac::util {
namespace {

LogFormat g_format = LogFormat::kText;
std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_write_mutex;

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = micros / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros % 1000));
  return buffer;
}

// Text values with spaces or quotes are quoted so that a line stays machine-splittable.
void append_text_value(std::string& out, std::string_view value) {
  if (value.empty() || value.find_first_of(" \"=\n\t") != std::string_view::npos) {
    append_json_string(out, value);
  } else {
    out += value;
  }
}

}  // namespace

void configure_logging(LogFormat format, LogLevel level) {
  g_format = format;
  g_level = level;
}

bool log_enabled(LogLevel level) { return level >= g_level.load(std::memory_order_relaxed); }

void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!log_enabled(level)) return;
  std::string line;
  line.reserve(256);
  if (g_format == LogFormat::kJson) {
    line += R"({"time":")" + timestamp() + R"(","level":")" + level_name(level) + R"(","msg":)";
    append_json_string(line, message);
    for (const LogField& f : fields) {
      line += ',';
      append_json_string(line, f.key);
      line += ':';
      if (f.numeric) {
        line += f.value;
      } else {
        append_json_string(line, f.value);
      }
    }
    line += "}\n";
  } else {
    line += timestamp();
    line += ' ';
    line += level_name(level);
    line += ' ';
    line += message;
    for (const LogField& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      append_text_value(line, f.value);
    }
    line += '\n';
  }
  const std::lock_guard lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace almanac::util
