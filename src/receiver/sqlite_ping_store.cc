#include "receiver/sqlite_ping_store.h"

#include <sqlite3.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "receiver/group_commit.h"

namespace furrow::receiver {
namespace {

// Each entry is one migration; its index + 1 is its version. Never edit an entry
// that has shipped: append a new one.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE hosts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  url TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL);
CREATE TABLE raw_usage_data (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid TEXT NOT NULL,
  payload TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (uuid, recorded_at));
CREATE INDEX raw_usage_data_created_at ON raw_usage_data (created_at);
CREATE TABLE usage_data (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  raw_usage_data_id INTEGER NOT NULL REFERENCES raw_usage_data (id),
  host_id INTEGER REFERENCES hosts (id),
  uuid TEXT NOT NULL,
  hostname TEXT,
  version TEXT,
  edition TEXT,
  installation_type TEXT,
  active_user_count INTEGER,
  recorded_at TEXT NOT NULL,
  license_md5 TEXT,
  license_sha256 TEXT,
  license_id TEXT,
  historical_max_users INTEGER,
  license_user_count INTEGER,
  license_starts_at TEXT,
  license_expires_at TEXT,
  license_plan TEXT,
  license_trial INTEGER,
  database_adapter TEXT,
  database_version TEXT,
  stats TEXT NOT NULL,
  source_ip TEXT,
  created_at TEXT NOT NULL);
CREATE INDEX usage_data_uuid ON usage_data (uuid, id);
CREATE INDEX usage_data_created_at ON usage_data (created_at);
CREATE TABLE versions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  version TEXT NOT NULL UNIQUE,
  vulnerable INTEGER NOT NULL DEFAULT 0,
  critical INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL);
CREATE TABLE usage_ping_errors (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid TEXT NOT NULL,
  hostname TEXT,
  version TEXT,
  message TEXT,
  elapsed REAL,
  time TEXT,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE INDEX usage_ping_errors_created_at ON usage_ping_errors (created_at);
CREATE TABLE usage_ping_metadata (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid TEXT NOT NULL,
  metadata TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE INDEX usage_ping_metadata_created_at ON usage_ping_metadata (created_at);
)sql",
};

// The JSON object each extracted row becomes (SQLite's json_object).
std::string ExtractSelect(const std::string& table) {
  if (table == "raw_usage_data") {
    return "SELECT id, json_object('id', id, 'uuid', uuid, 'payload', json(payload), 'recorded_at', "
           "recorded_at, 'created_at', created_at) FROM raw_usage_data";
  }
  if (table == "usage_data") {
    return "SELECT id, json_object('id', id, 'raw_usage_data_id', raw_usage_data_id, 'host_id', host_id, "
           "'uuid', uuid, 'hostname', hostname, 'version', version, 'edition', edition, "
           "'installation_type', installation_type, 'active_user_count', active_user_count, "
           "'recorded_at', recorded_at, 'license_md5', license_md5, 'license_sha256', license_sha256, "
           "'license_id', license_id, 'historical_max_users', historical_max_users, "
           "'license_user_count', license_user_count, 'license_starts_at', license_starts_at, "
           "'license_expires_at', license_expires_at, 'license_plan', license_plan, "
           "'license_trial', CASE WHEN license_trial IS NULL THEN NULL WHEN license_trial THEN json('true') "
           "ELSE json('false') END, 'database_adapter', database_adapter, 'database_version', "
           "database_version, 'stats', json(stats), 'source_ip', source_ip, 'created_at', created_at) "
           "FROM usage_data";
  }
  if (table == "usage_ping_errors") {
    return "SELECT id, json_object('id', id, 'uuid', uuid, 'hostname', hostname, 'version', version, "
           "'message', message, 'elapsed', elapsed, 'time', time, 'payload', json(payload), "
           "'created_at', created_at) FROM usage_ping_errors";
  }
  if (table == "usage_ping_metadata") {
    return "SELECT id, json_object('id', id, 'uuid', uuid, 'metadata', json(metadata), 'created_at', "
           "created_at) FROM usage_ping_metadata";
  }
  return "";
}

// Prepared statements, compiled once per connection and reused (each Statement
// borrows one and resets it when it goes out of scope). Not thread-safe: used under
// the store's mutex.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache() { Clear(); }
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // The compiled statement for `sql` (nullptr and SQLite's error code on failure).
  sqlite3_stmt* Get(const std::string& sql, int* rc) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) {
      *rc = SQLITE_OK;
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    *rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (*rc != SQLITE_OK) return nullptr;
    statements_.emplace(sql, stmt);
    return stmt;
  }
  void Clear() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
  }

 private:
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> statements_;
};

