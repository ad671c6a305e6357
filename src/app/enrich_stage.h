// EnrichRunner: enrich as the `enrich` and `pipeline` commands run it — the Iglu
// resolver, the enrichments, the Enricher and enrich::EnrichStage (raw-good ->
// enriched-good / enriched-bad) on a StreamProvider, run on its own thread.
//
//   EnrichOptions options;                          // or bound by AddEnrichOptions
//   auto runner = EnrichRunner::Create(options, streams, &clock, &metrics);
//   (*runner)->Start(/*exit_when_idle=*/false);     // the loop runs on a thread
//   ...
//   Status s = (*runner)->Stop();                   // finish the batch in hand, flush,
//                                                   // commit, join; the loop's status
//
// Defaults (EnrichOptions):
//   iglu_config empty          built-in schemas + Iglu Central over HTTP
//                              (iglu::ResolverConfig::Default). With
//                              probe_iglu_central, Iglu Central is probed once at
//                              start (2 s) and left out, with a warning, when it does
//                              not answer, so events never wait on an unreachable
//                              registry.
//   enrichments_dir empty      no enrichments; with default_enrichments, the
//                              enrichments that need no data (campaign_attribution,
//                              event_fingerprint_config) plus ua_parser_config and
//                              referer_parser when their Debian data files are
//                              installed (kDefaultUaRegexes, kDefaultReferers).
//   workers 2, batch_records 1000, ua_cache_size 65536, max_url_length 4096,
//   reader "enrich", journal_dir empty (required: EnrichJournalDir(data_dir)).
//
// Errors (Create): an unreadable or invalid --iglu-config, an enrichment config that
// fails to load. Thread safety: Create/Start/Wait/Stop from one thread, RequestStop
// from any. The provider,
// clock and metrics must outlive the runner.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "stream/stream.h"

namespace furrow::enrich {
class Enricher;
class EnrichStage;
class IgluEntityValidator;
class RandomUuidSource;
}  // namespace furrow::enrich
namespace furrow::iglu {
class Resolver;
}  // namespace furrow::iglu

namespace furrow::app {

// Debian's data files for the default enrichments (packages uap-core and
// ruby-referer-parser).
inline constexpr const char* kDefaultUaRegexes = "/usr/share/uap-core/regexes.yaml";
inline constexpr const char* kDefaultReferers =
    "/usr/share/rubygems-integration/all/gems/referer-parser-0.3.0/data/referers.yml";

struct EnrichOptions {
  std::string iglu_config;      // --iglu-config
  std::string enrichments_dir;  // --enrichments
  size_t workers = 2;           // --workers
  size_t batch_records = 1000;  // --batch-records
  size_t ua_cache_size = 65536;
  size_t max_url_length = 4096;
  std::string reader = "enrich";
  // Where the stage's journal lives (enrich::EnrichStageOptions::journal_dir); the
  // commands set EnrichJournalDir(data_dir). Required: Start's loop fails without it.
  std::string journal_dir;
  bool default_enrichments = false;  // see the banner (pipeline: true)
  bool probe_iglu_central = false;   // see the banner (pipeline: true)
};

// DATA_DIR/enrich: the enrich stage's journal directory.
std::string EnrichJournalDir(const std::string& data_dir);

// --iglu-config, --enrichments, --workers, --batch-records, --ua-cache-size,
// --max-url-length, --reader.
void AddEnrichOptions(CLI::App* command, EnrichOptions* options);

class EnrichRunner {
 public:
  static Result<std::unique_ptr<EnrichRunner>> Create(const EnrichOptions& options,
                                                      stream::StreamProvider* streams,
                                                      const Clock* clock,
                                                      MetricsRegistry* metrics);
  ~EnrichRunner();

  // Starts the loop on a thread. With `exit_when_idle` it ends by itself once
  // raw-good has no more records.
  void Start(bool exit_when_idle);
  // Asks the loop to finish the batch in hand and end. Safe from any thread.
  void RequestStop() { stop_.store(true); }
  // Waits for the loop to end (by itself with exit_when_idle, or after
  // RequestStop), joins and returns the loop's status.
  [[nodiscard]] Status Wait();
  // RequestStop() then Wait().
  [[nodiscard]] Status Stop() {
    RequestStop();
    return Wait();
  }

  // Comma-separated names of the enrichments in application order.
  const std::string& enrichment_names() const { return names_; }

 private:
  EnrichRunner();

  EnrichOptions options_;
  stream::StreamProvider* streams_ = nullptr;
  MetricsRegistry* metrics_ = nullptr;
  const Clock* clock_ = nullptr;
  std::unique_ptr<iglu::Resolver> resolver_;
  std::unique_ptr<enrich::IgluEntityValidator> validator_;
  std::unique_ptr<enrich::RandomUuidSource> uuids_;
  std::unique_ptr<enrich::Enricher> enricher_;
  std::unique_ptr<enrich::EnrichStage> stage_;
  std::string names_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  Status status_;
};

}  // namespace furrow::app
