#include "sink/stream_sink.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>

#include "pseudonymize/allowlist.h"
#include "pseudonymize/key_ring.h"
#include "storage/local_object_store.h"

namespace furrow::sink {
namespace {

// A stream in memory with one partition; positions behave as in the file log.
struct MemoryStream {
  std::vector<stream::Record> records;
  uint64_t committed = 0;
  void Add(std::string payload, int64_t ts_ms) {
    stream::Record r;
    r.offset = records.size();
    r.timestamp_ms = ts_ms;
    r.payload = std::move(payload);
    records.push_back(std::move(r));
  }
};

class MemoryConsumer : public stream::Consumer {
 public:
  explicit MemoryConsumer(MemoryStream* s) : s_(s), next_(s->committed) {}
  Result<stream::Batch> Poll(size_t max_records, size_t, std::chrono::milliseconds) override {
    stream::Batch b;
    while (next_ < s_->records.size() && b.records.size() < max_records) {
      b.records.push_back(s_->records[next_++]);
    }
    b.end.next_offsets = {{0, next_}};
    return b;
  }
  Status Commit(const stream::Position& p) override {
    if (fail_commits) return IoError("commit refused (simulated crash)");
    for (auto [part, off] : p.next_offsets) s_->committed = off;
    return Status::Ok();
  }
  Status Rewind() override {
    next_ = s_->committed;
    return Status::Ok();
  }
  Result<uint64_t> Lag() override { return s_->records.size() - s_->committed; }
  bool fail_commits = false;

 private:
  MemoryStream* s_;
  uint64_t next_;
};

// Decorates a store so Puts fail while `down` is set.
class FlakyStore : public storage::ObjectStore {
 public:
  explicit FlakyStore(storage::ObjectStore* inner) : inner_(inner) {}
  Status Put(std::string_view k, std::string_view b, const storage::ObjectMetadata& m) override {
    if (down) return UnavailableError("store down");
    return inner_->Put(k, b, m);
  }
  Status PutFile(std::string_view k, const std::filesystem::path& f,
                 const storage::ObjectMetadata& m) override {
    if (down) return UnavailableError("store down");
    ++puts;
    return inner_->PutFile(k, f, m);
  }
  Result<std::string> Get(std::string_view k) override { return inner_->Get(k); }
  Result<storage::ObjectInfo> Head(std::string_view k) override { return inner_->Head(k); }
  Status ForEach(std::string_view p, const std::function<Status(const storage::ObjectInfo&)>& v) override {
    return inner_->ForEach(p, v);
  }
  Status Delete(std::string_view k) override { return inner_->Delete(k); }
  std::string Describe() const override { return "flaky"; }
  bool down = false;
  int puts = 0;

