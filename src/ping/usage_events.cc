#include "ping/usage_events.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "ping/time_frame.h"

namespace furrow::ping {
namespace {

constexpr std::chrono::seconds kWeekKeyExpiry{6 * 7 * 24 * 3600};

std::string FilterSuffix(const std::vector<std::pair<std::string, std::string>>& filter) {
  if (filter.empty()) return "";
  std::string out = "-filter:[";
  for (size_t i = 0; i < filter.size(); ++i) {
    if (i > 0) out += ",";
    out += filter[i].first + "=" + filter[i].second;
  }
  return out + "]";
}

bool Matches(const EventSelector& selector, const TrackedEvent& event) {
  for (const auto& [key, expected] : selector.filter) {
    auto it = event.properties.find(key);
    if (it == event.properties.end()) return false;
    if (it->second == expected) continue;
    // Numbers compare by value ("5" matches 5.0).
    char* end_a = nullptr;
    char* end_b = nullptr;
    double a = std::strtod(it->second.c_str(), &end_a);
    double b = std::strtod(expected.c_str(), &end_b);
    if (it->second.empty() || expected.empty() || *end_a != '\0' || *end_b != '\0' || a != b) return false;
  }
  return true;
}

// The member a unique selector counts for this event, if the event carries it.
std::optional<std::string> UniqueMember(const std::string& unique, const TrackedEvent& event) {
  if (unique == "user.id") return event.user_id.empty() ? std::nullopt : std::optional(event.user_id);
  if (unique == "project.id") return event.project_id.empty() ? std::nullopt : std::optional(event.project_id);
  if (unique == "namespace.id") return event.namespace_id.empty() ? std::nullopt : std::optional(event.namespace_id);
  auto it = event.properties.find(unique);
  if (it == event.properties.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

Status RecordSelector(UsageStore& store, const std::string& name,
                      const std::vector<std::pair<std::string, std::string>>& filter, const TrackedEvent& event,
                      const std::string& week) {
  std::string counter = CounterKey(name, filter);
  FURROW_RETURN_IF_ERROR(store.Increment(counter, 1, std::nullopt));
  FURROW_RETURN_IF_ERROR(store.Increment(counter + "-" + week, 1, kWeekKeyExpiry));
  if (event.value) {
    std::string sum = SumKey(name, filter);
    FURROW_RETURN_IF_ERROR(store.Increment(sum, *event.value, std::nullopt));
    FURROW_RETURN_IF_ERROR(store.Increment(sum + "-" + week, *event.value, kWeekKeyExpiry));
  }
  for (const char* unique : {"user.id", "project.id", "namespace.id", "label", "property", "value"}) {
    std::optional<std::string> member = UniqueMember(unique, event);
    if (!member) continue;
    FURROW_RETURN_IF_ERROR(store.AddUnique(UniqueKeyPrefix(name, filter, unique) + "-" + week, *member, kWeekKeyExpiry));
  }
  return Status::Ok();
}

}  // namespace

std::string CounterKey(const std::string& event, const std::vector<std::pair<std::string, std::string>>& filter) {
  return "{event_counters}_" + event + FilterSuffix(filter);
}

std::string SumKey(const std::string& event, const std::vector<std::pair<std::string, std::string>>& filter) {
  return "{event_sums}_" + event + FilterSuffix(filter);
}

std::string UniqueKeyPrefix(const std::string& event, const std::vector<std::pair<std::string, std::string>>& filter,
                            const std::string& unique) {
  std::string key = "{hll_counters}_" + event + FilterSuffix(filter);
  if (unique == "user.id" && filter.empty()) return key;  // GitLab's RedisHLL key
  return key + "-" + unique;
}

std::string RedisMetricKey(const MetricDefinition& definition) {
  std::string prefix = definition.Option("prefix");
  std::string event = definition.Option("event");
  bool usage_prefix = definition.Option("include_usage_prefix") != "false";
  std::string key = usage_prefix ? "USAGE_" : "";
  if (!prefix.empty()) key += prefix + "_";
  key += event;
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::toupper(c); });
  return key;
}

Status ValidateTrackedEvent(const TrackedEvent& event) {
  auto valid_text = [](const std::string& s, size_t max, bool allow_empty) {
    if (s.empty()) return allow_empty;
    if (s.size() > max) return false;
    for (unsigned char c : s) {
      if (!(std::isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-')) return false;
    }
    return true;
  };
  if (!valid_text(event.name, 128, false)) {
    return InvalidArgumentError("event name must be 1-128 characters of letters, digits, _ . : -");
  }
  if (!valid_text(event.user_id, 128, true) || !valid_text(event.project_id, 128, true) ||
      !valid_text(event.namespace_id, 128, true)) {
    return InvalidArgumentError("user, project and namespace ids must be at most 128 characters of letters, digits, _ . : -");
  }
  if (event.properties.size() > 32) return InvalidArgumentError("at most 32 properties per event");
  for (const auto& [k, v] : event.properties) {
    if (!valid_text(k, 64, false)) return InvalidArgumentError("property name '" + k + "' is not valid");
    if (v.size() > 1024) return InvalidArgumentError("property " + k + " is longer than 1024 bytes");
  }
  return Status::Ok();
}

EventRecorder::EventRecorder(UsageStore& store, const std::vector<MetricDefinition>& definitions, const Clock& clock)
    : store_(store), clock_(clock) {
  for (const auto& d : definitions) {
    if (d.instrumentation != Instrumentation::kInternalEvents) continue;
    for (const auto& selector : d.events) {
      if (selector.filter.empty()) continue;
      auto& list = filtered_[selector.name];
      bool seen = std::any_of(list.begin(), list.end(), [&](const EventSelector& s) { return s.filter == selector.filter; });
      if (!seen) list.push_back(selector);
    }
  }
}

Status EventRecorder::Track(const TrackedEvent& input) {
  FURROW_RETURN_IF_ERROR(ValidateTrackedEvent(input));
  TrackedEvent event = input;
  // GitLab's events carry `value` as a property too.
  auto value_property = event.properties.find("value");
  if (!event.value && value_property != event.properties.end()) {
    char* end = nullptr;
    double v = std::strtod(value_property->second.c_str(), &end);
    if (end != value_property->second.c_str() && *end == '\0') event.value = v;
  }
  if (event.value && !event.properties.count("value")) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", *event.value);
    event.properties["value"] = buffer;
  }
  std::string week = IsoWeekSuffix(clock_.Now());
  FURROW_RETURN_IF_ERROR(RecordSelector(store_, event.name, {}, event, week));
  auto it = filtered_.find(event.name);
  if (it == filtered_.end()) return Status::Ok();
  for (const auto& selector : it->second) {
    if (Matches(selector, event)) FURROW_RETURN_IF_ERROR(RecordSelector(store_, event.name, selector.filter, event, week));
  }
  return Status::Ok();
}

Result<double> ComputeUsageMetric(UsageStore& store, const MetricDefinition& d, TimeFrame frame, WallTime now) {
  std::vector<std::string> weeks = CompletedWeekSuffixes(now, frame);
  bool windowed = frame == TimeFrame::k7d || frame == TimeFrame::k28d;
  auto read_counter = [&](const std::string& key) -> Result<double> {
    if (!windowed) return store.Get(key);
    double total = 0;
    for (const auto& w : weeks) {
      FURROW_ASSIGN_OR_RETURN(double v, store.Get(key + "-" + w));
      total += v;
    }
    return total;
  };

  switch (d.instrumentation) {
    case Instrumentation::kRedisCounter:
      return store.Get(RedisMetricKey(d));
    case Instrumentation::kRedisHll: {
      if (!windowed) return InvalidArgumentError(d.file + ": RedisHLLMetric needs time_frame 7d or 28d");
      std::vector<std::string> keys;
      for (const auto& event : d.option_lists.at("events")) {
        for (const auto& w : weeks) keys.push_back("{hll_counters}_" + event + "-" + w);
      }
      FURROW_ASSIGN_OR_RETURN(int64_t n, store.CountUnique(keys));
      return static_cast<double>(n);
    }
    case Instrumentation::kInternalEvents: {
      std::vector<std::string> unique_keys;
      bool any_unique = false;
      double total = 0;
      for (const auto& selector : d.events) {
        if (!selector.unique.empty()) {
          any_unique = true;
          std::string prefix = UniqueKeyPrefix(selector.name, selector.filter, selector.unique);
          for (const auto& w : weeks) unique_keys.push_back(prefix + "-" + w);
        } else if (selector.sum_value) {
          FURROW_ASSIGN_OR_RETURN(double v, read_counter(SumKey(selector.name, selector.filter)));
          total += v;
        } else {
          FURROW_ASSIGN_OR_RETURN(double v, read_counter(CounterKey(selector.name, selector.filter)));
          total += v;
        }
      }
      if (any_unique) {
        FURROW_ASSIGN_OR_RETURN(int64_t n, store.CountUnique(unique_keys));
        total += static_cast<double>(n);
      }
      return total;
    }
    default:
      return InternalError(d.file + ": not a usage-store metric");
  }
}

}  // namespace furrow::ping
