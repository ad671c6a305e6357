// `furrow enrich`: the enrich stage alone, on the embedded file streams.
//
// Wires FileStreamProvider (DATA_DIR/streams) + iglu::Resolver (--iglu-config,
// Snowplow's resolver config) + the enrichments of --enrichments DIR (Snowplow's
// enrichment configs) + enrich::EnrichStage. Reads raw-good, writes enriched-good
// and enriched-bad. On SIGTERM/SIGINT it finishes the batch in hand, flushes its
// outputs, commits its input position and exits 0. Every option is documented in
// docs/configuration.md.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "app/commands.h"
#include "app/signals.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "enrich/enrich_stage.h"
#include "enrich/enricher.h"
#include "enrich/enrichment_registry.h"
#include "enrich/iglu_validator.h"
#include "enrich/uuid_source.h"
#include "iglu/resolver.h"
#include "stream/file_log.h"

namespace furrow::app {
namespace {

struct EnrichCommandOptions {
  std::string data_dir = "./var";
  std::string iglu_config;
  std::string enrichments_dir;
  size_t workers = 2;
  size_t batch_records = 1000;
  size_t ua_cache_size = 65536;
  size_t max_url_length = 4096;
  bool exit_when_idle = false;
  std::string reader = "enrich";

  uint64_t stream_budget_bytes = 1ull << 30;
  uint64_t stream_segment_bytes = 64ull << 20;
  size_t stream_max_record_bytes = 1'000'000;
  int64_t stream_group_commit_us = 1000;
  uint64_t stream_max_pending_bytes = 64ull << 20;
};

int Fail(const std::string& what, const Status& status) {
  log::Error(what, {{"error", status.ToString()}});
  std::fprintf(stderr, "furrow enrich: %s: %s\n", what.c_str(), status.ToString().c_str());
  return kExitFailure;
}

int RunEnrich(const EnrichCommandOptions& o) {
  MetricsRegistry metrics;
  const Clock& clock = SystemClock::Instance();

  Result<iglu::ResolverConfig> resolver_config =
      o.iglu_config.empty() ? Result<iglu::ResolverConfig>(iglu::ResolverConfig::Default())
                            : iglu::ResolverConfig::Load(o.iglu_config);
  if (!resolver_config.ok()) return Fail("bad --iglu-config", resolver_config.status());
  iglu::ResolverOptions resolver_options;
  resolver_options.clock = &clock;
  resolver_options.metrics = &metrics;
  auto resolver = iglu::Resolver::Create(std::move(*resolver_config), resolver_options);
  if (!resolver.ok()) return Fail("cannot create the Iglu resolver", resolver.status());

  enrich::EnrichmentOptions enrichment_options;
  enrichment_options.ua_cache_size = o.ua_cache_size;
  std::vector<std::unique_ptr<enrich::Enrichment>> enrichments;
  if (!o.enrichments_dir.empty()) {
    auto loaded = enrich::LoadEnrichments(o.enrichments_dir, enrichment_options);
    if (!loaded.ok()) return Fail("cannot load enrichments", loaded.status());
    enrichments = std::move(*loaded);
  }
  std::string names;
  for (const auto& e : enrichments) names += (names.empty() ? "" : ",") + std::string(e->name());

  enrich::IgluEntityValidator validator(resolver->get(), &clock);
  enrich::RandomUuidSource uuids;
  enrich::EnricherOptions enricher_options;
  enricher_options.validator = &validator;
  enricher_options.uuids = &uuids;
  enricher_options.clock = &clock;
  enricher_options.enrichments = std::move(enrichments);
  enricher_options.limits.max_url_length = o.max_url_length;
  enrich::Enricher enricher(std::move(enricher_options));

  stream::FileStreamOptions stream_options;
  stream_options.budget_bytes = o.stream_budget_bytes;
  stream_options.segment_bytes = o.stream_segment_bytes;
  stream_options.max_record_bytes = o.stream_max_record_bytes;
  stream_options.group_commit_window = std::chrono::microseconds(o.stream_group_commit_us);
  stream_options.max_pending_bytes = o.stream_max_pending_bytes;
  auto provider = stream::FileStreamProvider::Open(o.data_dir + "/streams", stream_options, clock,
                                                   &metrics);
  if (!provider.ok()) return Fail("cannot open streams", provider.status());

  enrich::EnrichStageOptions stage_options;
  stage_options.workers = o.workers;
  stage_options.max_batch_records = o.batch_records;
  stage_options.exit_when_idle = o.exit_when_idle;
  stage_options.reader = o.reader;
  enrich::EnrichStage stage(provider->get(), &enricher, &metrics, stage_options);

  std::atomic<bool> stop{false};
  std::thread signals([&stop] {
    WaitForTerminationSignal();
    stop.store(true);
  });
  signals.detach();

  log::Info("enrich started", {{"data_dir", o.data_dir},
                               {"enrichments", names},
                               {"workers", static_cast<uint64_t>(o.workers)}});
  Status status = stage.Run(stop);
  (*provider)->Close();
  if (!status.ok()) return Fail("enrich stopped", status);
  log::Info("enrich stopped");
  return kExitOk;
}

}  // namespace

void RegisterEnrichCommand(CLI::App& app, Commands& commands) {
  static EnrichCommandOptions o;
  CLI::App* cmd = app.add_subcommand(
      "enrich", "Enrich stage: raw-good -> enriched-good (TSV) and enriched-bad (bad rows)");
  AddDataDirOption(cmd, &o.data_dir);
  cmd->add_option("--iglu-config", o.iglu_config,
                  "Iglu resolver config (Snowplow's resolver-config JSON); default Iglu Central")
      ->check(CLI::ExistingFile);
  cmd->add_option("--enrichments", o.enrichments_dir,
                  "Directory of enrichment config JSON files (Snowplow's format)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--workers", o.workers, "Enrich worker threads")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--batch-records", o.batch_records, "Records per input batch (bounds memory)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--ua-cache-size", o.ua_cache_size, "User agents cached by ua_parser; 0 disables")
      ->capture_default_str();
  cmd->add_option("--max-url-length", o.max_url_length,
                  "Longest page_url/page_referrer before a schema_violations bad row")
      ->capture_default_str();
  cmd->add_option("--reader", o.reader, "Consumer name on raw-good")->capture_default_str();
  cmd->add_flag("--exit-when-idle", o.exit_when_idle,
                "Exit once raw-good has no more records (one-shot runs)");
  cmd->add_option("--stream-budget-bytes", o.stream_budget_bytes, "Disk budget of each stream")
      ->capture_default_str();
  cmd->add_option("--stream-segment-bytes", o.stream_segment_bytes, "Stream segment file size")
      ->capture_default_str();
  cmd->add_option("--stream-max-record-bytes", o.stream_max_record_bytes, "Largest stream record")
      ->capture_default_str();
  cmd->add_option("--stream-group-commit-us", o.stream_group_commit_us,
                  "Group commit window in microseconds")
      ->capture_default_str();
  cmd->add_option("--stream-max-pending-bytes", o.stream_max_pending_bytes,
                  "Bytes accepted but not yet durable beyond which appends are refused")
      ->capture_default_str();
  commands.SetRunner(cmd, [] { return RunEnrich(o); });
}

}  // namespace furrow::app
