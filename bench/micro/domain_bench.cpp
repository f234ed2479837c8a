// Micro-benchmarks of the pure event rules: every create and update parses two times and validates
// a draft, and every create checks its times against the events its participants take part in.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/event.hpp"
#include "domain/recurrence.hpp"
#include "domain/time.hpp"

namespace almanac::domain {
namespace {

constexpr Timestamp kMinute = 60 * kMicrosecondsPerSecond;
constexpr Timestamp kHour = 60 * kMinute;

void BM_ParseTime(benchmark::State& state, std::string_view text) {
  for (auto _ : state) {
    std::optional<Timestamp> t = parse_time(text);
    benchmark::DoNotOptimize(t);
    if (!t) state.SkipWithError("did not parse");
  }
}
BENCHMARK_CAPTURE(BM_ParseTime, seed_short, std::string_view("2025-04-27 8:05"));
BENCHMARK_CAPTURE(BM_ParseTime, iso_offset_micro,
                  std::string_view("2025-04-27T13:35:00.761531+05:30"));

// What an attacker can send for free: rejected at the first wrong character or at the end.
void BM_ParseTimeRejects(benchmark::State& state, std::string_view text) {
  for (auto _ : state) {
    std::optional<Timestamp> t = parse_time(text);
    benchmark::DoNotOptimize(t);
    if (t) state.SkipWithError("parsed");
  }
}
BENCHMARK_CAPTURE(BM_ParseTimeRejects, garbage,
                  std::string_view("not a time at all, not even close"));
BENCHMARK_CAPTURE(BM_ParseTimeRejects, seven_fraction_digits,
                  std::string_view("2025-04-27T13:35:00.7615319+05:30"));

void BM_FormatTime(benchmark::State& state) {
  const Timestamp t = parse_time("2025-04-27 08:05:00").value_or(0);
  for (auto _ : state) {
    std::string text = format_time(t);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_FormatTime);

EventDraft typical_create(std::optional<std::string> pattern) {
  EventDraft draft;
  draft.title = "Product design review";
  draft.description = "Walk through the new onboarding flow and agree on the next steps.";
  draft.start_time = "2025-04-29T09:00:00Z";
  draft.end_time = "2025-04-29T10:00:00Z";
  draft.location = "Zoom";
  draft.is_recurring = pattern.has_value();
  draft.recurrence_pattern_present = pattern.has_value();
  draft.recurrence_pattern = std::move(pattern);
  return draft;
}

void run_validate(benchmark::State& state, const EventDraft& draft) {
  for (auto _ : state) {
    auto result = validate_event(draft, nullptr);
    benchmark::DoNotOptimize(result);
    if (!std::holds_alternative<EventFields>(result)) state.SkipWithError("draft was invalid");
  }
}

void BM_ValidateTypicalCreate(benchmark::State& state) {
  run_validate(state, typical_create(std::nullopt));
}
BENCHMARK(BM_ValidateTypicalCreate);

// A simple word costs no libical call.
void BM_ValidateRecurringCreateWeekly(benchmark::State& state) {
  run_validate(state, typical_create("weekly"));
}
BENCHMARK(BM_ValidateRecurringCreateWeekly);

// An RRULE goes through libical (parse and an iterator probe) under its lock.
void BM_ValidateRecurringCreateRrule(benchmark::State& state) {
  run_validate(state, typical_create("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"));
}
BENCHMARK(BM_ValidateRecurringCreateRrule);
BENCHMARK(BM_ValidateRecurringCreateRrule)->Threads(4)->UseRealTime();

// `count` one-hour events, one every 90 minutes, as a store would hand them over.
std::vector<ConflictCandidate> candidates(std::int64_t count) {
  std::vector<ConflictCandidate> out;
  out.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    out.push_back(
        {.id = i + 1, .start_time = i * 90 * kMinute, .end_time = i * 90 * kMinute + kHour});
  }
  return out;
}

void BM_FindConflicts(benchmark::State& state) {
  const std::vector<ConflictCandidate> existing = candidates(state.range(0));
  // Two hours in the middle of the range: overlaps two of them.
  const Timestamp start = state.range(0) / 2 * 90 * kMinute + 30 * kMinute;
  for (auto _ : state) {
    std::vector<EventId> conflicts = find_conflicts(start, start + 2 * kHour, existing);
    benchmark::DoNotOptimize(conflicts);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_FindConflicts)->Arg(1'000);

void BM_ExpandOccurrences(benchmark::State& state, std::string_view pattern) {
  const Timestamp start = parse_time("2025-04-29 09:00").value_or(0);
  const Timestamp window_start = parse_time("2027-03-01 00:00").value_or(0);
  for (auto _ : state) {
    std::vector<Timestamp> occurrences =
        expand_occurrences(start, pattern, window_start, window_start + 31 * 24 * kHour, 100);
    benchmark::DoNotOptimize(occurrences);
  }
}
BENCHMARK_CAPTURE(BM_ExpandOccurrences, daily_month_two_years_out, std::string_view("daily"));
BENCHMARK_CAPTURE(BM_ExpandOccurrences, weekly_byday_month_two_years_out,
                  std::string_view("FREQ=WEEKLY;BYDAY=MO,WE"));

}  // namespace
}  // namespace almanac::domain

BENCHMARK_MAIN();
