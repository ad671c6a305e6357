// FileStream: one stream of the embedded file log, its writer thread and its
// consumers. Internal to src/stream; stages use stream.h and src/app uses
// file_log.h. The contract (threads, callbacks, errors) is in file_log.h; the
// format in docs/stream-log.md.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "stream/file_log.h"
#include "stream/stream.h"

namespace furrow::stream {

// One segment file. The fd is read-only for sealed segments, read-write for
// the active one; it is closed when the last holder lets go, so a consumer can
// finish reading a segment that retention has just unlinked.
struct Segment {
  Segment(uint64_t base, std::string path, int fd) : base(base), path(std::move(path)), fd(fd) {}
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const uint64_t base;
  const std::string path;
  const int fd;
  // Guarded by FileStream::mu_.
  uint64_t size = 0;        // durable, valid bytes (magic included)
  uint64_t end_offset = 0;  // offset after its last durable record
  bool sealed = false;      // no more records will be written to it
  std::optional<int64_t> newest_timestamp_ms;  // known once written or scanned
};

class FileStream final : public Producer, public std::enable_shared_from_this<FileStream> {
 public:
  // Opens the stream in `dir` (creating it), locks it, recovers it, reads the
  // reader positions and starts the writer thread.
  static Result<std::shared_ptr<FileStream>> Open(std::string dir, std::string name,
                                                  const FileStreamOptions& options,
                                                  const Clock& clock, MetricsRegistry* metrics);
  ~FileStream() override;

  // Producer.
  void Append(std::string payload, AppendCallback done) override;
  Status AppendSync(std::string payload) override;
  size_t max_record_bytes() const override { return options_.max_record_bytes; }
  bool Writable() const override;
  Status Flush() override;
  Result<uint64_t> EndOffset() override;

  Result<std::unique_ptr<Consumer>> OpenConsumer(const std::string& reader);
  StreamInfo Info();
  Status EnforceRetention();
  // Drains the queue, stops the writer and wakes pollers. Idempotent.
  void Close();

  const std::string& name() const { return name_; }

 private:
  friend class FileConsumer;

  struct Pending {
    std::string payload;
    int64_t timestamp_ms;
    AppendCallback done;
  };
  struct Refusal {
    AppendCallback done;
    Status status;
  };
  // Where a consumer reads next.
  struct Cursor {
    std::shared_ptr<Segment> segment;
    uint64_t position = 0;     // byte position in the segment
    uint64_t next_offset = 0;  // offset of the record at `position`
  };

  FileStream(std::string dir, std::string name, const FileStreamOptions& options,
             const Clock& clock, MetricsRegistry* metrics);

  Status Recover();
  Result<std::shared_ptr<Segment>> CreateSegment(uint64_t base);
  void WriterLoop();
  // Writes and syncs one batch (writer thread only, without mu_).
  struct SegmentUpdate {
    std::shared_ptr<Segment> segment;
    uint64_t size;
    uint64_t end_offset;
    bool sealed;
    std::optional<int64_t> newest_timestamp_ms;
  };
  Status WriteBatch(const std::vector<Pending>& batch, std::vector<SegmentUpdate>* updates);
  Status SyncActive();
  // Queues a refusal for the writer thread and releases `lock`.
  void Refuse(std::unique_lock<std::mutex>& lock, AppendCallback done, Status status);
  void UpdateDiskGauge();  // requires mu_

  // Consumer support.
  Result<Cursor> Seek(uint64_t offset);
  Status CommitReader(const std::string& reader, uint64_t next_offset);
  void ReleaseReader(const std::string& reader);

  const std::string dir_;
  const std::string name_;
  const FileStreamOptions options_;
  const Clock& clock_;
  int lock_fd_ = -1;  // held from Recover() until Close()

  // Metrics.
  Counter* appended_records_;
  Counter* appended_bytes_;
  Counter* commits_;
  Histogram* commit_seconds_;
  Histogram* records_per_commit_;
  Counter* refused_oversize_;
  Counter* refused_budget_;
  Counter* refused_queue_;
  Counter* refused_failed_;
  Counter* refused_closed_;
  Counter* io_errors_;
  Counter* torn_tails_;
  Counter* torn_bytes_;
  Counter* corrupt_skipped_;
  Counter* segments_deleted_;
  Gauge* bytes_on_disk_;

  mutable std::mutex mu_;
  std::condition_variable writer_cv_;     // work for the writer
  std::condition_variable committed_cv_;  // new durable records, or closing
  std::condition_variable completed_cv_;  // callbacks ran (Flush)
  std::map<uint64_t, std::shared_ptr<Segment>> segments_;  // by base; guarded by mu_
  uint64_t end_offset_ = 0;    // offset of the next durable record; guarded by mu_
  uint64_t disk_bytes_ = 0;    // sum of segment sizes; guarded by mu_
  uint64_t queued_bytes_ = 0;  // accepted, not yet durable (framed); guarded by mu_
  std::deque<Pending> pending_;      // guarded by mu_
  std::vector<Refusal> refusals_;    // guarded by mu_
  uint64_t submitted_ = 0;  // appends seen; guarded by mu_
  uint64_t completed_ = 0;  // appends whose callback ran; guarded by mu_
  std::map<std::string, uint64_t> reader_positions_;  // committed; guarded by mu_
  std::set<std::string> open_readers_;                // guarded by mu_
  Status failure_;         // set once on I/O error; guarded by mu_
  bool closing_ = false;   // guarded by mu_
  bool writer_done_ = false;  // guarded by mu_

  // Writer thread state (set by Recover before the thread starts; then only the
  // writer thread touches it).
  std::shared_ptr<Segment> active_;
  uint64_t active_written_ = 0;   // bytes written to active_ (durable after a commit)
  uint64_t next_write_offset_ = 0;
  std::string write_buffer_;

  std::mutex close_mu_;  // serialises Close()

  std::thread writer_;
};

}  // namespace furrow::stream
