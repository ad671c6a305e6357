// EnrichStage over an in-memory StreamProvider: one output per input event,
// commit only after outputs are durable, retry of a batch whose appends failed,
// oversized outputs become size_violation bad rows, and metrics.
#include "enrich/enrich_stage.h"

#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "enrich/enrich_test_util.h"
#include "enrich/golden_cases.h"

namespace furrow::enrich::testing {
namespace {

// A stream held in memory. Appends complete at once (or fail while
// `fail_appends` > 0, counting down).
struct MemoryStream {
  std::mutex mu;
  std::vector<std::string> records;
  std::map<std::string, uint64_t> committed;
  int fail_appends = 0;
  size_t max_record_bytes = 1'000'000;
};

class MemoryProducer : public stream::Producer {
 public:
  explicit MemoryProducer(MemoryStream* s) : s_(s) {}
  void Append(std::string payload, stream::AppendCallback done) override {
    Status status;
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      if (payload.size() > s_->max_record_bytes) {
        status = InvalidArgumentError("record too large");
      } else if (s_->fail_appends > 0) {
        --s_->fail_appends;
        status = ResourceExhaustedError("budget full");
      } else {
        s_->records.push_back(std::move(payload));
      }
    }
    done(status);
  }
  Status AppendSync(std::string payload) override {
    Status result;
    Append(std::move(payload), [&](const Status& s) { result = s; });
    return result;
  }
  size_t max_record_bytes() const override { return s_->max_record_bytes; }
  bool Writable() const override { return true; }
  Status Flush() override { return Status::Ok(); }

 private:
  MemoryStream* s_;
};

class MemoryConsumer : public stream::Consumer {
 public:
  MemoryConsumer(MemoryStream* s, std::string reader) : s_(s), reader_(std::move(reader)) {
    std::lock_guard<std::mutex> lock(s_->mu);
    next_ = s_->committed[reader_];
  }
  Result<stream::Batch> Poll(size_t max_records, size_t, std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    stream::Batch batch;
    while (next_ < s_->records.size() && batch.records.size() < max_records) {
      stream::Record r;
      r.offset = next_;
      r.payload = s_->records[next_];
      batch.records.push_back(std::move(r));
      ++next_;
    }
    batch.end.next_offsets = {{0, next_}};
    return batch;
  }
  Status Commit(const stream::Position& position) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->committed[reader_] = position.next_offsets.at(0).second;
    return Status::Ok();
  }
  Status Rewind() override {
    std::lock_guard<std::mutex> lock(s_->mu);
    next_ = s_->committed[reader_];
    return Status::Ok();
  }
  Result<uint64_t> Lag() override { return uint64_t{0}; }

 private:
  MemoryStream* s_;
  std::string reader_;
  uint64_t next_ = 0;
};

class MemoryProvider : public stream::StreamProvider {
 public:
  MemoryStream& stream(const std::string& name) { return streams_[name]; }
  Result<stream::Producer*> GetProducer(const std::string& name) override {
    auto& p = producers_[name];
    if (!p) p = std::make_unique<MemoryProducer>(&streams_[name]);
    return p.get();
  }
  Result<std::unique_ptr<stream::Consumer>> OpenConsumer(const std::string& name,
                                                         const std::string& reader) override {
    return std::unique_ptr<stream::Consumer>(new MemoryConsumer(&streams_[name], reader));
  }
  Result<std::vector<stream::StreamInfo>> List() override { return std::vector<stream::StreamInfo>{}; }
  void Close() override {}

 private:
  std::map<std::string, MemoryStream> streams_;
  std::map<std::string, std::unique_ptr<MemoryProducer>> producers_;
};

EnrichStageOptions OneShot(size_t batch) {
  EnrichStageOptions o;
  o.exit_when_idle = true;
  o.max_batch_records = batch;
  o.workers = 3;
  o.poll_wait = std::chrono::milliseconds(0);
  o.retry_backoff = std::chrono::milliseconds(0);
  return o;
}

// Writes a mix of records: every golden case as GET, one POST with all six,
// one undecodable record, one unknown vendor. Returns the number of events.
size_t WriteMix(MemoryProvider* provider) {
  auto& raw = provider->stream(stream::kRawGood).records;
  std::vector<Params> all;
  for (const auto& c : GoldenCases()) {
    raw.push_back(tracker::EncodeCollectorPayload(AsGet(c.params)));
    all.push_back(c.params);
  }
  raw.push_back(tracker::EncodeCollectorPayload(PostPayload(PayloadDataBody(all))));
  raw.push_back("garbage that is not thrift");
  auto unknown = AsGet(GoldenCases()[0].params);
  unknown.path = "/com.acme/v1";
  raw.push_back(tracker::EncodeCollectorPayload(unknown));
  return all.size() * 2 + 2;
}

