// ClickHouseWarehouse: the Warehouse (warehouse.h) in ClickHouse over its HTTP
// interface (net::HttpClient), URL clickhouse://HOST:PORT/DATABASE (PORT is the HTTP
// port, default 8123). Rows go in as INSERT ... FORMAT TabSeparated bodies, one INSERT
// per table per file.
//
// ClickHouse has no transactions across tables, so the "file + manifest in one
// transaction" of warehouse.h is approximated: the data INSERTs come first and the
// manifest row last. ping_instance, ping_instance_metric, events and load_manifest
// are ReplacingMergeTree tables keyed by ping_id; (ping_id, metric_path);
// (source_file, event_id); and file; so rows written again by a run that died between
// a data INSERT and the manifest INSERT collapse when parts merge (read with FINAL
// for exact counts before then). Pings already present are skipped before their
// metrics are written (dedup by id).
//
// Column types: strings are String ('' for absent), metric_value Float64,
// has_timed_out UInt8, ids Int64. Works with ClickHouse 18.16 (Debian 12).
// Thread safety: one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "warehouse/warehouse.h"

namespace furrow::warehouse {

// Parses the URL and checks the server answers (SELECT 1). kInvalidArgument for a
// malformed URL, kUnavailable if the server cannot be reached.
[[nodiscard]] Result<std::unique_ptr<Warehouse>> OpenClickHouseWarehouse(const std::string& url, const Clock& clock);

}  // namespace furrow::warehouse
