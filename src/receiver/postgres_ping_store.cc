#include "receiver/postgres_ping_store.h"

#include <libpq-fe.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "receiver/group_commit.h"

namespace furrow::receiver {
namespace {

// Each entry is one migration; its index + 1 is its version. Append only.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE hosts (id BIGSERIAL PRIMARY KEY, url TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE raw_usage_data (
  id BIGSERIAL PRIMARY KEY, uuid TEXT NOT NULL, payload JSON NOT NULL, recorded_at TEXT NOT NULL,
  created_at TEXT NOT NULL, UNIQUE (uuid, recorded_at));
CREATE INDEX raw_usage_data_created_at ON raw_usage_data (created_at);
CREATE TABLE usage_data (
  id BIGSERIAL PRIMARY KEY, raw_usage_data_id BIGINT NOT NULL REFERENCES raw_usage_data (id),
  host_id BIGINT REFERENCES hosts (id), uuid TEXT NOT NULL, hostname TEXT, version TEXT, edition TEXT,
  installation_type TEXT, active_user_count BIGINT, recorded_at TEXT NOT NULL, license_md5 TEXT,
  license_sha256 TEXT, license_id TEXT, historical_max_users BIGINT, license_user_count BIGINT,
  license_starts_at TEXT, license_expires_at TEXT, license_plan TEXT, license_trial BOOLEAN,
  database_adapter TEXT, database_version TEXT, stats JSON NOT NULL, source_ip TEXT, created_at TEXT NOT NULL);
CREATE INDEX usage_data_uuid ON usage_data (uuid, id);
CREATE INDEX usage_data_created_at ON usage_data (created_at);
CREATE TABLE versions (
  id BIGSERIAL PRIMARY KEY, version TEXT NOT NULL UNIQUE, vulnerable BOOLEAN NOT NULL DEFAULT FALSE,
  critical BOOLEAN NOT NULL DEFAULT FALSE, created_at TEXT NOT NULL);
CREATE TABLE usage_ping_errors (
  id BIGSERIAL PRIMARY KEY, uuid TEXT NOT NULL, hostname TEXT, version TEXT, message TEXT,
  elapsed DOUBLE PRECISION, time TEXT, payload JSON NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX usage_ping_errors_created_at ON usage_ping_errors (created_at);
CREATE TABLE usage_ping_metadata (
  id BIGSERIAL PRIMARY KEY, uuid TEXT NOT NULL, metadata JSON NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX usage_ping_metadata_created_at ON usage_ping_metadata (created_at);
)sql",
    // 2: LZ4 instead of pglz for the large JSON columns. pglz was half of the server's
    // CPU time storing 150 KB payloads (the write lock serialises those inserts, so it
    // bounded the store's rate); LZ4 compresses several times faster. Servers without
    // LZ4 (built without it, or before PostgreSQL 14) keep pglz: dynamic SQL, so that
    // even the syntax error of an old server is caught.
    R"sql(
DO $$
BEGIN
  EXECUTE 'ALTER TABLE raw_usage_data ALTER COLUMN payload SET COMPRESSION lz4';
  EXECUTE 'ALTER TABLE usage_data ALTER COLUMN stats SET COMPRESSION lz4';
  EXECUTE 'ALTER TABLE usage_ping_errors ALTER COLUMN payload SET COMPRESSION lz4';
  EXECUTE 'ALTER TABLE usage_ping_metadata ALTER COLUMN metadata SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
  RAISE NOTICE 'LZ4 compression is not available; JSON columns keep pglz';
END
$$;
)sql",
};

// Taken by every payload transaction, so that ids (BIGSERIAL, drawn at insert) become
// visible in id order even with several receivers on one database: the extract's
// watermark (rows with id > the last extracted) would otherwise skip a row whose
// transaction drew a smaller id but committed after a larger one was extracted. A
// unique constraint alone would keep (uuid, recorded_at) unique but not this order;
// group commit makes the lock cost once per batch instead of once per payload.
constexpr const char* kWriteLock = "SELECT pg_advisory_xact_lock(7320151)";

