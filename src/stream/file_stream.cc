#include "stream/file_stream.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>

#include "core/logging.h"
#include "stream/log_layout.h"
#include "stream/record_format.h"

namespace furrow::stream {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How many recent batch ends a consumer remembers, so that Rewind() to a
// recently committed position does not rescan its segment.
constexpr size_t kCursorCacheSize = 16;

// Chunk size of consumer reads, clamped around the caller's max_bytes.
constexpr size_t kMinReadChunk = 64 << 10;
constexpr size_t kMaxReadChunk = 1 << 20;

Status PWriteAll(int fd, std::string_view data, uint64_t position) {
  while (!data.empty()) {
    ssize_t w = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(position));
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write segment", errno);
    }
    data.remove_prefix(static_cast<size_t>(w));
    position += static_cast<uint64_t>(w);
  }
  return Status::Ok();
}

std::vector<double> RecordsPerCommitBuckets() {
  std::vector<double> bounds;
  for (double b = 1; b <= 16384; b *= 2) bounds.push_back(b);
  return bounds;
}

}  // namespace

Segment::~Segment() {
  if (fd >= 0) ::close(fd);
}

// ---------------------------------------------------------------------------
// FileConsumer

class FileConsumer final : public Consumer {
 public:
  FileConsumer(std::shared_ptr<FileStream> stream, std::string reader, uint64_t committed,
               FileStream::Cursor cursor)
      : stream_(std::move(stream)),
        reader_(std::move(reader)),
        committed_(committed),
        cursor_(cursor),
        committed_cursor_(cursor) {}

  ~FileConsumer() override { stream_->ReleaseReader(reader_); }

  Result<Batch> Poll(size_t max_records, size_t max_bytes,
                     std::chrono::milliseconds wait) override;
  Status Commit(const Position& position) override;
  Status Rewind() override;
  Result<uint64_t> Lag() override;

 private:
  void Remember(const FileStream::Cursor& cursor);

  std::shared_ptr<FileStream> stream_;
  const std::string reader_;
  uint64_t committed_;
  FileStream::Cursor cursor_;
  std::optional<FileStream::Cursor> committed_cursor_;
  std::deque<FileStream::Cursor> recent_;  // recent batch ends, newest last
};

void FileConsumer::Remember(const FileStream::Cursor& cursor) {
  recent_.push_back(cursor);
  if (recent_.size() > kCursorCacheSize) recent_.pop_front();
}

Result<Batch> FileConsumer::Poll(size_t max_records, size_t max_bytes,
                                 std::chrono::milliseconds wait) {
  Batch batch;
  const auto deadline = SteadyClock::now() + wait;
  size_t batch_bytes = 0;
  while (batch.records.size() < max_records && (batch.records.empty() || batch_bytes < max_bytes)) {
    uint64_t limit = 0;
    bool sealed = false;
    uint64_t segment_end = 0;
    bool reseek = false;
    {
      std::unique_lock<std::mutex> lock(stream_->mu_);
      while (batch.records.empty() && cursor_.next_offset >= stream_->end_offset_ &&
             !stream_->closing_) {
        if (stream_->committed_cv_.wait_until(lock, deadline) == std::cv_status::timeout) break;
      }
      if (cursor_.next_offset >= stream_->end_offset_) break;
      if (cursor_.segment == nullptr || cursor_.next_offset < stream_->segments_.begin()->first) {
        reseek = true;
      } else {
        limit = cursor_.segment->size;
        sealed = cursor_.segment->sealed;
        segment_end = cursor_.segment->end_offset;
        if (cursor_.position >= limit || cursor_.next_offset >= segment_end) {
          if (!sealed) return InternalError("consumer cursor past the durable end of " + stream_->name_);
          auto next = stream_->segments_.upper_bound(cursor_.segment->base);
          if (next == stream_->segments_.end()) {
            return InternalError("no segment after a sealed one in " + stream_->name_);
          }
          cursor_ = FileStream::Cursor{next->second, kSegmentHeaderBytes, next->first};
          continue;
        }
      }
    }
    if (reseek) {
      FURROW_ASSIGN_OR_RETURN(cursor_, stream_->Seek(cursor_.next_offset));
      continue;
    }

    SegmentScanner scanner(cursor_.segment->fd, cursor_.position, limit, cursor_.next_offset,
                           stream_->options_.max_record_bytes,
                           std::clamp(max_bytes, kMinReadChunk, kMaxReadChunk));
    RecordHeader header;
    std::string_view payload;
    while (batch.records.size() < max_records && (batch.records.empty() || batch_bytes < max_bytes) &&
           scanner.Next(&header, &payload)) {
      Record record;
      record.partition = 0;
      record.offset = header.offset;
      record.timestamp_ms = header.timestamp_ms;
      record.payload.assign(payload);
      batch_bytes += record.payload.size();
      batch.records.push_back(std::move(record));
    }
    cursor_.position = scanner.position();
    cursor_.next_offset = scanner.next_offset();
    if (scanner.stop() == ScanStop::kIoError) return scanner.status();
    if (scanner.stop() != ScanStop::kEnd && scanner.position() < limit) {
      if (!sealed) {
        if (!batch.records.empty()) break;  // return the good records first
        return DataLossError("stream " + stream_->name_ + ": " + ScanStopName(scanner.stop()) +
                             " in durable records of " + cursor_.segment->path + " at byte " +
                             std::to_string(scanner.position()));
      }
      // A sealed segment was damaged after it was written: skip its remainder
      // rather than stall every reader behind it forever.
      uint64_t lost = segment_end - cursor_.next_offset;
      log::Error("stream segment corrupt; skipping its remainder",
                 {{"stream", stream_->name_},
                  {"segment", cursor_.segment->path},
                  {"byte", cursor_.position},
                  {"reason", ScanStopName(scanner.stop())},
                  {"records_lost", lost}});
      stream_->corrupt_skipped_->Inc(lost);
      cursor_.position = limit;
      cursor_.next_offset = segment_end;
    }
  }
  batch.end.next_offsets.push_back({0, cursor_.next_offset});
  if (!batch.records.empty()) Remember(cursor_);
  return batch;
}

