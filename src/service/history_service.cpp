#include "service/history_service.hpp"

#include <algorithm>
#include <functional>
#include <optional>

#include "service/access.hpp"
#include "service/async.hpp"

namespace almanac::service {

using domain::Error;
using domain::ErrorCode;

namespace {

Error version_not_found() { return Error(ErrorCode::kNotFound, "Version not found", "not_found"); }

}  // namespace

HistoryService::HistoryService(store::Store& store) : store_(store) {}

boost::asio::awaitable<domain::VersionPage> HistoryService::history(
    const domain::User& user, domain::EventId id, const domain::VersionWindow& window) {
  domain::VersionPage page;
  std::function<void(store::StoreReader&)> work = [&](store::StoreReader& reader) {
    require_access(reader, user, id, domain::Action::kRead);
    page.count = reader.count_versions(id);
    const domain::PositionRange range = domain::history_positions(window, page.count);
    page.results = reader.versions_at(id, range.first, range.last);
  };
  co_await read(store_, std::move(work));
  std::reverse(page.results.begin(), page.results.end());
  co_return page;
}

boost::asio::awaitable<domain::EventVersion> HistoryService::version(const domain::User& user,
                                                                     domain::EventId id,
                                                                     domain::HistoryId history_id) {
  std::optional<domain::EventVersion> found;
  std::function<void(store::StoreReader&)> work = [&](store::StoreReader& reader) {
    require_access(reader, user, id, domain::Action::kRead);
    found = reader.find_version(id, history_id);
  };
  co_await read(store_, std::move(work));
  if (!found) throw version_not_found();
  co_return std::move(*found);
}

boost::asio::awaitable<Changelog> HistoryService::changelog(const domain::User& user,
                                                            domain::EventId id,
                                                            const domain::VersionWindow& window) {
  Changelog log;
  std::vector<domain::EventVersion> versions;
  domain::PositionRange range;
  std::function<void(store::StoreReader&)> work = [&](store::StoreReader& reader) {
    require_access(reader, user, id, domain::Action::kRead);
    log.count = reader.count_versions(id);
    range = domain::changelog_positions(window, log.count);
    // One more at the front: the version the page's first entry is compared with.
    versions = reader.versions_at(id, std::max<std::int64_t>(1, range.first - 1), range.last);
  };
  co_await read(store_, std::move(work));
  if (range.first > range.last) co_return log;
  const std::size_t first = range.first > 1 ? 1 : 0;  // index in `versions` of the page's first
  log.entries.reserve(versions.size() - first);
  for (std::size_t i = first; i < versions.size(); ++i) {
    domain::ChangelogEntry entry;
    if (i > 0) {
      entry.changed = domain::changed_fields(versions[i - 1].fields, versions[i].fields);
      entry.before = versions[i - 1].fields;
    }
    entry.version = versions[i];  // a copy: versions[i] is the next entry's "before"
    log.entries.push_back(std::move(entry));
  }
  co_return log;
}

boost::asio::awaitable<std::pair<domain::EventVersion, domain::EventVersion>> HistoryService::diff(
    const domain::User& user, domain::EventId id, domain::HistoryId first,
    domain::HistoryId second) {
  std::optional<domain::EventVersion> a;
  std::optional<domain::EventVersion> b;
  std::function<void(store::StoreReader&)> work = [&](store::StoreReader& reader) {
    require_access(reader, user, id, domain::Action::kRead);
    a = reader.find_version(id, first);
    b = reader.find_version(id, second);
  };
  co_await read(store_, std::move(work));
  if (!a || !b) throw Error(ErrorCode::kNotFound, "One or both versions not found", "not_found");
  co_return std::pair<domain::EventVersion, domain::EventVersion>{std::move(*a), std::move(*b)};
}

boost::asio::awaitable<domain::EventView> HistoryService::rollback(const domain::User& user,
                                                                   domain::EventId id,
                                                                   domain::HistoryId history_id,
                                                                   const WriteOptions& options) {
  std::function<domain::EventView(store::StoreWriter&)> work =
      [&user, id, history_id, &options](store::StoreWriter& writer) {
        domain::EventView current = require_access(writer, user, id, domain::Action::kEdit);
        std::optional<domain::EventVersion> target = writer.find_version(id, history_id);
        if (!target) throw version_not_found();
        require_precondition(options, current);
        WriteOptions change = options;
        if (!change.change_reason) change.change_reason = domain::rollback_reason(history_id);
        return store_change(writer, user, std::move(current), std::move(target->fields), change);
      };
  co_return co_await write(store_, std::move(work));
}

}  // namespace almanac::service