// jsonb_build_object: json columns keep their text as received (line breaks
// included), jsonb renders each row on one line as JSON lines need.
std::string ExtractSelect(const std::string& table) {
  if (table == "raw_usage_data") {
    return "SELECT id, jsonb_build_object('id', id, 'uuid', uuid, 'payload', payload::jsonb, 'recorded_at', recorded_at, "
           "'created_at', created_at)::text FROM raw_usage_data";
  }
  if (table == "usage_data") {
    return "SELECT id, jsonb_build_object('id', id, 'raw_usage_data_id', raw_usage_data_id, 'host_id', host_id, "
           "'uuid', uuid, 'hostname', hostname, 'version', version, 'edition', edition, 'installation_type', "
           "installation_type, 'active_user_count', active_user_count, 'recorded_at', recorded_at, 'license_md5', "
           "license_md5, 'license_sha256', license_sha256, 'license_id', license_id, 'historical_max_users', "
           "historical_max_users, 'license_user_count', license_user_count, 'license_starts_at', license_starts_at, "
           "'license_expires_at', license_expires_at, 'license_plan', license_plan, 'license_trial', license_trial, "
           "'database_adapter', database_adapter, 'database_version', database_version, 'stats', stats::jsonb, "
           "'source_ip', source_ip, 'created_at', created_at)::text FROM usage_data";
  }
  if (table == "usage_ping_errors") {
    return "SELECT id, jsonb_build_object('id', id, 'uuid', uuid, 'hostname', hostname, 'version', version, "
           "'message', message, 'elapsed', elapsed, 'time', time, 'payload', payload::jsonb, 'created_at', "
           "created_at)::text FROM usage_ping_errors";
  }
  if (table == "usage_ping_metadata") {
    return "SELECT id, jsonb_build_object('id', id, 'uuid', uuid, 'metadata', metadata::jsonb, 'created_at', "
           "created_at)::text FROM usage_ping_metadata";
  }
  return "";
}

// A nullable text parameter.
using Param = std::optional<std::string>;

Param Opt(const std::string& v) { return v.empty() ? std::nullopt : Param(v); }
Param Opt(const std::optional<int64_t>& v) { return v ? Param(std::to_string(*v)) : std::nullopt; }
Param Opt(const std::optional<bool>& v) { return v ? Param(*v ? "true" : "false") : std::nullopt; }
Param Opt(const std::optional<double>& v) { return v ? Param(std::to_string(*v)) : std::nullopt; }

class Res {
 public:
  explicit Res(PGresult* r) : r_(r) {}
  ~Res() { PQclear(r_); }
  Res(const Res&) = delete;
  Res& operator=(const Res&) = delete;
  PGresult* get() const { return r_; }
  int rows() const { return PQntuples(r_); }
  std::string Text(int row, int col) const { return PQgetisnull(r_, row, col) ? "" : PQgetvalue(r_, row, col); }
  int64_t Int(int row, int col) const { return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10); }

 private:
  PGresult* r_;
};

class PostgresPingStore final : public PingStore {
 public:
  PostgresPingStore(PGconn* conn, std::string description)
      : conn_(conn),
        description_(std::move(description)),
        group_commit_(std::make_unique<GroupCommit>([this](const std::vector<GroupCommit::Ping>& batch) {
          std::lock_guard<std::mutex> lock(mu_);
          return CommitInOneTransaction(
              batch, std::string("BEGIN; ") + kWriteLock, [this](const std::string& sql) { return Command(sql); },
              [this](const GroupCommit::Ping& p) { return StoreInTransaction(*p.data, *p.source_ip, *p.created_at); });
        })) {}
  ~PostgresPingStore() override {
    group_commit_.reset();  // answers what is queued while the connection is open
    PQfinish(conn_);
  }

  Status Migrate() {
    std::lock_guard<std::mutex> lock(mu_);
    FURROW_RETURN_IF_ERROR(Command("BEGIN"));
    Status s = MigrateInTransaction();
    if (!s.ok()) {
      Command("ROLLBACK").IgnoreError();
      return s;
    }
    return Command("COMMIT");
  }

  // Group commit: the payloads of all waiting callers share one transaction, which
  // holds the write lock (see kWriteLock) and commits once.
  Result<StoreResult> StoreUsageData(const UsageData& d, const std::string& source_ip,
                                     const std::string& created_at) override {
    return group_commit_->Store(d, source_ip, created_at);
  }

  Result<int64_t> StoreMetadata(const std::string& uuid, const std::string& metadata_json,
                                const std::string& created_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    return InsertReturningId(
        "INSERT INTO usage_ping_metadata (uuid, metadata, created_at) VALUES ($1, $2, $3) RETURNING id",
        {uuid, metadata_json, created_at});
  }

