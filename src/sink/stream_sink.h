// StreamSink: moves one stream into the object store, pseudonymized and compressed.
//
// One StreamSink reads one stream (enriched-good, enriched-bad or raw-bad) through a
// named Consumer, pseudonymizes every record before it leaves memory, and appends the
// result as one line to the open file: compressed (gzip by default) into a spool file
// under `spool_dir`, so memory does not grow with the file. A file is closed when it
// holds max_file_bytes of uncompressed lines or its first line is max_file_age old,
// then stored under a deterministic key:
//
//   <prefix>/<yyyy>/<MM>/<dd>/<HH>/<stream>-<yyyy-MM-dd-HHmmss>-p<P>-<first>-<last><ext>
//
// where the time is the first record's append time (UTC) and <first>/<last> are the
// first and last stream offsets it holds (20 digits). Object metadata records the
// pseudonymization key id, the stream, the range and the record count
// (docs/object-store.md).
//
// Exactly once in the lake: before a file is stored its range is written to a journal
// (`spool_dir/<stream>.journal`, fsynced); the consumer's position is committed only
// after the object is stored; then the journal is removed. After a crash, Recover()
// rebuilds the journaled file from the same stream range (same records, same key,
// same bytes) and stores it again over the same key, so a redo never creates a second
// copy. When the store is unreachable the finished file stays in the spool and the
// sink retries with backoff, holding its position: nothing is lost, and upstream keeps
// accepting until the stream's budget is full.
//
// Thread safety: one thread drives a StreamSink (Run, or Recover/Step/Close).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "pseudonymize/pseudonymizer.h"
#include "sink/compressor.h"
#include "storage/object_store.h"
#include "stream/stream.h"

namespace furrow::sink {

struct SinkOptions {
  Compression compression = Compression::kGzip;
  int compression_level = 0;                      // 0 = the library's default
  uint64_t max_file_bytes = 64ull << 20;          // uncompressed line bytes per file
  std::chrono::milliseconds max_file_age{60000};  // since the file's first line
  size_t poll_max_records = 4096;
  size_t poll_max_bytes = 8u << 20;
  std::chrono::milliseconds poll_wait{200};
  std::chrono::milliseconds retry_initial{500};   // store outage backoff, doubling
  std::chrono::milliseconds retry_max{30000};
};

class StreamSink {
 public:
  // `prefix` is the lake folder ("output", "enriched-bad", "raw-bad"). Every pointer
  // must outlive the sink.
  StreamSink(std::string stream, std::string prefix, stream::Consumer* consumer,
             storage::ObjectStore* store, pseudonymize::Pseudonymizer* pseudonymizer,
             std::string key_id, std::filesystem::path spool_dir, const Clock* clock,
             MetricsRegistry* metrics, SinkOptions options);
  ~StreamSink();
  StreamSink(const StreamSink&) = delete;
  StreamSink& operator=(const StreamSink&) = delete;

  // Finishes a file that a previous run journaled but may not have stored. Call once
  // before the first Step.
  Status Recover();

  // Polls once (waiting up to poll_wait), adds what arrived to the open file, and
  // stores the file if it is due. A store failure leaves the finished file pending
  // (the next Step retries it before polling again) and is returned.
  Status Step();

  // Stores the open file now, whatever its size and age (shutdown).
  Status Close();

  // Steps until `stop` is set, backing off while the store fails, then Close()s,
  // retrying the final store until it succeeds or `give_up` is set.
  void Run(const std::atomic<bool>& stop, const std::atomic<bool>& give_up);

  // Files stored so far (for tests and logs).
  uint64_t files_stored() const { return files_stored_; }

 private:
  struct Range {
    int32_t partition;
    uint64_t first;
    uint64_t last;
  };
  struct OpenFile;

  Status AddRecord(const stream::Record& record);
  Status StartFile(const stream::Record& first);
  bool Due() const;
  // Finishes the open file, journals it and stores it.
  Status Seal();
  Status StorePending();
  Status WriteJournal() const;
  std::string ObjectKey() const;
  storage::ObjectMetadata Metadata() const;
  stream::Position EndPosition() const;

  std::string stream_;
  std::string prefix_;
  stream::Consumer* consumer_;
  storage::ObjectStore* store_;
  pseudonymize::Pseudonymizer* pseudonymizer_;
  std::string key_id_;
  std::filesystem::path spool_dir_;
  std::filesystem::path spool_path_;
  std::filesystem::path journal_path_;
  const Clock* clock_;
  SinkOptions options_;

  std::unique_ptr<OpenFile> file_;  // null when no file is open
  bool pending_ = false;            // file_ is sealed and waiting to be stored
  std::vector<stream::Record> carry_;  // polled records past a recovered range
  std::string line_;                   // scratch for pseudonymized lines
  uint64_t files_stored_ = 0;

  Counter* records_in_;
  Counter* files_;
  Counter* bytes_out_;
  Counter* store_failures_;
  Histogram* store_seconds_;
};

}  // namespace furrow::sink
