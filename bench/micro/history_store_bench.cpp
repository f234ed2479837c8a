// Scale of the version history: the store's reads behind GET /api/events/{id}/history/ (page 1,
// a deep page, unpaged), /history/{history_id}/, /diff/{a}/{b}/ and /changelog/, and the write of
// POST /rollback/{history_id}/, for an event with 3 versions, one with 1,000 and one with 100,000
// (issue 5: "History, version, diff and rollback cost the same whether an event has 3 versions or
// 100,000"; issue 6: a benchmark that prints ratios).
//
// One SQLite store (a temporary directory, removed at exit and on Ctrl-C) is seeded once, on first
// use, through Store::write() like the server's writes: the three measured events of one user
// ("historian", on days of their own in 2030), and 50,000 events of 100 other users with
// kOtherVersionsEach versions each: about 550,000 versions in all, seeded in about 2 minutes here
// (--other_events=100000: 1,000,000 versions in about 3.5 minutes). Every change after the '+'
// versions is an update_event of its own; the measured events' changes are spread evenly among
// the others' rounds, so the 100,000 versions of the big event lie among the others' rows (as
// years of use would leave them), not in one run of the table.
//
// The reads run inside one open read transaction (Store::read), so that what is timed is the
// store's queries (and, where the service does it, the domain diff), not BEGIN/COMMIT; the
// BM_Service* rows call the service as a request does (a read transaction of its own, the access
// check). BM_Rollback is the service's rollback job (access check, the version, the conflict rule,
// the update and its new version) queued through Store::write() and awaited until it is durable
// (synchronous=FULL): it includes a commit and an fsync. Rollbacks append versions, so they run
// last, and the measured events have a few hundred versions more at the end than their names say.
//
// At the end the program prints each operation's time per event and the ratios (unless
// --benchmark_format is json/csv), then EXPLAIN QUERY PLAN of the version queries.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
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
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "domain/event.hpp"
#include "domain/event_view.hpp"
#include "domain/history.hpp"
#include "domain/role.hpp"
#include "domain/time.hpp"
#include "domain/user.hpp"
#include "service/access.hpp"
#include "service/event_change.hpp"
#include "service/history_service.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"