Status FileConsumer::Commit(const Position& position) {
  std::optional<uint64_t> offset;
  for (const auto& [partition, next] : position.next_offsets) {
    if (partition != 0) {
      return InvalidArgumentError("file stream " + stream_->name_ + " has only partition 0");
    }
    offset = next;
  }
  if (!offset || *offset <= committed_) return Status::Ok();
  FURROW_RETURN_IF_ERROR(stream_->CommitReader(reader_, *offset));
  committed_ = *offset;
  committed_cursor_.reset();
  for (const auto& c : recent_) {
    if (c.next_offset == committed_) committed_cursor_ = c;
  }
  return Status::Ok();
}

Status FileConsumer::Rewind() {
  if (committed_cursor_) {
    cursor_ = *committed_cursor_;
    return Status::Ok();
  }
  FURROW_ASSIGN_OR_RETURN(cursor_, stream_->Seek(committed_));
  committed_cursor_ = cursor_;
  return Status::Ok();
}

Result<uint64_t> FileConsumer::Lag() {
  std::lock_guard<std::mutex> lock(stream_->mu_);
  uint64_t first = stream_->segments_.begin()->first;
  uint64_t from = std::max(committed_, first);
  return stream_->end_offset_ > from ? stream_->end_offset_ - from : 0;
}

// ---------------------------------------------------------------------------
// FileStream

FileStream::FileStream(std::string dir, std::string name, const FileStreamOptions& options,
                       const Clock& clock, MetricsRegistry* metrics)
    : dir_(std::move(dir)), name_(std::move(name)), options_(options), clock_(clock) {
  MetricLabels labels{{"stream", name_}};
  auto refused = [&](const char* reason) {
    return &metrics->GetCounter("furrow_stream_refused_total", "Appends refused, by reason",
                                {{"stream", name_}, {"reason", reason}});
  };
  appended_records_ = &metrics->GetCounter("furrow_stream_appended_records_total",
                                           "Records made durable", labels);
  appended_bytes_ = &metrics->GetCounter("furrow_stream_appended_bytes_total",
                                         "Payload bytes made durable", labels);
  commits_ = &metrics->GetCounter("furrow_stream_commits_total",
                                  "Group commits (one fdatasync each)", labels);
  commit_seconds_ = &metrics->GetHistogram("furrow_stream_commit_seconds",
                                           "fdatasync latency of a group commit",
                                           DefaultLatencyBuckets(), labels);
  records_per_commit_ = &metrics->GetHistogram("furrow_stream_records_per_commit",
                                               "Records made durable by one group commit",
                                               RecordsPerCommitBuckets(), labels);
  refused_oversize_ = refused("oversize");
  refused_budget_ = refused("budget");
  refused_queue_ = refused("queue");
  refused_failed_ = refused("failed");
  refused_closed_ = refused("closed");
  io_errors_ = &metrics->GetCounter("furrow_stream_io_errors_total",
                                    "Failed segment writes or syncs", labels);
  torn_tails_ = &metrics->GetCounter("furrow_stream_torn_tails_cut_total",
                                     "Torn tails cut by recovery", labels);
  torn_bytes_ = &metrics->GetCounter("furrow_stream_torn_bytes_cut_total",
                                     "Bytes cut from torn tails by recovery", labels);
  corrupt_skipped_ = &metrics->GetCounter("furrow_stream_corrupt_records_skipped_total",
                                          "Records lost to corruption in sealed segments",
                                          labels);
  segments_deleted_ = &metrics->GetCounter("furrow_stream_segments_deleted_total",
                                           "Segments deleted by retention", labels);
  bytes_on_disk_ = &metrics->GetGauge("furrow_stream_bytes_on_disk",
                                      "Bytes of the stream's segment files", labels);
}

