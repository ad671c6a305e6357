#include <sqlite3.h>

#include <mutex>

#include "ping/usage_store.h"

namespace furrow::ping {
namespace {

class EmbeddedUsageStore final : public UsageStore {
 public:
  EmbeddedUsageStore(sqlite3* db, const Clock& clock) : db_(db), clock_(clock) {}
  ~EmbeddedUsageStore() override { sqlite3_close_v2(db_); }

  Status Increment(const std::string& key, double by, std::optional<std::chrono::seconds> expire) override {
    std::lock_guard<std::mutex> lock(mu_);
    return Exec(
        "INSERT INTO counters(key, value, expires_at) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(key) DO UPDATE SET value = CASE WHEN expires_at IS NOT NULL AND expires_at <= ?4 "
        "THEN ?2 ELSE value + ?2 END, expires_at = ?3",
        key, by, ExpiresAt(expire));
  }

  Status AddUnique(const std::string& key, const std::string& member, std::optional<std::chrono::seconds> expire) override {
    std::lock_guard<std::mutex> lock(mu_);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO uniques(key, member, expires_at) VALUES(?1, ?2, ?3) "
                           "ON CONFLICT(key, member) DO UPDATE SET expires_at = ?3",
                           -1, &stmt, nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, member.data(), static_cast<int>(member.size()), SQLITE_TRANSIENT);
    BindExpiry(stmt, 3, ExpiresAt(expire));
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return Error("add unique");
    return Status::Ok();
  }

  Result<double> Get(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT value FROM counters WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
                           -1, &stmt, nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, NowSeconds());
    int rc = sqlite3_step(stmt);
    double value = 0;
    if (rc == SQLITE_ROW) value = sqlite3_column_double(stmt, 0);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("get");
    return value;
  }

  Result<int64_t> CountUnique(const std::vector<std::string>& keys) override {
    if (keys.empty()) return int64_t{0};
    std::lock_guard<std::mutex> lock(mu_);
    std::string sql = "SELECT COUNT(DISTINCT member) FROM uniques WHERE (expires_at IS NULL OR expires_at > ?1) AND key IN (";
    for (size_t i = 0; i < keys.size(); ++i) sql += (i == 0 ? "?" : ",?") + std::to_string(i + 2);
    sql += ")";
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return Error("prepare");
    sqlite3_bind_int64(stmt, 1, NowSeconds());
    for (size_t i = 0; i < keys.size(); ++i) {
      sqlite3_bind_text(stmt, static_cast<int>(i + 2), keys[i].data(), static_cast<int>(keys[i].size()), SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(stmt);
    int64_t count = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) return Error("count unique");
    return count;
  }

  std::string kind() const override { return "embedded"; }

 private:
  int64_t NowSeconds() const { return clock_.NowMillis() / 1000; }
  std::optional<int64_t> ExpiresAt(std::optional<std::chrono::seconds> expire) const {
    if (!expire) return std::nullopt;
    return NowSeconds() + expire->count();
  }
  static void BindExpiry(sqlite3_stmt* stmt, int index, std::optional<int64_t> at) {
    if (at) sqlite3_bind_int64(stmt, index, *at);
    else sqlite3_bind_null(stmt, index);
  }
  Status Error(std::string_view what) {
    return UnavailableError("embedded usage store: " + std::string(what) + ": " + sqlite3_errmsg(db_));
  }
  Status Exec(const char* sql, const std::string& key, double by, std::optional<int64_t> expires_at) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) return Error("prepare");
    sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_double(stmt, 2, by);
    BindExpiry(stmt, 3, expires_at);
    sqlite3_bind_int64(stmt, 4, NowSeconds());
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return Error("increment");
    return Status::Ok();
  }

  sqlite3* db_;
  const Clock& clock_;
  std::mutex mu_;
};

}  // namespace

Result<std::unique_ptr<UsageStore>> OpenEmbeddedUsageStore(const std::string& path, const Clock& clock) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return UnavailableError("cannot open usage store " + path + ": " + message);
  }
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  rc = sqlite3_exec(db,
                    "PRAGMA journal_mode=WAL;"
                    "CREATE TABLE IF NOT EXISTS counters(key TEXT PRIMARY KEY, value REAL NOT NULL, expires_at INTEGER);"
                    "CREATE TABLE IF NOT EXISTS uniques(key TEXT NOT NULL, member TEXT NOT NULL, expires_at INTEGER,"
                    " PRIMARY KEY(key, member));",
                    nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string message = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close_v2(db);
    return UnavailableError("cannot create usage store tables in " + path + ": " + message);
  }
  return std::unique_ptr<UsageStore>(new EmbeddedUsageStore(db, clock));
}

}  // namespace furrow::ping