namespace almanac::store {
namespace {

using domain::EventFields;
using domain::EventId;
using domain::HistoryId;
using domain::Timestamp;
using domain::UserId;

constexpr Timestamp kMinute = 60 * domain::kMicrosecondsPerSecond;
constexpr Timestamp kHour = 60 * kMinute;
constexpr Timestamp kDay = domain::kMicrosecondsPerDay;

// Runs one of the service's use cases (an awaitable) to its end on this thread, as an I/O thread
// does: on SQLite its read runs inline, so the coroutine never waits. The coroutine's start and
// this io_context's run add about a microsecond to what the Service* rows time.
template <typename T>
T run_use_case(boost::asio::awaitable<T> use_case) {
  static boost::asio::io_context io(1);
  std::optional<T> result;
  std::exception_ptr error;
  boost::asio::co_spawn(io, std::move(use_case), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result.emplace(std::move(value));
  });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

// The measured events, by their number of versions (the benchmarks' argument).
constexpr std::array<std::int64_t, 3> kMeasured = {3, 1'000, 100'000};

constexpr int kOtherUsers = 100;
constexpr std::int64_t kDefaultOtherEvents = 50'000;
constexpr std::int64_t kOtherVersionsEach = 9;  // the '+' and 8 changes
constexpr std::int64_t kChangesPerJob = 100;    // inserts or updates per write() job
constexpr std::size_t kJobsInFlight = 100;
constexpr int kDays = 3 * 365 + 1;      // the other events: 2024-01-01 .. 2026-12-31
constexpr std::size_t kSamples = 4096;  // precomputed random inputs, cycled (a power of two)
constexpr std::int64_t kPageSize = 10;
constexpr std::chrono::minutes kWriteHangGuard{10};

// The other users' events (--other_events=N, a multiple of kChangesPerJob).
std::int64_t g_other_events = kDefaultOtherEvents;

constexpr std::array<std::string_view, 8> kTitles = {"Standup",       "1:1 with manager",
                                                     "Design review", "Sprint planning",
                                                     "Customer call", "Lunch",
                                                     "Interview",     "Quarterly business review"};
constexpr std::array<std::string_view, 5> kLocations = {"", "Zoom", "Room 4.12", "Cafeteria",
                                                        "Google Meet"};

Timestamp day_start(int year, int month, int day) {
  return domain::from_civil({year, month, day, 0, 0, 0, 0}).value();
}

// A plausible event of the other users: 30 min - 3 h in working hours of 2024-2026.
EventFields random_event(std::mt19937_64& random) {
  const auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
  };
  static const Timestamp first_day = day_start(2024, 1, 1);
  EventFields f;
  f.title = kTitles[pick(kTitles.size())];
  if (pick(3) == 0) f.description = "Agenda in the shared doc; bring the numbers from last week.";
  f.location = kLocations[pick(kLocations.size())];
  f.start_time = first_day + static_cast<Timestamp>(pick(kDays)) * kDay +
                 static_cast<Timestamp>(28 + pick(52)) * 15 * kMinute;
  f.end_time = f.start_time + static_cast<Timestamp>(2 + pick(11)) * 15 * kMinute;
  return f;
}

// Revision `n` (>= 2) of an event first stored as `base`: a new title every time, another place
// every 3rd, other hours (on the same day) every 7th, so that diffs find one to three fields.
EventFields revision(const EventFields& base, std::int64_t n) {
  EventFields f = base;
  f.title = base.title + " (rev " + std::to_string(n) + ")";
  if (n % 3 == 0) f.location = kLocations[static_cast<std::size_t>(n / 3) % kLocations.size()];
  const Timestamp shift = static_cast<Timestamp>((n / 7) % 6) * kHour;
  f.start_time = base.start_time + shift;
  f.end_time = base.end_time + shift;
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

// Runs `count` jobs, job(i) for i in [0, count), keeping kJobsInFlight queued so that the writer
// gathers many into one transaction; waits for all, then rethrows the first failure. The jobs
// run one after another on the writer's thread.
void write_pipelined(Store& store, std::int64_t count,
                     const std::function<void(StoreWriter&, std::int64_t)>& job) {
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
  for (std::int64_t i = 0; i < count && !failure; ++i) {
    in_flight.push_back(queue_write(store, [&job, i](StoreWriter& w) { job(w, i); }));
    if (in_flight.size() >= kJobsInFlight) await_oldest();
  }
  while (!in_flight.empty()) await_oldest();  // also after a failure: the jobs use our locals
  if (failure) std::rethrow_exception(failure);
}

// --- the temporary database, and its removal on Ctrl-C ------------------------------------------

// Paths removed by the signal handler (unlink and rmdir only: async-signal-safe). Fixed storage,
// filled before the database exists.
struct CleanupPaths {
  std::array<char, 512> dir{}, db{}, wal{}, shm{};
};
CleanupPaths g_cleanup;
volatile sig_atomic_t g_cleanup_set = 0;

void copy_path(std::array<char, 512>& to, const std::string& from) {
  if (from.size() >= to.size()) throw std::runtime_error("temporary path too long: " + from);
  std::memcpy(to.data(), from.c_str(), from.size() + 1);
}

extern "C" void remove_database_and_die(int signum) {
  if (g_cleanup_set) {
    ::unlink(g_cleanup.wal.data());
    ::unlink(g_cleanup.shm.data());
    ::unlink(g_cleanup.db.data());
    ::rmdir(g_cleanup.dir.data());
  }
  ::signal(signum, SIG_DFL);
  ::raise(signum);
}

// An event whose versions the seeding writes: what it needs to write the next one.
struct Tracked {
  EventId id = 0;
  UserId owner = 0;
  EventFields base;
  std::int64_t version = 1;  // the event's version; also its number of versions while seeding
};

// One measured event: its id and the history ids of its versions by position.
struct Measured {
  EventId id = 0;
  std::vector<HistoryId> history_ids;   // [position - 1], as seeded
  std::vector<std::int64_t> positions;  // kSamples random positions in [1, versions]
};

// The seeded store, kept for the whole run.
struct Dataset {
  std::filesystem::path dir;
  std::string db;
  std::unique_ptr<sqlite::SqliteStore> store;
  domain::User historian;                         // owns the measured events
  std::map<std::int64_t, Measured> measured;      // by number of versions
  std::int64_t versions = 0;                      // all versions stored
  double insert_seconds = 0, update_seconds = 0;  // seeding
  std::uintmax_t database_bytes = 0;

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

std::unique_ptr<Dataset>& dataset_slot() {
  static std::unique_ptr<Dataset> data;
  return data;
}

std::unique_ptr<Dataset> seed() {
  auto data = std::make_unique<Dataset>();
  std::string pattern =
      (std::filesystem::temp_directory_path() / "almanac-history-store-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  data->dir = pattern;
  data->db = (data->dir / "almanac.db").string();
  copy_path(g_cleanup.dir, pattern);
  copy_path(g_cleanup.db, data->db);
  copy_path(g_cleanup.wal, data->db + "-wal");
  copy_path(g_cleanup.shm, data->db + "-shm");
  g_cleanup_set = 1;

  const auto began = std::chrono::steady_clock::now();
  data->store = std::make_unique<sqlite::SqliteStore>(sqlite::SqliteOptions{.path = data->db});
  Store& store = *data->store;
  std::vector<UserId> others;
  write_or_throw(store, [&](StoreWriter& w) {
    for (int i = 0; i < kOtherUsers; ++i) {
      if (i == kOtherUsers / 2) {
        data->historian = w.insert_user({"historian", "historian@example.com", "$argon2id$bench"});
      }
      const std::string name = "user" + std::to_string(i);
      others.push_back(w.insert_user({name, name + "@example.com", "$argon2id$bench"}).id);
    }
  });

  // The '+' versions: the other events, with the measured ones in the middle of their ids.
  // tracked[0 .. kMeasured.size()) are the measured events, on days of their own in 2030 (9:00,
  // one hour; the revisions move them within that day only: a rollback never meets a conflict).
  std::mt19937_64 random(20250427);
  std::vector<Tracked> tracked(kMeasured.size() + static_cast<std::size_t>(g_other_events));
  for (std::size_t m = 0; m < kMeasured.size(); ++m) {
    Tracked& t = tracked[m];
    t.owner = data->historian.id;
    t.base.title = "Quarterly business review";
    t.base.description = "The event whose history is measured";
    t.base.location = "Room 4.12";
    t.base.start_time = day_start(2030, 1 + static_cast<int>(m), 1) + 9 * kHour;
    t.base.end_time = t.base.start_time + kHour;
  }
  for (std::size_t i = kMeasured.size(); i < tracked.size(); ++i) {
    tracked[i].owner = others[i % others.size()];
    tracked[i].base = random_event(random);
  }
  const std::int64_t middle_job = g_other_events / kChangesPerJob / 2;
  write_pipelined(store, g_other_events / kChangesPerJob, [&](StoreWriter& w, std::int64_t job) {
    if (job == middle_job) {
      for (std::size_t m = 0; m < kMeasured.size(); ++m) {
        tracked[m].id =
            w.insert_event(tracked[m].owner, tracked[m].base, {tracked[m].owner, {}}).id;
      }
    }
    const std::size_t first = kMeasured.size() + static_cast<std::size_t>(job * kChangesPerJob);
    for (std::size_t i = first; i < first + kChangesPerJob; ++i) {
      tracked[i].id = w.insert_event(tracked[i].owner, tracked[i].base, {tracked[i].owner, {}}).id;
    }
  });
  const auto inserted = std::chrono::steady_clock::now();
  data->insert_seconds = std::chrono::duration<double>(inserted - began).count();

  // The '~' versions, each an update_event of its own: kOtherVersionsEach - 1 rounds over the
  // other events in id order, with the measured events' changes spread evenly among them, so that
  // the big event's versions are about one row in ten of the table from its first to its last.
  // (A shuffled order stores the same rows, but seeded 1.4x slower here: every update then
  // lands on another page of the events table and its indexes.)
  const auto other_changes = static_cast<std::uint64_t>(g_other_events * (kOtherVersionsEach - 1));
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order;  // (place, index in `tracked`)
  order.reserve(static_cast<std::size_t>(other_changes) + static_cast<std::size_t>(kMeasured[1]) +
                static_cast<std::size_t>(kMeasured[2]));
  for (std::uint64_t k = 0; k < other_changes; ++k) {
    const auto i = kMeasured.size() + static_cast<std::size_t>(k % g_other_events);
    order.emplace_back(k * 4 + 3, static_cast<std::uint32_t>(i));
  }
  for (std::size_t m = 0; m < kMeasured.size(); ++m) {
    const auto changes = static_cast<std::uint64_t>(kMeasured[m] - 1);
    for (std::uint64_t k = 0; k < changes; ++k) {
      const std::uint64_t before =
          (2 * k + 1) * other_changes / (2 * changes);  // the k-th of `changes`
      order.emplace_back(before * 4 + m, static_cast<std::uint32_t>(m));
    }
  }
  std::sort(order.begin(), order.end());
  std::vector<std::uint32_t> plan;
  plan.reserve(order.size());
  for (const auto& [place, index] : order) plan.push_back(index);
  order = {};
  const auto jobs = static_cast<std::int64_t>((plan.size() + kChangesPerJob - 1) / kChangesPerJob);
  write_pipelined(store, jobs, [&](StoreWriter& w, std::int64_t job) {
    const auto first = static_cast<std::size_t>(job * kChangesPerJob);
    const std::size_t last = std::min(plan.size(), first + kChangesPerJob);
    for (std::size_t k = first; k < last; ++k) {
      Tracked& t = tracked[plan[k]];
      t.version += 1;
      const std::optional<std::string> reason =
          t.version % 5 == 0 ? std::optional<std::string>("seeded by the benchmark") : std::nullopt;
      w.update_event(t.id, revision(t.base, t.version), t.version, {t.owner, reason});
    }
  });
  data->update_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - inserted).count();
  data->versions = static_cast<std::int64_t>(tracked.size() + plan.size());

  std::error_code ignored;
  for (const char* suffix : {"", "-wal"}) {
    const auto bytes = std::filesystem::file_size(data->db + suffix, ignored);
    if (!ignored) data->database_bytes += bytes;
  }

  std::mt19937_64 pick(7);
  store.read([&](StoreReader& reader) {
    for (std::size_t m = 0; m < kMeasured.size(); ++m) {
      Measured& measured = data->measured[kMeasured[m]];
      measured.id = tracked[m].id;
      const std::int64_t count = reader.count_versions(measured.id);
      if (count != kMeasured[m]) {
        throw std::runtime_error("seeded " + std::to_string(count) + " versions, expected " +
                                 std::to_string(kMeasured[m]));
      }
      for (const domain::EventVersion& v : reader.versions_at(measured.id, 1, count)) {
        measured.history_ids.push_back(v.history_id);
      }
      std::uniform_int_distribution<std::int64_t> any(1, count);
      for (std::size_t i = 0; i < kSamples; ++i) measured.positions.push_back(any(pick));
    }
  });
  std::fprintf(stderr,
               "history_store_bench: seeded %" PRId64 " versions (%" PRId64 " events: %" PRId64
               " of 100 users x %" PRId64
               " versions, + 3 with 3, 1,000 and 100,000) in %.1f s "
               "(%.1f s inserts, %.1f s updates); database %.0f MB in %s\n",
               data->versions, static_cast<std::int64_t>(tracked.size()), g_other_events,
               kOtherVersionsEach, data->insert_seconds + data->update_seconds,
               data->insert_seconds, data->update_seconds,
               static_cast<double>(data->database_bytes) / 1e6, data->dir.c_str());
  std::fflush(stderr);
  return data;
}

Dataset& dataset() {
  std::unique_ptr<Dataset>& data = dataset_slot();
  if (!data) data = seed();
  return *data;
}

// The measured event with state.range(0) versions.
Measured& measured_event(benchmark::State& state) { return dataset().measured.at(state.range(0)); }

// --- the reads, in one open read transaction ----------------------------------------------------

// The count every history and changelog page starts with.
void BM_CountVersions(benchmark::State& state) {
  Dataset& data = dataset();
  const Measured& event = measured_event(state);
  data.store->read([&](StoreReader& reader) {
    for (auto _ : state) benchmark::DoNotOptimize(reader.count_versions(event.id));
  });
}

// GET /history/ as HistoryService::history reads it: the count, then the versions of the window.
// `rows/op`: versions returned.
void run_history(benchmark::State& state, const domain::VersionWindow& window) {
  Dataset& data = dataset();
  const Measured& event = measured_event(state);
  std::int64_t rows = 0;
  data.store->read([&](StoreReader& reader) {
    for (auto _ : state) {
      const std::int64_t count = reader.count_versions(event.id);
      const domain::PositionRange range = domain::history_positions(window, count);
      std::vector<domain::EventVersion> versions =
          reader.versions_at(event.id, range.first, range.last);
      rows += static_cast<std::int64_t>(versions.size());
      benchmark::DoNotOptimize(versions);
    }
  });
  state.counters["rows/op"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kAvgIterations);
}

// ?page=1&page_size=10: the newest 10.
void BM_HistoryFirstPage(benchmark::State& state) {
  run_history(state, {.paged = true, .page = 1, .page_size = kPageSize});
}

// ?page=<last>&page_size=10: the oldest versions, as deep as the history goes.
void BM_HistoryLastPage(benchmark::State& state) {
  const std::int64_t pages = (state.range(0) + kPageSize - 1) / kPageSize;
  run_history(state, {.paged = true, .page = pages, .page_size = kPageSize});
}

// No page: the newest kMaxUnpagedVersions (1,000). The 3-version event returns 3 rows: compare
// 100,000 with 1,000 for this one.
void BM_HistoryUnpaged(benchmark::State& state) { run_history(state, {}); }

// GET /history/{history_id}/: a random version of the event.
void BM_FindVersion(benchmark::State& state) {
  Dataset& data = dataset();
  const Measured& event = measured_event(state);
  std::size_t i = 0;
  data.store->read([&](StoreReader& reader) {
    for (auto _ : state) {
      const std::int64_t position = event.positions[i++ % kSamples];
      std::optional<domain::EventVersion> version =
          reader.find_version(event.id, event.history_ids[static_cast<std::size_t>(position - 1)]);
      if (!version) state.SkipWithError("a stored version was not found");
      benchmark::DoNotOptimize(version);
    }
  });
}

// GET /diff/{a}/{b}/: two random versions and the fields that differ. `fields/op`: how many.
void BM_Diff(benchmark::State& state) {
  Dataset& data = dataset();
  const Measured& event = measured_event(state);
  std::size_t i = 0;
  std::int64_t fields = 0;
  data.store->read([&](StoreReader& reader) {
    for (auto _ : state) {
      const auto position_a = static_cast<std::size_t>(event.positions[i % kSamples]);
      const auto position_b = static_cast<std::size_t>(event.positions[(i + 1) % kSamples]);
      ++i;
      std::optional<domain::EventVersion> a =
          reader.find_version(event.id, event.history_ids[position_a - 1]);
      std::optional<domain::EventVersion> b =
          reader.find_version(event.id, event.history_ids[position_b - 1]);
      if (!a || !b) {
        state.SkipWithError("a stored version was not found");
        break;
      }
      std::vector<std::string> changed = domain::changed_fields(a->fields, b->fields);
      fields += static_cast<std::int64_t>(changed.size());
      benchmark::DoNotOptimize(changed);
    }
  });
  state.counters["fields/op"] =
      benchmark::Counter(static_cast<double>(fields), benchmark::Counter::kAvgIterations);
}

// GET /changelog/?page=<last>&page_size=10 as HistoryService::changelog reads it: the count, the
// page's versions and the one before it (11 rows), and each entry's changed fields.
void BM_ChangelogLastPage(benchmark::State& state) {
  Dataset& data = dataset();
  const Measured& event = measured_event(state);
  const domain::VersionWindow window{
      .paged = true, .page = (state.range(0) + kPageSize - 1) / kPageSize, .page_size = kPageSize};
  std::int64_t rows = 0;
  data.store->read([&](StoreReader& reader) {
    for (auto _ : state) {
      const std::int64_t count = reader.count_versions(event.id);
      const domain::PositionRange range = domain::changelog_positions(window, count);
      std::vector<domain::EventVersion> versions =
          reader.versions_at(event.id, std::max<std::int64_t>(1, range.first - 1), range.last);
      rows += static_cast<std::int64_t>(versions.size());
      const std::size_t first = range.first > 1 ? 1 : 0;
      std::vector<domain::ChangelogEntry> entries;
      entries.reserve(versions.size() - first);
      for (std::size_t k = first; k < versions.size(); ++k) {
        domain::ChangelogEntry entry;
        if (k > 0) {
          entry.changed = domain::changed_fields(versions[k - 1].fields, versions[k].fields);
          entry.before = versions[k - 1].fields;
        }
        entry.version = versions[k];
        entries.push_back(std::move(entry));
      }
      benchmark::DoNotOptimize(entries);
    }
  });
  state.counters["rows/op"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kAvgIterations);
}

// --- as a request runs them: the service, a read transaction of its own -------------------------

// GET /history/?page=1&page_size=10 through HistoryService (access check included).
void BM_ServiceHistoryFirstPage(benchmark::State& state) {
  Dataset& data = dataset();
  const Measured& event = measured_event(state);
  service::HistoryService history(*data.store);
  for (auto _ : state) {
    domain::VersionPage page = run_use_case(
        history.history(data.historian, event.id, {.paged = true, .page = 1, .page_size = 10}));
    benchmark::DoNotOptimize(page);
  }
}

// GET /diff/{a}/{b}/ through HistoryService, then the fields that differ.
void BM_ServiceDiff(benchmark::State& state) {
  Dataset& data = dataset();
  const Measured& event = measured_event(state);
  service::HistoryService history(*data.store);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto position_a = static_cast<std::size_t>(event.positions[i % kSamples]);
    const auto position_b = static_cast<std::size_t>(event.positions[(i + 1) % kSamples]);
    ++i;
    auto [a, b] =
        run_use_case(history.diff(data.historian, event.id, event.history_ids[position_a - 1],
                                  event.history_ids[position_b - 1]));
    std::vector<std::string> changed = domain::changed_fields(a.fields, b.fields);
    benchmark::DoNotOptimize(changed);
  }
}

// POST /rollback/{history_id}/: HistoryService::rollback's write job (access check, the version,
// If-Match, the conflict rule when the times move, the update and its '~' version), queued through
// Store::write() and awaited until its commit is durable. Each target differs from the one before,
// so no rollback is a no-op. Appends one version per iteration: runs last.
void BM_Rollback(benchmark::State& state) {
  Dataset& data = dataset();
  const Measured& event = measured_event(state);
  const auto versions = static_cast<std::int64_t>(event.history_ids.size());
  std::size_t i = 0;
  std::int64_t previous = 0;
  for (auto _ : state) {
    std::int64_t position = event.positions[i++ % kSamples];
    if (position == previous) position = position % versions + 1;
    previous = position;
    const HistoryId target_id = event.history_ids[static_cast<std::size_t>(position - 1)];
    write_or_throw(*data.store, [&](StoreWriter& writer) {
      domain::EventView current =
          service::require_access(writer, data.historian, event.id, domain::Action::kEdit);
      std::optional<domain::EventVersion> target = writer.find_version(event.id, target_id);
      if (!target) throw std::runtime_error("a stored version was not found");
      service::WriteOptions options;
      service::require_precondition(options, current);
      options.change_reason = domain::rollback_reason(target_id);
      domain::EventView stored = service::store_change(writer, data.historian, std::move(current),
                                                       std::move(target->fields), options);
      benchmark::DoNotOptimize(stored);
    });
  }
}

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"versions"})->Unit(benchmark::kMicrosecond);
  for (const std::int64_t versions : kMeasured) b->Arg(versions);
}

