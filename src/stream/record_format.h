// The byte layout of stream log segments (specified in docs/stream-log.md).
//
// A segment file starts with the 8-byte magic kSegmentMagic, followed by records.
// Each record is a 24-byte header and its payload, all integers little-endian:
//
//   0  u32 crc      CRC32C of bytes 4..23 of the header followed by the payload
//   4  u32 length   payload length in bytes
//   8  u64 offset   the record's offset in the stream
//  16  i64 timestamp_ms  append time, milliseconds since the Unix epoch
//  24  payload
//
// SegmentScanner walks the records of one segment file with pread and reports
// where the valid prefix ends and why. It never modifies the file.
//
// Thread safety: the free functions are pure; a SegmentScanner is used by one
// thread (several scanners may read the same file concurrently).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace furrow::stream {

inline constexpr char kSegmentMagic[] = "FURROWL1";  // 8 bytes on disk, no NUL
inline constexpr size_t kSegmentHeaderBytes = 8;
inline constexpr size_t kRecordHeaderBytes = 24;

struct RecordHeader {
  uint32_t crc = 0;
  uint32_t length = 0;
  uint64_t offset = 0;
  int64_t timestamp_ms = 0;
};

// Appends the framed record (header then payload) to `out`.
void AppendFramedRecord(std::string* out, uint64_t offset, int64_t timestamp_ms,
                        std::string_view payload);

// Decodes a header from kRecordHeaderBytes bytes at `data` (no validation).
RecordHeader DecodeRecordHeader(const char* data);

// The CRC a record with this header and payload must carry.
uint32_t RecordCrc(const char* header_bytes, std::string_view payload);

// Why a scan stopped.
enum class ScanStop {
  kEnd,            // the valid prefix is the whole file (up to the limit)
  kBadMagic,       // the file is shorter than, or does not start with, the magic
  kPartialHeader,  // fewer than kRecordHeaderBytes bytes remain
  kPartialPayload, // the header's length runs past the end of the file
  kTooLarge,       // the header's length exceeds the scanner's max_record_bytes
  kBadCrc,         // CRC mismatch
  kBadOffset,      // the record's offset is not the expected next offset
  kIoError,        // pread failed (see status())
};

const char* ScanStopName(ScanStop stop);

// Reads the records of one segment sequentially, in chunks.
class SegmentScanner {
 public:
  // `fd` stays owned by the caller. Scans bytes [start, limit) of the file;
  // `expected_offset` is the offset the first record at `start` must carry.
  // Records longer than `max_record_bytes` are treated as corruption. Reads
  // `chunk_bytes` at a time (more for a larger record).
  SegmentScanner(int fd, uint64_t start, uint64_t limit, uint64_t expected_offset,
                 size_t max_record_bytes, size_t chunk_bytes = 1 << 20);

  // Reads the next record. True and fills the out-parameters if a valid record
  // was read; false at the end of the valid prefix (see stop()). `payload` views
  // an internal buffer valid until the next call.
  bool Next(RecordHeader* header, std::string_view* payload);

  // Position just past the last valid record returned (the valid prefix's end).
  uint64_t position() const { return position_; }
  // Offset the next record would carry.
  uint64_t next_offset() const { return next_offset_; }
  ScanStop stop() const { return stop_; }
  const Status& status() const { return status_; }

 private:
  // Makes [pos, pos + n) available in buffer_; false on I/O error or EOF
  // (short_read_ tells which).
  bool Ensure(uint64_t pos, size_t n);

  int fd_;
  uint64_t position_;
  uint64_t limit_;
  uint64_t next_offset_;
  size_t max_record_bytes_;
  size_t chunk_bytes_;
  std::string buffer_;
  uint64_t buffer_pos_ = 0;  // file position of buffer_[0]
  size_t buffer_len_ = 0;
  ScanStop stop_ = ScanStop::kEnd;
  Status status_;
};

// Reads the magic at the start of `fd`. OK if present; kDataLoss if the file is
// shorter or differs; kIoError if it cannot be read.
Status CheckSegmentMagic(int fd);

}  // namespace furrow::stream
