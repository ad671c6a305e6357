// `furrow pipeline`: collector, enrich and sink in one process on the embedded
// streams (DATA_DIR/streams), with one MetricsRegistry served on the collector's
// /metrics (/health and /sink-health too).
//
//   trackers --HTTP--> collector --> raw-good --> enrich --> enriched-good/-bad --> sink --> lake
//                                \-> raw-bad ------------------------------------/
//
// Defaults for a first start with no configuration: port 8080 (--port 0 picks a free
// one; "listening on ADDRESS:PORT" is printed once bound); collector I/O threads and
// enrich workers = the number of cores, the sink's three threads; the built-in
// schemas plus Iglu Central when it answers at start; campaign attribution, event
// fingerprint, and ua_parser / referer_parser when their Debian data is installed
// (app/enrich_stage.h); a pseudonymization key generated at DATA_DIR/keys/
// pseudonymize.key (0600) on first start and reused afterwards; the built-in
// allowlist; the lake at DATA_DIR/lake (--lake PATH|s3://bucket/prefix).
//
// SIGTERM/SIGINT drains the pipeline in flow order, so that every event that got a
// 200 is in the lake before exit 0: the collector stops accepting and finishes the
// requests in flight (raw-good/raw-bad flushed); enrich runs until a poll of
// raw-good that began after that comes back empty, then flushes and commits; the
// sink runs until polls of its three streams come back empty, then stores its open
// files and commits. If that does not finish within --shutdown-timeout-s (e.g. the
// object store is down) the process exits 1; the records stay in the streams and are
// stored on the next start. Every option is in docs/configuration.md; the whole job
// in docs/pipeline.md.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "app/collector_stage.h"
#include "app/commands.h"
#include "app/enrich_stage.h"
#include "app/signals.h"
#include "app/sink_stage.h"
#include "app/stream_options.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/metrics.h"

namespace furrow::app {
namespace {

struct PipelineCommandOptions {
  std::string data_dir = "./var";
  int64_t shutdown_timeout_s = 60;
  CollectorStageOptions collector;
  EnrichOptions enrich;
  SinkCommandOptions sink;
  StreamCommandOptions streams;
};

int Fail(const std::string& what, const Status& status) {
  log::Error(what, {{"error", status.ToString()}});
  std::fprintf(stderr, "furrow pipeline: %s: %s\n", what.c_str(), status.ToString().c_str());
  return kExitFailure;
}

// Passes everything through to the real provider and tells, per stream, whether a
// consumer's poll that began after DrainRequested(stream) came back empty: with its
// writers stopped and flushed, that reader has caught up. Thread-safe.
class DrainWatchProvider final : public stream::StreamProvider {
 public:
  explicit DrainWatchProvider(stream::StreamProvider* inner) : inner_(inner) {}

  Result<stream::Producer*> GetProducer(const std::string& stream) override {
    return inner_->GetProducer(stream);
  }
  Result<std::unique_ptr<stream::Consumer>> OpenConsumer(const std::string& stream,
                                                         const std::string& reader) override {
    FURROW_ASSIGN_OR_RETURN(auto consumer, inner_->OpenConsumer(stream, reader));
    return std::unique_ptr<stream::Consumer>(new WatchedConsumer(std::move(consumer), State(stream)));
  }
  Result<std::vector<stream::StreamInfo>> List() override { return inner_->List(); }
  void Close() override { inner_->Close(); }

  void RequestDrain(const std::string& stream) { State(stream)->drain.store(true); }
  bool Drained(const std::string& stream) { return State(stream)->idle.load(); }

 private:
  struct DrainState {
    std::atomic<bool> drain{false};
    std::atomic<bool> idle{false};
  };

  class WatchedConsumer final : public stream::Consumer {
   public:
    WatchedConsumer(std::unique_ptr<stream::Consumer> inner, DrainState* state)
        : inner_(std::move(inner)), state_(state) {}
    Result<stream::Batch> Poll(size_t max_records, size_t max_bytes,
                               std::chrono::milliseconds wait) override {
      bool draining = state_->drain.load();
      Result<stream::Batch> batch = inner_->Poll(max_records, max_bytes, wait);
      if (draining && batch.ok() && batch->records.empty()) state_->idle.store(true);
      return batch;
    }
    Status Commit(const stream::Position& position) override { return inner_->Commit(position); }
    Status Rewind() override { return inner_->Rewind(); }
    Result<uint64_t> Lag() override { return inner_->Lag(); }

   private:
    std::unique_ptr<stream::Consumer> inner_;
    DrainState* state_;
  };

  DrainState* State(const std::string& stream) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = states_[stream];
    if (!slot) slot = std::make_unique<DrainState>();
    return slot.get();
  }

