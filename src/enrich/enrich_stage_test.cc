// EnrichStage over an in-memory StreamProvider: one output per input event,
// commit only after outputs are durable, retry of the appends that failed (no
// duplicates), oversized outputs become size_violation bad rows, metrics, and
// exactly-once outputs after a simulated kill -9 at each point of a batch: outputs
// durable but position not committed, a durable prefix of each output stream,
// nothing durable, a kill after an in-process retry, a stale journal, and the
// at-least-once fallback when re-enrichment classifies differently.
#include "enrich/enrich_stage.h"

#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "enrich/enrich_journal.h"
#include "enrich/enrich_test_util.h"
#include "enrich/golden_cases.h"

namespace furrow::enrich::testing {
namespace {

// A stream held in memory. Appends complete at once (or fail while
// `fail_appends` > 0, counting down). A simulated kill -9: once `durable_budget`
// (when >= 0) reaches zero, appends are lost (kUnavailable) and `*killed` is set,
// which the tests use as the stage's stop flag; once `commits_before_kill` (when
// >= 0) reaches zero a Commit fails the same way, so a kill lands between "outputs
// durable" and "committed".
struct MemoryStream {
  std::mutex mu;
  std::vector<std::string> records;
  std::map<std::string, uint64_t> committed;
  int fail_appends = 0;
  int64_t durable_budget = -1;
  int commits_before_kill = -1;
  std::atomic<bool>* killed = nullptr;
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
      } else if (s_->durable_budget == 0) {
        status = UnavailableError("killed");
        if (s_->killed != nullptr) s_->killed->store(true);
      } else {
        if (s_->durable_budget > 0) --s_->durable_budget;
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
  Result<uint64_t> EndOffset() override {
    std::lock_guard<std::mutex> lock(s_->mu);
    return static_cast<uint64_t>(s_->records.size());
  }

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
    if (s_->commits_before_kill == 0) {
      if (s_->killed != nullptr) s_->killed->store(true);
      return UnavailableError("killed before the commit");
    }
    if (s_->commits_before_kill > 0) --s_->commits_before_kill;
    s_->committed[reader_] = position.next_offsets.at(0).second;
    return Status::Ok();
  }
  Status Rewind() override {
    std::lock_guard<std::mutex> lock(s_->mu);
    next_ = s_->committed[reader_];
    return Status::Ok();
  }
  Result<uint64_t> Lag() override {
    std::lock_guard<std::mutex> lock(s_->mu);
    uint64_t committed = s_->committed[reader_];
    return s_->records.size() > committed ? s_->records.size() - committed : 0;
  }

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

EnrichStageOptions OneShot(size_t batch, const TempDir& journal_dir) {
  EnrichStageOptions o;
  o.journal_dir = journal_dir.path().string();
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
  TempDir journal;
  MemoryProvider provider;
  size_t events = WriteMix(&provider);
  MetricsRegistry metrics;
  EnrichStage stage(&provider, &fixture.enricher(), &metrics, OneShot(3, journal));
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

TEST(EnrichStageTest, FailedAppendsAreRetriedWithoutDuplicatesBeforeCommitting) {
  EnrichFixture fixture(false);
  TempDir journal;
  MemoryProvider provider;
  WriteMix(&provider);
  provider.stream(stream::kEnrichedGood).fail_appends = 2;
  MetricsRegistry metrics;
  EnrichStage stage(&provider, &fixture.enricher(), &metrics, OneShot(100, journal));
  std::atomic<bool> stop{false};
  ASSERT_TRUE(stage.Run(stop).ok());
  EXPECT_GE(metrics.GetCounter("furrow_enrich_batches_retried_total", "").Value(), 1u);
  // Only the two refused appends are appended again: every event exactly once.
  EXPECT_EQ(provider.stream(stream::kEnrichedGood).records.size(), 12u);
  EXPECT_EQ(provider.stream(stream::kEnrichedBad).records.size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(journal.path() / "enrich.journal"));
  EXPECT_EQ(provider.stream(stream::kRawGood).committed["enrich"], 9u);
}

TEST(EnrichStageTest, NothingIsCommittedWhenStoppedBeforeOutputsAreDurableAndTheNextRunFinishesOnce) {
  EnrichFixture fixture(false);
  TempDir journal;
  MemoryProvider provider;
  WriteMix(&provider);
  provider.stream(stream::kEnrichedBad).fail_appends = 1'000'000;  // never durable
  MetricsRegistry metrics;
  EnrichStageOptions options = OneShot(100, journal);
  EnrichStage stage(&provider, &fixture.enricher(), &metrics, options);
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    while (metrics.GetCounter("furrow_enrich_batches_retried_total", "").Value() < 3) std::this_thread::yield();
    stop.store(true);
  });
  ASSERT_TRUE(stage.Run(stop).ok());
  stopper.join();
  EXPECT_EQ(provider.stream(stream::kRawGood).committed["enrich"], 0u);
  EXPECT_EQ(provider.stream(stream::kEnrichedGood).records.size(), 12u);
  // The journal stays; the next run appends only the two bad rows and commits.
  EXPECT_TRUE(std::filesystem::exists(journal.path() / "enrich.journal"));
  provider.stream(stream::kEnrichedBad).fail_appends = 0;
  EnrichStage again(&provider, &fixture.enricher(), &metrics, options);
  stop.store(false);
  ASSERT_TRUE(again.Run(stop).ok());
  EXPECT_EQ(provider.stream(stream::kEnrichedGood).records.size(), 12u);
  EXPECT_EQ(provider.stream(stream::kEnrichedBad).records.size(), 2u);
  EXPECT_EQ(provider.stream(stream::kRawGood).committed["enrich"], 9u);
  EXPECT_FALSE(std::filesystem::exists(journal.path() / "enrich.journal"));
}

TEST(EnrichStageTest, OversizedOutputBecomesSizeViolation) {
  EnrichFixture fixture(false);
  TempDir journal;
  MemoryProvider provider;
  provider.stream(stream::kRawGood).records.push_back(
      tracker::EncodeCollectorPayload(AsGet(GoldenCases()[0].params)));
  provider.stream(stream::kEnrichedGood).max_record_bytes = 1000;
  MetricsRegistry metrics;
  EnrichStage stage(&provider, &fixture.enricher(), &metrics, OneShot(10, journal));
  std::atomic<bool> stop{false};
  ASSERT_TRUE(stage.Run(stop).ok());
  EXPECT_EQ(provider.stream(stream::kEnrichedGood).records.size(), 0u);
  ASSERT_EQ(provider.stream(stream::kEnrichedBad).records.size(), 1u);
  const std::string& row = provider.stream(stream::kEnrichedBad).records[0];
  EXPECT_NE(row.find("size_violation"), std::string::npos);
  EXPECT_EQ(ValidateBadRow(row), "") << row;
}


// --- kill -9 simulations -------------------------------------------------------

std::string EventId(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "5e1f0000-0000-4000-8000-%012d", i);
  return buf;
}

