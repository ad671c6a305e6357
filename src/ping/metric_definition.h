// MetricDefinition: one Service Ping metric, parsed from one YAML file in GitLab's
// definition format (config/metrics/**/*.yml), and the loader of a whole directory.
//
// A definition names where its value sits in the payload (key_path), how it is
// computed (data_source, instrumentation_class, options, events) and over which
// time frames (time_frame: 7d | 28d | all | none, or a list of 7d/28d/all). A list
// expands into one MetricInstance per time frame, whose key path gets GitLab's
// suffix: 7d "_weekly", 28d "_monthly", all none (only for list forms; a single
// time frame keeps its key path as written).
//
// Validation (every file, at load): required keys key_path, description,
// value_type, status, product_group (legacy: group), time_frame, data_source,
// milestone, introduced_by_url, tiers (legacy: tier); enumerations as in GitLab's
// schema; object values need value_json_schema; broken needs repair_issue_url;
// internal_events needs events; redis with RedisMetric needs options.event.
// (RedisHLLMetric without options.events, an older form, loads as "no furrow
// instrumentation".) Each error is a Status of kind
// kInvalidArgument whose message starts "FILE: field `NAME`: ...". Older formats
// are accepted: statuses data_available/implemented (treated as active) and
// deprecated, the `group`/`tier`/`distribution` keys, numeric milestones, and a
// missing data_category (treated as standard).
//
// Instrumentation: each definition is classified into the Instrumentation furrow
// runs (see the enum). Definitions whose instrumentation is Ruby-specific or
// unknown are kept with Instrumentation::kNone and a reason; they are listed as
// "no furrow instrumentation" and never computed, which is not an error.
//
// Values are plain data: copy freely; not synchronised.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace furrow::ping {

enum class TimeFrame { k7d, k28d, kAll, kNone };
enum class ValueType { kNumber, kString, kBoolean, kObject };
enum class MetricStatus { kActive, kBroken, kRemoved, kDeprecated };
enum class DataSource { kDatabase, kRedis, kRedisHll, kInternalEvents, kSystem, kLicense, kPrometheus };
enum class DataCategory { kStandard, kSubscription, kOperational, kOptional };

enum class Instrumentation {
  kNone,            // no furrow instrumentation (Ruby-specific class, prometheus, ...)
  kDatabase,        // DatabaseMetric: options operation/relation/column/where/time_column
  kRedisCounter,    // RedisMetric: options prefix/event
  kRedisHll,        // RedisHLLMetric: options events
  kInternalEvents,  // data_source internal_events: events [{name, unique, filter, operator}]
  kSystem,          // hostname, version, OS, CPUs, memory, database adapter/version, ...
  kSetting,         // a value from the agent's `settings` configuration
  kLicense,         // a value from the agent's `license` configuration
};

std::string_view TimeFrameName(TimeFrame frame);  // "7d", "28d", "all", "none"
std::string_view ValueTypeName(ValueType type);
std::string_view MetricStatusName(MetricStatus status);
std::string_view DataSourceName(DataSource source);
std::string_view DataCategoryName(DataCategory category);
std::string_view InstrumentationName(Instrumentation instrumentation);

// One entry of `events` (internal events).
struct EventSelector {
  std::string name;
  std::string unique;                                   // "" = total count
  std::vector<std::pair<std::string, std::string>> filter;  // property = value, sorted by key
  bool sum_value = false;                               // operator: sum(value)
};

struct MetricDefinition {
  std::string file;  // path it was loaded from
  std::string key_path;
  std::string description;
  ValueType value_type = ValueType::kNumber;
  MetricStatus status = MetricStatus::kActive;
  std::string status_as_written;
  std::string product_group;
  std::vector<TimeFrame> time_frames;  // one entry unless written as a list
  bool time_frame_is_list = false;
  DataSource data_source = DataSource::kDatabase;
  DataCategory data_category = DataCategory::kStandard;
  std::string instrumentation_class;
  // Scalar options by name (as written); list options joined are in option_lists.
  std::map<std::string, std::string> options;
  std::map<std::string, std::vector<std::string>> option_lists;
  std::vector<EventSelector> events;
  std::vector<std::string> tiers;
  std::string milestone;
  std::string yaml;  // the file's text, for GET /usage_data/metric_definitions

  Instrumentation instrumentation = Instrumentation::kNone;
  std::string no_instrumentation_reason;  // when instrumentation == kNone

  // Only active and broken metrics go into a payload.
  bool Reported() const { return status == MetricStatus::kActive || status == MetricStatus::kBroken; }
  // The option's value, or "" if absent.
  std::string Option(std::string_view name) const;
};

// One metric as it appears in the payload: a definition at one time frame.
struct MetricInstance {
  const MetricDefinition* definition = nullptr;
  TimeFrame time_frame = TimeFrame::kNone;
  std::string key_path;  // with the time-frame suffix applied
};

// Parses one definition. `file` is used in error messages only.
[[nodiscard]] Result<MetricDefinition> ParseMetricDefinition(const std::string& file,
                                                             std::string_view yaml_text);

struct DefinitionSet {
  std::vector<MetricDefinition> definitions;  // sorted by file
  std::vector<Status> errors;                 // one per invalid file
  // Every definition at every time frame, in file order.
  std::vector<MetricInstance> Instances() const;
  // Definitions with Instrumentation::kNone ("no furrow instrumentation").
  std::vector<const MetricDefinition*> Uninstrumented() const;
};

// Loads every *.yml / *.yaml file below each directory (recursively). Invalid files
// are reported in `errors` and skipped; the call fails only when a directory cannot
// be read (kNotFound / kIoError) or a key_path+time frame is defined twice
// (kAlreadyExists, naming both files).
[[nodiscard]] Result<DefinitionSet> LoadMetricDefinitions(const std::vector<std::string>& directories);

// The key path at a time frame: "x" -> "x_weekly" (7d) / "x_monthly" (28d) when the
// definition lists several time frames; unchanged otherwise.
std::string KeyPathForTimeFrame(const MetricDefinition& definition, TimeFrame frame);

// True for a dotted path of [A-Za-z0-9_]+ segments.
bool IsValidKeyPath(std::string_view key_path);

}  // namespace furrow::ping