  Result<int64_t> StoreError(const PingError& e, const std::string& created_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    return InsertReturningId(
        "INSERT INTO usage_ping_errors (uuid, hostname, version, message, elapsed, time, payload, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        {e.uuid, Opt(e.hostname), Opt(e.version), Opt(e.message), Opt(e.elapsed), Opt(e.time), e.payload, created_at});
  }

  Result<std::vector<InstallationSummary>> ListInstallations() override {
    std::lock_guard<std::mutex> lock(mu_);
    FURROW_ASSIGN_OR_RETURN(auto res, Query("SELECT u.uuid, COALESCE(u.hostname, ''), COALESCE(u.version, ''), "
                                            "u.recorded_at, c.n FROM usage_data u JOIN (SELECT uuid, MAX(id) AS last_id, "
                                            "COUNT(*) AS n FROM usage_data GROUP BY uuid) c ON u.id = c.last_id "
                                            "ORDER BY u.uuid",
                                            {}));
    std::vector<InstallationSummary> out;
    for (int i = 0; i < res->rows(); ++i) {
      out.push_back({res->Text(i, 0), res->Text(i, 1), res->Text(i, 2), res->Text(i, 3), res->Int(i, 4)});
    }
    return out;
  }

  Result<std::vector<PingSummary>> ListPings(const std::string& uuid) override {
    std::lock_guard<std::mutex> lock(mu_);
    FURROW_ASSIGN_OR_RETURN(auto res, Query("SELECT raw_usage_data_id, uuid, recorded_at, COALESCE(version, ''), "
                                            "created_at FROM usage_data WHERE uuid = $1 ORDER BY id",
                                            {uuid}));
    std::vector<PingSummary> out;
    for (int i = 0; i < res->rows(); ++i) {
      out.push_back({res->Int(i, 0), res->Text(i, 1), res->Text(i, 2), res->Text(i, 3), res->Text(i, 4)});
    }
    return out;
  }

  Result<std::string> ReadPayload(int64_t id) override {
    std::lock_guard<std::mutex> lock(mu_);
    FURROW_ASSIGN_OR_RETURN(auto res, Query("SELECT payload::text FROM raw_usage_data WHERE id = $1", {std::to_string(id)}));
    if (res->rows() == 0) return NotFoundError("no ping with id " + std::to_string(id));
    return res->Text(0, 0);
  }

  Status AddVersion(const std::string& version, const std::string& created_at) override {
    std::lock_guard<std::mutex> lock(mu_);
    FURROW_ASSIGN_OR_RETURN(auto res, Query("INSERT INTO versions (version, created_at) VALUES ($1, $2) "
                                            "ON CONFLICT (version) DO NOTHING RETURNING id",
                                            {version, created_at}));
    if (res->rows() == 0) return AlreadyExistsError("version " + version + " is already listed");
    return Status::Ok();
  }

  Status MarkVulnerable(const std::string& version, bool critical) override {
    std::lock_guard<std::mutex> lock(mu_);
    FURROW_ASSIGN_OR_RETURN(auto res, Query("UPDATE versions SET vulnerable = TRUE, critical = $2 WHERE version = $1 "
                                            "RETURNING id",
                                            {version, std::string(critical ? "true" : "false")}));
    if (res->rows() == 0) return NotFoundError("version " + version + " is not listed");
    return Status::Ok();
  }

  Result<std::vector<VersionRow>> ListVersions() override {
    std::lock_guard<std::mutex> lock(mu_);
    FURROW_ASSIGN_OR_RETURN(auto res, Query("SELECT version, vulnerable, critical, created_at FROM versions ORDER BY id", {}));
    std::vector<VersionRow> out;
    for (int i = 0; i < res->rows(); ++i) {
      out.push_back({res->Text(i, 0), res->Text(i, 1) == "t", res->Text(i, 2) == "t", res->Text(i, 3)});
    }
    return out;
  }

  Status ScanRows(const std::string& table, const std::string& from, const std::string& to, int64_t after_id,
                  int64_t limit, const std::function<Status(int64_t, const std::string&)>& visit) override {
    std::string select = ExtractSelect(table);
    if (select.empty()) return InvalidArgumentError("unknown table \"" + table + "\"");
    select += " WHERE created_at >= $1 AND created_at < $2 AND id > $3 ORDER BY id LIMIT $4";
    std::unique_ptr<Res> res;
    {
      std::lock_guard<std::mutex> lock(mu_);
      FURROW_ASSIGN_OR_RETURN(res, Query(select, {from, to, std::to_string(after_id), std::to_string(limit)}));
    }
    for (int i = 0; i < res->rows(); ++i) FURROW_RETURN_IF_ERROR(visit(res->Int(i, 0), res->Text(i, 1)));
    return Status::Ok();
  }

  std::string Describe() const override { return description_; }

 private:
  Status Error(const std::string& what, PGresult* res) {
    std::string message = "postgresql: " + what + ": " + PQerrorMessage(conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (PQstatus(conn_) != CONNECTION_OK) {
      PQreset(conn_);  // the next call gets a fresh connection
      return UnavailableError(message);
    }
    const char* code = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    if (code != nullptr && (std::string(code).rfind("23", 0) == 0 || std::string(code).rfind("22", 0) == 0)) {
      return InvalidArgumentError(message);
    }
    if (code != nullptr && std::string(code).rfind("40", 0) == 0) return UnavailableError(message);
    return InternalError(message);
  }

  Result<std::unique_ptr<Res>> Query(const std::string& sql, const std::vector<Param>& params) {
    std::vector<const char*> values;
    for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
    auto res = std::make_unique<Res>(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                                  values.data(), nullptr, nullptr, 0));
    ExecStatusType st = PQresultStatus(res->get());
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return Error("query failed", res->get());
    return res;
  }

  Status Command(const std::string& sql) {
    Res res(PQexec(conn_, sql.c_str()));
    ExecStatusType st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return Error("executing SQL", res.get());
    return Status::Ok();
  }

  Result<int64_t> InsertReturningId(const std::string& sql, const std::vector<Param>& params) {
    FURROW_ASSIGN_OR_RETURN(auto res, Query(sql, params));
    if (res->rows() != 1) return InternalError("postgresql: INSERT returned no id");
    return res->Int(0, 0);
  }

  Status MigrateInTransaction() {
    FURROW_RETURN_IF_ERROR(Command("SELECT pg_advisory_xact_lock(7320152)"));
    FURROW_RETURN_IF_ERROR(Command(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)"));
    FURROW_ASSIGN_OR_RETURN(auto res, Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {}));
    int64_t version = res->Int(0, 0);
    const int64_t known = static_cast<int64_t>(std::size(kMigrations));
    if (version > known) {
      return FailedPreconditionError("the receiver database has schema version " + std::to_string(version) +
                                     ", newer than this binary's " + std::to_string(known));
    }
    for (int64_t v = version + 1; v <= known; ++v) {
      FURROW_RETURN_IF_ERROR(Command(kMigrations[v - 1]));
      FURROW_RETURN_IF_ERROR(Command("INSERT INTO schema_migrations (version, applied_at) VALUES (" +
                                     std::to_string(v) +
                                     ", to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))"));
    }
    return Status::Ok();
  }

  Result<StoreResult> StoreInTransaction(const UsageData& d, const std::string& source_ip,
                                         const std::string& created_at) {
    FURROW_ASSIGN_OR_RETURN(auto existing, Query("SELECT id FROM raw_usage_data WHERE uuid = $1 AND recorded_at = $2",
                                                 {d.uuid, d.recorded_at}));
    if (existing->rows() > 0) return StoreResult{existing->Int(0, 0), false};
    Param host_id;
    if (!d.hostname.empty()) {
      FURROW_RETURN_IF_ERROR(Query("INSERT INTO hosts (url, created_at) VALUES ($1, $2) ON CONFLICT (url) DO NOTHING",
                                   {d.hostname, created_at})
                                 .status());
      FURROW_ASSIGN_OR_RETURN(auto host, Query("SELECT id FROM hosts WHERE url = $1", {d.hostname}));
      if (host->rows() == 1) host_id = host->Text(0, 0);
    }
    FURROW_ASSIGN_OR_RETURN(int64_t raw_id, InsertReturningId("INSERT INTO raw_usage_data (uuid, payload, recorded_at, "
                                                              "created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                                                              {d.uuid, d.payload, d.recorded_at, created_at}));
    FURROW_RETURN_IF_ERROR(
        Query("INSERT INTO usage_data (raw_usage_data_id, host_id, uuid, hostname, version, edition, installation_type, "
              "active_user_count, recorded_at, license_md5, license_sha256, license_id, historical_max_users, "
              "license_user_count, license_starts_at, license_expires_at, license_plan, license_trial, "
              "database_adapter, database_version, stats, source_ip, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
              "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
              {std::to_string(raw_id), host_id, d.uuid, Opt(d.hostname), Opt(d.version), Opt(d.edition),
               Opt(d.installation_type), Opt(d.active_user_count), d.recorded_at, Opt(d.license_md5),
               Opt(d.license_sha256), Opt(d.license_id), Opt(d.historical_max_users), Opt(d.license_user_count),
               Opt(d.license_starts_at), Opt(d.license_expires_at), Opt(d.license_plan), Opt(d.license_trial),
               Opt(d.database_adapter), Opt(d.database_version), d.stats, Opt(source_ip), created_at})
            .status());
    return StoreResult{raw_id, true};
  }

  std::mutex mu_;
  PGconn* conn_;
  std::string description_;
  std::unique_ptr<GroupCommit> group_commit_;  // reset first in the destructor
};

}  // namespace

Result<std::unique_ptr<PingStore>> OpenPostgresPingStore(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (conn == nullptr) return UnavailableError("postgresql: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    PQfinish(conn);
    return UnavailableError("postgresql: cannot connect: " + message);
  }
  PQclear(PQexec(conn, "SET client_min_messages = warning"));
  std::string description = std::string("postgresql://") + PQhost(conn) + ":" + PQport(conn) + "/" + PQdb(conn);
  auto store = std::make_unique<PostgresPingStore>(conn, description);
  FURROW_RETURN_IF_ERROR(store->Migrate());
  return std::unique_ptr<PingStore>(std::move(store));
}

}  // namespace furrow::receiver
