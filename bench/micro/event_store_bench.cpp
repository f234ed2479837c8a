// Scale of the event store: the reads of GET /api/events/{id}/, GET /api/events/ (page 1: by id
// either way, a 7-day window, an open-ended window, a role, by start_time, a search) and the
// conflict check of every create and update, on a SQLite store that holds 1,000 events and on one
// that holds 1,000,000 (issue 3: "with 1,000,000 events stored, a conflict check costs about what
// it costs with 1,000"; issue 6, target 5: get, list page and conflict check each <= 1.5x).
//
// Each size is seeded once, on first use, in a temporary directory, through Store::write() (jobs of
// 100 inserts, ~10,000 per transaction): 100 "busy" users with size/100 events each, spread over
// three years (working hours, 30 min - 3 h), plus one "quiet" user with 10 events in the same three
// years whatever the size. The busy users show the cost as a user's own calendar grows with the
// store (10 events each at 1,000, 10,000 each at 1,000,000); the quiet user shows the cost of other
// users' events alone.
//
// Every operation runs inside one open read transaction (Store::read), so that what is timed is
// the store's query, not BEGIN/COMMIT; BM_ReadFindEventFor adds the transaction of its own that a
// GET request opens. The query times are real (wall) time per operation. At the end the program
// prints each operation's time at both sizes and the ratio (unless --benchmark_format is json/csv).
#include <benchmark/benchmark.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "domain/event.hpp"
#include "domain/event_view.hpp"
#include "domain/role.hpp"
#include "domain/time.hpp"
#include "domain/user.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace almanac::store {
namespace {

using domain::EventFields;
using domain::EventId;
using domain::Timestamp;
using domain::UserId;

constexpr Timestamp kMinute = 60 * domain::kMicrosecondsPerSecond;
constexpr Timestamp kHour = 60 * kMinute;
constexpr Timestamp kDay = domain::kMicrosecondsPerDay;

constexpr std::int64_t kSmall = 1'000;
constexpr std::int64_t kLarge = 1'000'000;
constexpr int kBusyUsers = 100;
constexpr int kQuietEvents = 10;
constexpr std::int64_t kEventsPerJob = 100;
constexpr std::size_t kJobsInFlight = 100;
constexpr int kDays = 3 * 365 + 1;      // 2024-01-01 .. 2026-12-31
constexpr std::size_t kSamples = 4096;  // precomputed random inputs, cycled (a power of two)
constexpr std::chrono::minutes kWriteHangGuard{10};

Timestamp range_start() {
  static const Timestamp start = domain::from_civil({2024, 1, 1, 0, 0, 0, 0}).value();
  return start;
}

// A start time as people book them: a day of the three years, 07:00-19:45 in quarter hours.
Timestamp random_start(std::mt19937_64& random) {
  const auto day = std::uniform_int_distribution<int>(0, kDays - 1)(random);
  const auto quarter = std::uniform_int_distribution<int>(7 * 4, 19 * 4 + 3)(random);
  return range_start() + day * kDay + quarter * 15 * kMinute;
}

// A plausible event: 30 min - 3 h, a few titles and places, some descriptions, 5% weekly.
EventFields random_event(std::mt19937_64& random) {
  static constexpr std::array<std::string_view, 8> kTitles = {
      "Standup",       "1:1 with manager",
      "Design review", "Sprint planning",
      "Customer call", "Lunch",
      "Interview",     "Quarterly business review"};
  static constexpr std::array<std::string_view, 5> kLocations = {"", "Zoom", "Room 4.12",
                                                                 "Cafeteria", "Google Meet"};
  EventFields f;
  const auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
  };
  f.title = kTitles[pick(kTitles.size())];
  if (pick(3) == 0) f.description = "Agenda in the shared doc; bring the numbers from last week.";
  f.location = kLocations[pick(kLocations.size())];
  f.start_time = random_start(random);
  f.end_time = f.start_time + static_cast<Timestamp>(2 + pick(11)) * 15 * kMinute;  // 30-180 min
  if (pick(20) == 0) {
    f.is_recurring = true;
    f.recurrence_pattern = "weekly";
  }
  return f;
}

// Queues `work` on the store's writer; the future holds its outcome.
std::future<std::exception_ptr> queue_write(Store& store, Store::WriteWork work) {
  auto outcome = std::make_shared<std::promise<std::exception_ptr>>();
  std::future<std::exception_ptr> future = outcome->get_future();
  store.write(std::move(work), [outcome](std::exception_ptr error) { outcome->set_value(error); });
  return future;
}