// Writes `n` single-event records with distinct event ids; every fourth one is a
// tracker protocol violation (an unknown platform), which enrich turns into a bad
// row that quotes the event's parameters, event id included.
std::vector<std::string> WriteIdentified(MemoryProvider* provider, int first, int n) {
  std::vector<std::string> ids;
  for (int i = first; i < first + n; ++i) {
    Params params = GoldenCases()[0].params;
    for (auto& [name, value] : params) {
      if (name == "eid") value = EventId(i);
      if (name == "p" && i % 4 == 3) value = "not-a-platform";
    }
    provider->stream(stream::kRawGood).records.push_back(tracker::EncodeCollectorPayload(AsGet(params)));
    ids.push_back(EventId(i));
  }
  return ids;
}

// How often each of `ids` appears in enriched-good (event_id column) plus
// enriched-bad (quoted in the bad row).
std::map<std::string, int> Occurrences(MemoryProvider* provider, const std::vector<std::string>& ids) {
  std::map<std::string, int> counts;
  for (const std::string& id : ids) counts[id] = 0;
  for (const std::string& line : provider->stream(stream::kEnrichedGood).records) {
    size_t start = 0;
    for (int field = 0; field < 6; ++field) start = line.find('\t', start) + 1;
    std::string id = line.substr(start, line.find('\t', start) - start);
    counts[id]++;
  }
  for (const std::string& row : provider->stream(stream::kEnrichedBad).records) {
    for (const std::string& id : ids) {
      if (row.find(id) != std::string::npos) counts[id]++;
    }
  }
  return counts;
}

