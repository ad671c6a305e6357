// Usage events: recording internal events into a UsageStore, and computing the
// metrics that read a UsageStore (internal_events, RedisMetric, RedisHLLMetric).
//
// Keys (documented in docs/service-ping.md; "{...}" is a Redis Cluster hash tag):
//   {event_counters}_EVENT[-filter:[k=v,...]]            all-time count
//   {event_counters}_EVENT[-filter:[...]]-YYYY-WW         count in one ISO week
//   {event_sums}_EVENT[-filter:[...]] and ...-YYYY-WW     sum of the events' value
//   {hll_counters}_EVENT-YYYY-WW                          unique users in a week
//                                                         (GitLab's RedisHLL key)
//   {hll_counters}_EVENT[-filter:[...]]-PROPERTY-YYYY-WW  unique PROPERTY in a week
//   USAGE_PREFIX_EVENT (upper case)                       RedisMetric counter
// Week keys expire after six weeks. Filtered keys are written only for the
// (event, filter) pairs that some definition asks for, as GitLab does.
//
// Time frames: all = the all-time key; 7d = the last completed ISO week; 28d = the
// last four completed ISO weeks (sums of counters, PFCOUNT over the union of sets).
//
// EventRecorder is safe for concurrent use when its store is. The compute function
// is stateless.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "ping/metric_definition.h"
#include "ping/usage_store.h"

namespace furrow::ping {

struct TrackedEvent {
  std::string name;  // [A-Za-z0-9_.:-], at most 128 bytes
  std::string user_id;
  std::string project_id;
  std::string namespace_id;
  std::map<std::string, std::string> properties;  // label, property, value, custom
  std::optional<double> value;                    // for sum(value); also property "value"
};

// Checks an event from an untrusted source (the HTTP API, the command line).
[[nodiscard]] Status ValidateTrackedEvent(const TrackedEvent& event);

class EventRecorder {
 public:
  // `definitions` (may be empty) decide which filtered keys are kept; all three
  // must outlive the recorder.
  EventRecorder(UsageStore& store, const std::vector<MetricDefinition>& definitions, const Clock& clock);

  // Records one event. kInvalidArgument for a malformed event; store errors as is.
  [[nodiscard]] Status Track(const TrackedEvent& event);

 private:
  UsageStore& store_;
  std::map<std::string, std::vector<EventSelector>> filtered_;  // by event name
  const Clock& clock_;
};

// The value of a definition whose instrumentation reads a UsageStore, at `frame`.
[[nodiscard]] Result<double> ComputeUsageMetric(UsageStore& store, const MetricDefinition& definition,
                                                TimeFrame frame, WallTime now);

// Key builders (exposed for tests and documentation).
std::string CounterKey(const std::string& event, const std::vector<std::pair<std::string, std::string>>& filter);
std::string SumKey(const std::string& event, const std::vector<std::pair<std::string, std::string>>& filter);
std::string UniqueKeyPrefix(const std::string& event, const std::vector<std::pair<std::string, std::string>>& filter,
                            const std::string& unique);
std::string RedisMetricKey(const MetricDefinition& definition);

}  // namespace furrow::ping