 private:
  storage::ObjectStore* inner_;
};

std::string EventLine(int i) {
  // 131 fields: app_id, platform, ..., user_id (12) carries a clear value.
  std::vector<std::string> f(131);
  f[0] = "shop";
  f[1] = "web";
  f[3] = "2026-11-25 00:00:00.000";
  f[5] = "page_view";
  f[6] = "00000000-0000-4000-8000-" + std::string(12 - std::to_string(i).size(), '0') + std::to_string(i);
  f[12] = "canary-user-" + std::to_string(i);
  std::string line;
  for (size_t k = 0; k < f.size(); ++k) {
    if (k) line += '\t';
    line += f[k];
  }
  return line;
}

class StreamSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("furrow_sink_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    lake_ = std::move(storage::LocalObjectStore::Open(dir_ / "lake")).value();
    flaky_ = std::make_unique<FlakyStore>(lake_.get());
    ring_ = std::make_unique<pseudonymize::KeyRing>(
        std::move(pseudonymize::KeyRing::FromKeyBytes("sink-test-key")).value());
    allowlist_ = std::make_unique<pseudonymize::Allowlist>(
        std::move(pseudonymize::Allowlist::Default()).value());
    pseudonymizer_ = std::make_unique<pseudonymize::Pseudonymizer>(
        ring_->active(), *allowlist_, &metrics_, &clock_, pseudonymize::PseudonymizerOptions{});
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<StreamSink> MakeSink(MemoryConsumer* c, SinkOptions o = {}) {
    o.poll_wait = std::chrono::milliseconds(0);
    return std::make_unique<StreamSink>("enriched-good", "output", c, flaky_.get(),
                                        pseudonymizer_.get(), ring_->active_id(), dir_ / "spool",
                                        &clock_, &metrics_, o);
  }

  // Every line in the lake under output/, decompressed.
  std::vector<std::string> LakeLines(std::vector<storage::ObjectInfo>* objects = nullptr) {
    auto list = lake_->List("output/");
    EXPECT_TRUE(list.ok());
    std::vector<std::string> lines;
    for (const auto& o : *list) {
      auto bytes = lake_->Get(o.key);
      auto text = Decompress(Compression::kGzip, *bytes);
      EXPECT_TRUE(text.ok()) << o.key;
      size_t start = 0;
      while (start < text->size()) {
        size_t nl = text->find('\n', start);
        lines.push_back(text->substr(start, nl - start));
        start = nl + 1;
      }
    }
    if (objects) *objects = *list;
    return lines;
  }

  std::filesystem::path dir_;
  MetricsRegistry metrics_;
  ManualClock clock_;
  std::unique_ptr<storage::LocalObjectStore> lake_;
  std::unique_ptr<FlakyStore> flaky_;
  std::unique_ptr<pseudonymize::KeyRing> ring_;
  std::unique_ptr<pseudonymize::Allowlist> allowlist_;
  std::unique_ptr<pseudonymize::Pseudonymizer> pseudonymizer_;
  MemoryStream stream_;
};

TEST_F(StreamSinkTest, StoresPseudonymizedFileWithKeyIdAndRangeThenCommits) {
  for (int i = 0; i < 10; ++i) stream_.Add(EventLine(i), 1764028800000);  // 2025-11-25 00:00 UTC
  MemoryConsumer c(&stream_);
  auto sink = MakeSink(&c);
  ASSERT_TRUE(sink->Recover().ok());
  ASSERT_TRUE(sink->Step().ok());
  EXPECT_EQ(sink->files_stored(), 0u);  // neither big nor old enough
  EXPECT_EQ(stream_.committed, 0u);
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_EQ(stream_.committed, 10u);

  std::vector<storage::ObjectInfo> objects;
  auto lines = LakeLines(&objects);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].key,
            "output/2025/11/25/00/enriched-good-2025-11-25-000000-p0-00000000000000000000-"
            "00000000000000000009.gz");
  auto head = lake_->Head(objects[0].key);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->metadata.at("furrow-key-id"), ring_->active_id());
  EXPECT_EQ(head->metadata.at("furrow-range"), "0:0-9");
  EXPECT_EQ(head->metadata.at("furrow-records"), "10");
  ASSERT_EQ(lines.size(), 10u);
  for (const auto& l : lines) {
    EXPECT_EQ(l.find("canary"), std::string::npos) << "clear value reached the lake";
    EXPECT_EQ(l.rfind("shop\tweb\t", 0), 0u) << "allowlisted fields stay";
  }
}

TEST_F(StreamSinkTest, RotatesBySizeAndAge) {
  for (int i = 0; i < 100; ++i) stream_.Add(EventLine(i), 1764028800000);
  MemoryConsumer c(&stream_);
  SinkOptions o;
  o.max_file_bytes = 5000;  // a few lines per file
  o.poll_max_records = 1000;
  auto sink = MakeSink(&c, o);
  ASSERT_TRUE(sink->Step().ok());
  EXPECT_GT(sink->files_stored(), 3u);
  uint64_t by_size = sink->files_stored();

  stream_.Add(EventLine(1000), 1764028800000);
  SinkOptions aged;
  aged.max_file_age = std::chrono::seconds(60);
  ASSERT_TRUE(sink->Close().ok());
  MemoryConsumer c2(&stream_);
  auto sink2 = MakeSink(&c2, aged);
  ASSERT_TRUE(sink2->Step().ok());
  EXPECT_EQ(sink2->files_stored(), 0u);
  clock_.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(sink2->Step().ok());
  EXPECT_EQ(sink2->files_stored(), 1u);
  EXPECT_EQ(LakeLines().size(), 101u);
  EXPECT_GT(by_size, 0u);
}