  stream::StreamProvider* inner_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<DrainState>> states_;
};

// Waits until every stream in `streams` is drained or `deadline` passes.
bool WaitDrained(DrainWatchProvider& watch, std::initializer_list<const char*> streams,
                 std::chrono::steady_clock::time_point deadline) {
  for (const char* s : streams) watch.RequestDrain(s);
  while (true) {
    bool all = true;
    for (const char* s : streams) all = all && watch.Drained(s);
    if (all) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int RunPipeline(const PipelineCommandOptions& o) {
  MetricsRegistry metrics;
  const Clock& clock = SystemClock::Instance();
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) return Fail("cannot create the data directory", IoError(o.data_dir + ": " + ec.message()));

  auto streams = OpenStreams(o.data_dir, o.streams, clock, &metrics);
  if (!streams.ok()) return Fail("cannot open streams", streams.status());
  DrainWatchProvider watch(streams->get());

  auto sink = SinkStage::Create(o.data_dir, o.sink, /*create_pipeline_key=*/true, &watch, &clock,
                                &metrics);
  if (!sink.ok()) return Fail("cannot start the sink", sink.status());
  EnrichOptions enrich_options = o.enrich;
  enrich_options.journal_dir = EnrichJournalDir(o.data_dir);
  auto enrich = EnrichRunner::Create(enrich_options, &watch, &clock, &metrics);
  if (!enrich.ok()) return Fail("cannot start enrich", enrich.status());
  auto collector = CollectorStage::Create(o.collector, &watch, &clock, &metrics);
  if (!collector.ok()) return Fail("bad collector options", collector.status());

  (*sink)->Start();
  (*enrich)->Start(/*exit_when_idle=*/false);
  Status started = (*collector)->Start();
  if (!started.ok()) {
    (*enrich)->RequestStop();
    Status ignored = (*enrich)->Wait();
    (void)ignored;
    (*sink)->Stop(std::chrono::seconds(o.shutdown_timeout_s));
    (*streams)->Close();
    return Fail("cannot listen", started);
  }
  AnnounceListening(o.collector.bind, (*collector)->port());
  log::Info("pipeline started", {{"port", (*collector)->port()},
                                 {"data_dir", o.data_dir},
                                 {"lake", (*sink)->lake()},
                                 {"key_id", (*sink)->key_id()},
                                 {"enrichments", (*enrich)->enrichment_names()},
                                 {"enrich_workers", static_cast<uint64_t>(o.enrich.workers)}});

  int signal = WaitForTerminationSignal();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.shutdown_timeout_s);
  log::Info("pipeline stopping: draining collector, enrich and sink", {{"signal", signal}});
  bool complete = true;
  Status collector_stopped = (*collector)->Stop();
  if (!collector_stopped.ok()) {
    log::Error("collector stop", {{"error", collector_stopped.ToString()}});
    complete = false;
  }
  if (!WaitDrained(watch, {stream::kRawGood}, deadline)) {
    log::Warn("enrich did not catch up with raw-good before the shutdown deadline");
    complete = false;
  }
  Status enrich_status = (*enrich)->Stop();
  if (!enrich_status.ok()) {
    log::Error("enrich stopped with an error", {{"error", enrich_status.ToString()}});
    complete = false;
  }
  if (!WaitDrained(watch, {stream::kEnrichedGood, stream::kEnrichedBad, stream::kRawBad}, deadline)) {
    log::Warn("the sink did not catch up with its streams before the shutdown deadline");
    complete = false;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  bool stored = (*sink)->Stop(std::max(left, std::chrono::milliseconds(0)));
  (*streams)->Close();
  if (!stored || !complete) {
    std::fprintf(stderr,
                 "furrow pipeline: not everything reached the lake before the shutdown deadline; "
                 "the rest stays in the streams and is stored on the next start\n");
    return kExitFailure;
  }
  log::Info("pipeline stopped");
  return kExitOk;
}

}  // namespace

void RegisterPipelineCommand(CLI::App& app, Commands& commands) {
  static PipelineCommandOptions o;
  unsigned cores = std::thread::hardware_concurrency();
  o.enrich.workers = cores == 0 ? 2 : cores;
  o.enrich.default_enrichments = true;
  o.enrich.probe_iglu_central = true;
  CLI::App* cmd = app.add_subcommand(
      "pipeline", "Collector, enrich and sink in one process: trackers -> pseudonymized files in the lake");
  AddDataDirOption(cmd, &o.data_dir);
  cmd->add_option("--shutdown-timeout-s", o.shutdown_timeout_s,
                  "On SIGTERM, how long to drain enrich and the sink and store open files")
      ->capture_default_str();
  AddCollectorOptions(cmd, &o.collector, 8080);
  AddEnrichOptions(cmd, &o.enrich);
  AddSinkOptions(cmd, &o.sink);
  AddStreamOptions(cmd, &o.streams);
  commands.SetRunner(cmd, [] { return RunPipeline(o); });
}

}  // namespace furrow::app
