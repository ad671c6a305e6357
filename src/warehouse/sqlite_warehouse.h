// SqliteWarehouse: the embedded Warehouse (warehouse.h) in one SQLite file, by
// default DATA_DIR/warehouse.sqlite. Loads use prepared statements inside one
// transaction per file, inserting pings as the loader parses them (LoadPingStream).
//
// The file uses a rollback journal (journal_mode=DELETE, synchronous=FULL) and, when
// new, 64 KiB pages. A load appends millions of rows to new pages, which a rollback
// journal writes once (only the few pages that existed before are journaled), while
// WAL writes every page twice (to the WAL, then to the file at the checkpoint): on 2
// cores WAL inserted 0.41-0.53 M rows/s and the rollback journal 0.74-1.0 M rows/s
// (bench/README.md). The price: a reader holding the file open while a load commits
// makes the commit wait (5 s busy timeout, then the load fails with kUnavailable and
// a re-run resumes), and a file another connection holds open in WAL mode stays in
// WAL. Commits are durable across power loss (synchronous=FULL).
// Thread safety: one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "warehouse/warehouse.h"

namespace furrow::warehouse {

// Opens or creates the file. `clock` stamps load_manifest.loaded_at and must outlive
// the warehouse. kIoError if the file cannot be opened.
[[nodiscard]] Result<std::unique_ptr<Warehouse>> OpenSqliteWarehouse(const std::string& path, const Clock& clock);

}  // namespace furrow::warehouse