TEST_F(StreamSinkTest, OutageHoldsPositionAndLosesNothing) {
  for (int i = 0; i < 20; ++i) stream_.Add(EventLine(i), 1764028800000);
  MemoryConsumer c(&stream_);
  SinkOptions o;
  o.max_file_bytes = 3000;
  auto sink = MakeSink(&c, o);
  flaky_->down = true;
  Status s = sink->Step();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(stream_.committed, 0u);
  EXPECT_EQ(sink->Step().code(), StatusCode::kUnavailable);  // retries the same file
  flaky_->down = false;
  while (stream_.committed < 20) {
    ASSERT_TRUE(sink->Step().ok());
    if (stream_.committed < 20) {
      ASSERT_TRUE(sink->Close().ok());
    }
  }
  auto lines = LakeLines();
  EXPECT_EQ(lines.size(), 20u);
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()).size(), 20u);
}

// A crash after the object is stored but before the position is committed must not
// create a second copy: the redo stores the same range under the same key.
TEST_F(StreamSinkTest, CrashAfterStoreBeforeCommitRedoesSameObject) {
  for (int i = 0; i < 30; ++i) stream_.Add(EventLine(i), 1764028800000 + i * 1000);
  {
    MemoryConsumer c(&stream_);
    c.fail_commits = true;
    SinkOptions o;
    o.max_file_bytes = 4000;
    auto sink = MakeSink(&c, o);
    EXPECT_FALSE(sink->Step().ok());  // stored, then the "crash" at commit
  }
  EXPECT_EQ(stream_.committed, 0u);
  std::vector<storage::ObjectInfo> before;
  LakeLines(&before);
  ASSERT_EQ(before.size(), 1u);

  MemoryConsumer c(&stream_);
  SinkOptions o;
  o.max_file_bytes = 1 << 20;  // different rotation after restart
  auto sink = MakeSink(&c, o);
  ASSERT_TRUE(sink->Recover().ok());
  ASSERT_TRUE(sink->Step().ok());
  ASSERT_TRUE(sink->Close().ok());
  std::vector<storage::ObjectInfo> after;
  auto lines = LakeLines(&after);
  EXPECT_EQ(lines.size(), 30u);
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()).size(), 30u);
  EXPECT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].key, before[0].key);
}

// A crash while the store was down leaves a journal; the restart stores that file.
TEST_F(StreamSinkTest, JournaledFileIsStoredAfterRestart) {
  for (int i = 0; i < 10; ++i) stream_.Add(EventLine(i), 1764028800000);
  {
    MemoryConsumer c(&stream_);
    auto sink = MakeSink(&c);
    ASSERT_TRUE(sink->Step().ok());
    flaky_->down = true;
    EXPECT_FALSE(sink->Close().ok());
  }
  flaky_->down = false;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "spool" / "enriched-good.journal"));
  MemoryConsumer c(&stream_);
  auto sink = MakeSink(&c);
  ASSERT_TRUE(sink->Recover().ok());
  EXPECT_EQ(stream_.committed, 10u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "spool" / "enriched-good.journal"));
  EXPECT_EQ(LakeLines().size(), 10u);
}

TEST_F(StreamSinkTest, UnreadableLinesBecomeGenericErrorsNotClearText) {
  stream_.Add("canary-broken-line\twith too few fields", 1764028800000);
  MemoryConsumer c(&stream_);
  auto sink = MakeSink(&c);
  ASSERT_TRUE(sink->Step().ok());
  ASSERT_TRUE(sink->Close().ok());
  auto lines = LakeLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("canary"), std::string::npos);
  EXPECT_NE(lines[0].find("generic_error"), std::string::npos);
}

}  // namespace
}  // namespace furrow::sink
