// Warehouse: where `furrow warehouse load` puts the lake's files, as tables analysts
// query. An interface with implementations per database (SQLite, the embedded
// default at DATA_DIR/warehouse.sqlite; PostgreSQL through libpq COPY); src/app picks
// one by URL.
//
// Tables (created by Prepare when missing):
//   ping_instance         one row per ping: ping_id (primary key: pings are
//                         deduplicated by id), installation_id, uuid, hostname,
//                         version, edition, recorded_at, created_at, metric_count
//   ping_instance_metric  one row per numeric metric of a ping: ping_id,
//                         installation_id, recorded_at, metric_path (dotted key path),
//                         metric_value (0 where the payload said -1), has_timed_out (1
//                         where it said -1, else 0)
//   events                the 131 columns of the enriched event format (all text,
//                         empty fields as NULL), plus source_file
//   load_manifest         file (primary key), kind (pings|events), rows, loaded_at
// Loading one file and writing its manifest row happen in one transaction, so a file
// is either loaded whole and recorded, or not at all; IsLoaded then tells a re-run to
// skip it.
//
// Thread safety: an implementation is used by one thread at a time.
// Errors: kUnavailable (cannot reach the database), kIoError (local file system),
// kInvalidArgument (the database rejected a value), kInternal (unexpected database
// error).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "event/enriched_event.h"

namespace furrow::warehouse {

struct PingMetric {
  std::string path;
  double value = 0;
  bool has_timed_out = false;
};

struct PingInstance {
  int64_t ping_id = 0;
  std::string installation_id;
  std::string uuid;
  std::string hostname;
  std::string version;
  std::string edition;
  std::string recorded_at;
  std::string created_at;
  std::vector<PingMetric> metrics;
};

struct PingLoadResult {
  int64_t pings = 0;       // new ping_instance rows
  int64_t duplicates = 0;  // pings already in the warehouse (skipped)
  int64_t metrics = 0;     // ping_instance_metric rows written
};

// A file's pings handed over one at a time, so that a warehouse can insert while the
// loader is still parsing (and the file's pings need not all be in memory at once).
class PingSource {
 public:
  virtual ~PingSource() = default;
  // The next ping, or nullptr after the last. The ping stays valid until the next call.
  // An error ends the load of the file (its transaction is rolled back).
  [[nodiscard]] virtual Result<const PingInstance*> Next() = 0;
};

// A PingSource over pings already in memory.
class VectorPingSource final : public PingSource {
 public:
  explicit VectorPingSource(const std::vector<PingInstance>& pings) : pings_(pings) {}
  Result<const PingInstance*> Next() override {
    return next_ < pings_.size() ? &pings_[next_++] : static_cast<const PingInstance*>(nullptr);
  }

 private:
  const std::vector<PingInstance>& pings_;
  size_t next_ = 0;
};

class Warehouse {
 public:
  virtual ~Warehouse() = default;
  // Creates missing tables.
  [[nodiscard]] virtual Status Prepare() = 0;
  // Whether `file` has a manifest row.
  [[nodiscard]] virtual Result<bool> IsLoaded(const std::string& file) = 0;
  // Loads a file's pings (skipping ping ids already present) and its manifest row.
  [[nodiscard]] virtual Result<PingLoadResult> LoadPings(const std::string& file,
                                                         const std::vector<PingInstance>& pings) = 0;
  // The same as LoadPings with the pings taken from `source` one at a time. The default
  // collects them and calls LoadPings (PostgreSQL and ClickHouse look at a file's ping
  // ids before writing); SQLite inserts each as it comes.
  [[nodiscard]] virtual Result<PingLoadResult> LoadPingStream(const std::string& file, PingSource& source) {
    std::vector<PingInstance> pings;
    while (true) {
      FURROW_ASSIGN_OR_RETURN(const PingInstance* p, source.Next());
      if (p == nullptr) break;
      pings.push_back(*p);
    }
    return LoadPings(file, pings);
  }
  // Loads a file's events and its manifest row; returns the rows written.
  [[nodiscard]] virtual Result<int64_t> LoadEvents(const std::string& file,
                                                   const std::vector<event::FieldViews>& events) = 0;
  // A safe-to-log description (no password).
  virtual std::string Describe() const = 0;
};

}  // namespace furrow::warehouse
