#include "stream/record_format.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "stream/crc32c.h"

namespace furrow::stream {
namespace {

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

void AppendFramedRecord(std::string* out, uint64_t offset, int64_t timestamp_ms,
                        std::string_view payload) {
  char header[kRecordHeaderBytes];
  PutU32(header + 4, static_cast<uint32_t>(payload.size()));
  PutU64(header + 8, offset);
  PutU64(header + 16, static_cast<uint64_t>(timestamp_ms));
  PutU32(header, RecordCrc(header, payload));
  out->append(header, kRecordHeaderBytes);
  out->append(payload);
}

RecordHeader DecodeRecordHeader(const char* data) {
  RecordHeader h;
  h.crc = GetU32(data);
  h.length = GetU32(data + 4);
  h.offset = GetU64(data + 8);
  h.timestamp_ms = static_cast<int64_t>(GetU64(data + 16));
  return h;
}

uint32_t RecordCrc(const char* header_bytes, std::string_view payload) {
  uint32_t crc = Crc32c(header_bytes + 4, kRecordHeaderBytes - 4);
  return Crc32cExtend(crc, payload.data(), payload.size());
}

const char* ScanStopName(ScanStop stop) {
  switch (stop) {
    case ScanStop::kEnd: return "end";
    case ScanStop::kBadMagic: return "bad_magic";
    case ScanStop::kPartialHeader: return "partial_header";
    case ScanStop::kPartialPayload: return "partial_payload";
    case ScanStop::kTooLarge: return "too_large";
    case ScanStop::kBadCrc: return "bad_crc";
    case ScanStop::kBadOffset: return "bad_offset";
    case ScanStop::kIoError: return "io_error";
  }
  return "unknown";
}

SegmentScanner::SegmentScanner(int fd, uint64_t start, uint64_t limit, uint64_t expected_offset,
                               size_t max_record_bytes, size_t chunk_bytes)
    : fd_(fd),
      position_(start),
      limit_(limit),
      next_offset_(expected_offset),
      max_record_bytes_(max_record_bytes),
      chunk_bytes_(chunk_bytes) {}

bool SegmentScanner::Ensure(uint64_t pos, size_t n) {
  if (pos >= buffer_pos_ && pos + n <= buffer_pos_ + buffer_len_) return true;
  size_t want = std::max(n, chunk_bytes_);
  want = static_cast<size_t>(std::min<uint64_t>(want, limit_ - pos));
  if (want < n) return false;  // past the limit: caller treats as short
  if (buffer_.size() < want) buffer_.resize(want);
  size_t got = 0;
  while (got < want) {
    ssize_t r = ::pread(fd_, buffer_.data() + got, want - got, static_cast<off_t>(pos + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      status_ = ErrnoError("pread segment", errno);
      stop_ = ScanStop::kIoError;
      buffer_len_ = 0;
      return false;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  buffer_pos_ = pos;
  buffer_len_ = got;
  return got >= n;
}

bool SegmentScanner::Next(RecordHeader* header, std::string_view* payload) {
  if (stop_ != ScanStop::kEnd) return false;
  if (position_ >= limit_) return false;
  if (!Ensure(position_, kRecordHeaderBytes)) {
    if (stop_ == ScanStop::kEnd) stop_ = ScanStop::kPartialHeader;
    return false;
  }
  const char* h = buffer_.data() + (position_ - buffer_pos_);
  RecordHeader decoded = DecodeRecordHeader(h);
  if (decoded.length > max_record_bytes_) {
    stop_ = ScanStop::kTooLarge;
    return false;
  }
  size_t total = kRecordHeaderBytes + decoded.length;
  if (!Ensure(position_, total)) {
    if (stop_ == ScanStop::kEnd) stop_ = ScanStop::kPartialPayload;
    return false;
  }
  h = buffer_.data() + (position_ - buffer_pos_);
  std::string_view body(h + kRecordHeaderBytes, decoded.length);
  if (RecordCrc(h, body) != decoded.crc) {
    stop_ = ScanStop::kBadCrc;
    return false;
  }
  if (decoded.offset != next_offset_) {
    stop_ = ScanStop::kBadOffset;
    return false;
  }
  *header = decoded;
  *payload = body;
  position_ += total;
  ++next_offset_;
  return true;
}

Status CheckSegmentMagic(int fd) {
  char magic[kSegmentHeaderBytes];
  size_t got = 0;
  while (got < kSegmentHeaderBytes) {
    ssize_t r = ::pread(fd, magic + got, kSegmentHeaderBytes - got, static_cast<off_t>(got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read segment magic", errno);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  if (got < kSegmentHeaderBytes || std::memcmp(magic, kSegmentMagic, kSegmentHeaderBytes) != 0) {
    return DataLossError("segment does not start with the furrow log magic");
  }
  return Status::Ok();
}

}  // namespace furrow::stream
