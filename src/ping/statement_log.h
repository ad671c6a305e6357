// StatementLog: a SqlDatabase that passes every query to another SqlDatabase and
// appends each statement, once it has finished, to a file, so an administrator can
// see exactly what the agent ran on the product database (`furrow ping generate
// --sql-log FILE`) and replay it with the database's own CLI (bench/ping does).
//
// File format: one statement per line followed by ";", in completion order across
// connections; a statement that failed carries a trailing SQL comment with its
// error (`SELECT ...; -- DEADLINE_EXCEEDED: query timed out`), so the file stays a
// script sqlite3 and psql accept. Each line is flushed when written.
//
// Ownership and threads: owns the wrapped database; safe for concurrent use, like
// every SqlDatabase; each connection it hands out is used by one thread at a time.
// Errors: NewStatementLogDatabase returns kIoError when the file cannot be
// created; a later write error is logged once and does not fail the query.
#pragma once

#include <memory>
#include <string>

#include "ping/sql_database.h"

namespace furrow::ping {

[[nodiscard]] Result<std::unique_ptr<SqlDatabase>> NewStatementLogDatabase(
    std::unique_ptr<SqlDatabase> inner, const std::string& path);

}  // namespace furrow::ping
