#include <sqlite3.h>

#include <filesystem>
#include <string_view>

#include "ping/sql_database.h"
#include "ping/sql_database_impl.h"

namespace furrow::ping {
namespace {

struct ProgressState {
  const Clock* clock;
  MonoTime deadline;
};

int ProgressHandler(void* arg) {
  auto* state = static_cast<ProgressState*>(arg);
  return state->clock->Monotonic() >= state->deadline ? 1 : 0;
}

SqlScalar ColumnScalar(sqlite3_stmt* stmt, int column) {
  SqlScalar out;
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_NULL: break;
    case SQLITE_INTEGER:
      out.is_null = false;
      out.integer = sqlite3_column_int64(stmt, column);
      break;
    case SQLITE_FLOAT:
      out.is_null = false;
      out.is_integer = false;
      out.real = sqlite3_column_double(stmt, column);
      break;
    default: {
      // Text that holds a number (e.g. a sum over a text column) is read as a number.
      out.is_null = false;
      out.is_integer = false;
      out.real = sqlite3_column_double(stmt, column);
      break;
    }
  }
  return out;
}

class SqliteConnection final : public SqlConnection {
 public:
  SqliteConnection(sqlite3* db, const Clock& clock) : db_(db), progress_{&clock, MonoTime{}} {
    sqlite3_progress_handler(db_, 1000, ProgressHandler, &progress_);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~SqliteConnection() override { sqlite3_close_v2(db_); }

  Result<SqlScalar> QueryScalar(const std::string& sql, MonoTime deadline) override {
    SqlScalar a, b;
    FURROW_RETURN_IF_ERROR(Run(sql, deadline, &a, nullptr));
    return a;
  }

  Result<std::pair<SqlScalar, SqlScalar>> QueryPair(const std::string& sql, MonoTime deadline) override {
    SqlScalar a, b;
    FURROW_RETURN_IF_ERROR(Run(sql, deadline, &a, &b));
    return std::make_pair(a, b);
  }

 private:
  Status Run(const std::string& sql, MonoTime deadline, SqlScalar* first, SqlScalar* second) {
    progress_.deadline = deadline;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, &tail);
    if (rc == SQLITE_OK && tail != nullptr && std::string_view(tail).find_first_not_of(" \t\r\n") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      return InvalidArgumentError("sqlite: only one statement is allowed");
    }
    if (rc != SQLITE_OK) {
      Status s = rc == SQLITE_INTERRUPT ? DeadlineExceededError("query timed out")
                                        : InvalidArgumentError(std::string("sqlite: ") + sqlite3_errmsg(db_));
      sqlite3_finalize(stmt);
      return s;
    }
    rc = sqlite3_step(stmt);
    Status status;
    if (rc == SQLITE_ROW) {
      *first = ColumnScalar(stmt, 0);
      if (second != nullptr) {
        if (sqlite3_column_count(stmt) < 2) status = InvalidArgumentError("sqlite: expected two columns");
        else *second = ColumnScalar(stmt, 1);
      }
    } else if (rc == SQLITE_INTERRUPT) {
      status = DeadlineExceededError("query timed out");
    } else if (rc != SQLITE_DONE) {
      status = InvalidArgumentError(std::string("sqlite: ") + sqlite3_errmsg(db_));
    }
    sqlite3_finalize(stmt);
    return status;
  }

  sqlite3* db_;
  ProgressState progress_;
};

class SqliteDatabase final : public SqlDatabase {
 public:
  SqliteDatabase(std::string path, const Clock& clock) : path_(std::move(path)), clock_(clock) {}
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  std::string adapter() const override { return "sqlite"; }
  std::string Describe() const override { return "sqlite://" + path_; }

  Result<std::unique_ptr<SqlConnection>> Connect() override {
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) return NotFoundError("sqlite database " + path_ + " does not exist");
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      return UnavailableError("cannot open sqlite database " + path_ + ": " + message);
    }
    return std::unique_ptr<SqlConnection>(new SqliteConnection(db, clock_));
  }

  Result<std::string> ServerVersion() override { return std::string(sqlite3_libversion()); }

 private:
  std::string path_;
  const Clock& clock_;
};

}  // namespace

std::unique_ptr<SqlDatabase> NewSqliteDatabase(std::string path, const Clock& clock) {
  return std::make_unique<SqliteDatabase>(std::move(path), clock);
}

}  // namespace furrow::ping
