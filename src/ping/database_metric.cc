#include "ping/database_metric.h"

#include <algorithm>

namespace furrow::ping {
namespace {

bool IsPlainIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') || name[0] == '_')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string Quote(std::string_view name) {
  std::string out;
  size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    out = "\"" + std::string(name.substr(0, dot)) + "\".";
    name.remove_prefix(dot + 1);
  }
  out += "\"" + std::string(name) + "\"";
  return out;
}

Status OptionError(const MetricDefinition& d, std::string_view field, std::string_view what) {
  return InvalidArgumentError(d.file + ": field `options." + std::string(field) + "`: " + std::string(what));
}

std::string TimestampLiteral(WallTime t, SqlDialect dialect) {
  std::string text = FormatSqlTimestamp(t);
  return dialect == SqlDialect::kPostgresql ? "'" + text + "+00'" : "'" + text + "'";
}

std::string Aggregate(const DatabaseMetricPlan& plan) {
  switch (plan.operation) {
    case DatabaseOperation::kCount: return "COUNT(" + plan.column + ")";
    case DatabaseOperation::kDistinctCount: return "COUNT(DISTINCT " + plan.column + ")";
    case DatabaseOperation::kSum: return "SUM(" + plan.column + ")";
  }
  return "COUNT(*)";
}

std::string Query(const DatabaseMetricPlan& plan, SqlDialect dialect, std::optional<std::pair<int64_t, int64_t>> range) {
  std::vector<std::string> conditions;
  if (range) {
    const std::string& col = plan.operation == DatabaseOperation::kDistinctCount ? plan.column : plan.batch_column;
    conditions.push_back(col + " >= " + std::to_string(range->first) + " AND " + col + " < " +
                         std::to_string(range->second));
  }
  if (!plan.where.empty()) conditions.push_back("(" + plan.where + ")");
  if (plan.window) {
    conditions.push_back(plan.time_column + " >= " + TimestampLiteral(plan.window->start, dialect) + " AND " +
                         plan.time_column + " < " + TimestampLiteral(plan.window->end, dialect));
  }
  std::string sql = "SELECT " + Aggregate(plan) + " FROM " + plan.relation;
  for (size_t i = 0; i < conditions.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + conditions[i];
  return sql;
}

// MIN/MAX of the batch column over the time window only (as GitLab's batch counter
// does), so that a 7d metric over an indexed time column batches over a few ids, not
// the table; the `where` condition is left to the batches (it may need a full scan).
std::string BoundsQuery(const DatabaseMetricPlan& plan, SqlDialect dialect, const std::string& batch_col) {
  DatabaseMetricPlan window_only = plan;
  window_only.where.clear();
  std::string rows = Query(window_only, dialect, std::nullopt);
  const std::string from = rows.substr(rows.find(" FROM "));
  if (plan.window && dialect == SqlDialect::kPostgresql) {
    // PostgreSQL turns a plain MIN/MAX into "walk the batch column's index until a
    // row passes the window": with ids growing with time that walks almost the
    // whole table for MIN (2.5 s at 10M rows). Reading the window's rows first
    // (OFFSET 0 keeps the subquery from being pulled up) uses the time index.
    return "SELECT MIN(" + batch_col + "), MAX(" + batch_col + ") FROM (SELECT " + batch_col + from +
           " OFFSET 0) AS window_rows";
  }
  return "SELECT MIN(" + batch_col + "), MAX(" + batch_col + ")" + from;
}

struct Accumulator {
  bool any = false;
  bool integer = true;
  int64_t i = 0;
  double d = 0;
  void Add(const SqlScalar& v) {
    if (v.is_null) return;
    any = true;
    if (v.is_integer && integer) {
      i += v.integer;
    } else {
      if (integer) d = static_cast<double>(i);
      integer = false;
      d += v.AsDouble();
    }
  }
  SqlScalar Value() const {
    SqlScalar out;
    out.is_null = false;
    out.is_integer = integer;
    out.integer = i;
    out.real = d;
    return out;
  }
};

}  // namespace

bool IsSafeIdentifier(std::string_view name) {
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) return IsPlainIdentifier(name);
  return IsPlainIdentifier(name.substr(0, dot)) && IsPlainIdentifier(name.substr(dot + 1));
}

