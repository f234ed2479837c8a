#include "util/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace almanac::util {

Histogram::Histogram(std::span<const std::uint64_t> bounds) : size_(bounds.size()) {
  if (bounds.size() > kMaxBounds) throw std::invalid_argument("Histogram: too many bounds");
  if (!std::is_sorted(bounds.begin(), bounds.end())) {
    throw std::invalid_argument("Histogram: bounds must increase");
  }
  std::copy(bounds.begin(), bounds.end(), bounds_.begin());
}

void Histogram::observe(std::uint64_t value) {
  // Prometheus buckets are "less than or equal": the first bound not below the value.
  const auto end = bounds_.begin() + static_cast<std::ptrdiff_t>(size_);
  const auto index =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), end, value) - bounds_.begin());
  counts_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.cumulative.reserve(size_ + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= size_; ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::string format_metric_value(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

void MetricsWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  text_ += help;
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void MetricsWriter::series(std::string_view name, std::string_view suffix, Labels labels,
                           std::string_view extra_label, std::string_view extra_value) {
  text_ += name;
  text_ += suffix;
  if (labels.size() == 0 && extra_label.empty()) {
    text_ += ' ';
    return;
  }
  text_ += '{';
  bool first = true;
  const auto label = [&](std::string_view key, std::string_view value) {
    if (!first) text_ += ',';
    first = false;
    text_ += key;
    text_ += "=\"";
    for (const char c : value) {
      if (c == '\\') {
        text_ += "\\\\";
      } else if (c == '"') {
        text_ += "\\\"";
      } else if (c == '\n') {
        text_ += "\\n";
      } else {
        text_ += c;
      }
    }
    text_ += '"';
  };
  for (const auto& [key, value] : labels) label(key, value);
  if (!extra_label.empty()) label(extra_label, extra_value);
  text_ += "} ";
}

void MetricsWriter::sample(std::string_view name, Labels labels, std::uint64_t value) {
  series(name, {}, labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

void MetricsWriter::sample(std::string_view name, Labels labels, std::int64_t value) {
  series(name, {}, labels);
  text_ += std::to_string(value);
  text_ += '\n';
}

void MetricsWriter::histogram(std::string_view name, Labels labels, const Histogram& histogram,
                              double scale) {
  const Histogram::Snapshot snapshot = histogram.snapshot();
  const auto bounds = histogram.bounds();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    series(name, "_bucket", labels, "le",
           format_metric_value(static_cast<double>(bounds[i]) / scale));
    text_ += std::to_string(snapshot.cumulative[i]);
    text_ += '\n';
  }
  series(name, "_bucket", labels, "le", "+Inf");
  text_ += std::to_string(snapshot.cumulative.back());
  text_ += "\n";
  series(name, "_sum", labels);
  text_ += format_metric_value(static_cast<double>(snapshot.sum) / scale);
  text_ += '\n';
  series(name, "_count", labels);
  text_ += std::to_string(snapshot.cumulative.back());
  text_ += '\n';
}

}  // namespace almanac::util
