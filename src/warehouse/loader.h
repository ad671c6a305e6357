// Loader: moves the lake's new files into a Warehouse (warehouse.h).
//
//   pings   pings/raw_usage_data/date=*/*.jsonl.gz (written by the receiver's
//           extract): each line {"id","uuid","payload":{...},"recorded_at",
//           "created_at"} becomes one ping_instance row and one
//           ping_instance_metric row per numeric leaf of the payload (FlattenPayload).
//   events  output/YYYY/MM/DD/HH/*.gz|*.zst (written by the sink): each line is one
//           131-field enriched event (TSV).
// Files are visited in key order; a file whose manifest row exists is skipped, so a
// re-run loads nothing twice and a run that stopped half-way resumes at the first
// file it had not committed. A line that cannot be read (bad JSON, wrong field count)
// is skipped and counted in LoadStats::bad_lines (and logged with its file); a file
// that cannot be decompressed stops the run with kDataLoss, and nothing of it is stored
// (ping files are inflated and parsed on a second thread while the warehouse inserts,
// so the damage may show after rows were inserted: the file's transaction rolls back).
// Progress is logged every file ("warehouse load progress": files and rows done).
//
// Not safe to run twice at once against the same warehouse.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/object_store.h"
#include "warehouse/warehouse.h"

namespace furrow::warehouse {

struct LoadOptions {
  bool pings = true;   // --source pings|all
  bool events = true;  // --source events|all
};

struct LoadStats {
  int64_t files = 0;          // files loaded by this run
  int64_t skipped_files = 0;  // files already in the manifest
  int64_t pings = 0;
  int64_t duplicate_pings = 0;
  int64_t metric_rows = 0;
  int64_t events = 0;
  int64_t bad_lines = 0;
};

[[nodiscard]] Result<LoadStats> LoadFromLake(storage::ObjectStore& lake, Warehouse& warehouse,
                                             const LoadOptions& options);

// The installation id of (hostname, uuid): hex SHA-256 of hostname + "\n" + uuid.
std::string InstallationId(std::string_view hostname, std::string_view uuid);

// Flattens a payload object into its numeric leaves (see warehouse.h for -1).
// Booleans count as 1/0; strings, nulls and arrays are not metrics. Nested objects
// join their keys with '.'.
[[nodiscard]] Status FlattenPayload(std::string_view payload_json, std::vector<PingMetric>* out);

// Parses one extracted raw_usage_data line into a PingInstance. kInvalidArgument if
// the line is not such an object.
[[nodiscard]] Result<PingInstance> ParseExtractedPing(std::string_view line);

// The Snowflake statements to create a stage on the lake, the file formats, the
// tables, and COPY them in (`--target snowflake --print-sql`). `lake_url` is
// s3://bucket/prefix (or a local path, printed as a comment that a stage needs S3).
std::string SnowflakeSql(const std::string& lake_url);

}  // namespace furrow::warehouse
