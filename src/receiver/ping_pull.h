// PingPull: the job for the installation that does not push its own ping (too
// expensive to compute in-app). It reads the installation's API (`furrow ping
// serve`, or GitLab's):
//   GET /usage_data/metric_definitions  every definition (YAML; counted for the log)
//   GET /usage_data/queries             the SQL of each database metric, nested by key path
//   GET /usage_data/non_sql_metrics     the payload without database metrics (identity,
//                                       settings, redis, system ...)
// runs each query against `database` (a replica), sets each result at its key path in
// the non-SQL payload (-1 where a query fails or times out, as the agent does), and
// stores the result in the receiver's PingStore as that installation's ping. A pull
// repeated for the same (uuid, recorded_at) stores nothing new (see ping_store.h).
//
// The API token is sent as "PRIVATE-TOKEN". Errors: kUnavailable when the API cannot
// be reached or answers 5xx, kPermissionDenied on 401/403, kInvalidArgument when an
// answer is not what it should be, and the store's errors. Not thread-safe: one run at
// a time per object.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "net/http_client.h"
#include "ping/sql_database.h"
#include "receiver/ping_store.h"

namespace furrow::receiver {

struct PullOptions {
  std::string url;    // the installation's base URL, e.g. http://gitlab.example.com
  std::string token;  // API token (never logged)
  std::chrono::milliseconds query_timeout{60000};  // each SQL query at most (default 60 s)
};

struct PullResult {
  int64_t usage_data_id = 0;
  bool created = false;
  int64_t queries = 0;  // SQL metrics run
  int64_t failed = 0;   // of which failed or timed out (-1)
  int64_t definitions = 0;
};

// The (key path, SQL) leaves of a nested queries document. kInvalidArgument if it is
// not a JSON object.
[[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> QueryLeaves(const std::string& json);

// Sets each (dotted key path, value) in the payload object, creating objects on the
// way; values are JSON numbers. kInvalidArgument if the payload is not an object or a
// path runs through a non-object.
[[nodiscard]] Result<std::string> MergeMetrics(const std::string& payload_json,
                                               const std::vector<std::pair<std::string, double>>& values);

[[nodiscard]] Result<PullResult> PullPing(const PullOptions& options, net::HttpClient& client,
                                          ping::SqlDatabase& database, PingStore& store, const Clock& clock);

}  // namespace furrow::receiver
