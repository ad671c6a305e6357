// SqliteWarehouse: the embedded Warehouse (warehouse.h) in one SQLite file, by
// default DATA_DIR/warehouse.sqlite. Loads use prepared statements inside one
// transaction per file; the file is in WAL mode with synchronous=NORMAL.
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
