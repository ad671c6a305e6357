// PingStore: where the Service Ping receiver keeps what installations send.
//
// One schema, two implementations (SQLite, the embedded default at
// DATA_DIR/receiver.sqlite; PostgreSQL through libpq), chosen in src/app only:
//   raw_usage_data      id, uuid, payload (the JSON body as received), recorded_at, created_at
//   usage_data          the flattened identity, licence, version and database fields of each
//                       payload, stats (its "counts" object as JSON), source_ip
//   hosts               one row per hostname seen
//   versions            released product versions and whether they are vulnerable
//   usage_ping_errors   what agents reported when sending failed
//   usage_ping_metadata per-metric durations and errors sent after a payload
//   schema_migrations   the applied migrations (version, applied_at)
// Payload rows are appended, never updated: a repeated (uuid, recorded_at) is answered
// with the id of the row already stored and adds nothing. Timestamps the receiver
// writes (created_at) are ISO 8601 UTC with milliseconds ("2026-11-25T10:00:00.123Z"),
// so they sort as text.
//
// Thread safety: every implementation is safe for concurrent use (a store serialises
// its writes internally). Calls block on disk or network I/O: call them from worker
// threads, never from HTTP I/O threads.
//
// Errors: kUnavailable (the database cannot be reached or is busy), kIoError (the
// local file system refused), kInvalidArgument (a value the schema rejects),
// kNotFound (ReadPayload of an unknown id), kDataLoss (a stored row is unreadable).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "receiver/usage_data.h"

namespace furrow::receiver {

struct StoreResult {
  int64_t id = 0;        // raw_usage_data.id (the id agents get back as usage_data_id)
  bool created = false;  // false: the (uuid, recorded_at) was already stored
};

struct InstallationSummary {
  std::string uuid;
  std::string hostname;        // of the latest ping
  std::string version;         // of the latest ping
  std::string last_recorded_at;
  int64_t ping_count = 0;
};

struct PingSummary {
  int64_t id = 0;
  std::string uuid;
  std::string recorded_at;
  std::string version;
  std::string created_at;
};

struct VersionRow {
  std::string version;        // "16.3.1"
  bool vulnerable = false;    // marked vulnerable (an update is advised)
  bool critical = false;      // the vulnerability is critical (update as soon as possible)
  std::string created_at;
};

// The tables extract reads; each row becomes one JSON line.
inline constexpr const char* kExtractTables[] = {"raw_usage_data", "usage_data", "usage_ping_errors",
                                                  "usage_ping_metadata"};

class PingStore {
 public:
  virtual ~PingStore() = default;

  // Stores a validated payload: one raw_usage_data row, one usage_data row and the host
  // (if new), in one transaction. `created_at` is the receiver's clock.
  [[nodiscard]] virtual Result<StoreResult> StoreUsageData(const UsageData& data,
                                                           const std::string& source_ip,
                                                           const std::string& created_at) = 0;
  // Appends one usage_ping_metadata row (`metadata_json`: the "metadata" object).
  [[nodiscard]] virtual Result<int64_t> StoreMetadata(const std::string& uuid,
                                                      const std::string& metadata_json,
                                                      const std::string& created_at) = 0;
  // Appends one usage_ping_errors row.
  [[nodiscard]] virtual Result<int64_t> StoreError(const PingError& error,
                                                   const std::string& created_at) = 0;

  // Read API.
  [[nodiscard]] virtual Result<std::vector<InstallationSummary>> ListInstallations() = 0;
  [[nodiscard]] virtual Result<std::vector<PingSummary>> ListPings(const std::string& uuid) = 0;
  [[nodiscard]] virtual Result<std::string> ReadPayload(int64_t id) = 0;

  // Versions (for the version check). AddVersion of a known version is kAlreadyExists;
  // MarkVulnerable of an unknown one kNotFound.
  [[nodiscard]] virtual Status AddVersion(const std::string& version, const std::string& created_at) = 0;
  [[nodiscard]] virtual Status MarkVulnerable(const std::string& version, bool critical) = 0;
  [[nodiscard]] virtual Result<std::vector<VersionRow>> ListVersions() = 0;

  // Extract: calls `visit(id, json_line)` for rows of `table` (one of kExtractTables)
  // whose created_at is in [from, to) (ISO 8601 text) and whose id > after_id, in id
  // order, at most `limit` rows. The line is one JSON object with every column.
  [[nodiscard]] virtual Status ScanRows(const std::string& table, const std::string& from,
                                        const std::string& to, int64_t after_id, int64_t limit,
                                        const std::function<Status(int64_t id, const std::string& line)>& visit) = 0;

  // "sqlite:/path" or "postgresql://host:port/db" (no password), for logs.
  virtual std::string Describe() const = 0;
};

}  // namespace furrow::receiver
