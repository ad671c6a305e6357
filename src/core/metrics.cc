#include "core/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace furrow {
namespace {

std::string RenderLabels(const MetricLabels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    for (char c : v) {
      if (c == '\\') out += "\\\\";
      else if (c == '"') out += "\\\"";
      else if (c == '\n') out += "\\n";
      else out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// Inserts `le="..."` into an already rendered label set.
std::string WithLe(const std::string& labels, const std::string& le) {
  std::string item = "le=\"" + le + "\"";
  if (labels.empty()) return "{" + item + "}";
  return labels.substr(0, labels.size() - 1) + "," + item + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::Series& MetricsRegistry::GetSeries(std::string_view name, std::string_view help,
                                                    Type type, const MetricLabels& labels) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{type, std::string(help), {}}).first;
  } else if (it->second.type != type) {
    // Registering one name with two types is a programming error, caught in tests.
    throw std::logic_error("metric registered with two types: " + std::string(name));
  }
  std::string key = RenderLabels(labels);
  Series& s = it->second.series[key];
  s.labels = key;
  return s;
}

Counter& MetricsRegistry::GetCounter(std::string_view name, std::string_view help,
                                     const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Series& s = GetSeries(name, help, Type::kCounter, labels);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& MetricsRegistry::GetGauge(std::string_view name, std::string_view help,
                                 const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Series& s = GetSeries(name, help, Type::kGauge, labels);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         std::vector<double> bounds, const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  Series& s = GetSeries(name, help, Type::kHistogram, labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *s.histogram;
}

void MetricsRegistry::AddGaugeCallback(std::string_view name, std::string_view help,
                                       const MetricLabels& labels, std::function<double()> fn) {
  std::lock_guard lock(mu_);
  Series& s = GetSeries(name, help, Type::kGauge, labels);
  s.callback = std::move(fn);
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + family.help + "\n";
    switch (family.type) {
      case Type::kCounter: out += "# TYPE " + name + " counter\n"; break;
      case Type::kGauge: out += "# TYPE " + name + " gauge\n"; break;
      case Type::kHistogram: out += "# TYPE " + name + " histogram\n"; break;
    }
    for (const auto& [key, s] : family.series) {
      if (s.counter) {
        out += name + key + " " + std::to_string(s.counter->Value()) + "\n";
      } else if (s.callback) {
        out += name + key + " " + FormatValue(s.callback()) + "\n";
      } else if (s.gauge) {
        out += name + key + " " + FormatValue(s.gauge->Value()) + "\n";
      } else if (s.histogram) {
        const Histogram& h = *s.histogram;
        uint64_t cumulative = 0;
        for (size_t i = 0; i < h.bounds().size(); ++i) {
          cumulative += h.BucketCount(i);
          out += name + "_bucket" + WithLe(key, FormatValue(h.bounds()[i])) + " " +
                 std::to_string(cumulative) + "\n";
        }
        cumulative += h.BucketCount(h.bounds().size());
        out += name + "_bucket" + WithLe(key, "+Inf") + " " + std::to_string(cumulative) + "\n";
        out += name + "_sum" + key + " " + FormatValue(h.Sum()) + "\n";
        out += name + "_count" + key + " " + std::to_string(h.Count()) + "\n";
      }
    }
  }
  return out;
}

}  // namespace furrow