FileStream::~FileStream() {
  Close();
}

Result<std::shared_ptr<FileStream>> FileStream::Open(std::string dir, std::string name,
                                                     const FileStreamOptions& options,
                                                     const Clock& clock,
                                                     MetricsRegistry* metrics) {
  std::shared_ptr<FileStream> stream(
      new FileStream(std::move(dir), std::move(name), options, clock, metrics));
  FURROW_RETURN_IF_ERROR(stream->Recover());
  stream->writer_ = std::thread([s = stream.get()] { s->WriterLoop(); });
  return stream;
}

Status FileStream::Recover() {
  FURROW_RETURN_IF_ERROR(CreateDirectories(dir_ + "/" + kReadersDir));
  std::string lock_path = dir_ + "/" + kLockFile;
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return ErrnoError("open " + lock_path, errno);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return FailedPreconditionError("stream " + name_ + " is open in another process or provider (" +
                                     lock_path + ")");
    }
    return ErrnoError("lock " + lock_path, errno);
  }

  FURROW_ASSIGN_OR_RETURN(std::vector<uint64_t> bases, ListSegments(dir_));
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i + 1 < bases.size(); ++i) {
    std::string path = dir_ + "/" + SegmentFileName(bases[i]);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open " + path, errno);
    auto segment = std::make_shared<Segment>(bases[i], path, fd);
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoError("stat " + path, errno);
    segment->size = static_cast<uint64_t>(st.st_size);
    segment->end_offset = bases[i + 1];
    segment->sealed = true;
    segments_[bases[i]] = segment;
  }

  if (bases.empty()) {
    std::string path = dir_ + "/" + SegmentFileName(0);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoError("create " + path, errno);
    active_ = std::make_shared<Segment>(0, path, fd);
    FURROW_RETURN_IF_ERROR(PWriteAll(fd, std::string_view(kSegmentMagic, kSegmentHeaderBytes), 0));
    if (::fdatasync(fd) != 0) return ErrnoError("fdatasync " + path, errno);
    FURROW_RETURN_IF_ERROR(FsyncDirectory(dir_));
    active_->size = kSegmentHeaderBytes;
    active_->end_offset = 0;
  } else {
    uint64_t base = bases.back();
    std::string path = dir_ + "/" + SegmentFileName(base);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return ErrnoError("open " + path, errno);
    active_ = std::make_shared<Segment>(base, path, fd);
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoError("stat " + path, errno);
    const uint64_t file_size = static_cast<uint64_t>(st.st_size);
    uint64_t valid = 0;
    uint64_t end = base;
    std::optional<int64_t> newest;
    const char* reason = "bad_magic";
    Status magic = CheckSegmentMagic(fd);
    if (magic.code() == StatusCode::kIoError) return magic;
    if (magic.ok()) {
      SegmentScanner scanner(fd, kSegmentHeaderBytes, file_size, base, options_.max_record_bytes);
      RecordHeader header;
      std::string_view payload;
      while (scanner.Next(&header, &payload)) {
        newest = std::max(newest.value_or(header.timestamp_ms), header.timestamp_ms);
      }
      if (scanner.stop() == ScanStop::kIoError) return scanner.status();
      valid = scanner.position();
      end = scanner.next_offset();
      reason = ScanStopName(scanner.stop());
    }
    if (valid < file_size || valid < kSegmentHeaderBytes) {
      if (::ftruncate(fd, static_cast<off_t>(valid)) != 0) return ErrnoError("truncate " + path, errno);
      if (valid < kSegmentHeaderBytes) {
        FURROW_RETURN_IF_ERROR(
            PWriteAll(fd, std::string_view(kSegmentMagic, kSegmentHeaderBytes), 0));
        valid = kSegmentHeaderBytes;
      }
      if (::fdatasync(fd) != 0) return ErrnoError("fdatasync " + path, errno);
      if (file_size > 0) {
        uint64_t cut = file_size > valid ? file_size - valid : 0;
        torn_tails_->Inc();
        torn_bytes_->Inc(cut);
        log::Warn("stream recovery cut a torn tail",
                  {{"stream", name_}, {"segment", path}, {"valid_bytes", valid},
                   {"bytes_cut", cut}, {"reason", reason}, {"next_offset", end}});
      }
    }
    active_->size = valid;
    active_->end_offset = end;
    active_->newest_timestamp_ms = newest;
  }
  segments_[active_->base] = active_;
  active_written_ = active_->size;
  next_write_offset_ = active_->end_offset;
  end_offset_ = active_->end_offset;
  disk_bytes_ = 0;
  for (const auto& [base, segment] : segments_) disk_bytes_ += segment->size;
  UpdateDiskGauge();

  FURROW_ASSIGN_OR_RETURN(std::vector<std::string> readers, ListReaders(dir_));
  for (const std::string& reader : readers) {
    if (!IsValidStreamName(reader)) continue;
    FURROW_ASSIGN_OR_RETURN(uint64_t position, ReadReaderPosition(dir_, reader));
    if (position > end_offset_) {
      log::Error("reader position is past the end of the stream; durable records were lost",
                 {{"stream", name_}, {"reader", reader}, {"position", position},
                  {"end_offset", end_offset_}});
      position = end_offset_;
    }
    reader_positions_[reader] = position;
  }
  return Status::Ok();
}

