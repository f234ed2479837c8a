// Fuzz target: time parsing (domain/time.cpp). Whatever parse_time accepts lies in the accepted
// range and survives a round trip through format_time_iso_micro and parse_time unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "domain/time.hpp"

using almanac::domain::format_time;
using almanac::domain::format_time_iso_micro;
using almanac::domain::from_civil;
using almanac::domain::kMaxTimestamp;
using almanac::domain::kMinTimestamp;
using almanac::domain::parse_time;
using almanac::domain::to_civil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_time(text);
  if (!parsed) return 0;
  if (*parsed < kMinTimestamp || *parsed > kMaxTimestamp) std::abort();
  if (parse_time(format_time_iso_micro(*parsed)) != parsed) std::abort();
  if (from_civil(to_civil(*parsed)) != parsed) std::abort();
  // format_time drops the fraction: reading it back gives the whole second.
  const auto second = parse_time(format_time(*parsed));
  if (!second || *second > *parsed || *parsed - *second >= 1'000'000) std::abort();
  return 0;
}
