#include "api/history_api.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <utility>

#include "api/event_json.hpp"
#include "api/events_api.hpp"
#include "api/history_json.hpp"
#include "api/json_input.hpp"

namespace almanac::api::history_api {
namespace {

// The items as a bare array when unpaged, else in the list endpoint's envelope.
http::Response listing(boost::json::array items, const domain::VersionWindow& window,
                       std::int64_t count) {
  if (!window.paged) return http::json_response(http::Status::ok, items);
  const std::int64_t num_pages =
      std::max<std::int64_t>(1, (count + window.page_size - 1) / window.page_size);
  return http::json_response(http::Status::ok, boost::json::object{{"results", std::move(items)},
                                                                   {"count", count},
                                                                   {"num_pages", num_pages},
                                                                   {"current_page", window.page}});
}

}  // namespace

boost::asio::awaitable<http::Response> list(http::Request& request, Services& services) {
  const domain::VersionWindow window = read_version_window(request);
  const domain::VersionPage page =
      co_await services.history.history(request.user(), request.id("id"), window);
  boost::json::array items;
  items.reserve(page.results.size());
  for (const domain::EventVersion& version : page.results) {
    items.emplace_back(history_item_json(version));
  }
  co_return listing(std::move(items), window, page.count);
}

boost::asio::awaitable<http::Response> version(http::Request& request, Services& services) {
  const domain::EventVersion found =
      co_await services.history.version(request.user(), request.id("id"), request.id("history_id"));
  co_return http::json_response(http::Status::ok, version_json(found));
}

boost::asio::awaitable<http::Response> changelog(http::Request& request, Services& services) {
  const domain::VersionWindow window = read_version_window(request);
  const service::Changelog log =
      co_await services.history.changelog(request.user(), request.id("id"), window);
  boost::json::array items;
  items.reserve(log.entries.size());
  for (const domain::ChangelogEntry& entry : log.entries) {
    items.emplace_back(changelog_entry_json(entry));
  }
  co_return listing(std::move(items), window, log.count);
}

boost::asio::awaitable<http::Response> diff(http::Request& request, Services& services) {
  const std::pair<domain::EventVersion, domain::EventVersion> versions =
      co_await services.history.diff(request.user(), request.id("id"), request.id("old_version_id"),
                                     request.id("new_version_id"));
  co_return http::json_response(http::Status::ok, diff_json(versions.first, versions.second));
}

boost::asio::awaitable<http::Response> rollback(http::Request& request, Services& services) {
  // The body is optional: none, or an object that may hold "change_reason".
  std::optional<boost::json::object> body;
  if (!request.body().empty()) body = parse_json_object(request.body());
  const service::WriteOptions options = read_write_options(request, body ? &*body : nullptr);
  const domain::EventId id = request.id("id");
  const domain::HistoryId history_id = request.id("history_id");
  const domain::EventView view =
      co_await services.history.rollback(request.user(), id, history_id, options);
  co_return events_api::event_envelope(http::Status::ok, "Event rolled back successfully",
                                       view.event);
}

}  // namespace almanac::api::history_api
