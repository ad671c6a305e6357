// SqlitePingStore: the embedded PingStore (see ping_store.h) in one SQLite file,
// DATA_DIR/receiver.sqlite by default.
//
// The file is opened in WAL mode with synchronous=NORMAL (a committed ping survives a
// process crash; a power loss may lose the last transactions) and a 5 s busy
// timeout, so that `furrow receiver extract` and the read API can run beside the
// service. Migrations (schema_migrations) are applied on open.
//
// Thread safety: safe for concurrent use; one connection, calls serialised by a
// mutex (SQLite serialises writers anyway).
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "receiver/ping_store.h"

namespace furrow::receiver {

// Opens (creating if needed) the store at `path`. kIoError if the file cannot be
// opened or created, kDataLoss if it is not a SQLite database, kFailedPrecondition if
// it holds a newer schema than this binary knows.
[[nodiscard]] Result<std::unique_ptr<PingStore>> OpenSqlitePingStore(const std::string& path);

}  // namespace furrow::receiver