BENCHMARK(BM_CountVersions)->Apply(sizes);
BENCHMARK(BM_HistoryFirstPage)->Apply(sizes);
BENCHMARK(BM_HistoryLastPage)->Apply(sizes);
BENCHMARK(BM_HistoryUnpaged)->Apply(sizes);
BENCHMARK(BM_FindVersion)->Apply(sizes);
BENCHMARK(BM_Diff)->Apply(sizes);
BENCHMARK(BM_ChangelogLastPage)->Apply(sizes);
BENCHMARK(BM_ServiceHistoryFirstPage)->Apply(sizes);
BENCHMARK(BM_ServiceDiff)->Apply(sizes);
BENCHMARK(BM_Rollback)->Apply(sizes)->UseRealTime();

// --- the query plans ----------------------------------------------------------------------------

// The version queries as src/store/sqlite/sqlite_store.cpp issues them (copied: keep in step),
// and the access check every history endpoint starts with.
constexpr std::string_view kVersionSelect =
    "SELECT v.history_id, v.event_id, v.version, v.history_type, v.history_date, v.changed_by, "
    "u.username, v.change_reason, v.owner_id, v.title, v.description, v.start_time, "
    "v.end_time, v.location, v.is_recurring, v.recurrence_pattern "
    "FROM event_versions v LEFT JOIN users u ON u.id = v.changed_by ";

