// SqlitePingStore: the embedded PingStore (see ping_store.h) in one SQLite file,
// DATA_DIR/receiver.sqlite by default.
//
// The file is opened in WAL mode with synchronous=FULL: the WAL is fsynced at every
// commit, so a payload that was answered 201 survives a power loss, not only a process
// crash (synchronous=NORMAL, which this store used before, may lose the last commits).
// A new file gets 16 KiB pages (a 150 KB payload is 10 overflow pages, not 37, which
// halves the write system calls); an existing file keeps its page size. A 5 s busy
// timeout lets `furrow receiver extract` and the read API run beside the service.
// Migrations (schema_migrations) are applied on open.
//
// Group commit: StoreUsageData queues the payload for one writer thread, which stores
// everything queued so far in one transaction (one fsync), each payload under its own
// savepoint (so a payload that fails leaves nothing while the rest commit), and only
// then answers each caller. The batch is as large as the number of callers waiting,
// so give the receiver as many workers as the concurrency it should absorb.
//
// Checkpoints (copying the WAL back into the file) run on a second connection and
// thread, not inside the writer's commits; the WAL file grows to at most about 128 MB
// (8,000 pages) before the writer checkpoints itself, and is reused from its start.
//
// Thread safety: safe for concurrent use; one connection, calls serialised by a
// mutex (SQLite serialises writers anyway); prepared statements are compiled once.
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
