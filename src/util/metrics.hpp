#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Prometheus-style instruments for the hot path: lock-free (relaxed atomics; a scrape may see one
// instrument a request ahead of another, never a torn value), and the text exposition format
// 0.0.4 they are rendered in.
namespace almanac::util {

class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// A histogram over integer observations (nanoseconds, counts) with fixed upper bounds. Each
// observation increments one bucket; the cumulative counts Prometheus wants are summed when
// rendered, so _count always equals the +Inf bucket.
class Histogram {
 public:
  static constexpr std::size_t kMaxBounds = 16;

  // `bounds`: increasing upper bounds (at most kMaxBounds) in the observation's unit.
  explicit Histogram(std::span<const std::uint64_t> bounds);

  void observe(std::uint64_t value);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    std::uint64_t sum = 0;
  };
  Snapshot snapshot() const;
  std::span<const std::uint64_t> bounds() const { return {bounds_.data(), size_}; }

 private:
  std::array<std::uint64_t, kMaxBounds> bounds_{};
  std::size_t size_ = 0;
  std::array<std::atomic<std::uint64_t>, kMaxBounds + 1> counts_{};
  std::atomic<std::uint64_t> sum_{0};
};

// Writes the text exposition format. Label values are escaped; names are the caller's constants.
class MetricsWriter {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // "# HELP" and "# TYPE" lines; `type` is counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, std::uint64_t value);
  void sample(std::string_view name, Labels labels, std::int64_t value);
  // The _bucket, _sum and _count lines of `histogram`; observations are divided by `scale` for
  // the le bounds and the sum (1e9 renders nanoseconds as seconds; 1 leaves counts as they are).
  void histogram(std::string_view name, Labels labels, const Histogram& histogram, double scale);

  const std::string& text() const { return text_; }

 private:
  void series(std::string_view name, std::string_view suffix, Labels labels,
              std::string_view extra_label = {}, std::string_view extra_value = {});
  std::string text_;
};

// A number as the text format writes it: integers without a fraction, others with up to 9
// significant digits.
std::string format_metric_value(double value);

}  // namespace almanac::util