struct PlannedQuery {
  std::string_view name;
  std::string sql;
};

std::vector<PlannedQuery> version_queries() {
  return {
      {"find_version", std::string(kVersionSelect) + "WHERE v.history_id = ?2 AND v.event_id = ?1"},
      {"count_versions",
       "SELECT position FROM event_versions WHERE event_id = ?1 ORDER BY position DESC LIMIT 1"},
      {"versions_at", std::string(kVersionSelect) +
                          "WHERE v.event_id = ?1 AND v.position BETWEEN ?2 AND ?3 "
                          "ORDER BY v.position"},
      {"append_version (update_event, delete_event)",
       "INSERT INTO event_versions (event_id, position, history_id, version, history_type, "
       "history_date, changed_by, change_reason, owner_id, title, description, start_time, "
       "end_time, location, is_recurring, recurrence_pattern) "
       "SELECT e.id, coalesce((SELECT position FROM event_versions WHERE event_id = e.id "
       "ORDER BY position DESC LIMIT 1), 0) + 1, "
       "(SELECT coalesce(max(history_id), 0) + 1 FROM event_versions), e.version, ?2, ?3, ?4, "
       "?5, e.owner_id, e.title, e.description, e.start_time, e.end_time, e.location, "
       "e.is_recurring, e.recurrence_pattern FROM events e WHERE e.id = ?1"},
      {"find_event_for (the access check)",
       "SELECT e.id, e.owner_id, e.title, e.description, e.start_time, e.end_time, e.location, "
       "e.is_recurring, e.recurrence_pattern, e.version, p.role "
       "FROM event_participants p JOIN events e ON e.id = p.event_id "
       "WHERE p.user_id = ?1 AND p.event_id = ?2"},
  };
}