// Waits for an outcome of queue_write() and rethrows a failure.
void await_write(std::future<std::exception_ptr>& future) {
  if (future.wait_for(kWriteHangGuard) != std::future_status::ready) {
    throw std::runtime_error("write() did not call done within 10 minutes");
  }
  if (const std::exception_ptr error = future.get()) std::rethrow_exception(error);
}

void write_or_throw(Store& store, Store::WriteWork work) {
  std::future<std::exception_ptr> future = queue_write(store, std::move(work));
  await_write(future);
}

// --- the temporary databases, and their removal on Ctrl-C ---------------------------------------

// Paths removed by the signal handler (unlink and rmdir only: async-signal-safe). Fixed storage,
// filled before the database exists.
struct CleanupPaths {
  std::array<char, 512> dir{}, db{}, wal{}, shm{};
};
std::array<CleanupPaths, 4> g_cleanup;
volatile sig_atomic_t g_cleanup_count = 0;

void copy_path(std::array<char, 512>& to, const std::string& from) {
  if (from.size() >= to.size()) throw std::runtime_error("temporary path too long: " + from);
  std::memcpy(to.data(), from.c_str(), from.size() + 1);
}

extern "C" void remove_databases_and_die(int signum) {
  for (sig_atomic_t i = 0; i < g_cleanup_count; ++i) {
    ::unlink(g_cleanup[i].wal.data());
    ::unlink(g_cleanup[i].shm.data());
    ::unlink(g_cleanup[i].db.data());
    ::rmdir(g_cleanup[i].dir.data());
  }
  ::signal(signum, SIG_DFL);
  ::raise(signum);
}

// One seeded store, kept for the whole run.
struct Dataset {
  std::int64_t size = 0;  // events of the busy users
  std::filesystem::path dir;
  std::unique_ptr<sqlite::SqliteStore> store;
  std::vector<UserId> busy;
  UserId quiet = 0;
  double seed_seconds = 0;
  std::uintmax_t database_bytes = 0;
  // Random inputs, the same sequence at every size (same generator seed, same time range).
  std::vector<std::pair<UserId, EventId>> events;  // (owner, id) of stored events
  std::vector<Timestamp> slots;                    // candidate starts; 1 h, or a 7-day window

  Dataset() = default;
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;
  ~Dataset() {
    if (store) store->close();
    store.reset();
    std::error_code ignored;
    if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
  }
};

std::map<std::int64_t, std::unique_ptr<Dataset>>& datasets() {
  static std::map<std::int64_t, std::unique_ptr<Dataset>> all;
  return all;
}

