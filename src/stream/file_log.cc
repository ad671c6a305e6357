#include "stream/file_log.h"

#include <algorithm>
#include <filesystem>

#include "stream/file_log_inspect.h"
#include "stream/file_stream.h"
#include "stream/log_layout.h"
#include "stream/record_format.h"

namespace furrow::stream {

bool IsValidStreamName(const std::string& name) {
  if (name.empty() || name.size() > 100 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
  });
}

Status FileStreamOptions::Validate() const {
  if (segment_bytes < kSegmentHeaderBytes + kRecordHeaderBytes) {
    return InvalidArgumentError("stream segment_bytes is too small");
  }
  if (budget_bytes < segment_bytes) {
    return InvalidArgumentError("stream budget_bytes must be at least segment_bytes");
  }
  if (max_record_bytes == 0 || max_record_bytes > (1ull << 31)) {
    return InvalidArgumentError("stream max_record_bytes must be between 1 and 2^31");
  }
  if (max_record_bytes + kRecordHeaderBytes + kSegmentHeaderBytes > budget_bytes) {
    return InvalidArgumentError("stream budget_bytes cannot hold one record of max_record_bytes");
  }
  if (max_record_bytes + kRecordHeaderBytes > max_pending_bytes) {
    return InvalidArgumentError("stream max_pending_bytes cannot hold one record of max_record_bytes");
  }
  if (group_commit_window.count() < 0 || retention_max_age.count() < 0) {
    return InvalidArgumentError("stream durations must not be negative");
  }
  if (retention_check_interval.count() <= 0) {
    return InvalidArgumentError("stream retention_check_interval must be positive");
  }
  return Status::Ok();
}

FileStreamProvider::FileStreamProvider(std::string root, FileStreamOptions options,
                                       const Clock& clock, MetricsRegistry* metrics)
    : root_(std::move(root)), options_(options), clock_(clock), metrics_(metrics) {}

Result<std::unique_ptr<FileStreamProvider>> FileStreamProvider::Open(std::string root,
                                                                     FileStreamOptions options,
                                                                     const Clock& clock,
                                                                     MetricsRegistry* metrics) {
  FURROW_RETURN_IF_ERROR(options.Validate());
  FURROW_RETURN_IF_ERROR(CreateDirectories(root));
  return std::unique_ptr<FileStreamProvider>(
      new FileStreamProvider(std::move(root), options, clock, metrics));
}

FileStreamProvider::~FileStreamProvider() { Close(); }

Result<std::shared_ptr<FileStream>> FileStreamProvider::GetStream(const std::string& name) {
  if (!IsValidStreamName(name)) return InvalidArgumentError("invalid stream name '" + name + "'");
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return FailedPreconditionError("stream provider is closed");
  auto it = streams_.find(name);
  if (it != streams_.end()) return it->second;
  FURROW_ASSIGN_OR_RETURN(std::shared_ptr<FileStream> stream,
                          FileStream::Open(root_ + "/" + name, name, options_, clock_, metrics_));
  streams_[name] = stream;
  return stream;
}

Result<Producer*> FileStreamProvider::GetProducer(const std::string& stream) {
  FURROW_ASSIGN_OR_RETURN(std::shared_ptr<FileStream> s, GetStream(stream));
  return static_cast<Producer*>(s.get());
}

Result<std::unique_ptr<Consumer>> FileStreamProvider::OpenConsumer(const std::string& stream,
                                                                   const std::string& reader) {
  if (!IsValidStreamName(reader)) return InvalidArgumentError("invalid reader name '" + reader + "'");
  FURROW_ASSIGN_OR_RETURN(std::shared_ptr<FileStream> s, GetStream(stream));
  return s->OpenConsumer(reader);
}

Result<std::vector<StreamInfo>> FileStreamProvider::List() {
  std::map<std::string, std::shared_ptr<FileStream>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    open = streams_;
  }
  std::vector<StreamInfo> infos;
  FURROW_ASSIGN_OR_RETURN(std::vector<std::string> names, ListStreamNames(root_));
  for (const auto& [name, stream] : open) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    auto it = open.find(name);
    if (it != open.end()) {
      infos.push_back(it->second->Info());
    } else {
      FURROW_ASSIGN_OR_RETURN(StreamInfo info, InspectStream(root_, name));
      infos.push_back(std::move(info));
    }
  }
  return infos;
}

void FileStreamProvider::Close() {
  std::map<std::string, std::shared_ptr<FileStream>> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    streams = streams_;
  }
  for (auto& [name, stream] : streams) stream->Close();
}

Status FileStreamProvider::EnforceRetention() {
  std::map<std::string, std::shared_ptr<FileStream>> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    streams = streams_;
  }
  Status first;
  for (auto& [name, stream] : streams) {
    Status s = stream->EnforceRetention();
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

}  // namespace furrow::stream
