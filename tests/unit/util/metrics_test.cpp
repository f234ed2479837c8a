#include "util/metrics.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>

namespace almanac::util {
namespace {

constexpr std::array<std::uint64_t, 3> kBounds = {10, 100, 1000};

TEST(Histogram, CountsAreCumulativeAndEndWithTheTotal) {
  Histogram histogram(kBounds);
  for (const std::uint64_t value : {1, 10, 11, 100, 5000}) histogram.observe(value);
  const Histogram::Snapshot snapshot = histogram.snapshot();
  // A value equal to a bound falls in that bound's bucket ("less than or equal").
  EXPECT_EQ(snapshot.cumulative, (std::vector<std::uint64_t>{2, 4, 4, 5}));
  EXPECT_EQ(snapshot.sum, 5122U);
}

TEST(Histogram, RefusesBoundsThatDoNotIncrease) {
  constexpr std::array<std::uint64_t, 2> kBackwards = {10, 1};
  EXPECT_THROW(Histogram{kBackwards}, std::invalid_argument);
}

TEST(MetricsWriter, WritesFamiliesSamplesAndHistograms) {
  Histogram histogram(kBounds);
  histogram.observe(50);
  MetricsWriter out;
  out.family("x_total", "counter", "Things.");
  out.sample("x_total", {{"route", "/a/{id}/"}, {"status", "200"}}, std::uint64_t{3});
  out.family("g", "gauge", "Level.");
  out.sample("g", {}, std::int64_t{-1});
  out.family("h_seconds", "histogram", "Time.");
  out.histogram("h_seconds", {{"route", "r"}}, histogram, 1000.0);
  EXPECT_EQ(out.text(),
            "# HELP x_total Things.\n# TYPE x_total counter\n"
            "x_total{route=\"/a/{id}/\",status=\"200\"} 3\n"
            "# HELP g Level.\n# TYPE g gauge\ng -1\n"
            "# HELP h_seconds Time.\n# TYPE h_seconds histogram\n"
            "h_seconds_bucket{route=\"r\",le=\"0.01\"} 0\n"
            "h_seconds_bucket{route=\"r\",le=\"0.1\"} 1\n"
            "h_seconds_bucket{route=\"r\",le=\"1\"} 1\n"
            "h_seconds_bucket{route=\"r\",le=\"+Inf\"} 1\n"
            "h_seconds_sum{route=\"r\"} 0.05\n"
            "h_seconds_count{route=\"r\"} 1\n");
}

TEST(MetricsWriter, EscapesLabelValues) {
  MetricsWriter out;
  out.sample("m", {{"v", "a\"b\\c\nd"}}, std::uint64_t{1});
  EXPECT_EQ(out.text(), "m{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

}  // namespace
}  // namespace almanac::util