std::unique_ptr<Dataset> seed(std::int64_t size) {
  auto data = std::make_unique<Dataset>();
  data->size = size;
  std::string pattern =
      (std::filesystem::temp_directory_path() / "almanac-event-store-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  data->dir = pattern;
  const std::string db = (data->dir / "almanac.db").string();
  if (g_cleanup_count < static_cast<sig_atomic_t>(g_cleanup.size())) {
    CleanupPaths& paths = g_cleanup[g_cleanup_count];
    copy_path(paths.dir, pattern);
    copy_path(paths.db, db);
    copy_path(paths.wal, db + "-wal");
    copy_path(paths.shm, db + "-shm");
    g_cleanup_count = g_cleanup_count + 1;
  }

  const auto began = std::chrono::steady_clock::now();
  data->store = std::make_unique<sqlite::SqliteStore>(sqlite::SqliteOptions{.path = db});
  Store& store = *data->store;
  write_or_throw(store, [&](StoreWriter& w) {
    // The quiet user's id in the middle of the busy users' ids: the interval index's boxes are
    // (user, user) x (hours), and an id outside the others' range would skip their boxes at the
    // root, which no real user could count on.
    data->busy.clear();
    for (int i = 0; i < kBusyUsers; ++i) {
      if (i == kBusyUsers / 2) {
        data->quiet = w.insert_user({"quiet", "quiet@example.com", "$argon2id$bench"}).id;
      }
      const std::string name = "busy" + std::to_string(i);
      data->busy.push_back(w.insert_user({name, name + "@example.com", "$argon2id$bench"}).id);
    }
  });

  // Busy users' events round-robin (so a user's events are spread over the table, as they would
  // be after years of use), the quiet user's 10 spread evenly among them.
  std::mt19937_64 random(20250427);
  std::vector<std::pair<UserId, EventId>> stored;
  stored.reserve(static_cast<std::size_t>(size + kQuietEvents));
  const std::int64_t quiet_every = std::max<std::int64_t>(1, size / kQuietEvents);
  // Jobs of kEventsPerJob inserts, kJobsInFlight of them queued at a time so that the writer
  // gathers about 10,000 inserts into one transaction and one fsync. Small jobs, because a job's
  // cost grows with the square of its inserts on a large database (each job runs in a savepoint;
  // at 1,000,000 events, jobs of 10,000 seed at ~300 events/s, jobs of 1,000 at ~3,000/s, jobs
  // of 100 at ~10,000/s: see bench/README.md).
  // The jobs run one after another on the writer's thread; only they touch `random` and `stored`
  // until the last one is done.
  std::deque<std::future<std::exception_ptr>> in_flight;
  std::exception_ptr failure;
  const auto await_oldest = [&] {
    try {
      await_write(in_flight.front());
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
    in_flight.pop_front();
  };
  for (std::int64_t first = 0; first < size && !failure; first += kEventsPerJob) {
    const std::int64_t last = std::min(size, first + kEventsPerJob);
    in_flight.push_back(queue_write(store, [&, first, last](StoreWriter& w) {
      for (std::int64_t i = first; i < last; ++i) {
        const UserId owner = data->busy[static_cast<std::size_t>(i % kBusyUsers)];
        stored.emplace_back(owner, w.insert_event(owner, random_event(random), {owner, {}}).id);
        if (i % quiet_every == 0) {
          stored.emplace_back(
              data->quiet, w.insert_event(data->quiet, random_event(random), {data->quiet, {}}).id);
        }
      }
    }));
    if (in_flight.size() >= kJobsInFlight) await_oldest();
  }
  while (!in_flight.empty()) await_oldest();  // also after a failure: the jobs use our locals
  if (failure) std::rethrow_exception(failure);
  data->seed_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::error_code ignored;
  for (const char* suffix : {"", "-wal"}) {
    const auto bytes = std::filesystem::file_size(db + suffix, ignored);
    if (!ignored) data->database_bytes += bytes;
  }
  std::fprintf(stderr,
               "event_store_bench: seeded %" PRId64 " events (%d users x %" PRId64
               ", + %d of a quiet user) in %.1f s (%.0f events/s); database %.0f MB in %s\n",
               size + kQuietEvents, kBusyUsers, size / kBusyUsers, kQuietEvents, data->seed_seconds,
               static_cast<double>(size) / data->seed_seconds,
               static_cast<double>(data->database_bytes) / 1e6, data->dir.c_str());
  std::fflush(stderr);

  std::mt19937_64 pick(7);
  std::uniform_int_distribution<std::size_t> any_event(0, stored.size() - 1);
  for (std::size_t i = 0; i < kSamples; ++i) {
    data->events.push_back(stored[any_event(pick)]);
    data->slots.push_back(random_start(pick));
  }
  return data;
}

Dataset& dataset(std::int64_t size) {
  auto& all = datasets();
  auto found = all.find(size);
  if (found == all.end()) found = all.emplace(size, seed(size)).first;
  return *found->second;
}

enum class Who { kBusy, kQuiet };

UserId user_for(const Dataset& data, Who who, std::size_t i) {
  return who == Who::kQuiet ? data.quiet : data.busy[i % data.busy.size()];
}

// --- the operations -----------------------------------------------------------------------------

// The conflict check of a 1-hour create: the R*Tree's boxes of one user around the slot, then the
// exact overlap test. `conflicts/op`: how many stored events the candidates overlapped, on average.
void BM_FindConflicts(benchmark::State& state, Who who) {
  Dataset& data = dataset(state.range(0));
  std::int64_t found = 0;
  std::size_t i = 0;
  data.store->read([&](StoreReader& reader) {
    for (auto _ : state) {
      const UserId user = user_for(data, who, i);
      const Timestamp start = data.slots[i % kSamples];
      const UserId users[] = {user};
      domain::Conflicts conflicts = reader.find_conflicts(users, start, start + kHour, 0, user);
      found += conflicts.total;
      benchmark::DoNotOptimize(conflicts);
      ++i;
    }
  });
  state.counters["conflicts/op"] =
      benchmark::Counter(static_cast<double>(found), benchmark::Counter::kAvgIterations);
}

// GET /api/events/{id}/'s read: one event with its owner's role.
void BM_FindEventFor(benchmark::State& state) {
  Dataset& data = dataset(state.range(0));
  std::size_t i = 0;
  data.store->read([&](StoreReader& reader) {
    for (auto _ : state) {
      const auto& [owner, id] = data.events[i++ % kSamples];
      std::optional<domain::EventView> view = reader.find_event_for(owner, id);
      if (!view) state.SkipWithError("a stored event was not found");
      benchmark::DoNotOptimize(view);
    }
  });
}

// The same read in a read transaction of its own, as one GET request runs it.
void BM_ReadFindEventFor(benchmark::State& state) {
  Dataset& data = dataset(state.range(0));
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& [owner, id] = data.events[i++ % kSamples];
    std::optional<domain::EventView> view;
    data.store->read([&](StoreReader& reader) { view = reader.find_event_for(owner, id); });
    if (!view) state.SkipWithError("a stored event was not found");
    benchmark::DoNotOptimize(view);
  }
}

// GET /api/events/?page=1&page_size=10 with the filters and ordering that `shape` sets: the page
// and the count of all matches. `count/op`: the average count.
void run_list(
    benchmark::State& state, Who who,
    const std::function<void(domain::EventListQuery&, const Dataset&, std::size_t)>& shape) {
  Dataset& data = dataset(state.range(0));
  std::int64_t counted = 0;
  std::size_t i = 0;
  data.store->read([&](StoreReader& reader) {
    for (auto _ : state) {
      domain::EventListQuery query;
      query.page = 1;
      query.page_size = 10;
      shape(query, data, i);
      domain::EventPage page = reader.list_events(user_for(data, who, i), query);
      counted += page.count;
      benchmark::DoNotOptimize(page);
      ++i;
    }
  });
  state.counters["count/op"] =
      benchmark::Counter(static_cast<double>(counted), benchmark::Counter::kAvgIterations);
}

// The default listing: every event of the caller, by id.
void BM_ListPage(benchmark::State& state, Who who) {
  run_list(state, who, [](domain::EventListQuery&, const Dataset&, std::size_t) {});
}

// &ordering=-id: the newest first.
void BM_ListPageNewest(benchmark::State& state, Who who) {
  run_list(state, who, [](domain::EventListQuery& query, const Dataset&, std::size_t) {
    query.descending = true;
  });
}

// &start=..&end=..: a random 7-day window (about 7/1096 of a user's events).
void BM_ListPageWindow(benchmark::State& state, Who who) {
  run_list(state, who, [](domain::EventListQuery& query, const Dataset& data, std::size_t i) {
    query.start = data.slots[i % kSamples];
    query.end = *query.start + 7 * kDay;
  });
}

// &start=..: every event from a random day on (about half of a user's events).
void BM_ListPageFrom(benchmark::State& state, Who who) {
  run_list(state, who, [](domain::EventListQuery& query, const Dataset& data, std::size_t i) {
    query.start = data.slots[i % kSamples];
  });
}

// &role=owner: every seeded event is its owner's, so the count is the user's events.
void BM_ListPageRole(benchmark::State& state, Who who) {
  run_list(state, who, [](domain::EventListQuery& query, const Dataset&, std::size_t) {
    query.role = domain::Role::kOwner;
  });
}

// &ordering=start_time: a non-default order over all of the caller's events.
void BM_ListPageByStart(benchmark::State& state, Who who) {
  run_list(state, who, [](domain::EventListQuery& query, const Dataset&, std::size_t) {
    query.order = domain::EventOrder::kStartTime;
  });
}

// &q=review: a substring search, which has to read every one of the caller's events.
void BM_ListPageSearch(benchmark::State& state, Who who) {
  run_list(state, who,
           [](domain::EventListQuery& query, const Dataset&, std::size_t) { query.q = "review"; });
}

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"events"})->Arg(kSmall)->Arg(kLarge)->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(BM_FindConflicts, busy_user, Who::kBusy)->Apply(sizes);
BENCHMARK_CAPTURE(BM_FindConflicts, quiet_user, Who::kQuiet)->Apply(sizes);
BENCHMARK(BM_FindEventFor)->Apply(sizes);
BENCHMARK(BM_ReadFindEventFor)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPage, busy_user, Who::kBusy)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPage, quiet_user, Who::kQuiet)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageNewest, busy_user, Who::kBusy)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageNewest, quiet_user, Who::kQuiet)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageWindow, busy_user, Who::kBusy)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageWindow, quiet_user, Who::kQuiet)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageFrom, busy_user, Who::kBusy)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageFrom, quiet_user, Who::kQuiet)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageRole, busy_user, Who::kBusy)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageRole, quiet_user, Who::kQuiet)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageByStart, busy_user, Who::kBusy)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageByStart, quiet_user, Who::kQuiet)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageSearch, busy_user, Who::kBusy)->Apply(sizes);
BENCHMARK_CAPTURE(BM_ListPageSearch, quiet_user, Who::kQuiet)->Apply(sizes);

