#include "warehouse/postgres_warehouse.h"

#include <libpq-fe.h>

#include <cstdio>
#include <string>
#include <unordered_set>
#include <utility>

#include "core/time_format.h"

namespace furrow::warehouse {
namespace {

std::string Trimmed(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

std::string FormatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

class PostgresWarehouse final : public Warehouse {
 public:
  PostgresWarehouse(PGconn* conn, std::string description, const Clock* clock)
      : conn_(conn), description_(std::move(description)), clock_(clock) {}
  ~PostgresWarehouse() override { PQfinish(conn_); }

  Status Exec(const std::string& sql) {
    PGresult* res = PQexec(conn_, sql.c_str());
    ExecStatusType st = PQresultStatus(res);
    PQclear(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    return Error("executing SQL");
  }

  Status Prepare() override {
    std::string events = "CREATE TABLE IF NOT EXISTS events (";
    for (size_t i = 0; i < event::kFieldCount; ++i) events += std::string(event::kFieldNames[i]) + " TEXT, ";
    events += "source_file TEXT NOT NULL)";
    FURROW_RETURN_IF_ERROR(Exec(R"sql(
CREATE TABLE IF NOT EXISTS ping_instance (
  ping_id BIGINT PRIMARY KEY,
  installation_id TEXT NOT NULL,
  uuid TEXT NOT NULL,
  hostname TEXT,
  version TEXT,
  edition TEXT,
  recorded_at TEXT NOT NULL,
  created_at TEXT,
  metric_count BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS ping_instance_metric (
  ping_id BIGINT NOT NULL,
  installation_id TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  metric_path TEXT NOT NULL,
  metric_value DOUBLE PRECISION NOT NULL,
  has_timed_out SMALLINT NOT NULL);
CREATE TABLE IF NOT EXISTS load_manifest (
  file TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  rows BIGINT NOT NULL,
  loaded_at TEXT NOT NULL);
)sql"));
    return Exec(events);
  }

  Result<bool> IsLoaded(const std::string& file) override {
    const char* params[] = {file.c_str()};
    PGresult* res = PQexecParams(conn_, "SELECT 1 FROM load_manifest WHERE file = $1", 1, nullptr, params, nullptr,
                                 nullptr, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      PQclear(res);
      return Error("reading the manifest");
    }
    bool loaded = PQntuples(res) > 0;
    PQclear(res);
    return loaded;
  }

  Result<PingLoadResult> LoadPings(const std::string& file, const std::vector<PingInstance>& pings) override {
    FURROW_RETURN_IF_ERROR(Exec("BEGIN"));
    Result<PingLoadResult> r = LoadPingsInTransaction(file, pings);
    return Finish(std::move(r));
  }

  Result<int64_t> LoadEvents(const std::string& file, const std::vector<event::FieldViews>& events) override {
    FURROW_RETURN_IF_ERROR(Exec("BEGIN"));
    Result<int64_t> r = LoadEventsInTransaction(file, events);
    return Finish(std::move(r));
  }

  std::string Describe() const override { return description_; }

 private:
  Status Error(const std::string& what) {
    std::string message = "postgresql: " + what + ": " + Trimmed(PQerrorMessage(conn_));
    if (PQstatus(conn_) != CONNECTION_OK) return UnavailableError(message);
    return InvalidArgumentError(message);
  }

  template <typename T>
  Result<T> Finish(Result<T> r) {
    if (!r.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return r;
    }
    Status committed = Exec("COMMIT");
    if (!committed.ok()) return committed;
    return r;
  }

  // Runs COPY `sql` FROM STDIN with `data` (text format).
  Status Copy(const std::string& sql, const std::string& data) {
    PGresult* res = PQexec(conn_, sql.c_str());
    ExecStatusType st = PQresultStatus(res);
    PQclear(res);
    if (st != PGRES_COPY_IN) return Error("starting COPY");
    const size_t kChunk = 1 << 20;
    for (size_t pos = 0; pos < data.size(); pos += kChunk) {
      size_t n = std::min(kChunk, data.size() - pos);
      if (PQputCopyData(conn_, data.data() + pos, static_cast<int>(n)) != 1) return Error("sending COPY data");
    }
    if (PQputCopyEnd(conn_, nullptr) != 1) return Error("ending COPY");
    Status status;
    while (PGresult* r = PQgetResult(conn_)) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK && status.ok()) status = Error("COPY");
      PQclear(r);
    }
    return status;
  }

  Status Manifest(const std::string& file, const char* kind, int64_t rows) {
    std::string rows_text = std::to_string(rows);
    std::string now = FormatIso8601Millis(clock_->NowMillis());
    const char* params[] = {file.c_str(), kind, rows_text.c_str(), now.c_str()};
    PGresult* res = PQexecParams(conn_, "INSERT INTO load_manifest (file, kind, rows, loaded_at) VALUES ($1, $2, $3, $4)",
                                 4, nullptr, params, nullptr, nullptr, 0);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) return Error("writing the manifest");
    return Status::Ok();
  }

  Result<PingLoadResult> LoadPingsInTransaction(const std::string& file, const std::vector<PingInstance>& pings) {
    FURROW_RETURN_IF_ERROR(Exec("CREATE TEMP TABLE furrow_ping_stage (LIKE ping_instance) ON COMMIT DROP"));
    std::string data;
    for (const PingInstance& p : pings) {
      data += std::to_string(p.ping_id);
      for (const std::string* v : {&p.installation_id, &p.uuid, &p.hostname, &p.version, &p.edition, &p.recorded_at,
                                   &p.created_at}) {
        data += '\t';
        AppendCopyText(&data, *v, v != &p.installation_id && v != &p.uuid && v != &p.recorded_at);
      }
      data += '\t' + std::to_string(p.metrics.size()) + '\n';
    }
    FURROW_RETURN_IF_ERROR(Copy("COPY furrow_ping_stage FROM STDIN", data));
    PGresult* res = PQexec(conn_,
                           "INSERT INTO ping_instance SELECT DISTINCT ON (ping_id) * FROM furrow_ping_stage "
                           "ON CONFLICT (ping_id) DO NOTHING RETURNING ping_id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      PQclear(res);
      return Error("inserting pings");
    }
    std::unordered_set<int64_t> inserted;
    for (int i = 0; i < PQntuples(res); ++i) inserted.insert(std::strtoll(PQgetvalue(res, i, 0), nullptr, 10));
    PQclear(res);
    PingLoadResult result;
    data.clear();
    for (const PingInstance& p : pings) {
      if (inserted.erase(p.ping_id) == 0) {
        ++result.duplicates;
        continue;
      }
      ++result.pings;
      std::string prefix = std::to_string(p.ping_id) + '\t';
      AppendCopyText(&prefix, p.installation_id, false);
      prefix += '\t';
      AppendCopyText(&prefix, p.recorded_at, false);
      prefix += '\t';
      for (const PingMetric& m : p.metrics) {
        data += prefix;
        AppendCopyText(&data, m.path, false);
        data += '\t';
        data += FormatDouble(m.value);
        data += m.has_timed_out ? "\t1\n" : "\t0\n";
      }
      result.metrics += static_cast<int64_t>(p.metrics.size());
    }
    if (!data.empty()) FURROW_RETURN_IF_ERROR(Copy("COPY ping_instance_metric FROM STDIN", data));
    FURROW_RETURN_IF_ERROR(Manifest(file, "pings", result.pings));
    return result;
  }

  Result<int64_t> LoadEventsInTransaction(const std::string& file, const std::vector<event::FieldViews>& events) {
    std::string data;
    for (const event::FieldViews& fields : events) {
      for (size_t i = 0; i < event::kFieldCount; ++i) {
        AppendCopyText(&data, fields[i], true);
        data += '\t';
      }
      AppendCopyText(&data, file, false);
      data += '\n';
    }
    if (!data.empty()) FURROW_RETURN_IF_ERROR(Copy("COPY events FROM STDIN", data));
    FURROW_RETURN_IF_ERROR(Manifest(file, "events", static_cast<int64_t>(events.size())));
    return static_cast<int64_t>(events.size());
  }

  PGconn* conn_;
  std::string description_;
  const Clock* clock_;
};

}  // namespace

void AppendCopyText(std::string* out, std::string_view value, bool empty_is_null) {
  if (value.empty() && empty_is_null) {
    out->append("\\N");
    return;
  }
  for (char c : value) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '\t': out->append("\\t"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      default: out->push_back(c);
    }
  }
}

Result<std::unique_ptr<Warehouse>> OpenPostgresWarehouse(const std::string& url, const Clock& clock) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (conn == nullptr) return UnavailableError("postgresql: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return UnavailableError("postgresql: cannot connect: " + message);
  }
  std::string description = std::string("postgresql://") + PQhost(conn) + ":" + PQport(conn) + "/" + PQdb(conn);
  auto w = std::make_unique<PostgresWarehouse>(conn, description, &clock);
  FURROW_RETURN_IF_ERROR(w->Exec("SET client_min_messages = warning"));
  return std::unique_ptr<Warehouse>(std::move(w));
}

}  // namespace furrow::warehouse
