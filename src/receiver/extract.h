// Extract: the receiver's daily copy of one day's rows to the object store.
//
// For each table in kExtractTables, the rows whose created_at falls on DATE (UTC) are
// written as gzip-compressed JSON lines (one object per row, every column) to
//   pings/<table>/date=YYYY-MM-DD/<first id>-<last id>.jsonl.gz
// with ids zero-padded to 20 digits, at most `rows_per_file` rows per file. The
// watermark of a (table, date) is the largest <last id> already in the store, so a
// re-run writes only rows that arrived since, and running it again right after
// writes nothing. Object names depend only on the id range, so a run interrupted
// after a Put and repeated writes the same object again (Put replaces it whole):
// nothing is lost and nothing is duplicated. Rows are read in id order and the
// store's ids grow in commit order (see ping_store.h), so no row is skipped.
//
// Not safe to run twice at once for the same lake (two runs may write overlapping
// ranges under different names); the receiver's scheduler and `furrow receiver
// extract` are meant to be run one at a time. Errors from the store or the object
// store are returned as they are; objects written before the error stay (later runs
// continue after them).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "receiver/ping_store.h"
#include "storage/object_store.h"

namespace furrow::receiver {

struct ExtractOptions {
  int64_t rows_per_file = 50000;  // rows per object (default 50,000)
};

struct ExtractStats {
  int64_t files = 0;
  int64_t rows = 0;
};

// Extracts one day (DATE = "YYYY-MM-DD"). kInvalidArgument for a malformed date.
[[nodiscard]] Result<ExtractStats> ExtractDay(PingStore& store, storage::ObjectStore& lake, const std::string& date,
                                              const ExtractOptions& options = {});

// "YYYY-MM-DD" of the UTC day containing `epoch_ms`, and the day after a date.
std::string UtcDate(int64_t epoch_ms);
[[nodiscard]] Result<std::string> NextDate(const std::string& date);

}  // namespace furrow::receiver