// --- the ratio table ----------------------------------------------------------------------------

// Shows what the default display reporter shows, and remembers each operation's time per size
// for the summary printed at the end.
class RatioReporter final : public benchmark::BenchmarkReporter {
 public:
  explicit RatioReporter(benchmark::BenchmarkReporter* display) : display_(display) {}

  bool ReportContext(const Context& context) override { return display_->ReportContext(context); }

  void ReportRuns(const std::vector<Run>& runs) override {
    display_->ReportRuns(runs);
    // Each run's time per iteration; with --benchmark_repetitions the median of the repetitions
    // (an aggregate whose accumulated time is the median of the repetitions' totals).
    for (const Run& run : runs) {
      if (run.error_occurred || run.iterations == 0) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      const std::string& args = run.run_name.args;  // "events:1000"
      const std::size_t colon = args.find(':');
      if (colon == std::string::npos) continue;
      const std::int64_t size = std::stoll(args.substr(colon + 1));
      Sum& sum = (median ? medians_ : sums_)[run.run_name.function_name][size];
      sum.seconds += run.real_accumulated_time;
      sum.iterations += static_cast<double>(run.iterations);
      if (std::find(order_.begin(), order_.end(), run.run_name.function_name) == order_.end()) {
        order_.push_back(run.run_name.function_name);
      }
    }
  }