// A plan step that reads a whole table or index ("SCAN t", not "SCAN CONSTANT ROW").
bool is_scan(std::string_view detail) {
  return detail.starts_with("SCAN ") && detail != "SCAN CONSTANT ROW";
}

// Prints EXPLAIN QUERY PLAN of each version query on the seeded database, indented as SQLite
// nests it, and says which steps scan. Returns the number of scanning steps.
int print_query_plans(std::FILE* out, const std::string& db) {
  sqlite::Connection connection(db, false);
  int scans = 0;
  std::fprintf(out,
               "\nEXPLAIN QUERY PLAN of the version queries (SQL as sqlite_store.cpp has it):\n");
  for (const PlannedQuery& query : version_queries()) {
    std::fprintf(out, "%.*s\n", static_cast<int>(query.name.size()), query.name.data());
    auto plan = connection.prepare_dynamic("EXPLAIN QUERY PLAN " + query.sql);
    std::map<std::int64_t, int> depth;  // step id -> depth
    while (plan->step()) {
      const std::int64_t id = plan->column_int(0);
      const std::int64_t parent = plan->column_int(1);
      const std::string detail = plan->column_text(3);
      const int level = depth.contains(parent) ? depth[parent] + 1 : 1;
      depth[id] = level;
      const bool scan = is_scan(detail);
      scans += scan ? 1 : 0;
      std::fprintf(out, "%*s%s%s\n", 2 * level, "", detail.c_str(), scan ? "   <-- SCAN" : "");
    }
  }
  if (scans == 0) {
    std::fprintf(out, "no step scans: every step is a search of an index or the primary key\n");
  } else {
    std::fprintf(out, "%d step(s) scan a table or an index\n", scans);
  }
  return scans;
}

