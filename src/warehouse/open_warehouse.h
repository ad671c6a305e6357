// Opening a Warehouse by URL (as ping/sql_database.h opens product databases), for
// src/app's commands:
//   ""                               DATA_DIR/warehouse.sqlite (the embedded default)
//   sqlite:///absolute/path.sqlite   or sqlite://relative/path.sqlite
//   postgresql://user@host:port/db   any libpq connection URI (postgres:// too)
//   clickhouse://host:port/db        ClickHouse's HTTP interface (port default 8123)
// kInvalidArgument for another scheme; whatever opening returns otherwise. The
// clock stamps the load manifest and must outlive the warehouse.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "warehouse/warehouse.h"

namespace furrow::warehouse {

[[nodiscard]] Result<std::unique_ptr<Warehouse>> OpenWarehouse(const std::string& url, const std::string& data_dir,
                                                               const Clock& clock);

}  // namespace furrow::warehouse
