#include "warehouse/sqlite_warehouse.h"

#include <sqlite3.h>

#include <string>
#include <utility>

#include "core/clock.h"
#include "core/logging.h"
#include "core/time_format.h"

namespace furrow::warehouse {
namespace {

Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string message = what + ": " + sqlite3_errmsg(db);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return UnavailableError(message);
  if (rc == SQLITE_IOERR || rc == SQLITE_FULL || rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY) {
    return IoError(message);
  }
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLossError(message);
  if (rc == SQLITE_CONSTRAINT || rc == SQLITE_MISMATCH) return InvalidArgumentError(message);
  return InternalError(message);
}

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) { rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return s_; }
  void Text(int i, std::string_view v) {
    if (v.empty()) {
      sqlite3_bind_null(s_, i);
    } else {
      sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Real(int i, double v) { sqlite3_bind_double(s_, i, v); }
  int Step() { return sqlite3_step(s_); }
  // Keeps the bindings: a caller rebinds what changes (every parameter is bound
  // before the first Step).
  void Reset() { sqlite3_reset(s_); }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

std::string EventsTableSql() {
  std::string sql = "CREATE TABLE IF NOT EXISTS events (";
  for (size_t i = 0; i < event::kFieldCount; ++i) {
    sql += std::string(event::kFieldNames[i]) + " TEXT, ";
  }
  sql += "source_file TEXT NOT NULL)";
  return sql;
}

class SqliteWarehouse final : public Warehouse {
 public:
  SqliteWarehouse(sqlite3* db, std::string path, const Clock* clock) : db_(db), path_(std::move(path)), clock_(clock) {}
  ~SqliteWarehouse() override { sqlite3_close(db_); }

  Status Exec(const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    return Status(SqliteError(db_, rc, "").code(), message);
  }

  Status Prepare() override {
    FURROW_RETURN_IF_ERROR(Exec(R"sql(
CREATE TABLE IF NOT EXISTS ping_instance (
  ping_id INTEGER PRIMARY KEY,
  installation_id TEXT NOT NULL,
  uuid TEXT NOT NULL,
  hostname TEXT,
  version TEXT,
  edition TEXT,
  recorded_at TEXT NOT NULL,
  created_at TEXT,
  metric_count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ping_instance_metric (
  ping_id INTEGER NOT NULL,
  installation_id TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  metric_path TEXT NOT NULL,
  metric_value REAL NOT NULL,
  has_timed_out INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS load_manifest (
  file TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  rows INTEGER NOT NULL,
  loaded_at TEXT NOT NULL);
)sql"));
    return Exec(EventsTableSql());
  }

  Result<bool> IsLoaded(const std::string& file) override {
    Stmt q(db_, "SELECT 1 FROM load_manifest WHERE file = ?1");
    if (!q.ok()) return SqliteError(db_, SQLITE_ERROR, "preparing the manifest lookup");
    q.Text(1, file);
    int rc = q.Step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, rc, "reading the manifest");
  }

  Result<PingLoadResult> LoadPings(const std::string& file, const std::vector<PingInstance>& pings) override {
    VectorPingSource source(pings);
    return LoadPingStream(file, source);
  }

  Result<PingLoadResult> LoadPingStream(const std::string& file, PingSource& pings) override {
    FURROW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Result<PingLoadResult> r = LoadPingsInTransaction(file, pings);
    if (!r.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return r;
    }
    Status committed = Exec("COMMIT");
    if (!committed.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return committed;
    }
    return r;
  }

  Result<int64_t> LoadEvents(const std::string& file, const std::vector<event::FieldViews>& events) override {
    FURROW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Result<int64_t> r = LoadEventsInTransaction(file, events);
    if (!r.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return r;
    }
    Status committed = Exec("COMMIT");
    if (!committed.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return committed;
    }
    return r;
  }

  std::string Describe() const override { return "sqlite://" + path_; }

 private:
  Status Manifest(const std::string& file, const char* kind, int64_t rows) {
    Stmt m(db_, "INSERT INTO load_manifest (file, kind, rows, loaded_at) VALUES (?1, ?2, ?3, ?4)");
    if (!m.ok()) return SqliteError(db_, SQLITE_ERROR, "preparing the manifest insert");
    std::string now = FormatIso8601Millis(clock_->NowMillis());
    m.Text(1, file);
    m.Text(2, kind);
    m.Int(3, rows);
    m.Text(4, now);
    int rc = m.Step();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "writing the manifest");
    return Status::Ok();
  }

  Result<PingLoadResult> LoadPingsInTransaction(const std::string& file, PingSource& pings) {
    Stmt instance(db_,
                  "INSERT INTO ping_instance (ping_id, installation_id, uuid, hostname, version, edition, recorded_at, "
                  "created_at, metric_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (ping_id) DO NOTHING");
    Stmt metric(db_,
                "INSERT INTO ping_instance_metric (ping_id, installation_id, recorded_at, metric_path, metric_value, "
                "has_timed_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!instance.ok() || !metric.ok()) return SqliteError(db_, SQLITE_ERROR, "preparing the ping inserts");
    PingLoadResult result;
    while (true) {
      FURROW_ASSIGN_OR_RETURN(const PingInstance* next, pings.Next());
      if (next == nullptr) break;
      const PingInstance& p = *next;
      instance.Reset();
      instance.Int(1, p.ping_id);
      instance.Text(2, p.installation_id);
      instance.Text(3, p.uuid);
      instance.Text(4, p.hostname);
      instance.Text(5, p.version);
      instance.Text(6, p.edition);
      instance.Text(7, p.recorded_at);
      instance.Text(8, p.created_at);
      instance.Int(9, static_cast<int64_t>(p.metrics.size()));
      int rc = instance.Step();
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "inserting ping " + std::to_string(p.ping_id));
      if (sqlite3_changes(db_) == 0) {
        ++result.duplicates;
        continue;
      }
      ++result.pings;
      // The ping's columns stay bound across its metrics; only the metric's change.
      // (SQLite refuses to bind on a statement that has run and not been reset, so the
      // statement is reset right after each step.)
      metric.Int(1, p.ping_id);
      metric.Text(2, p.installation_id);
      metric.Text(3, p.recorded_at);
      for (const PingMetric& m : p.metrics) {
        metric.Text(4, m.path);
        metric.Real(5, m.value);
        metric.Int(6, m.has_timed_out ? 1 : 0);
        rc = metric.Step();
        metric.Reset();
        if (rc != SQLITE_DONE) return SqliteError(db_, rc, "inserting a metric of ping " + std::to_string(p.ping_id));
      }
      result.metrics += static_cast<int64_t>(p.metrics.size());
    }
    FURROW_RETURN_IF_ERROR(Manifest(file, "pings", result.pings));
    return result;
  }

  Result<int64_t> LoadEventsInTransaction(const std::string& file, const std::vector<event::FieldViews>& events) {
    std::string sql = "INSERT INTO events VALUES (";
    for (size_t i = 1; i <= event::kFieldCount + 1; ++i) {
      if (i > 1) sql += ", ";
      sql += "?" + std::to_string(i);
    }
    sql += ")";
    Stmt insert(db_, sql);
    if (!insert.ok()) return SqliteError(db_, SQLITE_ERROR, "preparing the event insert");
    for (const event::FieldViews& fields : events) {
      insert.Reset();
      for (size_t i = 0; i < event::kFieldCount; ++i) insert.Text(static_cast<int>(i + 1), fields[i]);
      insert.Text(static_cast<int>(event::kFieldCount + 1), file);
      int rc = insert.Step();
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "inserting an event");
    }
    FURROW_RETURN_IF_ERROR(Manifest(file, "events", static_cast<int64_t>(events.size())));
    return static_cast<int64_t>(events.size());
  }

  sqlite3* db_;
  std::string path_;
  const Clock* clock_;
};

}  // namespace

Result<std::unique_ptr<Warehouse>> OpenSqliteWarehouse(const std::string& path, const Clock& clock) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open " + path + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return IoError(message);
  }
  auto w = std::make_unique<SqliteWarehouse>(db, path, &clock);
  // A new file gets 64 KiB pages; every file is switched to a rollback journal (see
  // the header for why). Leaving WAL needs the file to itself: while another
  // connection has a WAL file open the switch fails at once (before the busy timeout
  // is set) and the load runs in WAL mode, slower but correct.
  FURROW_RETURN_IF_ERROR(w->Exec("PRAGMA page_size=65536;"));
  Status journal = w->Exec("PRAGMA journal_mode=DELETE;");
  if (!journal.ok()) {
    log::Warn("the warehouse stays in its journal mode (another connection has it open)",
              {{"warehouse", path}, {"error", journal.message()}});
  }
  sqlite3_busy_timeout(db, 5000);
  FURROW_RETURN_IF_ERROR(w->Exec("PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;"));
  return std::unique_ptr<Warehouse>(std::move(w));
}

}  // namespace furrow::warehouse
