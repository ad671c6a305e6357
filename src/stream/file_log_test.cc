#include "stream/file_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "stream/file_log_inspect.h"
#include "stream/log_layout.h"
#include "stream/record_format.h"

namespace furrow::stream {
namespace {

using std::chrono::milliseconds;

// A fresh directory under /tmp, removed with its contents at the end.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/furrow-stream-test-XXXXXX";
    path_ = ::mkdtemp(name);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

FileStreamOptions SmallOptions() {
  FileStreamOptions o;
  o.segment_bytes = 4096;
  o.budget_bytes = 1 << 20;
  o.max_record_bytes = 1000;
  o.max_pending_bytes = 1 << 20;
  o.group_commit_window = std::chrono::microseconds(200);
  o.retention_max_bytes = 0;
  o.retention_max_age = milliseconds(0);
  return o;
}

class FileLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<FileStreamProvider> OpenProvider(const FileStreamOptions& options) {
    auto provider = FileStreamProvider::Open(dir_.path(), options, clock_, &metrics_);
    EXPECT_TRUE(provider.ok()) << provider.status().ToString();
    return provider.ok() ? std::move(provider).value() : nullptr;
  }

  uint64_t CounterValue(const std::string& name, const std::string& stream,
                        const MetricLabels& extra = {}) {
    MetricLabels labels{{"stream", stream}};
    labels.insert(labels.end(), extra.begin(), extra.end());
    return metrics_.GetCounter(name, "", labels).Value();
  }

  std::string SegmentPath(const std::string& stream, uint64_t base) {
    return dir_.path() + "/" + stream + "/" + SegmentFileName(base);
  }