void ExpectEachExactlyOnce(MemoryProvider* provider, const std::vector<std::string>& ids) {
  std::map<std::string, int> counts = Occurrences(provider, ids);
  for (const auto& [id, n] : counts) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(counts.size(), ids.size());  // nothing that was not sent
  EXPECT_EQ(provider->stream(stream::kEnrichedGood).records.size() +
                provider->stream(stream::kEnrichedBad).records.size(),
            ids.size());
}

// One simulated process history: stage runs over the same streams and journal
// directory, the first ones "killed" when a MemoryStream says so.
class CrashScenario {
 public:
  MemoryProvider& provider() { return provider_; }
  MemoryStream& stream(const std::string& name) { return provider_.stream(name); }
  std::filesystem::path journal_path() const { return journal_.path() / "enrich.journal"; }
  std::vector<std::string> Write(int first, int n) { return WriteIdentified(&provider_, first, n); }

  // Runs a stage until a stream kills it; returns Run's status.
  Status RunUntilKilled(size_t batch) {
    std::atomic<bool> killed{false};
    for (const char* name : {stream::kEnrichedGood, stream::kEnrichedBad, stream::kRawGood}) {
      stream(name).killed = &killed;
    }
    MetricsRegistry metrics;
    EnrichStage stage(&provider_, &fixture_.enricher(), &metrics, OneShot(batch, journal_));
    Status status = stage.Run(killed);
    EXPECT_TRUE(killed.load()) << "the simulated kill did not happen";
    return status;
  }

