// FileStreamProvider: the embedded stream implementation, a durable append-only
// log per stream on local disk (format: docs/stream-log.md).
//
//   FileStreamOptions options;                  // defaults below
//   FURROW_ASSIGN_OR_RETURN(auto provider,
//       FileStreamProvider::Open(data_dir + "/streams", options, clock, &metrics));
//   FURROW_ASSIGN_OR_RETURN(Producer* raw, provider->GetProducer(kRawGood));
//   raw->Append(bytes, [](const Status& s) { /* 200 if s.ok(), 503 if exhausted */ });
//
// Each stream lives in ROOT/NAME/ and is opened on first use: recovery scans the
// newest segment and cuts a torn tail (partial header, partial payload, CRC or
// offset mismatch) back to the last complete record, counting and logging it.
// A stream directory is locked (flock on ROOT/NAME/LOCK) by the one process that
// opens it; a second opener gets kFailedPrecondition. Read-only inspection of a
// stream that another process has open is in file_log_inspect.h.
//
// Appends go to a queue; one writer thread per stream takes everything queued,
// waits up to group_commit_window for more if it was idle (not when the appends
// queued up during the previous commit), writes it with one write() and makes
// it durable with one fdatasync(), then publishes it to consumers and calls every
// callback. Consumers only ever see durable records and read them from the
// segment files with pread(), so memory does not grow with the backlog.
//
// Thread safety: the provider, its producers and its streams are safe for
// concurrent use; a Consumer is used by one thread at a time. Consumers keep
// their stream alive and may outlive the provider (Poll then returns only what
// is already durable).
//
// Callbacks: every Append's callback runs exactly once on the stream's writer
// thread, including immediate refusals (oversized record: kInvalidArgument;
// budget or queue full: kResourceExhausted; stream failed after an I/O error:
// kUnavailable), which are delivered without waiting for a commit. Only after
// Close() (when the writer thread is gone) is a refusal (kFailedPrecondition)
// delivered on the calling thread. Callbacks must not block for long (they delay
// the next group commit) and must not call Flush() or AppendSync() (they would
// wait for the thread they run on); calling Append() is fine.
//
// EndOffset() is the offset after the last durable record; offsets are dense, so it
// also counts the records ever made durable.
//
// Writable() is true only when an append of max_record_bytes would be accepted
// now (room for it in the budget and in the queue; stream open and not failed).
//
// Errors: a failed write() or fdatasync() fails that batch with kIoError and
// marks the stream failed (page-cache state after a failed fdatasync cannot be
// trusted); later appends get kUnavailable until the process restarts and
// recovery runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "stream/stream.h"

namespace furrow::stream {

class FileStream;

struct FileStreamOptions {
  // A new segment file is started when the next record would take the current
  // one past this size (a single record larger than this gets a segment alone).
  // Default: 64 MiB.
  uint64_t segment_bytes = 64ull << 20;

  // Disk budget of one stream: bytes of its segment files plus bytes accepted but
  // not yet written. An append that would exceed it is refused with
  // kResourceExhausted. Must be >= segment_bytes. Default: 1 GiB.
  uint64_t budget_bytes = 1ull << 30;

  // Largest payload accepted; larger appends get kInvalidArgument. Default:
  // 1,000,000 bytes (as Kafka's message.max.bytes and Kinesis' record limit).
  size_t max_record_bytes = 1'000'000;

  // How long the writer, when it was idle, waits for more appends after the first
  // one before it commits. Appends that arrived while the previous commit was being
  // written and synced are committed at once (they have waited for an fdatasync
  // already, and share the next one without a window). Zero never waits. Default:
  // 1 ms.
  std::chrono::microseconds group_commit_window{1000};

  // The writer commits without waiting for the end of the window once this many
  // bytes are queued. Default: 4 MiB.
  uint64_t max_batch_bytes = 4ull << 20;

  // Bound on bytes accepted but not yet durable (the in-memory queue); beyond it
  // appends get kResourceExhausted. Default: 64 MiB.
  uint64_t max_pending_bytes = 64ull << 20;

  // Retention deletes the oldest sealed segment (never the segment being
  // written, never one that a reader's committed position has not passed) while
  // the stream's segments take more than retention_max_bytes, or while its
  // newest record is older than retention_max_age. Zero disables that rule.
  // Defaults: 256 MiB and 7 days.
  uint64_t retention_max_bytes = 256ull << 20;
  std::chrono::milliseconds retention_max_age{7LL * 24 * 3600 * 1000};

  // How often the writer thread applies retention when no appends arrive (it
  // also applies it after every commit and every reader commit). Default: 1 s.
  std::chrono::milliseconds retention_check_interval{1000};

  // Checks the option values: kInvalidArgument if inconsistent.
  Status Validate() const;
};

class FileStreamProvider final : public StreamProvider {
 public:
  // Opens (creating if needed) the stream root directory `root`, normally
  // DATA_DIR/streams. `clock` stamps records and judges age retention; `metrics`
  // receives the furrow_stream_* series (docs/stream-log.md). Both must outlive
  // the provider and every consumer it opened.
  // Errors: kInvalidArgument for bad options, kIoError if `root` cannot be made.
  static Result<std::unique_ptr<FileStreamProvider>> Open(std::string root,
                                                          FileStreamOptions options,
                                                          const Clock& clock,
                                                          MetricsRegistry* metrics);

  ~FileStreamProvider() override;

  // Stream names: 1 to 100 characters of [A-Za-z0-9._-], not starting with '.'.
  // Reader names: the same rule. Bad names are kInvalidArgument.
  Result<Producer*> GetProducer(const std::string& stream) override;
  Result<std::unique_ptr<Consumer>> OpenConsumer(const std::string& stream,
                                                 const std::string& reader) override;
  // Streams opened by this provider, and (read-only) every other stream
  // directory under the root.
  Result<std::vector<StreamInfo>> List() override;
  void Close() override;

  // Applies retention to every open stream now (the writer threads also do this
  // on their own schedule). Returns the first error met.
  Status EnforceRetention();

  const FileStreamOptions& options() const { return options_; }

 private:
  FileStreamProvider(std::string root, FileStreamOptions options, const Clock& clock,
                     MetricsRegistry* metrics);
  Result<std::shared_ptr<FileStream>> GetStream(const std::string& name);

  const std::string root_;
  const FileStreamOptions options_;
  const Clock& clock_;
  MetricsRegistry* metrics_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileStream>> streams_;  // guarded by mu_
  bool closed_ = false;                                          // guarded by mu_
};

// True if `name` is a valid stream or reader name (see GetProducer).
bool IsValidStreamName(const std::string& name);

}  // namespace furrow::stream
