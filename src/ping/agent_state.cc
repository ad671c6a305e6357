#include "ping/agent_state.h"

#include <sqlite3.h>

#include <filesystem>

namespace furrow::ping {
namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

struct Stmt {
  sqlite3_stmt* s = nullptr;
  ~Stmt() { sqlite3_finalize(s); }
};

void BindOptional(sqlite3_stmt* s, int i, std::optional<int64_t> v) {
  if (v) sqlite3_bind_int64(s, i, *v);
  else sqlite3_bind_null(s, i);
}

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::optional<int64_t> ColumnOptional(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(s, i);
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s, i));
}

}  // namespace

Result<std::unique_ptr<AgentState>> AgentState::Open(const std::string& data_dir) {
  std::filesystem::path dir = std::filesystem::path(data_dir) / "ping";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  std::string path = (dir / "agent.db").string();
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string m = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return UnavailableError("cannot open " + path + ": " + m);
  }
  sqlite3_busy_timeout(db, 10000);
  char* err = nullptr;
  int rc = sqlite3_exec(db,
                        "PRAGMA journal_mode=WAL;"
                        "CREATE TABLE IF NOT EXISTS pings(recorded_at_ms INTEGER PRIMARY KEY, recorded_at TEXT NOT NULL,"
                        " payload TEXT NOT NULL, metadata TEXT NOT NULL, sent_at_ms INTEGER, usage_data_id INTEGER,"
                        " attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER, last_error TEXT NOT NULL DEFAULT '');"
                        "CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
                        nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string m = err != nullptr ? err : "unknown";
    sqlite3_free(err);
    sqlite3_close_v2(db);
    return UnavailableError("cannot create tables in " + path + ": " + m);
  }
  return std::unique_ptr<AgentState>(new AgentState(db));
}

AgentState::~AgentState() { sqlite3_close_v2(db_); }

Status AgentState::Save(const PingRecord& r) {
  Stmt st;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO pings(recorded_at_ms, recorded_at, payload, metadata, sent_at_ms, usage_data_id,"
                         " attempts, next_attempt_ms, last_error) VALUES(?,?,?,?,?,?,?,?,?)",
                         -1, &st.s, nullptr) != SQLITE_OK) {
    return UnavailableError(std::string("agent state: ") + sqlite3_errmsg(db_));
  }
  sqlite3_bind_int64(st.s, 1, r.recorded_at_ms);
  BindText(st.s, 2, r.recorded_at);
  BindText(st.s, 3, r.payload);
  BindText(st.s, 4, r.metadata);
  BindOptional(st.s, 5, r.sent_at_ms);
  BindOptional(st.s, 6, r.usage_data_id);
  sqlite3_bind_int(st.s, 7, r.attempts);
  BindOptional(st.s, 8, r.next_attempt_ms);
  BindText(st.s, 9, r.last_error);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_CONSTRAINT) return AlreadyExistsError("a payload recorded at " + r.recorded_at + " is already stored");
  if (rc != SQLITE_DONE) return UnavailableError(std::string("agent state: ") + sqlite3_errmsg(db_));
  return Status::Ok();
}

Status AgentState::MarkSent(int64_t recorded_at_ms, int64_t sent_at_ms, int64_t usage_data_id, int attempts) {
  Stmt st;
  sqlite3_prepare_v2(db_,
                     "UPDATE pings SET sent_at_ms = ?, usage_data_id = ?, attempts = ?, next_attempt_ms = NULL,"
                     " last_error = '' WHERE recorded_at_ms = ?",
                     -1, &st.s, nullptr);
  sqlite3_bind_int64(st.s, 1, sent_at_ms);
  sqlite3_bind_int64(st.s, 2, usage_data_id);
  sqlite3_bind_int(st.s, 3, attempts);
  sqlite3_bind_int64(st.s, 4, recorded_at_ms);
  if (sqlite3_step(st.s) != SQLITE_DONE) return UnavailableError(std::string("agent state: ") + sqlite3_errmsg(db_));
  return Status::Ok();
}