Result<std::shared_ptr<Segment>> FileStream::CreateSegment(uint64_t base) {
  std::string path = dir_ + "/" + SegmentFileName(base);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("create " + path, errno);
  auto segment = std::make_shared<Segment>(base, path, fd);
  FURROW_RETURN_IF_ERROR(PWriteAll(fd, std::string_view(kSegmentMagic, kSegmentHeaderBytes), 0));
  if (::fdatasync(fd) != 0) return ErrnoError("fdatasync " + path, errno);
  FURROW_RETURN_IF_ERROR(FsyncDirectory(dir_));
  {
    std::lock_guard<std::mutex> lock(mu_);
    segment->size = 0;  // published (with its records) when the batch commits
    segment->end_offset = base;
    segments_[base] = segment;
  }
  return segment;
}

void FileStream::UpdateDiskGauge() { bytes_on_disk_->Set(static_cast<double>(disk_bytes_)); }

void FileStream::Refuse(std::unique_lock<std::mutex>& lock, AppendCallback done, Status status) {
  refusals_.push_back({std::move(done), std::move(status)});
  lock.unlock();
  writer_cv_.notify_one();
}

void FileStream::Append(std::string payload, AppendCallback done) {
  std::unique_lock<std::mutex> lock(mu_);
  if (writer_done_) {
    lock.unlock();
    refused_closed_->Inc();
    done(FailedPreconditionError("stream " + name_ + " is closed"));
    return;
  }
  ++submitted_;
  if (closing_) {
    refused_closed_->Inc();
    return Refuse(lock, std::move(done), FailedPreconditionError("stream " + name_ + " is closing"));
  }
  if (payload.size() > options_.max_record_bytes) {
    refused_oversize_->Inc();
    return Refuse(lock, std::move(done),
                  InvalidArgumentError("record of " + std::to_string(payload.size()) +
                                       " bytes exceeds the limit of " +
                                       std::to_string(options_.max_record_bytes)));
  }
  if (!failure_.ok()) {
    refused_failed_->Inc();
    return Refuse(lock, std::move(done),
                  UnavailableError("stream " + name_ + " failed earlier: " + failure_.message()));
  }
  const uint64_t framed = kRecordHeaderBytes + payload.size();
  if (queued_bytes_ + framed > options_.max_pending_bytes) {
    refused_queue_->Inc();
    return Refuse(lock, std::move(done),
                  ResourceExhaustedError("stream " + name_ + ": append queue is full"));
  }
  if (disk_bytes_ + queued_bytes_ + framed > options_.budget_bytes) {
    refused_budget_->Inc();
    return Refuse(lock, std::move(done),
                  ResourceExhaustedError("stream " + name_ + ": disk budget of " +
                                         std::to_string(options_.budget_bytes) + " bytes is full"));
  }
  pending_.push_back(Pending{std::move(payload), clock_.NowMillis(), std::move(done)});
  queued_bytes_ += framed;
  const bool wake = pending_.size() == 1 || queued_bytes_ >= options_.max_batch_bytes;
  lock.unlock();
  if (wake) writer_cv_.notify_one();
}

