// SqlDatabase: the product database a Service Ping agent reads its database metrics
// from. An interface with two implementations chosen by URL (OpenSqlDatabase):
//   sqlite:///absolute/path.db  or  sqlite://relative/path.db   (embedded, read-only)
//   postgresql://user@host:port/db?...  (libpq; any libpq connection URI)
//
// A SqlDatabase hands out SqlConnections; each connection is used by one thread at
// a time (the payload builder gives each worker its own). SqlDatabase itself is
// safe for concurrent use.
//
// Every query runs under a deadline (a MonoTime of the injected clock): SQLite
// interrupts the statement from its progress handler, PostgreSQL gets a
// statement_timeout (set on the session only when the time left has moved more
// than 2% away from the value in force, so a query may end up to 2% early). A query that hits its deadline returns kDeadlineExceeded; an
// SQL error returns kInvalidArgument with the database's message; a lost
// connection kUnavailable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"

namespace furrow::ping {

// One scalar result cell.
struct SqlScalar {
  bool is_null = true;
  bool is_integer = true;
  int64_t integer = 0;
  double real = 0;

  double AsDouble() const { return is_integer ? static_cast<double>(integer) : real; }
};

enum class SqlDialect { kSqlite, kPostgresql };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  // Runs `sql` and returns the first column of the first row (null if no row).
  [[nodiscard]] virtual Result<SqlScalar> QueryScalar(const std::string& sql, MonoTime deadline) = 0;
  // Runs `sql` and returns the first row's first two columns (MIN, MAX).
  [[nodiscard]] virtual Result<std::pair<SqlScalar, SqlScalar>> QueryPair(const std::string& sql,
                                                                          MonoTime deadline) = 0;
};

class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;
  virtual SqlDialect dialect() const = 0;
  // "sqlite" or "postgresql" (the payload's database.adapter).
  virtual std::string adapter() const = 0;
  // Opens a new connection. kUnavailable if the server cannot be reached,
  // kNotFound if the SQLite file does not exist.
  [[nodiscard]] virtual Result<std::unique_ptr<SqlConnection>> Connect() = 0;
  // The server's version string (database.version), e.g. "3.40.1" or "15.5".
  [[nodiscard]] virtual Result<std::string> ServerVersion() = 0;
  // A safe-to-show description of the URL (no password).
  virtual std::string Describe() const = 0;
};

// Opens a database by URL (see the banner). The clock measures deadlines and must
// outlive the database. kInvalidArgument for an unknown scheme.
[[nodiscard]] Result<std::unique_ptr<SqlDatabase>> OpenSqlDatabase(const std::string& url, const Clock& clock);

}  // namespace furrow::ping