class Statement {
 public:
  Statement(StatementCache& cache, sqlite3* db, const std::string& sql) : db_(db) { stmt_ = cache.Get(sql, &rc_); }
  ~Statement() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Status status() const {
    if (rc_ == SQLITE_OK) return Status::Ok();
    return InternalError(std::string("cannot prepare statement: ") + sqlite3_errmsg(db_));
  }
  // The bound text must stay unchanged until the statement is reset (SQLITE_STATIC):
  // every caller binds values that outlive the Statement, so a 150 KB payload is not copied.
  void Bind(int i, const std::string& v) { sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC); }
  void BindOptional(int i, const std::string& v) {
    if (v.empty()) {
      sqlite3_bind_null(stmt_, i);
    } else {
      Bind(i, v);
    }
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, const std::optional<int64_t>& v) {
    if (v) {
      sqlite3_bind_int64(stmt_, i, *v);
    } else {
      sqlite3_bind_null(stmt_, i);
    }
  }
  void Bind(int i, const std::optional<double>& v) {
    if (v) {
      sqlite3_bind_double(stmt_, i, *v);
    } else {
      sqlite3_bind_null(stmt_, i);
    }
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string message = what + ": " + sqlite3_errmsg(db);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return UnavailableError(message);
  if (rc == SQLITE_IOERR || rc == SQLITE_FULL || rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY) {
    return IoError(message);
  }
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLossError(message);
  if (rc == SQLITE_CONSTRAINT) return InvalidArgumentError(message);
  return InternalError(message);
}

// Copies the WAL back into the database file on its own thread and connection, so
// that the group-commit writer does not stop for checkpoints: SQLite's automatic
// checkpoint runs inside the COMMIT that crosses its threshold, and copying ~16 MB and
// fsyncing the file there held every waiting request. The writer's commits only
// signal (a WAL hook, which replaces the automatic checkpoint). If the WAL still grows
// past kInlinePages (the checkpointer cannot keep up), the committing thread
// checkpoints itself, as SQLite would.
class WalCheckpointer {
 public:
  static constexpr int kPages = 1000;        // SQLite's default wal_autocheckpoint
  static constexpr int kInlinePages = 8000;  // about 128 MB of 16 KiB pages

  // Takes ownership of `own` (a second connection to the same file).
  WalCheckpointer(sqlite3* writer, sqlite3* own) : writer_(writer), own_(own), thread_([this] { Run(); }) {
    sqlite3_wal_hook(writer_, &WalCheckpointer::OnCommit, this);
  }
  ~WalCheckpointer() {
    sqlite3_wal_hook(writer_, nullptr, nullptr);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    sqlite3_close(own_);
  }
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