  // The restart: a new stage (new consumer) with nothing failing any more.
  void Restart(size_t batch, MetricsRegistry* metrics) {
    for (const char* name : {stream::kEnrichedGood, stream::kEnrichedBad, stream::kRawGood}) {
      MemoryStream& s = stream(name);
      s.killed = nullptr;
      s.durable_budget = -1;
      s.commits_before_kill = -1;
      s.fail_appends = 0;
    }
    EnrichStage stage(&provider_, &fixture_.enricher(), metrics, OneShot(batch, journal_));
    std::atomic<bool> stop{false};
    Status s = stage.Run(stop);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Runs a stage with a long retry backoff and stops it once an attempt has failed.
  void RunUntilAFailedAttempt(size_t batch) {
    MetricsRegistry metrics;
    EnrichStageOptions options = OneShot(batch, journal_);
    options.retry_backoff = std::chrono::seconds(60);
    EnrichStage stage(&provider_, &fixture_.enricher(), &metrics, options);
    std::atomic<bool> stop{false};
    std::thread stopper([&] {
      while (metrics.GetCounter("furrow_enrich_batches_retried_total", "").Value() < 1) {
        std::this_thread::yield();
      }
      stop.store(true);
    });
    Status s = stage.Run(stop);
    stopper.join();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  uint64_t committed() { return stream(stream::kRawGood).committed["enrich"]; }
  size_t good() { return stream(stream::kEnrichedGood).records.size(); }
  size_t bad() { return stream(stream::kEnrichedBad).records.size(); }

 private:
  EnrichFixture fixture_{false};
  TempDir journal_;
  MemoryProvider provider_;
};

TEST(EnrichStageTest, KillAfterOutputsAreDurableButBeforeTheCommitRepeatsNothing) {
  CrashScenario scenario;
  std::vector<std::string> ids = scenario.Write(0, 24);
  scenario.stream(stream::kRawGood).commits_before_kill = 0;
  EXPECT_FALSE(scenario.RunUntilKilled(10).ok());  // the commit "failed": the process is gone
  // The window of the bug: the first batch's outputs all durable, nothing committed.
  EXPECT_EQ(scenario.committed(), 0u);
  EXPECT_EQ(scenario.good() + scenario.bad(), 10u);
  ASSERT_TRUE(std::filesystem::exists(scenario.journal_path()));

  MetricsRegistry metrics;
  scenario.Restart(10, &metrics);
  ExpectEachExactlyOnce(&scenario.provider(), ids);
  EXPECT_EQ(scenario.committed(), 24u);
  EXPECT_EQ(metrics.GetCounter("furrow_enrich_records_total", "").Value(), 24u);
  EXPECT_FALSE(std::filesystem::exists(scenario.journal_path()));
}

TEST(EnrichStageTest, KillWithADurablePrefixOfEachOutputStreamAppendsOnlyTheRest) {
  // (good prefix, bad prefix) of the second batch's 10 outputs (7 good, 3 bad)
  // that were durable when the process died; the first batch is committed.
  for (auto [good_durable, bad_durable] : std::vector<std::pair<size_t, size_t>>{
           {0, 0}, {3, 0}, {0, 2}, {4, 1}, {7, 0}, {6, 3}, {7, 3}}) {
    SCOPED_TRACE(std::to_string(good_durable) + " good, " + std::to_string(bad_durable) + " bad");
    CrashScenario scenario;
    std::vector<std::string> ids = scenario.Write(0, 20);
    // Batch 1 (ids 0..9) has 8 good and 2 bad outputs.
    scenario.stream(stream::kEnrichedGood).durable_budget = static_cast<int64_t>(8 + good_durable);
    scenario.stream(stream::kEnrichedBad).durable_budget = static_cast<int64_t>(2 + bad_durable);
    // All durable: the kill comes at the second batch's commit.
    if (good_durable == 7 && bad_durable == 3) scenario.stream(stream::kRawGood).commits_before_kill = 1;
    scenario.RunUntilKilled(10).IgnoreError();
    EXPECT_EQ(scenario.committed(), 10u);
    EXPECT_EQ(scenario.good(), 8u + good_durable);
    EXPECT_EQ(scenario.bad(), 2u + bad_durable);

    // The restart polls bigger batches: it still redoes exactly the journaled one.
    MetricsRegistry metrics;
    scenario.Restart(100, &metrics);
    ExpectEachExactlyOnce(&scenario.provider(), ids);
    EXPECT_EQ(scenario.committed(), 20u);
    EXPECT_EQ(metrics.GetCounter("furrow_enrich_recovery_mismatches_total", "").Value(), 0u);
  }
}

TEST(EnrichStageTest, KillAfterAnInProcessRetryUsesTheJournaledDurableSet) {
  CrashScenario scenario;
  std::vector<std::string> ids = scenario.Write(0, 12);
  // First attempt: the first two good appends are refused and the rest are durable,
  // a gap that no count could describe. The second attempt journals exactly what is
  // durable, then dies before anything more is.
  scenario.stream(stream::kEnrichedGood).fail_appends = 2;
  scenario.stream(stream::kEnrichedGood).durable_budget = 9 - 2;  // 9 good outputs
  scenario.RunUntilKilled(100).IgnoreError();
  EXPECT_EQ(scenario.good(), 7u);
  EXPECT_EQ(scenario.committed(), 0u);

  MetricsRegistry metrics;
  scenario.Restart(100, &metrics);
  ExpectEachExactlyOnce(&scenario.provider(), ids);
}

TEST(EnrichStageTest, AStopAfterARefusalFollowedByAnAcceptanceJournalsTheExactDurableSet) {
  CrashScenario scenario;
  std::vector<std::string> ids = scenario.Write(0, 12);
  // The first two good appends are refused, the next seven are durable: the durable
  // outputs are not a prefix, so a count from the attempt's start would be wrong.
  scenario.stream(stream::kEnrichedGood).fail_appends = 2;
  scenario.RunUntilAFailedAttempt(100);
  EXPECT_EQ(scenario.good(), 7u);
  EXPECT_EQ(scenario.committed(), 0u);

  MetricsRegistry metrics;
  scenario.Restart(100, &metrics);
  ExpectEachExactlyOnce(&scenario.provider(), ids);
}

TEST(EnrichStageTest, AStaleJournalOfACommittedBatchIsIgnored) {
  CrashScenario scenario;
  std::vector<std::string> ids = scenario.Write(0, 10);
  scenario.stream(stream::kRawGood).commits_before_kill = 0;
  scenario.RunUntilKilled(10).IgnoreError();
  std::filesystem::path path = scenario.journal_path();
  std::filesystem::path saved = path.parent_path() / "saved";
  std::filesystem::copy_file(path, saved);
  MetricsRegistry metrics;
  scenario.Restart(10, &metrics);
  ExpectEachExactlyOnce(&scenario.provider(), ids);

  // A crash after the commit but before the journal was deleted, with no new input.
  std::filesystem::copy_file(saved, path);
  scenario.Restart(10, &metrics);
  ExpectEachExactlyOnce(&scenario.provider(), ids);
  EXPECT_FALSE(std::filesystem::exists(path));

  // The same with new input waiting: it is enriched once, the old batch not again.
  std::filesystem::copy_file(saved, path);
  std::vector<std::string> more = scenario.Write(10, 5);
  ids.insert(ids.end(), more.begin(), more.end());
  scenario.Restart(10, &metrics);
  ExpectEachExactlyOnce(&scenario.provider(), ids);
  EXPECT_EQ(scenario.committed(), 15u);
}

TEST(EnrichStageTest, OtherOutputCountsOnRecoveryFallBackToAtLeastOnce) {
  CrashScenario scenario;
  std::vector<std::string> ids = scenario.Write(0, 8);  // 6 good, 2 bad
  scenario.stream(stream::kEnrichedGood).durable_budget = 4;
  scenario.stream(stream::kEnrichedBad).durable_budget = 0;
  scenario.RunUntilKilled(100).IgnoreError();
  // Pretend the killed run classified one more event as good than this one will.
  std::string path = scenario.journal_path().string();
  auto journaled = ReadEnrichJournal(path);
  ASSERT_TRUE(journaled.ok() && journaled->has_value());
  EnrichJournal changed = **journaled;
  ASSERT_EQ(changed.good.done.size(), 6u);
  changed.good.done.push_back(false);
  ASSERT_TRUE(WriteEnrichJournal(path, changed).ok());

  MetricsRegistry metrics;
  scenario.Restart(100, &metrics);
  EXPECT_EQ(metrics.GetCounter("furrow_enrich_recovery_mismatches_total", "").Value(), 1u);
  // Every output of the batch again: the 4 durable ones twice, nothing lost.
  std::map<std::string, int> counts = Occurrences(&scenario.provider(), ids);
  int twice = 0;
  for (const auto& [id, n] : counts) {
    EXPECT_GE(n, 1) << id;
    EXPECT_LE(n, 2) << id;
    twice += n == 2;
  }
  EXPECT_EQ(twice, 4);
}

TEST(EnrichStageTest, RefusesToRunWithoutAJournalDirectoryOrWithACorruptJournal) {
  EnrichFixture fixture(false);
  TempDir journal;
  MemoryProvider provider;
  WriteIdentified(&provider, 0, 4);
  MetricsRegistry metrics;
  EnrichStageOptions options = OneShot(10, journal);
  options.journal_dir.clear();
  std::atomic<bool> stop{false};
  EXPECT_EQ(EnrichStage(&provider, &fixture.enricher(), &metrics, options).Run(stop).code(),
            StatusCode::kInvalidArgument);

  std::ofstream(journal.path() / "enrich.journal") << "furrow-enrich-journal 1\ninput 0:";
  Status s = EnrichStage(&provider, &fixture.enricher(), &metrics, OneShot(10, journal)).Run(stop);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_EQ(provider.stream(stream::kRawGood).committed["enrich"], 0u);
  EXPECT_TRUE(provider.stream(stream::kEnrichedGood).records.empty());
}

}  // namespace
}  // namespace furrow::enrich::testing