  // Every payload of `stream` in order, read without a reader.
  std::vector<std::string> ReadAll(const std::string& stream) {
    std::vector<std::string> payloads;
    Status s = ReadStream(dir_.path(), stream, 0, [&](const Record& r) {
      payloads.push_back(r.payload);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return payloads;
  }

  TempDir dir_;
  ManualClock clock_;
  MetricsRegistry metrics_;
};

std::vector<std::string> Payloads(const Batch& batch) {
  std::vector<std::string> out;
  for (const Record& r : batch.records) out.push_back(r.payload);
  return out;
}

TEST_F(FileLogTest, AppendedRecordsArePolledInOrderWithOffsetsAndTimestamps) {
  auto provider = OpenProvider(SmallOptions());
  Producer* producer = *provider->GetProducer(kRawGood);
  ASSERT_TRUE(producer->AppendSync("one").ok());
  clock_.Advance(milliseconds(5));
  ASSERT_TRUE(producer->AppendSync("").ok());
  ASSERT_TRUE(producer->AppendSync(std::string("b\0inary\n", 8)).ok());

  auto consumer = std::move(provider->OpenConsumer(kRawGood, "enrich")).value();
  Batch batch = std::move(consumer->Poll(10, 1 << 20, milliseconds(0))).value();
  ASSERT_EQ(batch.records.size(), 3u);
  EXPECT_EQ(Payloads(batch), (std::vector<std::string>{"one", "", std::string("b\0inary\n", 8)}));
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(batch.records[i].offset, i);
    EXPECT_EQ(batch.records[i].partition, 0);
  }
  EXPECT_EQ(batch.records[0].timestamp_ms, 1700000000000);
  EXPECT_EQ(batch.records[1].timestamp_ms, 1700000000005);
  ASSERT_EQ(batch.end.next_offsets.size(), 1u);
  EXPECT_EQ(batch.end.next_offsets[0], (std::pair<int32_t, uint64_t>{0, 3}));
  Batch empty = std::move(consumer->Poll(10, 1 << 20, milliseconds(0))).value();
  EXPECT_TRUE(empty.records.empty());
  EXPECT_EQ(empty.end.next_offsets[0].second, 3u);
}

TEST_F(FileLogTest, PollRespectsRecordAndByteLimitsButReturnsAtLeastOne) {
  auto provider = OpenProvider(SmallOptions());
  Producer* producer = *provider->GetProducer("s");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(producer->AppendSync(std::string(100, 'x')).ok());
  auto consumer = std::move(provider->OpenConsumer("s", "r")).value();
  EXPECT_EQ(consumer->Poll(3, 1 << 20, milliseconds(0))->records.size(), 3u);
  EXPECT_EQ(consumer->Poll(100, 250, milliseconds(0))->records.size(), 3u);
  EXPECT_EQ(consumer->Poll(100, 1, milliseconds(0))->records.size(), 1u);
  EXPECT_EQ(consumer->Poll(100, 1 << 20, milliseconds(0))->records.size(), 3u);
}

TEST_F(FileLogTest, ConcurrentAppendsShareGroupCommits) {
  FileStreamOptions options = SmallOptions();
  options.segment_bytes = 1 << 20;
  options.group_commit_window = milliseconds(2);
  auto provider = OpenProvider(options);
  Producer* producer = *provider->GetProducer("s");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 250;
  std::atomic<int> ok{0};
  std::atomic<int> calls{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        producer->Append("t" + std::to_string(t) + "-" + std::to_string(i), [&](const Status& s) {
          calls.fetch_add(1);
          if (s.ok()) ok.fetch_add(1);
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(producer->Flush().ok());
  EXPECT_EQ(calls.load(), kThreads * kPerThread);
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  uint64_t records = CounterValue("furrow_stream_appended_records_total", "s");
  uint64_t commits = CounterValue("furrow_stream_commits_total", "s");
  EXPECT_EQ(records, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_GE(commits, 1u);
  EXPECT_LT(commits, records / 4) << "group commit should share fdatasyncs";
  EXPECT_EQ(ReadAll("s").size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_F(FileLogTest, OversizedRecordIsRefusedWithInvalidArgument) {
  auto provider = OpenProvider(SmallOptions());
  Producer* producer = *provider->GetProducer("s");
  EXPECT_EQ(producer->max_record_bytes(), 1000u);
  EXPECT_TRUE(producer->AppendSync(std::string(1000, 'x')).ok());
  EXPECT_EQ(producer->AppendSync(std::string(1001, 'x')).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CounterValue("furrow_stream_refused_total", "s", {{"reason", "oversize"}}), 1u);
  EXPECT_TRUE(producer->Writable());
  EXPECT_EQ(ReadAll("s").size(), 1u);
}

TEST_F(FileLogTest, CallbacksRunOnAnInternalThread) {
  auto provider = OpenProvider(SmallOptions());
  Producer* producer = *provider->GetProducer("s");
  std::thread::id ok_thread;
  std::thread::id refused_thread;
  producer->Append("fine", [&](const Status&) { ok_thread = std::this_thread::get_id(); });
  producer->Append(std::string(5000, 'x'),
                   [&](const Status&) { refused_thread = std::this_thread::get_id(); });
  ASSERT_TRUE(producer->Flush().ok());
  EXPECT_NE(ok_thread, std::this_thread::get_id());
  EXPECT_NE(refused_thread, std::this_thread::get_id());
  EXPECT_NE(refused_thread, std::thread::id());
}

TEST_F(FileLogTest, PollWaitsUntilARecordIsCommitted) {
  auto provider = OpenProvider(SmallOptions());
  auto consumer = std::move(provider->OpenConsumer("s", "r")).value();
  Producer* producer = *provider->GetProducer("s");
  std::thread appender([&] { EXPECT_TRUE(producer->AppendSync("late").ok()); });
  // The wait is long: Poll must return when the record commits, not time out.
  Batch batch = std::move(consumer->Poll(10, 1 << 20, milliseconds(60000))).value();
  appender.join();
  ASSERT_EQ(batch.records.size(), 1u);
  EXPECT_EQ(batch.records[0].payload, "late");
}

TEST_F(FileLogTest, RecordsSpanManySegmentsAndAreReadAcrossThem) {
  auto provider = OpenProvider(SmallOptions());
  Producer* producer = *provider->GetProducer("s");
  std::vector<std::string> expected;
  for (int i = 0; i < 200; ++i) {
    expected.push_back("record-" + std::to_string(i) + std::string(i % 97, '.'));
    ASSERT_TRUE(producer->AppendSync(expected.back()).ok());
  }
  auto bases = *ListSegments(dir_.path() + "/s");
  EXPECT_GT(bases.size(), 3u);
  for (uint64_t base : bases) {
    EXPECT_LE(std::filesystem::file_size(SegmentPath("s", base)), 4096u);
  }
  auto consumer = std::move(provider->OpenConsumer("s", "r")).value();
  std::vector<std::string> got;
  while (true) {
    Batch b = std::move(consumer->Poll(7, 1 << 20, milliseconds(0))).value();
    if (b.records.empty()) break;
    for (auto& r : b.records) {
      EXPECT_EQ(r.offset, got.size());
      got.push_back(r.payload);
    }
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(ReadAll("s"), expected);
}

TEST_F(FileLogTest, ReaderPositionsPersistAcrossReopen) {
  {
    auto provider = OpenProvider(SmallOptions());
    Producer* producer = *provider->GetProducer("s");
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(producer->AppendSync(std::to_string(i)).ok());
    auto consumer = std::move(provider->OpenConsumer("s", "enrich")).value();
    Batch b = std::move(consumer->Poll(4, 1 << 20, milliseconds(0))).value();
    ASSERT_EQ(b.records.size(), 4u);
    ASSERT_TRUE(consumer->Commit(b.end).ok());
    // Polled but not committed: seen again after reopening.
    ASSERT_EQ(consumer->Poll(3, 1 << 20, milliseconds(0))->records.size(), 3u);
    EXPECT_EQ(*consumer->Lag(), 6u);
  }
  EXPECT_EQ(*ReadReaderPosition(dir_.path() + "/s", "enrich"), 4u);
  auto provider = OpenProvider(SmallOptions());
  auto consumer = std::move(provider->OpenConsumer("s", "enrich")).value();
  EXPECT_EQ(*consumer->Lag(), 6u);
  Batch b = std::move(consumer->Poll(100, 1 << 20, milliseconds(0))).value();
  ASSERT_EQ(b.records.size(), 6u);
  EXPECT_EQ(b.records.front().payload, "4");
  EXPECT_EQ(b.records.front().offset, 4u);
  auto other = std::move(provider->OpenConsumer("s", "sink")).value();
  EXPECT_EQ(other->Poll(100, 1 << 20, milliseconds(0))->records.size(), 10u);
}

TEST_F(FileLogTest, RewindReturnsToTheCommittedPosition) {
  auto provider = OpenProvider(SmallOptions());
  Producer* producer = *provider->GetProducer("s");
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(producer->AppendSync(std::to_string(i)).ok());
  auto consumer = std::move(provider->OpenConsumer("s", "r")).value();
  Batch first = std::move(consumer->Poll(120, 1 << 20, milliseconds(0))).value();
  ASSERT_TRUE(consumer->Commit(first.end).ok());
  Batch second = std::move(consumer->Poll(50, 1 << 20, milliseconds(0))).value();
  ASSERT_TRUE(consumer->Rewind().ok());
  Batch again = std::move(consumer->Poll(50, 1 << 20, milliseconds(0))).value();
  EXPECT_EQ(Payloads(again), Payloads(second));
  EXPECT_EQ(again.records.front().offset, 120u);
  // A rewind to a position not in the consumer's memory seeks through the log.
  auto fresh = std::move(provider->OpenConsumer("s", "r2")).value();
  ASSERT_TRUE(fresh->Commit(Position{{{0, 177}}}).ok());
  ASSERT_TRUE(fresh->Rewind().ok());
  Batch seeked = std::move(fresh->Poll(1, 1 << 20, milliseconds(0))).value();
  ASSERT_EQ(seeked.records.size(), 1u);
  EXPECT_EQ(seeked.records[0].offset, 177u);
  EXPECT_EQ(seeked.records[0].payload, "177");
}

TEST_F(FileLogTest, CommitNeverMovesBackwardAndRejectsPositionsPastTheEnd) {
  auto provider = OpenProvider(SmallOptions());
  Producer* producer = *provider->GetProducer("s");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(producer->AppendSync("x").ok());
  auto consumer = std::move(provider->OpenConsumer("s", "r")).value();
  ASSERT_TRUE(consumer->Commit(Position{{{0, 4}}}).ok());
  ASSERT_TRUE(consumer->Commit(Position{{{0, 2}}}).ok());
  EXPECT_EQ(*ReadReaderPosition(dir_.path() + "/s", "r"), 4u);
  EXPECT_EQ(consumer->Commit(Position{{{0, 6}}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(consumer->Commit(Position{{{1, 5}}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*consumer->Lag(), 1u);
}

TEST_F(FileLogTest, RejectsInvalidNamesAndSecondOpenOfAReader) {
  auto provider = OpenProvider(SmallOptions());
  EXPECT_EQ(provider->GetProducer("../etc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(provider->GetProducer("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(provider->GetProducer(".hidden").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(provider->OpenConsumer("s", "a/b").status().code(), StatusCode::kInvalidArgument);
  auto consumer = provider->OpenConsumer("s", "r");
  ASSERT_TRUE(consumer.ok());
  EXPECT_EQ(provider->OpenConsumer("s", "r").status().code(), StatusCode::kFailedPrecondition);
  consumer.value().reset();
  EXPECT_TRUE(provider->OpenConsumer("s", "r").ok());
}

TEST_F(FileLogTest, SecondProviderOnTheSameStreamIsRefused) {
  auto first = OpenProvider(SmallOptions());
  ASSERT_TRUE(first->GetProducer("s").ok());
  auto second = OpenProvider(SmallOptions());
  EXPECT_EQ(second->GetProducer("s").status().code(), StatusCode::kFailedPrecondition);
  first->Close();
  EXPECT_TRUE(second->GetProducer("s").ok());
}

TEST_F(FileLogTest, AppendsAfterCloseAreRefused) {
  auto provider = OpenProvider(SmallOptions());
  Producer* producer = *provider->GetProducer("s");
  ASSERT_TRUE(producer->AppendSync("before").ok());
  provider->Close();
  EXPECT_EQ(producer->AppendSync("after").code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(producer->Writable());
  EXPECT_EQ(provider->GetProducer("t").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadAll("s"), std::vector<std::string>{"before"});
}

TEST_F(FileLogTest, CloseCompletesPendingAppends) {
  FileStreamOptions options = SmallOptions();
  options.group_commit_window = milliseconds(60000);  // only Close ends the window
  auto provider = OpenProvider(options);
  Producer* producer = *provider->GetProducer("s");
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    producer->Append("r" + std::to_string(i), [&](const Status& s) { ok += s.ok() ? 1 : 0; });
  }
  provider->Close();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(ReadAll("s").size(), 20u);
}

TEST_F(FileLogTest, FullAppendQueueIsResourceExhausted) {
  FileStreamOptions options = SmallOptions();
  options.max_pending_bytes = 4 * (kRecordHeaderBytes + 1000);
  options.max_batch_bytes = 1 << 20;
  options.group_commit_window = milliseconds(60000);  // nothing leaves the queue
  auto provider = OpenProvider(options);
  Producer* producer = *provider->GetProducer("s");
  std::vector<StatusCode> codes(5, StatusCode::kInternal);
  for (int i = 0; i < 5; ++i) {
    producer->Append(std::string(1000, 'q'), [&codes, i](const Status& s) { codes[i] = s.code(); });
  }
  EXPECT_FALSE(producer->Writable());
  provider->Close();
  EXPECT_EQ(codes, (std::vector<StatusCode>{StatusCode::kOk, StatusCode::kOk, StatusCode::kOk,
                                            StatusCode::kOk, StatusCode::kResourceExhausted}));
  EXPECT_EQ(CounterValue("furrow_stream_refused_total", "s", {{"reason", "queue"}}), 1u);
}

// Writes `count` records of `size` bytes and returns how many were accepted.
int FillUntilRefused(Producer* producer, int count, size_t size, StatusCode* refusal) {
  for (int i = 0; i < count; ++i) {
    Status s = producer->AppendSync(std::string(size, 'b'));
    if (!s.ok()) {
      *refusal = s.code();
      return i;
    }
  }
  return count;
}

TEST_F(FileLogTest, FullBudgetRefusesAppendsUntilRetentionFreesSpace) {
  FileStreamOptions options = SmallOptions();
  options.segment_bytes = 4096;
  options.budget_bytes = 16384;
  options.retention_max_bytes = 8192;
  auto provider = OpenProvider(options);
  Producer* producer = *provider->GetProducer("s");
  auto consumer = std::move(provider->OpenConsumer("s", "sink")).value();
  StatusCode refusal = StatusCode::kOk;
  int accepted = FillUntilRefused(producer, 1000, 500, &refusal);
  EXPECT_EQ(refusal, StatusCode::kResourceExhausted);
  EXPECT_GT(accepted, 20);
  EXPECT_FALSE(producer->Writable());
  EXPECT_EQ(CounterValue("furrow_stream_refused_total", "s", {{"reason", "budget"}}), 1u);
  StreamInfo info = provider->List()->front();
  EXPECT_LE(info.bytes_on_disk, options.budget_bytes);
  EXPECT_EQ(info.records, static_cast<uint64_t>(accepted));

  // The reader has not passed anything: retention may not delete.
  ASSERT_TRUE(provider->EnforceRetention().ok());
  EXPECT_FALSE(producer->Writable());

  // Once the reader commits past old segments, retention frees budget.
  Batch b = std::move(consumer->Poll(1000, 1 << 30, milliseconds(0))).value();
  EXPECT_EQ(b.records.size(), static_cast<size_t>(accepted));
  ASSERT_TRUE(consumer->Commit(b.end).ok());
  EXPECT_TRUE(producer->Writable());
  EXPECT_GT(CounterValue("furrow_stream_segments_deleted_total", "s"), 0u);
  EXPECT_TRUE(producer->AppendSync(std::string(500, 'n')).ok());
  info = provider->List()->front();
  EXPECT_LE(info.bytes_on_disk, 8192u + 4096u);
  EXPECT_GT(info.first_offset, 0u);
  EXPECT_EQ(info.end_offset, static_cast<uint64_t>(accepted) + 1);
}

TEST_F(FileLogTest, RetentionBySizeDeletesOnlySegmentsEveryReaderPassed) {
  FileStreamOptions options = SmallOptions();
  options.retention_max_bytes = 4096;
  auto provider = OpenProvider(options);
  Producer* producer = *provider->GetProducer("s");
  auto fast = std::move(provider->OpenConsumer("s", "fast")).value();
  auto slow = std::move(provider->OpenConsumer("s", "slow")).value();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(producer->AppendSync(std::string(200, 'r')).ok());
  const size_t segments_before = ListSegments(dir_.path() + "/s")->size();
  ASSERT_GT(segments_before, 4u);

  Batch all = std::move(fast->Poll(1000, 1 << 30, milliseconds(0))).value();
  ASSERT_TRUE(fast->Commit(all.end).ok());
  EXPECT_EQ(ListSegments(dir_.path() + "/s")->size(), segments_before);

  Batch some = std::move(slow->Poll(40, 1 << 30, milliseconds(0))).value();
  ASSERT_TRUE(slow->Commit(some.end).ok());
  auto bases = *ListSegments(dir_.path() + "/s");
  EXPECT_LT(bases.size(), segments_before);
  EXPECT_LE(bases.front(), 40u) << "a segment holding offset 40 was deleted";
  // The slow reader still reads everything it has not committed.
  Batch rest = std::move(slow->Poll(1000, 1 << 30, milliseconds(0))).value();
  ASSERT_EQ(rest.records.size(), 60u);
  EXPECT_EQ(rest.records.front().offset, 40u);
  ASSERT_TRUE(slow->Commit(rest.end).ok());
  bases = *ListSegments(dir_.path() + "/s");
  uint64_t total = 0;
  for (uint64_t base : bases) total += std::filesystem::file_size(SegmentPath("s", base));
  // Down to the limit, except that the active segment is never deleted.
  EXPECT_LE(total, 4096u + 4096u);
  EXPECT_EQ(provider->List()->front().end_offset, 100u);
}

TEST_F(FileLogTest, RetentionByAgeUsesTheInjectedClock) {
  FileStreamOptions options = SmallOptions();
  options.retention_max_age = milliseconds(3600 * 1000);
  auto provider = OpenProvider(options);
  Producer* producer = *provider->GetProducer("s");
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(producer->AppendSync(std::string(200, 'o')).ok());
  clock_.Advance(milliseconds(1800 * 1000));
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(producer->AppendSync(std::string(200, 'n')).ok());
  const size_t segments_before = ListSegments(dir_.path() + "/s")->size();
  ASSERT_TRUE(provider->EnforceRetention().ok());
  EXPECT_EQ(ListSegments(dir_.path() + "/s")->size(), segments_before);

  clock_.Advance(milliseconds(1801 * 1000));  // the first 60 are now older than an hour
  ASSERT_TRUE(provider->EnforceRetention().ok());
  auto bases = *ListSegments(dir_.path() + "/s");
  EXPECT_LT(bases.size(), segments_before);
  EXPECT_LE(bases.front(), 60u) << "a segment with a young record was deleted";
  auto records = ReadAll("s");
  for (size_t i = records.size() - 60; i < records.size(); ++i) EXPECT_EQ(records[i][0], 'n');
}

TEST_F(FileLogTest, RetentionByAgeAfterRestartScansSealedSegments) {
  FileStreamOptions options = SmallOptions();
  options.retention_max_age = milliseconds(1000);
  {
    auto provider = OpenProvider(options);
    Producer* producer = *provider->GetProducer("s");
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(producer->AppendSync(std::string(200, 'o')).ok());
  }
  const size_t segments_before = ListSegments(dir_.path() + "/s")->size();
  ASSERT_GT(segments_before, 2u);
  clock_.Advance(milliseconds(5000));
  auto provider = OpenProvider(options);
  ASSERT_TRUE(provider->GetProducer("s").ok());
  ASSERT_TRUE(provider->EnforceRetention().ok());
  EXPECT_EQ(ListSegments(dir_.path() + "/s")->size(), 1u);  // only the active one stays
}

// Recovery: a torn tail is cut back to the last complete record.
class TornTailTest : public FileLogTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(TornTailTest, RecoveryCutsTheTornTailAndKeepsEveryCompleteRecord) {
  const std::string damage = GetParam();
  FileStreamOptions options = SmallOptions();
  options.segment_bytes = 1 << 20;
  std::vector<std::string> expected;
  {
    auto provider = OpenProvider(options);
    Producer* producer = *provider->GetProducer("s");
    for (int i = 0; i < 10; ++i) {
      expected.push_back("payload number " + std::to_string(i));
      ASSERT_TRUE(producer->AppendSync(expected.back()).ok());
    }
  }
  const std::string path = SegmentPath("s", 0);
  const uint64_t size = std::filesystem::file_size(path);
  const uint64_t last_start = size - kRecordHeaderBytes - expected.back().size();
  bool last_survives = false;
  if (damage == "mid_header") {
    std::filesystem::resize_file(path, last_start + 11);
  } else if (damage == "mid_payload") {
    std::filesystem::resize_file(path, last_start + kRecordHeaderBytes + 3);
  } else if (damage == "flipped_crc") {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(last_start + 1));
    char c = 0;
    f.seekg(static_cast<std::streamoff>(last_start + 1));
    f.get(c);
    f.seekp(static_cast<std::streamoff>(last_start + 1));
    f.put(static_cast<char>(c ^ 0x10));
  } else if (damage == "flipped_payload") {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 1));
    f.put('#');
  } else if (damage == "zero_fill") {
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f << std::string(4096, '\0');
    last_survives = true;
  } else if (damage == "garbage") {
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f << std::string("\x05\x00\x00\x00garbage that is not a record", 32);
    last_survives = true;
  }
  if (!last_survives) expected.pop_back();

  auto provider = OpenProvider(options);
  Producer* producer = *provider->GetProducer("s");
  EXPECT_EQ(CounterValue("furrow_stream_torn_tails_cut_total", "s"), 1u);
  EXPECT_GT(CounterValue("furrow_stream_torn_bytes_cut_total", "s"), 0u);
  EXPECT_EQ(std::filesystem::file_size(path),
            last_survives ? size : last_start);
  EXPECT_EQ(ReadAll("s"), expected);
  ASSERT_TRUE(producer->AppendSync("after recovery").ok());
  expected.push_back("after recovery");
  auto consumer = std::move(provider->OpenConsumer("s", "r")).value();
  Batch b = std::move(consumer->Poll(100, 1 << 20, milliseconds(0))).value();
  EXPECT_EQ(Payloads(b), expected);
  EXPECT_EQ(b.records.back().offset, expected.size() - 1);
}

INSTANTIATE_TEST_SUITE_P(Damage, TornTailTest,
                         ::testing::Values("mid_header", "mid_payload", "flipped_crc",
                                           "flipped_payload", "zero_fill", "garbage"));

TEST_F(FileLogTest, RecoveryRewritesASegmentTornBeforeItsMagic) {
  FileStreamOptions options = SmallOptions();
  {
    auto provider = OpenProvider(options);
    Producer* producer = *provider->GetProducer("s");
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(producer->AppendSync(std::string(100, 'm')).ok());
  }
  auto bases = *ListSegments(dir_.path() + "/s");
  ASSERT_GT(bases.size(), 1u);
  // A crash while creating the next segment leaves a short file.
  const uint64_t next_base = 50;
  {
    std::ofstream f(SegmentPath("s", next_base), std::ios::binary);
    f << "FUR";
  }
  auto provider = OpenProvider(options);
  Producer* producer = *provider->GetProducer("s");
  ASSERT_TRUE(producer->AppendSync("next").ok());
  auto records = ReadAll("s");
  ASSERT_EQ(records.size(), 51u);
  EXPECT_EQ(records.back(), "next");
}

TEST_F(FileLogTest, CorruptionInASealedSegmentIsSkippedAndCounted) {
  FileStreamOptions options = SmallOptions();
  {
    auto provider = OpenProvider(options);
    Producer* producer = *provider->GetProducer("s");
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(producer->AppendSync(std::to_string(i) + std::string(150, '.')).ok());
  }
  auto bases = *ListSegments(dir_.path() + "/s");
  ASSERT_GT(bases.size(), 2u);
  {
    std::fstream f(SegmentPath("s", bases[0]), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kSegmentHeaderBytes + kRecordHeaderBytes + 2));
    f.put('X');  // inside the first record's payload
  }
  auto provider = OpenProvider(options);
  auto consumer = std::move(provider->OpenConsumer("s", "r")).value();
  std::vector<uint64_t> offsets;
  while (true) {
    Batch b = std::move(consumer->Poll(1000, 1 << 30, milliseconds(0))).value();
    if (b.records.empty()) break;
    for (auto& r : b.records) offsets.push_back(r.offset);
  }
  ASSERT_FALSE(offsets.empty());
  EXPECT_EQ(offsets.front(), bases[1]);
  EXPECT_EQ(offsets.back(), 99u);
  EXPECT_EQ(CounterValue("furrow_stream_corrupt_records_skipped_total", "s"), bases[1]);
  std::vector<Status> damage;
  Status s = ReadStream(dir_.path(), "s", 0, [](const Record&) { return true; },
                        [&](const Status& d) { damage.push_back(d); });
  EXPECT_TRUE(s.ok());
  ASSERT_EQ(damage.size(), 1u);
  EXPECT_EQ(damage[0].code(), StatusCode::kDataLoss);
}

TEST_F(FileLogTest, ListAndInspectReportRecordsBytesAndReaders) {
  auto provider = OpenProvider(SmallOptions());
  Producer* producer = *provider->GetProducer("raw-good");
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(producer->AppendSync(std::string(100, 'l')).ok());
  auto consumer = std::move(provider->OpenConsumer("raw-good", "enrich")).value();
  ASSERT_TRUE(consumer->Commit(Position{{{0, 12}}}).ok());
  ASSERT_TRUE(provider->GetProducer("enriched-good").ok());

  auto list = std::move(provider->List()).value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "enriched-good");
  EXPECT_EQ(list[0].records, 0u);
  const StreamInfo& raw = list[1];
  EXPECT_EQ(raw.name, "raw-good");
  EXPECT_EQ(raw.records, 30u);
  EXPECT_EQ(raw.first_offset, 0u);
  EXPECT_EQ(raw.end_offset, 30u);
  EXPECT_EQ(raw.readers, (std::vector<std::pair<std::string, uint64_t>>{{"enrich", 12}}));

  // The read-only view, while the provider still holds the stream open.
  StreamInfo inspected = *InspectStream(dir_.path(), "raw-good");
  EXPECT_EQ(inspected.records, raw.records);
  EXPECT_EQ(inspected.end_offset, raw.end_offset);
  EXPECT_EQ(inspected.bytes_on_disk, raw.bytes_on_disk);
  EXPECT_EQ(inspected.readers, raw.readers);
  EXPECT_EQ(InspectStream(dir_.path(), "missing").status().code(), StatusCode::kNotFound);

  std::vector<uint64_t> offsets;
  ASSERT_TRUE(ReadStream(dir_.path(), "raw-good", 25, [&](const Record& r) {
                offsets.push_back(r.offset);
                return offsets.size() < 3;
              }).ok());
  EXPECT_EQ(offsets, (std::vector<uint64_t>{25, 26, 27}));
  // Reading did not move the reader.
  EXPECT_EQ(*ReadReaderPosition(dir_.path() + "/raw-good", "enrich"), 12u);
}

TEST_F(FileLogTest, MetricsCountAppendsCommitsAndBytesOnDisk) {
  auto provider = OpenProvider(SmallOptions());
  Producer* producer = *provider->GetProducer("s");
  ASSERT_TRUE(producer->AppendSync("12345").ok());
  ASSERT_TRUE(producer->AppendSync("678").ok());
  EXPECT_EQ(CounterValue("furrow_stream_appended_records_total", "s"), 2u);
  EXPECT_EQ(CounterValue("furrow_stream_appended_bytes_total", "s"), 8u);
  EXPECT_EQ(CounterValue("furrow_stream_commits_total", "s"), 2u);
  auto& latency = metrics_.GetHistogram("furrow_stream_commit_seconds", "", DefaultLatencyBuckets(),
                                        {{"stream", "s"}});
  EXPECT_EQ(latency.Count(), 2u);
  EXPECT_EQ(metrics_.GetGauge("furrow_stream_bytes_on_disk", "", {{"stream", "s"}}).Value(),
            static_cast<double>(kSegmentHeaderBytes + 2 * kRecordHeaderBytes + 8));
  std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("furrow_stream_records_per_commit"), std::string::npos);
}

TEST_F(FileLogTest, OptionsAreValidated) {
  FileStreamOptions o = SmallOptions();
  o.budget_bytes = o.segment_bytes - 1;
  EXPECT_EQ(FileStreamProvider::Open(dir_.path(), o, clock_, &metrics_).status().code(),
            StatusCode::kInvalidArgument);
  o = SmallOptions();
  o.max_record_bytes = 0;
  EXPECT_EQ(o.Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(FileStreamOptions().Validate().ok());
}

// Many producers and one consumer that commits as it goes: every acknowledged
// record is read exactly once, in each producer's order, while segments roll and
// retention deletes behind the reader.
TEST_F(FileLogTest, ProducersAndConsumerStressEveryAckedRecordReadOnceInOrder) {
  FileStreamOptions options = SmallOptions();
  options.segment_bytes = 16 << 10;
  options.budget_bytes = 64 << 20;
  options.retention_max_bytes = 32 << 10;
  options.group_commit_window = std::chrono::microseconds(100);
  auto provider = OpenProvider(options);
  Producer* producer = *provider->GetProducer("s");
  auto consumer = std::move(provider->OpenConsumer("s", "r")).value();
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 1500;
  std::vector<std::vector<char>> acked(kProducers, std::vector<char>(kPerProducer, 0));
  std::atomic<bool> producers_done{false};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        std::string payload = std::to_string(p) + ":" + std::to_string(i) + ":" +
                              std::string(static_cast<size_t>(i % 50), 'z');
        producer->Append(std::move(payload), [&acked, p, i](const Status& s) {
          if (s.ok()) acked[p][i] = 1;
        });
        if (i % 100 == 99) {
          EXPECT_TRUE(producer->Flush().ok());
        }
      }
    });
  }
  std::vector<std::vector<int>> seen(kProducers);
  uint64_t expected_offset = 0;
  int rounds = 0;
  auto consume = [&](milliseconds wait) {
    Batch b = std::move(consumer->Poll(97, 8 << 10, wait)).value();
    for (const Record& r : b.records) {
      EXPECT_EQ(r.offset, expected_offset);
      expected_offset = r.offset + 1;
      size_t colon = r.payload.find(':');
      int p = std::stoi(r.payload.substr(0, colon));
      int i = std::stoi(r.payload.substr(colon + 1));
      seen[p].push_back(i);
    }
    // Now and then re-read a batch before committing (as after a failed sink).
    if (!b.records.empty() && ++rounds % 7 == 0) {
      EXPECT_TRUE(consumer->Rewind().ok());
      Batch again = std::move(consumer->Poll(97, 8 << 10, milliseconds(0))).value();
      EXPECT_EQ(Payloads(again), Payloads(b));
      b = std::move(again);
    }
    if (!b.records.empty()) {
          EXPECT_TRUE(consumer->Commit(b.end).ok());
        }
    return b.records.size();
  };
  std::thread closer([&] {
    for (auto& t : threads) t.join();
    EXPECT_TRUE(producer->Flush().ok());
    producers_done = true;
  });
  while (!producers_done.load()) consume(milliseconds(20));
  closer.join();
  while (consume(milliseconds(0)) > 0) {
  }
  EXPECT_EQ(*consumer->Lag(), 0u);
  for (int p = 0; p < kProducers; ++p) {
    for (size_t k = 1; k < seen[p].size(); ++k) ASSERT_LT(seen[p][k - 1], seen[p][k]);
    std::set<int> got(seen[p].begin(), seen[p].end());
    for (int i = 0; i < kPerProducer; ++i) {
      if (acked[p][i]) {
          ASSERT_TRUE(got.count(i)) << "acked record " << p << ":" << i << " lost";
        }
    }
  }
  EXPECT_GT(CounterValue("furrow_stream_segments_deleted_total", "s"), 0u);
}

// A child process appends and reports each acknowledged record through a pipe;
// it is SIGKILLed at a random moment. The parent reopens the log: every acked
// record is there, in order, and nothing is corrupt.
TEST_F(FileLogTest, KilledWriterLosesNoAcknowledgedRecord) {
  std::random_device device;
  const unsigned seed = device();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  FileStreamOptions options = SmallOptions();
  options.segment_bytes = 32 << 10;
  options.budget_bytes = 256 << 20;
  options.max_record_bytes = 4000;
  options.group_commit_window = std::chrono::microseconds(100);
  std::set<uint64_t> acked;
  uint64_t next_sequence = 0;
  auto payload_for = [](uint64_t sequence) {
    std::string p = std::to_string(sequence) + "|";
    p.append(static_cast<size_t>((sequence * 7919) % 3000), static_cast<char>('a' + sequence % 26));
    return p;
  };
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const uint64_t start = next_sequence;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      MetricsRegistry metrics;
      auto provider = FileStreamProvider::Open(dir_.path(), options, SystemClock::Instance(), &metrics);
      if (!provider.ok()) ::_exit(3);
      auto producer = (*provider)->GetProducer("s");
      if (!producer.ok()) ::_exit(4);
      const int ack_fd = fds[1];
      for (uint64_t sequence = start;; ++sequence) {
        (*producer)->Append(payload_for(sequence), [ack_fd, sequence](const Status& s) {
          if (!s.ok()) return;
          ssize_t w = ::write(ack_fd, &sequence, sizeof sequence);
          if (w != sizeof sequence) ::_exit(5);
        });
        if (sequence % 50 == 49 && !(*producer)->Flush().ok()) ::_exit(6);
      }
    }
    ::close(fds[1]);
    const size_t kill_after = 20 + rng() % 2000;
    size_t acks_this_round = 0;
    bool killed = false;
    uint64_t sequence;
    while (true) {
      ssize_t r = ::read(fds[0], &sequence, sizeof sequence);
      if (r == 0) break;
      if (r < 0 && errno == EINTR) continue;
      ASSERT_EQ(r, static_cast<ssize_t>(sizeof sequence));
      acked.insert(sequence);
      if (++acks_this_round == kill_after && !killed) {
        ::kill(pid, SIGKILL);
        killed = true;
      }
    }
    ::close(fds[0]);
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);

    auto provider = OpenProvider(options);
    ASSERT_NE(provider, nullptr);
    auto consumer = std::move(provider->OpenConsumer("s", "check")).value();
    ASSERT_TRUE(consumer->Rewind().ok());
    std::set<uint64_t> present;
    uint64_t previous = 0;
    bool first = true;
    uint64_t expected_offset = 0;
    while (true) {
      auto polled = consumer->Poll(1000, 1 << 20, milliseconds(0));
      ASSERT_TRUE(polled.ok()) << polled.status().ToString();
      if (polled->records.empty()) break;
      for (const Record& r : polled->records) {
        ASSERT_EQ(r.offset, expected_offset);
        ++expected_offset;
        uint64_t seq = std::stoull(r.payload.substr(0, r.payload.find('|')));
        ASSERT_EQ(r.payload, payload_for(seq)) << "corrupt record at offset " << r.offset;
        if (!first) {
          ASSERT_GT(seq, previous);
        }
        first = false;
        previous = seq;
        present.insert(seq);
      }
    }
    for (uint64_t a : acked) ASSERT_TRUE(present.count(a)) << "acknowledged record " << a << " lost";
    next_sequence = present.empty() ? 0 : *present.rbegin() + 1;
    next_sequence = std::max(next_sequence, acked.empty() ? 0 : *acked.rbegin() + 1);
    provider->Close();
    consumer.reset();
  }
  EXPECT_FALSE(acked.empty());
}

}  // namespace
}  // namespace furrow::stream
