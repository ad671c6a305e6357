// DatabaseMetric: a count, distinct count or sum over one table, in SQL that furrow
// writes itself from a definition's options:
//
//   instrumentation_class: DatabaseMetric
//   options:
//     operation: count | distinct_count | sum
//     relation: issues            # table, optionally schema.table
//     column: author_id           # required for distinct_count and sum; count uses *
//     where: "state = 'opened'"   # optional SQL condition, owned by the definition
//     time_column: created_at     # default created_at; used for 7d and 28d
//     batch_column: id            # default id (count, sum); distinct batches on column
//
// Identifiers are checked ([A-Za-z_][A-Za-z0-9_]*, at most one schema dot) and
// double-quoted, so a definition can add SQL only through `where`, which must be
// a single condition: no ';' and no comments. Queries run on read-only connections
// one statement at a time.
//
// Batching (GitLab's batch counter): MIN/MAX of the batch column within the time
// window, then one query per
// range of batch_size ids (100,000 for count and sum; 10,000 for distinct_count,
// batched over the counted column itself so no value is counted twice; a distinct
// count with a time window or a `where` runs as one query, since its batches would
// read table rows in index order). A batch
// that times out is retried from the same id with half the size, which is kept for
// the rest of the metric; when half would be under min_batch_size the metric fails
// with kDeadlineExceeded. A table with no integer batch column is counted in one query.
//
// Errors: kInvalidArgument for bad options (naming the field), the database's
// errors as returned by SqlConnection, kDeadlineExceeded when the metric's deadline
// passes. Stateless functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "core/clock.h"
#include "ping/metric_definition.h"
#include "ping/sql_database.h"
#include "ping/time_frame.h"

namespace furrow::ping {

struct DatabaseQueryOptions {
  int64_t count_batch_size = 100000;    // ids per count/sum batch
  int64_t distinct_batch_size = 10000;  // values per distinct_count batch
  int64_t min_batch_size = 100;         // smallest batch before a timeout is final
  std::chrono::milliseconds query_timeout{10000};  // each query (batch) at most
};

enum class DatabaseOperation { kCount, kDistinctCount, kSum };

// A validated database metric at one time frame.
struct DatabaseMetricPlan {
  DatabaseOperation operation = DatabaseOperation::kCount;
  std::string relation;      // quoted, e.g. "public"."issues"
  std::string column;        // quoted, or "*" for count
  std::string batch_column;  // quoted
  std::string where;         // as written, may be empty
  std::string time_column;   // quoted
  std::optional<TimeWindow> window;
};

[[nodiscard]] Result<DatabaseMetricPlan> PlanDatabaseMetric(const MetricDefinition& definition,
                                                            TimeFrame frame, WallTime now);

// The whole metric as one SQL statement (GET /usage_data/queries, the benchmark).
std::string FullQuery(const DatabaseMetricPlan& plan, SqlDialect dialect);

// True for a plain or schema-qualified SQL identifier furrow accepts.
bool IsSafeIdentifier(std::string_view name);

// The MIN/MAX bounds of batch columns over time windows, shared by the metrics of
// one payload: every 28d metric over `issues` asks the same question (the window is
// fixed at the payload's `now`), so it is asked once. Only windowed bounds are kept
// (all-time bounds are two index probes, and the table's newest id moves).
// Safe for concurrent use; two workers may both ask before either has stored it.
class BatchBoundsCache {
 public:
  using Bounds = std::pair<SqlScalar, SqlScalar>;
  std::optional<Bounds> Find(const std::string& bounds_sql) const;
  void Insert(const std::string& bounds_sql, const Bounds& bounds);

 private:
  mutable std::mutex mu_;
  std::map<std::string, Bounds> bounds_;  // guarded by mu_
};

// Computes the metric, in batches, with every query ending by `deadline` at the latest.
// `bounds_cache` (may be null) serves and keeps the window's batch bounds.
[[nodiscard]] Result<SqlScalar> RunDatabaseMetric(SqlConnection& connection, const DatabaseMetricPlan& plan,
                                                  SqlDialect dialect, const DatabaseQueryOptions& options,
                                                  const Clock& clock, MonoTime deadline,
                                                  BatchBoundsCache* bounds_cache = nullptr);

}  // namespace furrow::ping