 private:
  static int OnCommit(void* self, sqlite3* db, const char* schema, int frames) {
    auto* c = static_cast<WalCheckpointer*>(self);
    if (frames >= kInlinePages) {
      sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (frames >= kPages) {
      {
        std::lock_guard<std::mutex> lock(c->mu_);
        c->pending_ = true;
      }
      c->wake_.notify_one();
    }
    return SQLITE_OK;
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      wake_.wait(lock, [this] { return stopping_ || pending_; });
      if (stopping_) return;
      pending_ = false;
      lock.unlock();
      // PASSIVE never blocks the writer; what it cannot copy yet waits for the next round.
      sqlite3_wal_checkpoint_v2(own_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  sqlite3* writer_;
  sqlite3* own_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

class SqlitePingStore final : public PingStore {
 public:
  SqlitePingStore(sqlite3* db, std::string path)
      : db_(db),
        path_(std::move(path)),
        statements_(db),
        group_commit_(std::make_unique<GroupCommit>(
            [this](const std::vector<GroupCommit::Ping>& batch) { return CommitBatch(batch); })) {}
  ~SqlitePingStore() override {
    group_commit_.reset();  // answers what is queued while the connection is still open
    checkpointer_.reset();
    statements_.Clear();
    sqlite3_close(db_);
  }

  Status Migrate() {
    FURROW_RETURN_IF_ERROR(Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
    Statement current(statements_, db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    FURROW_RETURN_IF_ERROR(current.status());
    if (current.Step() != SQLITE_ROW) return SqliteError(db_, SQLITE_ERROR, "reading schema_migrations");
    int64_t version = current.Int(0);
    const int64_t known = static_cast<int64_t>(std::size(kMigrations));
    if (version > known) {
      return FailedPreconditionError("the receiver database has schema version " + std::to_string(version) +
                                     ", newer than this binary's " + std::to_string(known));
    }
    for (int64_t v = version + 1; v <= known; ++v) {
      FURROW_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
      Status s = Exec(kMigrations[v - 1]);
      if (s.ok()) {
        s = Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (" + std::to_string(v) +
                 ", strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
      }
      if (!s.ok()) {
        Exec("ROLLBACK").IgnoreError();
        return s.WithContext("migration " + std::to_string(v));
      }
      FURROW_RETURN_IF_ERROR(Exec("COMMIT"));
    }
    return Status::Ok();
  }

  // Waits until the group commit holding the payload has committed (or failed).
  Result<StoreResult> StoreUsageData(const UsageData& d, const std::string& source_ip,
                                     const std::string& created_at) override {
    return group_commit_->Store(d, source_ip, created_at);
  }

  Result<int64_t> StoreMetadata(const std::string& uuid, const std::string& metadata_json,
                                const std::string& created_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement insert(statements_, db_, "INSERT INTO usage_ping_metadata (uuid, metadata, created_at) VALUES (?1, ?2, ?3)");
    FURROW_RETURN_IF_ERROR(insert.status());
    insert.Bind(1, uuid);
    insert.Bind(2, metadata_json);
    insert.Bind(3, created_at);
    int rc = insert.Step();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "storing metadata");
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
  }

  Result<int64_t> StoreError(const PingError& e, const std::string& created_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement insert(statements_, db_,
                     "INSERT INTO usage_ping_errors (uuid, hostname, version, message, elapsed, time, payload, "
                     "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    FURROW_RETURN_IF_ERROR(insert.status());
    insert.Bind(1, e.uuid);
    insert.BindOptional(2, e.hostname);
    insert.BindOptional(3, e.version);
    insert.BindOptional(4, e.message);
    insert.Bind(5, e.elapsed);
    insert.BindOptional(6, e.time);
    insert.Bind(7, e.payload);
    insert.Bind(8, created_at);
    int rc = insert.Step();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "storing the error report");
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
  }

  Result<std::vector<InstallationSummary>> ListInstallations() override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement q(statements_, db_,
                "SELECT u.uuid, COALESCE(u.hostname, ''), COALESCE(u.version, ''), u.recorded_at, c.n "
                "FROM usage_data u JOIN (SELECT uuid, MAX(id) AS last_id, COUNT(*) AS n FROM usage_data "
                "GROUP BY uuid) c ON u.id = c.last_id ORDER BY u.uuid");
    FURROW_RETURN_IF_ERROR(q.status());
    std::vector<InstallationSummary> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Int(4)});
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "listing installations");
    return out;
  }

  Result<std::vector<PingSummary>> ListPings(const std::string& uuid) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement q(statements_, db_,
                "SELECT raw_usage_data_id, uuid, recorded_at, COALESCE(version, ''), created_at FROM usage_data "
                "WHERE uuid = ?1 ORDER BY id");
    FURROW_RETURN_IF_ERROR(q.status());
    q.Bind(1, uuid);
    std::vector<PingSummary> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      out.push_back({q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4)});
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "listing pings");
    return out;
  }

  Result<std::string> ReadPayload(int64_t id) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement q(statements_, db_, "SELECT payload FROM raw_usage_data WHERE id = ?1");
    FURROW_RETURN_IF_ERROR(q.status());
    q.Bind(1, id);
    int rc = q.Step();
    if (rc == SQLITE_ROW) return q.Text(0);
    if (rc == SQLITE_DONE) return NotFoundError("no ping with id " + std::to_string(id));
    return SqliteError(db_, rc, "reading a payload");
  }

  Status AddVersion(const std::string& version, const std::string& created_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement q(statements_, db_, "INSERT INTO versions (version, created_at) VALUES (?1, ?2) ON CONFLICT (version) DO NOTHING");
    FURROW_RETURN_IF_ERROR(q.status());
    q.Bind(1, version);
    q.Bind(2, created_at);
    int rc = q.Step();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "adding a version");
    if (sqlite3_changes(db_) == 0) return AlreadyExistsError("version " + version + " is already listed");
    return Status::Ok();
  }

  Status MarkVulnerable(const std::string& version, bool critical) override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement q(statements_, db_, "UPDATE versions SET vulnerable = 1, critical = ?2 WHERE version = ?1");
    FURROW_RETURN_IF_ERROR(q.status());
    q.Bind(1, version);
    q.Bind(2, static_cast<int64_t>(critical ? 1 : 0));
    int rc = q.Step();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "marking a version");
    if (sqlite3_changes(db_) == 0) return NotFoundError("version " + version + " is not listed");
    return Status::Ok();
  }

  Result<std::vector<VersionRow>> ListVersions() override {
    std::lock_guard<std::mutex> lock(mu_);
    Statement q(statements_, db_, "SELECT version, vulnerable, critical, created_at FROM versions ORDER BY id");
    FURROW_RETURN_IF_ERROR(q.status());
    std::vector<VersionRow> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      out.push_back({q.Text(0), q.Int(1) != 0, q.Int(2) != 0, q.Text(3)});
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "listing versions");
    return out;
  }

  Status ScanRows(const std::string& table, const std::string& from, const std::string& to, int64_t after_id,
                  int64_t limit, const std::function<Status(int64_t, const std::string&)>& visit) override {
    std::string select = ExtractSelect(table);
    if (select.empty()) return InvalidArgumentError("unknown table \"" + table + "\"");
    select += " WHERE created_at >= ?1 AND created_at < ?2 AND id > ?3 ORDER BY id LIMIT ?4";
    std::lock_guard<std::mutex> lock(mu_);
    Statement q(statements_, db_, select.c_str());
    FURROW_RETURN_IF_ERROR(q.status());
    q.Bind(1, from);
    q.Bind(2, to);
    q.Bind(3, after_id);
    q.Bind(4, limit);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      FURROW_RETURN_IF_ERROR(visit(q.Int(0), q.Text(1)));
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "scanning " + table);
    return Status::Ok();
  }

  std::string Describe() const override { return "sqlite:" + path_; }

  // Moves WAL checkpoints to a second connection (see WalCheckpointer); without one,
  // SQLite's automatic checkpoint stays.
  void StartCheckpointer(sqlite3* own) {
    std::lock_guard<std::mutex> lock(mu_);
    checkpointer_ = std::make_unique<WalCheckpointer>(db_, own);
  }

 private:
  Status Exec(const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    Status s = SqliteError(db_, rc, "executing SQL");
    return Status(s.code(), message);
  }

  Result<int64_t> InsertUsageData(const UsageData& d, const std::string& source_ip, const std::string& created_at) {
    std::optional<int64_t> host_id;
    if (!d.hostname.empty()) {
      Statement host(statements_, db_, "INSERT INTO hosts (url, created_at) VALUES (?1, ?2) ON CONFLICT (url) DO NOTHING");
      FURROW_RETURN_IF_ERROR(host.status());
      host.Bind(1, d.hostname);
      host.Bind(2, created_at);
      int rc = host.Step();
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "storing the host");
      Statement find(statements_, db_, "SELECT id FROM hosts WHERE url = ?1");
      FURROW_RETURN_IF_ERROR(find.status());
      find.Bind(1, d.hostname);
      rc = find.Step();
      if (rc != SQLITE_ROW) return SqliteError(db_, rc, "reading the host");
      host_id = find.Int(0);
    }
    Statement raw(statements_, db_, "INSERT INTO raw_usage_data (uuid, payload, recorded_at, created_at) VALUES (?1, ?2, ?3, ?4)");
    FURROW_RETURN_IF_ERROR(raw.status());
    raw.Bind(1, d.uuid);
    raw.Bind(2, d.payload);
    raw.Bind(3, d.recorded_at);
    raw.Bind(4, created_at);
    int rc = raw.Step();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "storing the payload");
    int64_t raw_id = sqlite3_last_insert_rowid(db_);

    Statement u(statements_, db_,
                "INSERT INTO usage_data (raw_usage_data_id, host_id, uuid, hostname, version, edition, "
                "installation_type, active_user_count, recorded_at, license_md5, license_sha256, license_id, "
                "historical_max_users, license_user_count, license_starts_at, license_expires_at, license_plan, "
                "license_trial, database_adapter, database_version, stats, source_ip, created_at) VALUES "
                "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
                "?22, ?23)");
    FURROW_RETURN_IF_ERROR(u.status());
    u.Bind(1, raw_id);
    u.Bind(2, host_id);
    u.Bind(3, d.uuid);
    u.BindOptional(4, d.hostname);
    u.BindOptional(5, d.version);
    u.BindOptional(6, d.edition);
    u.BindOptional(7, d.installation_type);
    u.Bind(8, d.active_user_count);
    u.Bind(9, d.recorded_at);
    u.BindOptional(10, d.license_md5);
    u.BindOptional(11, d.license_sha256);
    u.BindOptional(12, d.license_id);
    u.Bind(13, d.historical_max_users);
    u.Bind(14, d.license_user_count);
    u.BindOptional(15, d.license_starts_at);
    u.BindOptional(16, d.license_expires_at);
    u.BindOptional(17, d.license_plan);
    u.Bind(18, d.license_trial ? std::optional<int64_t>(*d.license_trial ? 1 : 0) : std::nullopt);
    u.BindOptional(19, d.database_adapter);
    u.BindOptional(20, d.database_version);
    u.Bind(21, d.stats);
    u.BindOptional(22, source_ip);
    u.Bind(23, created_at);
    rc = u.Step();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "storing the flattened payload");
    return raw_id;
  }

  std::vector<Result<StoreResult>> CommitBatch(const std::vector<GroupCommit::Ping>& batch) {
    std::lock_guard<std::mutex> lock(mu_);
    return CommitInOneTransaction(
        batch, "BEGIN IMMEDIATE", [this](const std::string& sql) { return Exec(sql); },
        [this](const GroupCommit::Ping& p) { return StoreOne(*p.data, *p.source_ip, *p.created_at); });
  }

  // Inside the batch's transaction, under the ping's savepoint: a repeat of a stored
  // (uuid, recorded_at) (also one stored earlier in this batch) answers its id.
  Result<StoreResult> StoreOne(const UsageData& d, const std::string& source_ip, const std::string& created_at) {
    {
      Statement existing(statements_, db_, "SELECT id FROM raw_usage_data WHERE uuid = ?1 AND recorded_at = ?2");
      FURROW_RETURN_IF_ERROR(existing.status());
      existing.Bind(1, d.uuid);
      existing.Bind(2, d.recorded_at);
      int rc = existing.Step();
      if (rc == SQLITE_ROW) return StoreResult{existing.Int(0), false};
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "looking up the payload");
    }
    FURROW_ASSIGN_OR_RETURN(int64_t id, InsertUsageData(d, source_ip, created_at));
    return StoreResult{id, true};
  }

  std::mutex mu_;  // the connection and statements_
  sqlite3* db_;
  std::string path_;
  StatementCache statements_;
  std::unique_ptr<GroupCommit> group_commit_;  // reset first in the destructor
  std::unique_ptr<WalCheckpointer> checkpointer_;  // then this
};

}  // namespace

Result<std::unique_ptr<PingStore>> OpenSqlitePingStore(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "cannot open " + path + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return IoError(message);
  }
  auto store = std::make_unique<SqlitePingStore>(db, path);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  rc = sqlite3_exec(db, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", nullptr,
                    nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = "cannot configure " + path + ": " + (error != nullptr ? error : "unknown error");
    sqlite3_free(error);
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) return DataLossError(message);
    return IoError(message);
  }
  FURROW_RETURN_IF_ERROR(store->Migrate());
  sqlite3* checkpoint_db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &checkpoint_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) ==
      SQLITE_OK) {
    sqlite3_busy_timeout(checkpoint_db, 5000);
    // The checkpoint fsyncs the database file before the WAL frames it copied count as done.
    sqlite3_exec(checkpoint_db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
    store->StartCheckpointer(checkpoint_db);
  } else {
    sqlite3_close(checkpoint_db);
  }
  return std::unique_ptr<PingStore>(std::move(store));
}

}  // namespace furrow::receiver
