// PostgresPingStore: the PingStore (ping_store.h) in PostgreSQL through libpq, same
// schema as the SQLite store (payload and JSON columns as `json`, which keeps the text
// as received; timestamps as ISO 8601 text). Migrations (schema_migrations) run on
// open under an advisory lock.
//
// Writes run in transactions that take one transaction-level advisory lock, so ids
// grow in commit order even with several receivers on one database (the extract's
// watermark relies on it; see extract.h).
//
// Thread safety: safe for concurrent use; one connection, calls serialised by a mutex.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "receiver/ping_store.h"

namespace furrow::receiver {

// Connects to `url` (a libpq URI) and migrates. kUnavailable if the server cannot be
// reached, kFailedPrecondition for a newer schema than this binary knows.
[[nodiscard]] Result<std::unique_ptr<PingStore>> OpenPostgresPingStore(const std::string& url);

}  // namespace furrow::receiver
