// The writer's side of the event writes, at the store: one create (insert_event), one update
// that moves the event in time, one share (set_participant) and its removal, each as one
// Store::write() job on a SQLite store that holds 10,000 events of 100 users.
//
// Every job is awaited before the next is queued, so each is its own transaction, as an isolated
// request's is. Durability "normal" (no fsync at commit) keeps the disk out of the figure: what is
// measured is the writer's CPU, which bounds the server's write throughput once group commit has
// made the fsync cheap (issue 6's create profile: the writer thread saturated).
//
// Times are real time per operation. For a figure that does not move with the machine's load,
// count instructions with callgrind over a fixed number of operations, e.g.
//   valgrind --tool=callgrind build/release/bench/write_store_bench
//     --benchmark_filter='BM_Create/iterations:2000/'
// and read callgrind_annotate --inclusive=yes: the job's lambda (Fixture::create) is the work of
// the statements, SqliteStore::run_group minus the Fixture() lambda is the writer's whole work,
// commits included. (--toggle-collect on run_group gave counts that changed from run to run.)
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "domain/event.hpp"
#include "domain/history.hpp"
#include "domain/role.hpp"
#include "domain/time.hpp"
#include "domain/user.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"
#include "write_or_throw.hpp"

namespace almanac::store {
namespace {

using domain::EventFields;
using domain::EventId;
using domain::Timestamp;
using domain::UserId;

constexpr Timestamp kHour = 3600 * domain::kMicrosecondsPerSecond;
constexpr int kUsers = 100;
constexpr int kEventsPerUser = 100;

using bench::write_or_throw;

EventFields event_at(Timestamp start) {
  EventFields f;
  f.title = "Design review";
  f.description = "Agenda in the shared doc.";
  f.location = "Room 4.12";
  f.start_time = start;
  f.end_time = start + kHour;
  return f;
}

// A store in a temporary directory with kUsers users of kEventsPerUser events each, one hour
// apart; removed at the end of the benchmark that made it.
struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<sqlite::SqliteStore> store;
  std::vector<UserId> users;
  Timestamp next_start = 0;

  Fixture() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "almanac-write-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = pattern;
    store = std::make_unique<sqlite::SqliteStore>(
        sqlite::SqliteOptions{.path = (dir / "almanac.db").string(), .synchronous_full = false});
    next_start = domain::from_civil({2026, 1, 5, 9, 0, 0, 0}).value();
    write_or_throw(*store, [&](StoreWriter& w) {
      for (int u = 0; u < kUsers; ++u) {
        const std::string name = "user" + std::to_string(u);
        users.push_back(w.insert_user({name, name + "@example.com", "$argon2id$bench"}).id);
      }
      for (int i = 0; i < kEventsPerUser; ++i) {
        for (const UserId user : users) w.insert_event(user, event_at(next_start), {user, {}});
        next_start += kHour;
      }
    });
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;
  ~Fixture() {
    store->close();
    store.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  EventId create(UserId owner) {
    EventId id = 0;
    const Timestamp start = next_start;
    next_start += kHour;
    write_or_throw(*store, [&](StoreWriter& w) {
      id = w.insert_event(owner, event_at(start), {owner, {}}).id;
    });
    return id;
  }
};

void BM_Create(benchmark::State& state) {
  Fixture fixture;
  std::size_t i = 0;
  for (auto _ : state) fixture.create(fixture.users[i++ % fixture.users.size()]);
}

void BM_UpdateMovingTime(benchmark::State& state) {
  Fixture fixture;
  const UserId owner = fixture.users.front();
  const EventId id = fixture.create(owner);
  std::int64_t version = 1;
  Timestamp start = fixture.next_start;
  for (auto _ : state) {
    start += kHour;
    ++version;
    write_or_throw(*fixture.store, [&](StoreWriter& w) {
      w.update_event(id, event_at(start), version, {owner, {}});
    });
  }
}

void BM_ShareAndRemove(benchmark::State& state) {
  Fixture fixture;
  const UserId owner = fixture.users.front();
  const EventId id = fixture.create(owner);
  std::size_t i = 1;
  for (auto _ : state) {
    const UserId guest = fixture.users[i++ % (fixture.users.size() - 1) + 1];
    write_or_throw(*fixture.store,
                   [&](StoreWriter& w) { w.set_participant(id, guest, domain::Role::kViewer); });
    write_or_throw(*fixture.store, [&](StoreWriter& w) { w.remove_participant(id, guest); });
  }
}

BENCHMARK(BM_Create)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Create)->Iterations(1)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Create)->Iterations(2000)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpdateMovingTime)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpdateMovingTime)->Iterations(1)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpdateMovingTime)->Iterations(2000)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ShareAndRemove)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ShareAndRemove)->Iterations(1)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ShareAndRemove)->Iterations(1000)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace almanac::store

BENCHMARK_MAIN();