Result<DatabaseMetricPlan> PlanDatabaseMetric(const MetricDefinition& d, TimeFrame frame, WallTime now) {
  DatabaseMetricPlan plan;
  std::string op = d.Option("operation");
  if (op == "count") plan.operation = DatabaseOperation::kCount;
  else if (op == "distinct_count") plan.operation = DatabaseOperation::kDistinctCount;
  else if (op == "sum") plan.operation = DatabaseOperation::kSum;
  else return OptionError(d, "operation", "must be count, distinct_count or sum");

  std::string relation = d.Option("relation");
  if (!IsSafeIdentifier(relation)) return OptionError(d, "relation", "'" + relation + "' is not a table name");
  plan.relation = Quote(relation);

  std::string column = d.Option("column");
  if (column.empty() || column == "*") {
    if (plan.operation != DatabaseOperation::kCount) return OptionError(d, "column", "is required for " + op);
    plan.column = "*";
  } else {
    if (!IsPlainIdentifier(column)) return OptionError(d, "column", "'" + column + "' is not a column name");
    plan.column = Quote(column);
  }
  std::string batch = d.Option("batch_column");
  if (batch.empty()) batch = "id";
  if (!IsPlainIdentifier(batch)) return OptionError(d, "batch_column", "'" + batch + "' is not a column name");
  plan.batch_column = Quote(batch);

  std::string time_column = d.Option("time_column");
  if (time_column.empty()) time_column = "created_at";
  if (!IsPlainIdentifier(time_column)) return OptionError(d, "time_column", "'" + time_column + "' is not a column name");
  plan.time_column = Quote(time_column);

  plan.where = d.Option("where");
  if (plan.where.find(';') != std::string::npos || plan.where.find("--") != std::string::npos ||
      plan.where.find("/*") != std::string::npos) {
    return OptionError(d, "where", "must be one SQL condition without ';' or comments");
  }
  plan.window = DatabaseWindow(now, frame);
  return plan;
}

std::string FullQuery(const DatabaseMetricPlan& plan, SqlDialect dialect) {
  return Query(plan, dialect, std::nullopt);
}

std::optional<BatchBoundsCache::Bounds> BatchBoundsCache::Find(const std::string& bounds_sql) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bounds_.find(bounds_sql);
  if (it == bounds_.end()) return std::nullopt;
  return it->second;
}

void BatchBoundsCache::Insert(const std::string& bounds_sql, const Bounds& bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  bounds_.emplace(bounds_sql, bounds);
}

Result<SqlScalar> RunDatabaseMetric(SqlConnection& connection, const DatabaseMetricPlan& plan, SqlDialect dialect,
                                    const DatabaseQueryOptions& options, const Clock& clock, MonoTime deadline,
                                    BatchBoundsCache* bounds_cache) {
  auto query_deadline = [&] { return std::min(deadline, clock.Monotonic() + options.query_timeout); };
  auto finish = [&](Result<SqlScalar> r) -> Result<SqlScalar> {
    if (!r.ok()) return r;
    SqlScalar v = *r;
    if (v.is_null) {  // SUM over no rows: GitLab reports 0
      v.is_null = false;
      v.is_integer = true;
      v.integer = 0;
    }
    return v;
  };

  const bool distinct = plan.operation == DatabaseOperation::kDistinctCount;
  if (distinct && (plan.window || !plan.where.empty())) {
    // Batches over the counted column pay off only as index-only scans; with a
    // window or a condition each batch would fetch table rows in index order
    // (random reads over the whole table), so one query scans it once instead.
    return finish(connection.QueryScalar(Query(plan, dialect, std::nullopt), query_deadline()));
  }
  const std::string& batch_col = distinct ? plan.column : plan.batch_column;
  const std::string bounds_sql = BoundsQuery(plan, dialect, batch_col);
  if (!plan.window) bounds_cache = nullptr;
  std::optional<BatchBoundsCache::Bounds> cached;
  if (bounds_cache != nullptr) cached = bounds_cache->Find(bounds_sql);
  Result<std::pair<SqlScalar, SqlScalar>> bounds =
      cached ? Result<std::pair<SqlScalar, SqlScalar>>(*cached) : connection.QueryPair(bounds_sql, query_deadline());
  if (bounds_cache != nullptr && !cached && bounds.ok()) bounds_cache->Insert(bounds_sql, *bounds);
  if (!bounds.ok()) {
    if (bounds.status().code() == StatusCode::kDeadlineExceeded || bounds.status().code() == StatusCode::kUnavailable) {
      return bounds.status();
    }
    // No batch column (or not comparable): one query for the whole table.
    return finish(connection.QueryScalar(Query(plan, dialect, std::nullopt), query_deadline()));
  }
  const auto& [low, high] = *bounds;
  if (low.is_null || high.is_null) {  // empty table
    SqlScalar zero;
    zero.is_null = false;
    return zero;
  }
  if (!low.is_integer || !high.is_integer) {
    return finish(connection.QueryScalar(Query(plan, dialect, std::nullopt), query_deadline()));
  }
  int64_t batch = distinct ? options.distinct_batch_size : options.count_batch_size;
  batch = std::max<int64_t>(batch, 1);
  Accumulator total;
  int64_t start = low.integer;
  const int64_t end = high.integer;  // inclusive
  while (start <= end) {
    int64_t stop = (end - start >= batch) ? start + batch : end + 1;
    Result<SqlScalar> part = connection.QueryScalar(Query(plan, dialect, std::make_pair(start, stop)), query_deadline());
    if (!part.ok()) {
      bool timed_out = part.status().code() == StatusCode::kDeadlineExceeded;
      if (timed_out && clock.Monotonic() < deadline && batch / 2 >= options.min_batch_size) {
        batch /= 2;  // GitLab's batch counter: halve and retry the same range start
        continue;
      }
      return part.status();
    }
    total.Add(*part);
    start = stop;
  }
  return total.Value();
}

}  // namespace furrow::ping
