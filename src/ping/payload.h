// The Service Ping payload: every reported metric computed concurrently under one
// deadline and assembled into GitLab's nested JSON.
//
// BuildPayload runs each MetricInstance that is reported (status active or broken;
// data_category optional only when include_optional) and has a furrow
// instrumentation, on a bounded pool of `threads` workers (each with its own
// database connection; the batch bounds of time windows are shared, see
// BatchBoundsCache). Each metric is timed and gets min(metric_timeout, the
// overall deadline); a metric that fails or is still running at the deadline
// reports the fallback -1 (deprecated metrics -1000), with its error in the
// metadata, and never fails the payload. Metrics with no furrow instrumentation
// are left out of the payload and listed in Payload::uninstrumented.
//
// Payload JSON: identity fields first (uuid, hostname, version, installation_type,
// active_user_count when configured, recorded_at, edition), then each metric at its
// key path (a metric whose key path is an identity field replaces it), then
// recording_ce_finished_at. Key paths that collide (a value where an object is
// needed) fail that metric with kAlreadyExists in its error, not the payload.
//
// Thread safety: BuildPayload may run concurrently with itself; the sources must be
// safe for concurrent use (SqlDatabase and UsageStore are).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "ping/database_metric.h"
#include "ping/instance.h"
#include "ping/metric_definition.h"
#include "ping/sql_database.h"
#include "ping/usage_store.h"

namespace furrow::ping {

struct PayloadSources {
  SqlDatabase* database = nullptr;  // none: database metrics report -1
  UsageStore* usage = nullptr;      // none: redis/internal-event metrics report -1
  InstanceConfig instance;
  SystemInfo system;
  std::string uuid;
  std::string version;  // the installation's version (instance.version or furrow's)
};

struct PayloadOptions {
  int threads = 4;                                   // concurrent metrics
  std::chrono::milliseconds deadline{600000};        // the whole payload (10 min)
  std::chrono::milliseconds metric_timeout{120000};  // one metric (2 min)
  bool include_optional = false;                     // data_category optional
  bool skip_database = false;  // leave database metrics out (GET /usage_data/non_sql_metrics)
  DatabaseQueryOptions database;
};

struct MetricOutcome {
  std::string key_path;
  std::string value_json;  // the value as sent (the fallback on error)
  double elapsed_seconds = 0;
  std::string error;       // empty on success
};

struct Payload {
  std::string json;
  std::string uuid;
  std::string hostname;
  std::string version;
  int64_t recorded_at_ms = 0;
  std::string recorded_at;  // ISO 8601 UTC with milliseconds
  std::vector<MetricOutcome> metrics;
  std::vector<const MetricDefinition*> uninstrumented;
  double elapsed_seconds = 0;
};

// Fails only when no worker thread can be started (kResourceExhausted).
[[nodiscard]] Result<Payload> BuildPayload(const DefinitionSet& definitions, const PayloadSources& sources,
                                           const PayloadOptions& options, const Clock& clock);

// The instances BuildPayload computes (reported, category allowed, instrumented).
std::vector<MetricInstance> SelectInstances(const DefinitionSet& definitions, bool include_optional);

// {"metadata":{"uuid":..,"metrics":[{"name":..,"time_elapsed":..,"error":..}]}}
std::string MetadataJson(const Payload& payload);

// A nested JSON object from (key path, JSON value) pairs, in order. Pairs whose
// key path collides with an earlier one are left out.
std::string NestedJson(const std::vector<std::pair<std::string, std::string>>& values);

// A JSON number: integers without a fraction, others with up to 17 digits.
std::string JsonNumber(double value);

}  // namespace furrow::ping
