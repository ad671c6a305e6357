// Streams: the only thing a stage sees of what connects it to the next stage.
//
// A stream is an ordered, durable sequence of records (opaque bytes). Producers
// append; named consumers read from their own committed position onward. The
// embedded implementation is a file log under DATA_DIR/streams/NAME/ (see
// docs/stream-log.md); Kafka and Kinesis implement the same interfaces. Stages
// receive a StreamProvider from src/app and never name an implementation.
//
// Delivery is at-least-once: a consumer that crashes before Commit() sees the
// records again. Exactly-once effects are the consumer's job (deterministic
// output names, manifests, a journal of output offsets: Producer::EndOffset()).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace furrow::stream {

// Canonical stream names of the pipeline.
inline constexpr char kRawGood[] = "raw-good";
inline constexpr char kRawBad[] = "raw-bad";
inline constexpr char kEnrichedGood[] = "enriched-good";
inline constexpr char kEnrichedBad[] = "enriched-bad";

struct Record {
  int32_t partition = 0;  // the file log has one partition, 0
  uint64_t offset = 0;    // increasing within a partition; not necessarily dense
  int64_t timestamp_ms = 0;  // append time
  std::string payload;
};

// Where a consumer resumes: for each partition, the offset of the next record.
struct Position {
  std::vector<std::pair<int32_t, uint64_t>> next_offsets;
};

struct Batch {
  std::vector<Record> records;
  Position end;  // commit this once every record of the batch is durably handled
};

// Called exactly once per append, from an internal thread, when the record is
// durable (OK) or refused. kResourceExhausted means the stream's budget is full
// (the collector answers 503); kIoError/kUnavailable are other refusals.
using AppendCallback = std::function<void(const Status&)>;

// Safe for concurrent use by many threads.
class Producer {
 public:
  virtual ~Producer() = default;

  // Queues `payload` for the next group commit. Never blocks on I/O. If the record
  // is larger than max_record_bytes() the callback gets kInvalidArgument at once.
  virtual void Append(std::string payload, AppendCallback done) = 0;

  // Appends and waits until durable (for tools and tests; stages prefer Append).
  virtual Status AppendSync(std::string payload) = 0;

  // Largest record this stream accepts.
  virtual size_t max_record_bytes() const = 0;

  // False when an append now would be refused (budget full, disk error).
  virtual bool Writable() const = 0;

  // Waits until everything appended so far is durable or failed.
  virtual Status Flush() = 0;

  // The offset the next durable record will get (partition 0): every record made
  // durable so far has a smaller offset. Offsets of records from one producer are
  // dense and records become durable in append order, so after a Flush() the
  // difference of two EndOffset() values counts the records made durable in between
  // (by every writer of the stream). The enrich stage's journal relies on this
  // (src/enrich/enrich_stage.h).
  //   file log:  the end of the log (docs/stream-log.md: offsets are dense).
  //   Kafka:     the high watermark of a single-partition topic written by an
  //              idempotent, non-transactional producer (dense offsets, in order).
  //   Kinesis:   sequence numbers are not dense; an implementation keeps its own
  //              durable count of acknowledged records (PutRecord with
  //              SequenceNumberForOrdering keeps the order) or answers
  //              kUnimplemented, which the enrich stage reports at start.
  // Errors: kUnavailable/kIoError when the end cannot be read.
  virtual Result<uint64_t> EndOffset() = 0;
};

// One named reader of one stream. Not safe for concurrent use: one thread polls.
class Consumer {
 public:
  virtual ~Consumer() = default;

  // Returns up to `max_records` records (and roughly at most `max_bytes`, but at
  // least one record if any is available) after the last polled position, waiting
  // up to `wait` for the first one. An empty batch means nothing arrived in time.
  virtual Result<Batch> Poll(size_t max_records, size_t max_bytes, std::chrono::milliseconds wait) = 0;

  // Durably stores `position` as this reader's committed position. Records before
  // it may be deleted by retention. Positions only move forward.
  virtual Status Commit(const Position& position) = 0;

  // Moves the poll position back to the committed position (after a failed batch).
  virtual Status Rewind() = 0;

  // Records between the committed position and the end of the stream.
  virtual Result<uint64_t> Lag() = 0;
};

struct StreamInfo {
  std::string name;
  uint64_t bytes_on_disk = 0;
  uint64_t records = 0;            // records currently retained
  uint64_t first_offset = 0;
  uint64_t end_offset = 0;         // offset the next record will get
  std::vector<std::pair<std::string, uint64_t>> readers;  // name, committed offset
};

// Opens streams by name. Safe for concurrent use. Streams and producers live as
// long as the provider.
class StreamProvider {
 public:
  virtual ~StreamProvider() = default;

  // The shared producer of `stream` (created on first use).
  virtual Result<Producer*> GetProducer(const std::string& stream) = 0;

  // A consumer named `reader` on `stream`, starting at its committed position
  // (or the beginning of the stream for a new reader).
  virtual Result<std::unique_ptr<Consumer>> OpenConsumer(const std::string& stream,
                                                         const std::string& reader) = 0;

  virtual Result<std::vector<StreamInfo>> List() = 0;

  // Flushes and stops every producer; pending appends complete first.
  virtual void Close() = 0;
};

}  // namespace furrow::stream