// --- the ratio table ----------------------------------------------------------------------------

// Shows what the default display reporter shows, and remembers each operation's time per event
// for the summary printed at the end.
class RatioReporter final : public benchmark::BenchmarkReporter {
 public:
  explicit RatioReporter(benchmark::BenchmarkReporter* display) : display_(display) {}

  bool ReportContext(const Context& context) override { return display_->ReportContext(context); }

  void ReportRuns(const std::vector<Run>& runs) override {
    display_->ReportRuns(runs);
    // Each run's time per iteration; with --benchmark_repetitions the median of the repetitions.
    for (const Run& run : runs) {
      if (run.error_occurred || run.iterations == 0) continue;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type != Run::RT_Iteration && !median) continue;
      const std::string& args = run.run_name.args;  // "versions:3"
      const std::size_t colon = args.find(':');
      if (colon == std::string::npos) continue;
      const std::int64_t versions = std::stoll(args.substr(colon + 1));
      Sum& sum = (median ? medians_ : sums_)[run.run_name.function_name][versions];
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
                 "\nHistory scale: real time per operation on an event with 3, 1,000 and 100,000 "
                 "versions, among %" PRId64
                 " versions stored\n"
                 "ratio = 100,000 / 3 (issue 5: the same cost; target <= 1.5); pages of 10 return "
                 "3 rows at 3 versions and 10 at the others,\nunpaged returns 3 / 1,000 / 1,000: "
                 "read those rows by the 100,000 / 1,000 ratio (the same rows returned)\n",
                 dataset_slot() ? dataset_slot()->versions : std::int64_t{0});
    std::fprintf(out, "%-28s %12s %15s %17s %8s %15s\n", "scenario", "3 versions", "1,000 versions",
                 "100,000 versions", "ratio", "100,000 / 1,000");
    for (const std::string& name : order_) {
      const auto& by_size = medians_.contains(name) ? medians_[name] : sums_[name];
      std::array<char[32], 3> text{{"-", "-", "-"}};
      std::array<double, 3> us{};
      for (std::size_t k = 0; k < kMeasured.size(); ++k) {
        const auto found = by_size.find(kMeasured[k]);
        us[k] = found == by_size.end() ? 0 : found->second.seconds / found->second.iterations * 1e6;
        if (us[k] > 0) std::snprintf(text[k], sizeof text[k], "%.2f us", us[k]);
      }
      char ratio[32] = "-", ratio_some[32] = "-";
      if (us[0] > 0 && us[2] > 0) std::snprintf(ratio, sizeof ratio, "%.2f", us[2] / us[0]);
      if (us[1] > 0 && us[2] > 0)
        std::snprintf(ratio_some, sizeof ratio_some, "%.2f", us[2] / us[1]);
      const std::string label = name.starts_with("BM_") ? name.substr(3) : name;
      std::fprintf(out, "%-28s %12s %15s %17s %8s %15s\n", label.c_str(), text[0], text[1], text[2],
                   ratio, ratio_some);
    }
    if (const auto& data = dataset_slot()) {
      std::fprintf(
          out,
          "seeding %" PRId64 " versions: %.1f s (%.1f s for %" PRId64
          " '+' versions in jobs of %" PRId64 ", %.1f s for the updates in jobs of %" PRId64
          ", %.0f updates/s); database %.0f MB\n",
          data->versions, data->insert_seconds + data->update_seconds, data->insert_seconds,
          g_other_events + 3, kChangesPerJob, data->update_seconds, kChangesPerJob,
          static_cast<double>(data->versions - g_other_events - 3) / data->update_seconds,
          static_cast<double>(data->database_bytes) / 1e6);
      print_query_plans(out, data->db);
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
  // --other_events=N is ours: taken out before Google Benchmark reads the rest.
  bool summary = true;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--benchmark_format=") && arg != "--benchmark_format=console") {
      summary = false;
    }
    constexpr std::string_view kOtherEventsFlag = "--other_events=";
    if (arg.starts_with(kOtherEventsFlag)) {
      const std::string value(arg.substr(kOtherEventsFlag.size()));
      char* end = nullptr;
      const long long count = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || count < almanac::store::kChangesPerJob ||
          count % almanac::store::kChangesPerJob != 0 || count > 10'000'000) {
        std::fprintf(stderr,
                     "history_store_bench: --other_events must be a multiple of %" PRId64
                     " from %" PRId64 " to 10000000\n",
                     almanac::store::kChangesPerJob, almanac::store::kChangesPerJob);
        return 1;
      }
      almanac::store::g_other_events = count;
      continue;
    }
    argv[kept++] = argv[i];
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  for (const int signum : {SIGINT, SIGTERM, SIGHUP}) {
    ::signal(signum, almanac::store::remove_database_and_die);
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
    std::fprintf(stderr, "history_store_bench: %s\n", e.what());
    status = 1;
  }
  benchmark::Shutdown();
  almanac::store::dataset_slot().reset();  // closes the store, removes the temporary directory
  return status;
}
