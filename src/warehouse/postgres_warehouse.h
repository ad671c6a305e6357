// PostgresWarehouse: the Warehouse (warehouse.h) in PostgreSQL through libpq. Each
// file is loaded in one transaction with COPY FROM STDIN (text format): pings go
// through a temporary table and INSERT ... ON CONFLICT (ping_id) DO NOTHING RETURNING,
// so only new pings get their metric rows (COPY straight into
// ping_instance_metric); events are COPYed straight into events.
// Thread safety: one thread at a time (one connection).
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "warehouse/warehouse.h"

namespace furrow::warehouse {

// Connects to `url` (a libpq URI). kUnavailable if the server cannot be reached.
// `clock` stamps load_manifest.loaded_at and must outlive the warehouse.
[[nodiscard]] Result<std::unique_ptr<Warehouse>> OpenPostgresWarehouse(const std::string& url, const Clock& clock);

// Appends `value` to `out` escaped for COPY's text format (\N for an empty value
// when `empty_is_null`).
void AppendCopyText(std::string* out, std::string_view value, bool empty_is_null);

}  // namespace furrow::warehouse
