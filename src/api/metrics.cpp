#include "api/metrics.hpp"

#include <cstdint>

namespace almanac::api {
namespace {

// Request latency bounds, in nanoseconds: 0.5 ms to 10 s.
constexpr std::array<std::uint64_t, 14> kLatencyBounds = {
    500'000,       1'000'000,     2'500'000,     5'000'000,     10'000'000,
    25'000'000,    50'000'000,    100'000'000,   250'000'000,   500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

// COMMIT latency bounds, in nanoseconds: 50 us to 5 s (an fsync is typically 0.1-20 ms).
constexpr std::array<std::uint64_t, 14> kCommitBounds = {
    50'000,     100'000,    250'000,    500'000,     1'000'000,   2'500'000,     5'000'000,
    10'000'000, 25'000'000, 50'000'000, 100'000'000, 250'000'000, 1'000'000'000, 5'000'000'000};

// Jobs per group commit: powers of two up to the default group limit (512).
constexpr std::array<std::uint64_t, 10> kGroupBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

constexpr double kNanosPerSecond = 1e9;

std::uint64_t nanos(std::chrono::nanoseconds duration) {
  return duration.count() < 0 ? 0 : static_cast<std::uint64_t>(duration.count());
}

}  // namespace

Metrics::RouteStats::RouteStats(std::string route_template)
    : route(std::move(route_template)), latency(kLatencyBounds) {}

Metrics::Metrics() : commit_time_(kCommitBounds), group_size_(kGroupBounds) {
  routes_.push_back(std::make_unique<RouteStats>(std::string(kUnmatched)));
}

void Metrics::set_routes(const http::Router& router) {
  for (const http::Route& route : router.routes()) {
    if (by_route_.contains(route.pattern)) continue;  // one template, several verbs
    routes_.push_back(std::make_unique<RouteStats>(route.pattern));
    by_route_.emplace(routes_.back()->route, routes_.back().get());
  }
}

Metrics::RouteStats& Metrics::stats_for(std::string_view route) noexcept {
  if (!route.empty()) {
    const auto found = by_route_.find(route);
    if (found != by_route_.end()) return *found->second;
  }
  return *routes_.front();
}

void Metrics::request_started() noexcept { in_flight_.add(1); }

void Metrics::request_finished(std::string_view route, int status,
                               std::chrono::nanoseconds duration) noexcept {
  in_flight_.add(-1);
  RouteStats& stats = stats_for(route);
  const int index = status - kMinStatus;
  if (index >= 0 && index < kStatuses) stats.by_status[static_cast<std::size_t>(index)].add();
  stats.latency.observe(nanos(duration));
}

void Metrics::group_committed(std::size_t jobs, std::chrono::nanoseconds commit_time) noexcept {
  commit_time_.observe(nanos(commit_time));
  group_size_.observe(jobs);
}

void Metrics::write_retried(Retry reason) noexcept {
  switch (reason) {
    case Retry::kSerialization:
      serialization_retries_.add();
      return;
    case Retry::kConnectionLost:
      connection_retries_.add();
      return;
  }
}

std::string Metrics::render() const {
  util::MetricsWriter out;
  out.family("almanac_http_requests_total", "counter",
             "HTTP requests answered, by route template (\"unmatched\" when none) and status.");
  for (const auto& stats : routes_) {
    for (int i = 0; i < kStatuses; ++i) {
      const std::uint64_t count = stats->by_status[static_cast<std::size_t>(i)].value();
      if (count == 0) continue;
      const std::string status = std::to_string(kMinStatus + i);
      out.sample("almanac_http_requests_total", {{"route", stats->route}, {"status", status}},
                 count);
    }
  }

  out.family("almanac_http_request_duration_seconds", "histogram",
             "Time from a request's last byte read to its response's last byte written.");
  for (const auto& stats : routes_) {
    if (stats->latency.snapshot().cumulative.back() == 0) continue;  // routes not called yet
    out.histogram("almanac_http_request_duration_seconds", {{"route", stats->route}},
                  stats->latency, kNanosPerSecond);
  }

  out.family("almanac_http_requests_in_flight", "gauge",
             "Requests read and not yet answered (this scrape included).");
  out.sample("almanac_http_requests_in_flight", {}, in_flight_.value());

  out.family("almanac_db_commit_duration_seconds", "histogram",
             "Duration of each write transaction's COMMIT (the fsync of a group commit).");
  out.histogram("almanac_db_commit_duration_seconds", {}, commit_time_, kNanosPerSecond);

  out.family("almanac_db_group_commit_size", "histogram",
             "Write jobs (requests' changes) gathered into each committed transaction "
             "(PostgreSQL: always one).");
  out.histogram("almanac_db_group_commit_size", {}, group_size_, 1);

  out.family("almanac_db_write_retries_total", "counter",
             "Write transactions rolled back and run again, by reason: a serialization failure "
             "or deadlock, or a connection lost before COMMIT (PostgreSQL only; zero on SQLite).");
  out.sample("almanac_db_write_retries_total", {{"reason", "serialization"}},
             serialization_retries_.value());
  out.sample("almanac_db_write_retries_total", {{"reason", "connection_lost"}},
             connection_retries_.value());

  out.family("almanac_password_hash_queue_depth", "gauge",
             "Password hashing jobs waiting for a worker (logins get 503 when the queue is full).");
  const std::int64_t queued =
      sources_.hash_pool == nullptr ? 0 : static_cast<std::int64_t>(sources_.hash_pool->queued());
  out.sample("almanac_password_hash_queue_depth", {}, queued);

  out.family("almanac_rate_limit_rejections_total", "counter",
             "Requests refused with 429, by limit (all zero when rate limits are off).");
  std::vector<std::pair<std::string_view, std::uint64_t>> rejections = {
      {"login_account", 0}, {"login_address", 0}, {"register_address", 0}, {"user", 0}};
  if (sources_.login_failures != nullptr)
    rejections[0].second = sources_.login_failures->rejected();
  if (sources_.rate_limits != nullptr) {
    for (const auto& [limit, count] : sources_.rate_limits->rejections()) {
      for (auto& entry : rejections) {
        if (entry.first == limit) entry.second = count;
      }
    }
  }
  for (const auto& [limit, count] : rejections) {
    out.sample("almanac_rate_limit_rejections_total", {{"limit", limit}}, count);
  }
  return out.text();
}

}  // namespace almanac::api