Status FileStream::AppendSync(std::string payload) {
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  Append(std::move(payload), [&promise](const Status& s) { promise.set_value(s); });
  return future.get();
}

bool FileStream::Writable() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_ || writer_done_ || !failure_.ok()) return false;
  // True only if an append of any valid size would be accepted now.
  const uint64_t largest = kRecordHeaderBytes + options_.max_record_bytes;
  if (queued_bytes_ + largest > options_.max_pending_bytes) return false;
  return disk_bytes_ + queued_bytes_ + largest <= options_.budget_bytes;
}

Status FileStream::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = submitted_;
  completed_cv_.wait(lock, [&] { return completed_ >= target || writer_done_; });
  return failure_;
}

Result<uint64_t> FileStream::EndOffset() {
  std::lock_guard<std::mutex> lock(mu_);
  return end_offset_;
}

Status FileStream::SyncActive() {
  const auto start = SteadyClock::now();
  if (::fdatasync(active_->fd) != 0) return ErrnoError("fdatasync " + active_->path, errno);
  commit_seconds_->Observe(std::chrono::duration<double>(SteadyClock::now() - start).count());
  return Status::Ok();
}

Status FileStream::WriteBatch(const std::vector<Pending>& batch,
                              std::vector<SegmentUpdate>* updates) {
  write_buffer_.clear();
  std::optional<int64_t> newest;
  for (const Pending& p : batch) {
    const uint64_t framed = kRecordHeaderBytes + p.payload.size();
    const uint64_t used = active_written_ + write_buffer_.size();
    if (used > kSegmentHeaderBytes && used + framed > options_.segment_bytes) {
      FURROW_RETURN_IF_ERROR(PWriteAll(active_->fd, write_buffer_, active_written_));
      active_written_ += write_buffer_.size();
      write_buffer_.clear();
      FURROW_RETURN_IF_ERROR(SyncActive());
      updates->push_back({active_, active_written_, next_write_offset_, true, newest});
      newest.reset();
      FURROW_ASSIGN_OR_RETURN(active_, CreateSegment(next_write_offset_));
      active_written_ = kSegmentHeaderBytes;
    }
    AppendFramedRecord(&write_buffer_, next_write_offset_, p.timestamp_ms, p.payload);
    ++next_write_offset_;
    newest = std::max(newest.value_or(p.timestamp_ms), p.timestamp_ms);
  }
  FURROW_RETURN_IF_ERROR(PWriteAll(active_->fd, write_buffer_, active_written_));
  active_written_ += write_buffer_.size();
  FURROW_RETURN_IF_ERROR(SyncActive());
  updates->push_back({active_, active_written_, next_write_offset_, false, newest});
  if (write_buffer_.capacity() > options_.max_batch_bytes * 2) {
    std::string().swap(write_buffer_);  // do not keep a rare huge batch's memory
  }
  return Status::Ok();
}

