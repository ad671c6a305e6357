#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "ping/sql_database.h"
#include "ping/sql_database_impl.h"

namespace furrow::ping {
namespace {

SqlScalar CellScalar(PGresult* res, int column) {
  SqlScalar out;
  if (PQntuples(res) == 0 || PQgetisnull(res, 0, column)) return out;
  out.is_null = false;
  const char* text = PQgetvalue(res, 0, column);
  Oid type = PQftype(res, column);
  // int8, int4, int2 are integers; numeric, float4/8 may have fractions.
  if (type == 20 || type == 23 || type == 21) {
    out.integer = std::strtoll(text, nullptr, 10);
  } else {
    char* end = nullptr;
    long long as_int = std::strtoll(text, &end, 10);
    if (end != nullptr && *end == '\0') {
      out.integer = as_int;
    } else {
      out.is_integer = false;
      out.real = std::strtod(text, nullptr);
    }
  }
  return out;
}

class PostgresConnection final : public SqlConnection {
 public:
  PostgresConnection(PGconn* conn, const Clock& clock) : conn_(conn), clock_(clock) {}
  ~PostgresConnection() override { PQfinish(conn_); }

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
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.Monotonic()).count();
    if (remaining <= 0) return DeadlineExceededError("query timed out before it started");
    if (PQstatus(conn_) != CONNECTION_OK) return UnavailableError("postgresql connection lost");
    FURROW_RETURN_IF_ERROR(SetStatementTimeout(remaining));
    // The query goes through the extended protocol, which accepts exactly one statement.
    PGresult* res = PQexecParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
    Status status;
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK) {
      if (PQnfields(res) < (second != nullptr ? 2 : 1)) {
        status = InvalidArgumentError("postgresql: query returned too few columns");
      } else {
        *first = CellScalar(res, 0);
        if (second != nullptr) *second = CellScalar(res, 1);
      }
    } else {
      const char* code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
      std::string message = PQerrorMessage(conn_);
      while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
      if (code != nullptr && std::string(code) == "57014") {
        status = DeadlineExceededError("query timed out");
      } else if (PQstatus(conn_) != CONNECTION_OK) {
        status = UnavailableError("postgresql: " + message);
      } else {
        status = InvalidArgumentError("postgresql: " + message);
      }
    }
    PQclear(res);
    return status;
  }

  // statement_timeout is a session setting of this connection. Batches under the
  // same per-query timeout want (almost) the same value each time, so the SET, a
  // round trip of its own, is sent only when the value in force is above the time
  // remaining or more than 2% below it: a query may end up to 2% early, never late.
  Status SetStatementTimeout(int64_t remaining_ms) {
    if (timeout_ms_ > 0 && timeout_ms_ <= remaining_ms && remaining_ms - timeout_ms_ <= remaining_ms / 50) {
      return Status::Ok();
    }
    int64_t timeout_ms = std::max<int64_t>(remaining_ms - remaining_ms / 100, 1);
    std::string sql = "SET statement_timeout = " + std::to_string(timeout_ms);
    PGresult* set = PQexec(conn_, sql.c_str());
    bool set_ok = PQresultStatus(set) == PGRES_COMMAND_OK;
    PQclear(set);
    if (!set_ok) {
      timeout_ms_ = 0;
      return UnavailableError("postgresql: cannot set statement_timeout");
    }
    timeout_ms_ = timeout_ms;
    return Status::Ok();
  }

  PGconn* conn_;
  const Clock& clock_;
  int64_t timeout_ms_ = 0;  // statement_timeout in force; 0 = not set by us
};

class PostgresDatabase final : public SqlDatabase {
 public:
  PostgresDatabase(std::string conninfo, const Clock& clock) : conninfo_(std::move(conninfo)), clock_(clock) {}
  SqlDialect dialect() const override { return SqlDialect::kPostgresql; }
  std::string adapter() const override { return "postgresql"; }

  std::string Describe() const override {
    // Drop any password from a URI: scheme://user:password@host -> scheme://user@host.
    std::string out = conninfo_;
    size_t scheme = out.find("://");
    size_t at = out.find('@');
    if (scheme != std::string::npos && at != std::string::npos) {
      size_t colon = out.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) out.erase(colon, at - colon);
    }
    return out;
  }

  Result<std::unique_ptr<SqlConnection>> Connect() override {
    const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {conninfo_.c_str(), "10", "furrow-ping", nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 1);
    if (conn == nullptr) return InternalError("postgresql: out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message = PQerrorMessage(conn);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      PQfinish(conn);
      return UnavailableError("cannot connect to " + Describe() + ": " + message);
    }
    PGresult* res = PQexec(conn, "SET default_transaction_read_only = on");
    PQclear(res);
    return std::unique_ptr<SqlConnection>(new PostgresConnection(conn, clock_));
  }

  Result<std::string> ServerVersion() override {
    const char* keys[] = {"dbname", "connect_timeout", nullptr};
    const char* values[] = {conninfo_.c_str(), "10", nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, 1);
    std::string version;
    if (PQstatus(conn) == CONNECTION_OK) {
      const char* v = PQparameterStatus(conn, "server_version");
      if (v != nullptr) version = v;
    }
    PQfinish(conn);
    if (version.empty()) return UnavailableError("postgresql: cannot read server_version");
    size_t space = version.find(' ');
    if (space != std::string::npos) version.resize(space);
    return version;
  }

 private:
  std::string conninfo_;
  const Clock& clock_;
};

}  // namespace

std::unique_ptr<SqlDatabase> NewPostgresDatabase(std::string conninfo, const Clock& clock) {
  return std::make_unique<PostgresDatabase>(std::move(conninfo), clock);
}

Result<std::unique_ptr<SqlDatabase>> OpenSqlDatabase(const std::string& url, const Clock& clock) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.rfind(kSqlite, 0) == 0) {
    std::string path = url.substr(kSqlite.size());
    if (path.empty()) return InvalidArgumentError("database URL " + url + " names no file");
    return NewSqliteDatabase(std::move(path), clock);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return NewPostgresDatabase(url, clock);
  }
  return InvalidArgumentError("unknown database URL scheme in '" + url +
                              "' (expected sqlite:///path or postgresql://...)");
}

}  // namespace furrow::ping
