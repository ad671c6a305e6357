#include "core/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace furrow {
namespace {

TEST(MetricsTest, SameNameAndLabelsIsSameCounter) {
  MetricsRegistry r;
  Counter& a = r.GetCounter("x_total", "help", {{"route", "tp2"}});
  Counter& b = r.GetCounter("x_total", "help", {{"route", "tp2"}});
  Counter& c = r.GetCounter("x_total", "help", {{"route", "i"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(MetricsTest, RendersPrometheusText) {
  MetricsRegistry r;
  r.GetCounter("furrow_requests_total", "Requests", {{"route", "tp2"}, {"status", "200"}}).Inc(3);
  r.GetGauge("furrow_open_connections", "Open connections").Set(7);
  r.AddGaugeCallback("furrow_bytes", "Bytes", {}, [] { return 1.5; });
  std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE furrow_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("furrow_requests_total{route=\"tp2\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("furrow_open_connections 7\n"), std::string::npos);
  EXPECT_NE(text.find("furrow_bytes 1.5\n"), std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry r;
  Histogram& h = r.GetHistogram("lat_seconds", "Latency", {0.001, 0.01}, {{"stage", "commit"}});
  h.Observe(0.0005);
  h.Observe(0.005);
  h.Observe(0.5);
  std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("lat_seconds_bucket{stage=\"commit\",le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{stage=\"commit\",le=\"0.01\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{stage=\"commit\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_count{stage=\"commit\"} 3\n"), std::string::npos);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  MetricsRegistry r;
  r.GetCounter("c_total", "h", {{"path", "a\"b\\c"}}).Inc();
  EXPECT_NE(r.RenderPrometheus().find("c_total{path=\"a\\\"b\\\\c\"} 1"), std::string::npos);
}

TEST(MetricsTest, ConcurrentIncrementsAreCounted) {
  MetricsRegistry r;
  Counter& c = r.GetCounter("n_total", "h");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.Inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), 40000u);
}

}  // namespace
}  // namespace furrow