void FileStream::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto next_retention = SteadyClock::now() + options_.retention_check_interval;
  // True when appends arrived while the writer was busy with the previous commit:
  // they have already waited for an fdatasync, so the window is skipped for them
  // (it only gathers appends when the writer was idle).
  bool arrived_while_busy = false;
  while (true) {
    while (!closing_ && pending_.empty() && refusals_.empty() &&
           SteadyClock::now() < next_retention) {
      writer_cv_.wait_until(lock, next_retention);
    }
    if (!refusals_.empty()) {
      std::vector<Refusal> refusals;
      refusals.swap(refusals_);
      lock.unlock();
      for (Refusal& r : refusals) r.done(r.status);
      lock.lock();
      completed_ += refusals.size();
      completed_cv_.notify_all();
    }
    bool committed = false;
    if (!pending_.empty()) {
      if (options_.group_commit_window.count() > 0 && !closing_ && !arrived_while_busy) {
        const auto deadline = SteadyClock::now() + options_.group_commit_window;
        writer_cv_.wait_until(lock, deadline, [&] {
          return closing_ || queued_bytes_ >= options_.max_batch_bytes;
        });
      }
      std::vector<Pending> batch(std::make_move_iterator(pending_.begin()),
                                 std::make_move_iterator(pending_.end()));
      pending_.clear();
      uint64_t batch_bytes = 0;
      uint64_t payload_bytes = 0;
      for (const Pending& p : batch) {
        batch_bytes += kRecordHeaderBytes + p.payload.size();
        payload_bytes += p.payload.size();
      }
      Status status = failure_.ok() ? Status::Ok()
                                    : UnavailableError("stream " + name_ + " failed earlier: " +
                                                       failure_.message());
      std::vector<SegmentUpdate> updates;
      if (status.ok()) {
        lock.unlock();
        status = WriteBatch(batch, &updates);
        lock.lock();
      }
      queued_bytes_ -= batch_bytes;
      if (status.ok()) {
        for (SegmentUpdate& u : updates) {
          disk_bytes_ += u.size - u.segment->size;
          u.segment->size = u.size;
          u.segment->end_offset = u.end_offset;
          u.segment->sealed = u.sealed;
          if (u.newest_timestamp_ms) {
            u.segment->newest_timestamp_ms = std::max(
                u.segment->newest_timestamp_ms.value_or(*u.newest_timestamp_ms),
                *u.newest_timestamp_ms);
          }
        }
        end_offset_ = next_write_offset_;
        UpdateDiskGauge();
        appended_records_->Inc(batch.size());
        appended_bytes_->Inc(payload_bytes);
        commits_->Inc();
        records_per_commit_->Observe(static_cast<double>(batch.size()));
        committed = true;
      } else if (failure_.ok()) {
        failure_ = status;
        io_errors_->Inc();
        log::Error("stream write failed; refusing appends until restart",
                   {{"stream", name_}, {"error", status.ToString()}});
      }
      lock.unlock();
      committed_cv_.notify_all();
      for (Pending& p : batch) p.done(status);
      lock.lock();
      completed_ += batch.size();
      completed_cv_.notify_all();
    }
    if (committed || SteadyClock::now() >= next_retention) {
      lock.unlock();
      Status s = EnforceRetention();
      if (!s.ok()) {
        log::Error("stream retention failed", {{"stream", name_}, {"error", s.ToString()}});
      }
      lock.lock();
      next_retention = SteadyClock::now() + options_.retention_check_interval;
    }
    arrived_while_busy = committed && !pending_.empty();
    if (closing_ && pending_.empty() && refusals_.empty()) break;
  }
  writer_done_ = true;
  completed_cv_.notify_all();
  committed_cv_.notify_all();
}

void FileStream::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  writer_cv_.notify_all();
  committed_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    writer_done_ = true;
  }
  // Nothing writes to the directory any more: let another provider open it.
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

Status FileStream::EnforceRetention() {
  std::vector<std::shared_ptr<Segment>> doomed;
  const int64_t now_ms = clock_.NowMillis();
  const int64_t max_age_ms = options_.retention_max_age.count();
  Status result;
  while (true) {
    std::shared_ptr<Segment> unscanned;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (segments_.size() < 2) break;
      std::shared_ptr<Segment> oldest = segments_.begin()->second;
      if (!oldest->sealed) break;
      uint64_t slowest = std::numeric_limits<uint64_t>::max();
      for (const auto& [reader, position] : reader_positions_) slowest = std::min(slowest, position);
      if (slowest < oldest->end_offset) break;
      bool remove = options_.retention_max_bytes > 0 && disk_bytes_ > options_.retention_max_bytes;
      if (!remove && max_age_ms > 0) {
        if (!oldest->newest_timestamp_ms) {
          unscanned = oldest;
        } else {
          remove = *oldest->newest_timestamp_ms < now_ms - max_age_ms;
        }
      }
      if (remove) {
        segments_.erase(segments_.begin());
        disk_bytes_ -= oldest->size;
        UpdateDiskGauge();
        doomed.push_back(std::move(oldest));
        continue;
      }
      if (!unscanned) break;
    }
    // A sealed segment found at start-up: learn its newest timestamp once.
    SegmentScanner scanner(unscanned->fd, kSegmentHeaderBytes, std::numeric_limits<uint64_t>::max(),
                           unscanned->base, options_.max_record_bytes);
    RecordHeader header;
    std::string_view payload;
    int64_t newest = std::numeric_limits<int64_t>::min();
    while (scanner.Next(&header, &payload)) newest = std::max(newest, header.timestamp_ms);
    if (scanner.stop() == ScanStop::kIoError) {
      result = scanner.status();
      break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    unscanned->newest_timestamp_ms = newest;
  }
  for (const auto& segment : doomed) {
    if (::unlink(segment->path.c_str()) != 0 && errno != ENOENT) {
      if (result.ok()) result = ErrnoError("unlink " + segment->path, errno);
      continue;
    }
    segments_deleted_->Inc();
    log::Info("stream retention deleted a segment",
              {{"stream", name_}, {"segment", segment->path}, {"end_offset", segment->end_offset}});
  }
  if (!doomed.empty()) {
    Status s = FsyncDirectory(dir_);
    if (result.ok()) result = s;
  }
  return result;
}