TEST(EnrichStageTest, ExactlyOneOutputPerEventAndCommitsAll) {
  EnrichFixture fixture;
  MemoryProvider provider;
  size_t events = WriteMix(&provider);
  MetricsRegistry metrics;
  EnrichStage stage(&provider, &fixture.enricher(), &metrics, OneShot(3));
  std::atomic<bool> stop{false};
  ASSERT_TRUE(stage.Run(stop).ok());
  size_t good = provider.stream(stream::kEnrichedGood).records.size();
  size_t bad = provider.stream(stream::kEnrichedBad).records.size();
  EXPECT_EQ(good, 12u);
  EXPECT_EQ(bad, 2u);
  EXPECT_EQ(good + bad, events);
  EXPECT_EQ(provider.stream(stream::kRawGood).committed["enrich"], 9u);
  for (const auto& row : provider.stream(stream::kEnrichedBad).records) {
    EXPECT_EQ(ValidateBadRow(row), "") << row;
  }
  EXPECT_EQ(metrics.GetCounter("furrow_enrich_events_total", "", {{"result", "good"}}).Value(), 12u);
  EXPECT_EQ(metrics.GetCounter("furrow_enrich_bad_rows_total", "", {{"type", "adapter_failures"}}).Value(), 1u);
  EXPECT_EQ(metrics.GetCounter("furrow_enrich_records_total", "").Value(), 9u);
  std::string rendered = metrics.RenderPrometheus();
  EXPECT_NE(rendered.find("furrow_enrich_step_nanoseconds_total{step=\"ua_parser_config\"}"), std::string::npos);
}

TEST(EnrichStageTest, FailedAppendsRedoTheBatchBeforeCommitting) {
  EnrichFixture fixture(false);
  MemoryProvider provider;
  WriteMix(&provider);
  provider.stream(stream::kEnrichedGood).fail_appends = 2;
  MetricsRegistry metrics;
  EnrichStage stage(&provider, &fixture.enricher(), &metrics, OneShot(100));
  std::atomic<bool> stop{false};
  ASSERT_TRUE(stage.Run(stop).ok());
  EXPECT_GE(metrics.GetCounter("furrow_enrich_batches_retried_total", "").Value(), 1u);
  // The failed attempt's successful appends repeat (at-least-once); every
  // event is present at least once and the input is fully committed.
  EXPECT_GE(provider.stream(stream::kEnrichedGood).records.size(), 12u);
  EXPECT_EQ(provider.stream(stream::kRawGood).committed["enrich"], 9u);
}

TEST(EnrichStageTest, NothingIsCommittedWhenStoppedBeforeOutputsAreDurable) {
  EnrichFixture fixture(false);
  MemoryProvider provider;
  WriteMix(&provider);
  provider.stream(stream::kEnrichedBad).fail_appends = 1'000'000;  // never durable
  MetricsRegistry metrics;
  EnrichStageOptions options = OneShot(100);
  EnrichStage stage(&provider, &fixture.enricher(), &metrics, options);
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    while (metrics.GetCounter("furrow_enrich_batches_retried_total", "").Value() < 3) std::this_thread::yield();
    stop.store(true);
  });
  ASSERT_TRUE(stage.Run(stop).ok());
  stopper.join();
  EXPECT_EQ(provider.stream(stream::kRawGood).committed["enrich"], 0u);
}

TEST(EnrichStageTest, OversizedOutputBecomesSizeViolation) {
  EnrichFixture fixture(false);
  MemoryProvider provider;
  provider.stream(stream::kRawGood).records.push_back(
      tracker::EncodeCollectorPayload(AsGet(GoldenCases()[0].params)));
  provider.stream(stream::kEnrichedGood).max_record_bytes = 1000;
  MetricsRegistry metrics;
  EnrichStage stage(&provider, &fixture.enricher(), &metrics, OneShot(10));
  std::atomic<bool> stop{false};
  ASSERT_TRUE(stage.Run(stop).ok());
  EXPECT_EQ(provider.stream(stream::kEnrichedGood).records.size(), 0u);
  ASSERT_EQ(provider.stream(stream::kEnrichedBad).records.size(), 1u);
  const std::string& row = provider.stream(stream::kEnrichedBad).records[0];
  EXPECT_NE(row.find("size_violation"), std::string::npos);
  EXPECT_EQ(ValidateBadRow(row), "") << row;
}

}  // namespace
}  // namespace furrow::enrich::testing