  void Finalize() override {
    display_->Finalize();
    std::FILE* out = stdout;
    std::fflush(out);
    std::fprintf(out,
                 "\nScale: real time per operation with 1,000 and with 1,000,000 events "
                 "stored; ratio = 1M / 1k (issue 6 target 5: <= 1.5)\n");
    std::fprintf(out, "%-36s %12s %12s %8s\n", "operation", "1,000", "1,000,000", "ratio");
    for (const std::string& name : order_) {
      const auto& by_size = medians_.contains(name) ? medians_[name] : sums_[name];
      const auto small = by_size.find(kSmall);
      const auto large = by_size.find(kLarge);
      const auto us = [](const Sum& s) { return s.seconds / s.iterations * 1e6; };
      char small_text[32] = "-", large_text[32] = "-", ratio_text[32] = "-";
      if (small != by_size.end()) std::snprintf(small_text, 32, "%.2f us", us(small->second));
      if (large != by_size.end()) std::snprintf(large_text, 32, "%.2f us", us(large->second));
      if (small != by_size.end() && large != by_size.end()) {
        std::snprintf(ratio_text, 32, "%.2f", us(large->second) / us(small->second));
      }
      std::fprintf(out, "%-36s %12s %12s %8s\n", name.c_str(), small_text, large_text, ratio_text);
    }
    for (const auto& [size, data] : datasets()) {
      std::fprintf(out,
                   "seeding %" PRId64 " events: %.1f s (%.0f events/s, write() jobs of %" PRId64
                   "); database %.0f MB\n",
                   size + kQuietEvents, data->seed_seconds,
                   static_cast<double>(size) / data->seed_seconds, kEventsPerJob,
                   static_cast<double>(data->database_bytes) / 1e6);
    }
    std::fflush(out);
  }

 private:
  struct Sum {
    double seconds = 0;
    double iterations = 0;
  };
  benchmark::BenchmarkReporter* display_;
  std::map<std::string, std::map<std::int64_t, Sum>> sums_;     // every run: the mean
  std::map<std::string, std::map<std::int64_t, Sum>> medians_;  // --benchmark_repetitions
  std::vector<std::string> order_;
};

}  // namespace
}  // namespace almanac::store

int main(int argc, char** argv) {
  // The summary is text: leave machine formats alone.
  bool summary = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--benchmark_format=") && arg != "--benchmark_format=console") {
      summary = false;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  for (const int signum : {SIGINT, SIGTERM, SIGHUP}) {
    ::signal(signum, almanac::store::remove_databases_and_die);
  }
  int status = 0;
  try {
    if (summary) {
      almanac::store::RatioReporter reporter(benchmark::CreateDefaultDisplayReporter());
      benchmark::RunSpecifiedBenchmarks(&reporter);
    } else {
      benchmark::RunSpecifiedBenchmarks();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "event_store_bench: %s\n", e.what());
    status = 1;
  }
  benchmark::Shutdown();
  almanac::store::datasets().clear();  // closes the stores, removes the temporary directories
  return status;
}
