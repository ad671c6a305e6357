#include "sink/stream_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/logging.h"

namespace furrow::sink {
namespace {

// Compressed bytes are written to the spool file in pieces of about this size.
constexpr size_t kSpoolChunk = 1 << 20;
// Empty polls tolerated while rebuilding a journaled range before giving up.
constexpr int kRecoverMaxEmptyPolls = 50;

std::string Pad20(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%020llu", static_cast<unsigned long long>(v));
  return buf;
}

Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + path.string(), errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FsyncDir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open " + dir.string(), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync " + dir.string(), err);
  return Status::Ok();
}

}  // namespace

struct StreamSink::OpenFile {
  std::unique_ptr<Compressor> compressor;
  int fd = -1;
  int64_t first_time_ms = 0;
  MonoTime opened;
  uint64_t line_bytes = 0;
  uint64_t records = 0;
  std::vector<Range> ranges;
  std::string key_override;  // the journaled key while recovering

  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

StreamSink::StreamSink(std::string stream, std::string prefix, stream::Consumer* consumer,
                       storage::ObjectStore* store, pseudonymize::Pseudonymizer* pseudonymizer,
                       std::string key_id, std::filesystem::path spool_dir, const Clock* clock,
                       MetricsRegistry* metrics, SinkOptions options)
    : stream_(std::move(stream)),
      prefix_(std::move(prefix)),
      consumer_(consumer),
      store_(store),
      pseudonymizer_(pseudonymizer),
      key_id_(std::move(key_id)),
      spool_dir_(std::move(spool_dir)),
      spool_path_(spool_dir_ / (stream_ + ".spool")),
      journal_path_(spool_dir_ / (stream_ + ".journal")),
      clock_(clock),
      options_(options) {
  MetricLabels labels{{"stream", stream_}};
  records_in_ = &metrics->GetCounter("furrow_sink_records_total", "Records read by the sink", labels);
  files_ = &metrics->GetCounter("furrow_sink_files_total", "Files stored in the object store", labels);
  bytes_out_ = &metrics->GetCounter("furrow_sink_bytes_total", "Compressed bytes stored", labels);
  store_failures_ = &metrics->GetCounter("furrow_sink_store_failures_total",
                                         "Failed attempts to store a file", labels);
  store_seconds_ = &metrics->GetHistogram("furrow_sink_store_seconds", "Time to store one file",
                                          DefaultLatencyBuckets(), labels);
}

StreamSink::~StreamSink() = default;

Status StreamSink::StartFile(const stream::Record& first) {
  std::error_code ec;
  std::filesystem::create_directories(spool_dir_, ec);
  if (ec) return IoError("create " + spool_dir_.string() + ": " + ec.message());
  auto file = std::make_unique<OpenFile>();
  file->fd = ::open(spool_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (file->fd < 0) return ErrnoError("open " + spool_path_.string(), errno);
  file->compressor = Compressor::Create(options_.compression, options_.compression_level);
  file->first_time_ms = first.timestamp_ms;
  file->opened = clock_->Monotonic();
  file_ = std::move(file);
  return Status::Ok();
}

Status StreamSink::AddRecord(const stream::Record& record) {
  if (!file_) FURROW_RETURN_IF_ERROR(StartFile(record));
  records_in_->Inc();
  pseudonymizer_->ProcessLine(record.payload, &line_);
  line_ += '\n';
  OpenFile& f = *file_;
  FURROW_RETURN_IF_ERROR(f.compressor->Append(line_));
  if (f.compressor->pending_output_bytes() >= kSpoolChunk) {
    FURROW_RETURN_IF_ERROR(WriteAll(f.fd, f.compressor->TakeOutput(), spool_path_));
  }
  f.line_bytes += line_.size();
  ++f.records;
  bool found = false;
  for (Range& r : f.ranges) {
    if (r.partition == record.partition) {
      r.last = record.offset;
      found = true;
    }
  }
  if (!found) f.ranges.push_back({record.partition, record.offset, record.offset});
  return Status::Ok();
}

bool StreamSink::Due() const {
  if (!file_ || pending_) return false;
  if (file_->line_bytes >= options_.max_file_bytes) return true;
  return clock_->Monotonic() - file_->opened >= options_.max_file_age;
}

std::string StreamSink::ObjectKey() const {
  if (!file_->key_override.empty()) return file_->key_override;
  int64_t ms = file_->first_time_ms;
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : 0);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char dirs[64];
  std::snprintf(dirs, sizeof(dirs), "%04d/%02d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour);
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02d-%02d%02d%02d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  const Range& r = file_->ranges.front();
  return prefix_ + "/" + dirs + "/" + stream_ + "-" + stamp + "-p" + std::to_string(r.partition) +
         "-" + Pad20(r.first) + "-" + Pad20(r.last) +
         std::string(CompressionExtension(options_.compression));
}

storage::ObjectMetadata StreamSink::Metadata() const {
  std::string range;
  for (const Range& r : file_->ranges) {
    if (!range.empty()) range += ',';
    range += std::to_string(r.partition) + ":" + std::to_string(r.first) + "-" + std::to_string(r.last);
  }
  return {{"furrow-key-id", key_id_},
          {"furrow-stream", stream_},
          {"furrow-range", range},
          {"furrow-records", std::to_string(file_->records)},
          {"furrow-compression", std::string(CompressionName(options_.compression))}};
}

stream::Position StreamSink::EndPosition() const {
  stream::Position p;
  for (const Range& r : file_->ranges) p.next_offsets.emplace_back(r.partition, r.last + 1);
  return p;
}

Status StreamSink::WriteJournal() const {
  // One line: key TAB partition:first-last[,...] TAB records
  std::string text = ObjectKey() + "\t";
  bool first = true;
  for (const Range& r : file_->ranges) {
    if (!first) text += ',';
    first = false;
    text += std::to_string(r.partition) + ":" + std::to_string(r.first) + "-" + std::to_string(r.last);
  }
  text += "\t" + std::to_string(file_->records) + "\n";
  std::filesystem::path tmp = journal_path_;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("open " + tmp.string(), errno);
  Status s = WriteAll(fd, text, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoError("fsync " + tmp.string(), errno);
  ::close(fd);
  FURROW_RETURN_IF_ERROR(s);
  if (::rename(tmp.c_str(), journal_path_.c_str()) != 0) {
    return ErrnoError("rename " + journal_path_.string(), errno);
  }
  return FsyncDir(spool_dir_);
}

Status StreamSink::Seal() {
  OpenFile& f = *file_;
  FURROW_RETURN_IF_ERROR(f.compressor->Finish());
  FURROW_RETURN_IF_ERROR(WriteAll(f.fd, f.compressor->TakeOutput(), spool_path_));
  ::close(f.fd);
  f.fd = -1;
  FURROW_RETURN_IF_ERROR(WriteJournal());
  pending_ = true;
  return StorePending();
}

Status StreamSink::StorePending() {
  std::string key = ObjectKey();
  MonoTime start = clock_->Monotonic();
  Status s = store_->PutFile(key, spool_path_, Metadata());
  if (!s.ok()) {
    store_failures_->Inc();
    return s.WithContext("store " + key);
  }
  store_seconds_->Observe(std::chrono::duration<double>(clock_->Monotonic() - start).count());
  FURROW_RETURN_IF_ERROR(consumer_->Commit(EndPosition()));
  std::error_code ec;
  bytes_out_->Inc(std::filesystem::file_size(spool_path_, ec));
  std::filesystem::remove(journal_path_, ec);
  std::filesystem::remove(spool_path_, ec);
  log::Debug("file stored", {{"stream", stream_}, {"key", key}, {"records", file_->records}});
  files_->Inc();
  ++files_stored_;
  file_.reset();
  pending_ = false;
  return Status::Ok();
}

Status StreamSink::Recover() {
  std::error_code ec;
  if (!std::filesystem::exists(journal_path_, ec)) {
    std::filesystem::remove(spool_path_, ec);  // an unfinished file: redone from the stream
    return Status::Ok();
  }
  std::ifstream in(journal_path_);
  std::string line;
  std::getline(in, line);
  std::istringstream fields(line);
  std::string key, ranges_text, records_text;
  if (!std::getline(fields, key, '\t') || !std::getline(fields, ranges_text, '\t') ||
      !std::getline(fields, records_text) || storage::ValidateKey(key).code() != StatusCode::kOk) {
    return DataLossError("sink journal " + journal_path_.string() + " is corrupt");
  }
  std::vector<Range> ranges;
  std::istringstream rs(ranges_text);
  std::string item;
  while (std::getline(rs, item, ',')) {
    Range r{};
    if (std::sscanf(item.c_str(), "%d:%lu-%lu", &r.partition, &r.first, &r.last) != 3) {
      return DataLossError("sink journal " + journal_path_.string() + " has a bad range");
    }
    ranges.push_back(r);
  }
  auto wanted = [&](const stream::Record& rec) {
    for (const Range& r : ranges) {
      if (r.partition == rec.partition) return rec.offset >= r.first && rec.offset <= r.last;
    }
    return false;
  };
  auto complete = [&] {
    if (!file_) return false;
    for (const Range& r : ranges) {
      bool done = false;
      for (const Range& have : file_->ranges) {
        if (have.partition == r.partition && have.last >= r.last) done = true;
      }
      if (!done) return false;
    }
    return true;
  };
  int empty_polls = 0;
  bool beyond = false;
  while (!complete() && !beyond) {
    FURROW_ASSIGN_OR_RETURN(stream::Batch batch,
                            consumer_->Poll(options_.poll_max_records, options_.poll_max_bytes,
                                            options_.poll_wait));
    if (batch.records.empty()) {
      if (++empty_polls > kRecoverMaxEmptyPolls) {
        return DataLossError("stream " + stream_ + " ends before the journaled range of " + key);
      }
      continue;
    }
    for (stream::Record& rec : batch.records) {
      if (!complete() && wanted(rec)) {
        FURROW_RETURN_IF_ERROR(AddRecord(rec));
      } else {
        if (!file_) beyond = true;  // the range was committed before the crash
        carry_.push_back(std::move(rec));
      }
    }
  }
  if (!file_) {
    std::filesystem::remove(journal_path_, ec);
    std::filesystem::remove(spool_path_, ec);
    return Status::Ok();
  }
  file_->key_override = key;
  log::Info("redoing a journaled file", {{"stream", stream_}, {"key", key}});
  return Seal();
}

Status StreamSink::Step() {
  if (pending_) FURROW_RETURN_IF_ERROR(StorePending());
  std::vector<stream::Record> records;
  if (!carry_.empty()) {
    records.swap(carry_);
  } else {
    FURROW_ASSIGN_OR_RETURN(stream::Batch batch,
                            consumer_->Poll(options_.poll_max_records, options_.poll_max_bytes,
                                            options_.poll_wait));
    records = std::move(batch.records);
  }
  for (size_t i = 0; i < records.size(); ++i) {
    FURROW_RETURN_IF_ERROR(AddRecord(records[i]));
    if (Due()) {
      Status s = Seal();
      if (!s.ok()) {
        for (size_t k = i + 1; k < records.size(); ++k) carry_.push_back(std::move(records[k]));
        return s;
      }
    }
  }
  if (Due()) return Seal();
  return Status::Ok();
}

Status StreamSink::Close() {
  if (pending_) return StorePending();
  if (!carry_.empty()) {
    std::vector<stream::Record> records;
    records.swap(carry_);
    for (const auto& r : records) FURROW_RETURN_IF_ERROR(AddRecord(r));
  }
  if (file_) return Seal();
  return Status::Ok();
}

void StreamSink::Run(const std::atomic<bool>& stop, const std::atomic<bool>& give_up) {
  auto backoff = options_.retry_initial;
  auto sleep_for = [&](std::chrono::milliseconds d, const std::atomic<bool>& flag) {
    auto until = std::chrono::steady_clock::now() + d;
    while (!flag.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  Status recovered = Recover();
  while (!recovered.ok() && !stop.load()) {
    log::Warn("sink recovery failed; retrying", {{"stream", stream_}, {"error", recovered.ToString()}});
    sleep_for(backoff, stop);
    backoff = std::min(backoff * 2, options_.retry_max);
    recovered = Recover();
  }
  backoff = options_.retry_initial;
  while (!stop.load()) {
    Status s = Step();
    if (s.ok()) {
      backoff = options_.retry_initial;
      continue;
    }
    log::Warn("sink step failed; holding position and retrying",
              {{"stream", stream_}, {"error", s.ToString()}, {"retry_ms", static_cast<int64_t>(backoff.count())}});
    sleep_for(backoff, stop);
    backoff = std::min(backoff * 2, options_.retry_max);
  }
  backoff = options_.retry_initial;
  while (true) {
    Status s = Close();
    if (s.ok()) break;
    log::Warn("sink final flush failed", {{"stream", stream_}, {"error", s.ToString()}});
    if (give_up.load()) break;
    sleep_for(backoff, give_up);
    backoff = std::min(backoff * 2, options_.retry_max);
  }
}

}  // namespace furrow::sink
