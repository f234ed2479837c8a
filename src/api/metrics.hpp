#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/rate_limits.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "store/write_observer.hpp"
#include "util/metrics.hpp"
#include "util/rate_limiter.hpp"
#include "util/worker_pool.hpp"

namespace almanac::api {

// The figures GET /metrics shows, in the Prometheus text format 0.0.4. The server and the store
// report into it through their observer interfaces (neither knows this class); the hot path is
// relaxed atomics only, no lock per request. Requests are labelled with the route template the
// router matched (a fixed set, known before the server starts), or "unmatched".
class Metrics final : public http::RequestObserver, public store::WriteObserver {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The route templates requests may carry. Call once, before the server starts.
  void set_routes(const http::Router& router);

  // Figures read at scrape time (each may be null). Call before the server starts; not owned.
  struct Sources {
    const util::WorkerPool* hash_pool = nullptr;
    const RateLimits* rate_limits = nullptr;
    const util::RateLimiter* login_failures = nullptr;  // the per-account login limit
  };
  void set_sources(Sources sources) { sources_ = sources; }

  void request_started() noexcept override;
  void request_finished(std::string_view route, int status,
                        std::chrono::nanoseconds duration) noexcept override;
  void group_committed(std::size_t jobs, std::chrono::nanoseconds commit_time) noexcept override;
  void write_retried(Retry reason) noexcept override;

  // Everything in the text exposition format.
  std::string render() const;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";
  static constexpr std::string_view kUnmatched = "unmatched";

 private:
  // Statuses 100-599, one counter each: a route's possible statuses are few, but counting them
  // all keeps the hot path a plain index.
  static constexpr int kMinStatus = 100;
  static constexpr int kStatuses = 500;
  struct RouteStats {
    explicit RouteStats(std::string route_template);
    std::string route;
    std::array<util::Counter, kStatuses> by_status;
    util::Histogram latency;
  };

  RouteStats& stats_for(std::string_view route) noexcept;

  std::vector<std::unique_ptr<RouteStats>> routes_;             // routes_[0]: unmatched
  std::unordered_map<std::string_view, RouteStats*> by_route_;  // read-only once serving
  util::Gauge in_flight_;
  util::Histogram commit_time_;
  util::Histogram group_size_;
  util::Counter serialization_retries_;
  util::Counter connection_retries_;
  Sources sources_;
};

}  // namespace almanac::api