Status AgentState::MarkFailed(int64_t recorded_at_ms, int attempts, std::optional<int64_t> next_attempt_ms,
                              const std::string& error) {
  Stmt st;
  sqlite3_prepare_v2(db_, "UPDATE pings SET attempts = ?, next_attempt_ms = ?, last_error = ? WHERE recorded_at_ms = ?", -1,
                     &st.s, nullptr);
  sqlite3_bind_int(st.s, 1, attempts);
  BindOptional(st.s, 2, next_attempt_ms);
  BindText(st.s, 3, error);
  sqlite3_bind_int64(st.s, 4, recorded_at_ms);
  if (sqlite3_step(st.s) != SQLITE_DONE) return UnavailableError(std::string("agent state: ") + sqlite3_errmsg(db_));
  return Status::Ok();
}

Result<std::vector<PingRecord>> AgentState::Query(const std::string& where, std::optional<int64_t> bound) {
  Stmt st;
  std::string sql =
      "SELECT recorded_at_ms, recorded_at, payload, metadata, sent_at_ms, usage_data_id, attempts, next_attempt_ms,"
      " last_error FROM pings " + where + " ORDER BY recorded_at_ms";
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) {
    return UnavailableError(std::string("agent state: ") + sqlite3_errmsg(db_));
  }
  if (bound) sqlite3_bind_int64(st.s, 1, *bound);
  std::vector<PingRecord> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
    PingRecord r;
    r.recorded_at_ms = sqlite3_column_int64(st.s, 0);
    r.recorded_at = ColumnText(st.s, 1);
    r.payload = ColumnText(st.s, 2);
    r.metadata = ColumnText(st.s, 3);
    r.sent_at_ms = ColumnOptional(st.s, 4);
    r.usage_data_id = ColumnOptional(st.s, 5);
    r.attempts = sqlite3_column_int(st.s, 6);
    r.next_attempt_ms = ColumnOptional(st.s, 7);
    r.last_error = ColumnText(st.s, 8);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return UnavailableError(std::string("agent state: ") + sqlite3_errmsg(db_));
  return out;
}

Result<std::vector<PingRecord>> AgentState::List() { return Query("", std::nullopt); }

Result<std::vector<PingRecord>> AgentState::DueRetries(int64_t now_ms) {
  return Query("WHERE sent_at_ms IS NULL AND next_attempt_ms IS NOT NULL AND next_attempt_ms <= ?1", now_ms);
}

Result<std::optional<int64_t>> AgentState::NextRetryTime() {
  Stmt st;
  sqlite3_prepare_v2(db_, "SELECT MIN(next_attempt_ms) FROM pings WHERE sent_at_ms IS NULL", -1, &st.s, nullptr);
  if (sqlite3_step(st.s) != SQLITE_ROW) return UnavailableError(std::string("agent state: ") + sqlite3_errmsg(db_));
  return ColumnOptional(st.s, 0);
}

Result<bool> AgentState::TryAcquireDailyLock(int64_t now_ms) {
  // One statement: insert or move the lock forward only when it is 24 h old.
  Stmt st;
  sqlite3_prepare_v2(db_,
                     "INSERT INTO state(key, value) VALUES('last_run_ms', ?1) ON CONFLICT(key) DO UPDATE SET value = ?1"
                     " WHERE value <= ?1 - ?2",
                     -1, &st.s, nullptr);
  sqlite3_bind_int64(st.s, 1, now_ms);
  sqlite3_bind_int64(st.s, 2, kDayMs);
  if (sqlite3_step(st.s) != SQLITE_DONE) return UnavailableError(std::string("agent state: ") + sqlite3_errmsg(db_));
  return sqlite3_changes(db_) > 0;
}

Result<std::optional<int64_t>> AgentState::LastRun() {
  Stmt st;
  sqlite3_prepare_v2(db_, "SELECT value FROM state WHERE key = 'last_run_ms'", -1, &st.s, nullptr);
  int rc = sqlite3_step(st.s);
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  if (rc != SQLITE_ROW) return UnavailableError(std::string("agent state: ") + sqlite3_errmsg(db_));
  return std::optional<int64_t>(sqlite3_column_int64(st.s, 0));
}

}  // namespace furrow::ping