Result<FileStream::Cursor> FileStream::Seek(uint64_t offset) {
  std::shared_ptr<Segment> segment;
  uint64_t limit = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = segments_.upper_bound(offset);
    if (it == segments_.begin()) {
      return Cursor{it->second, kSegmentHeaderBytes, it->first};
    }
    --it;
    segment = it->second;
    limit = segment->size;
  }
  SegmentScanner scanner(segment->fd, kSegmentHeaderBytes, limit, segment->base,
                         options_.max_record_bytes);
  RecordHeader header;
  std::string_view payload;
  while (scanner.next_offset() < offset && scanner.Next(&header, &payload)) {
  }
  if (scanner.stop() == ScanStop::kIoError) return scanner.status();
  return Cursor{segment, scanner.position(), scanner.next_offset()};
}

Result<std::unique_ptr<Consumer>> FileStream::OpenConsumer(const std::string& reader) {
  uint64_t committed = 0;
  bool is_new = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return FailedPreconditionError("stream " + name_ + " is closed");
    if (open_readers_.count(reader) > 0) {
      return FailedPreconditionError("reader " + reader + " of stream " + name_ +
                                     " is already open");
    }
    auto it = reader_positions_.find(reader);
    if (it == reader_positions_.end()) {
      is_new = true;
      committed = segments_.begin()->first;
    } else {
      committed = it->second;
    }
    open_readers_.insert(reader);
  }
  if (is_new) {
    // Persist the new reader at once so that retention keeps what it has not
    // read, also across restarts.
    Status s = CommitReader(reader, committed);
    if (!s.ok()) {
      ReleaseReader(reader);
      return s;
    }
  }
  auto cursor = Seek(committed);
  if (!cursor.ok()) {
    ReleaseReader(reader);
    return cursor.status();
  }
  return std::unique_ptr<Consumer>(
      new FileConsumer(shared_from_this(), reader, committed, *cursor));
}

Status FileStream::CommitReader(const std::string& reader, uint64_t next_offset) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return FailedPreconditionError("stream " + name_ + " is closed");
    if (next_offset > end_offset_) {
      return InvalidArgumentError("position " + std::to_string(next_offset) +
                                  " is past the end of stream " + name_);
    }
  }
  FURROW_RETURN_IF_ERROR(WriteReaderPosition(dir_, reader, next_offset));
  {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t& position = reader_positions_[reader];
    position = std::max(position, next_offset);
  }
  // Retention may now free space (and with it budget).
  Status retention = EnforceRetention();
  if (!retention.ok()) {
    log::Error("stream retention failed", {{"stream", name_}, {"error", retention.ToString()}});
  }
  return Status::Ok();
}

void FileStream::ReleaseReader(const std::string& reader) {
  std::lock_guard<std::mutex> lock(mu_);
  open_readers_.erase(reader);
}

StreamInfo FileStream::Info() {
  std::lock_guard<std::mutex> lock(mu_);
  StreamInfo info;
  info.name = name_;
  info.bytes_on_disk = disk_bytes_;
  info.first_offset = segments_.begin()->first;
  info.end_offset = end_offset_;
  info.records = end_offset_ - info.first_offset;
  for (const auto& [reader, position] : reader_positions_) info.readers.push_back({reader, position});
  return info;
}

}  // namespace furrow::stream
