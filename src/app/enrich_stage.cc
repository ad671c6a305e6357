#include "app/enrich_stage.h"

#include <filesystem>
#include <utility>
#include <vector>

#include "core/logging.h"
#include "enrich/enrich_stage.h"
#include "enrich/enricher.h"
#include "enrich/enrichment_registry.h"
#include "enrich/iglu_validator.h"
#include "enrich/uuid_source.h"
#include "iglu/resolver.h"
#include "net/http_client.h"

namespace furrow::app {
namespace {

constexpr const char* kRefererGemsDir = "/usr/share/rubygems-integration/all/gems";

// The referers.yml of Debian's ruby-referer-parser, whatever its version; empty when
// the package is not installed.
std::filesystem::path FindReferers() {
  std::error_code ec;
  if (std::filesystem::is_regular_file(kDefaultReferers, ec)) return kDefaultReferers;
  for (const auto& entry : std::filesystem::directory_iterator(kRefererGemsDir, ec)) {
    if (entry.path().filename().string().rfind("referer-parser-", 0) != 0) continue;
    std::filesystem::path file = entry.path() / "data" / "referers.yml";
    if (std::filesystem::is_regular_file(file, ec)) return file;
  }
  return {};
}

std::string SelfDescribingConfig(const std::string& name, const std::string& version,
                                 const std::string& parameters) {
  return "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/" + name + "/jsonschema/" + version +
         "\",\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"" + name +
         "\",\"enabled\":true,\"parameters\":" + parameters + "}}";
}

Result<std::vector<std::unique_ptr<enrich::Enrichment>>> DefaultEnrichments(
    const enrich::EnrichmentOptions& options) {
  std::vector<std::string> configs = {
      SelfDescribingConfig("campaign_attribution", "1-0-1", "{}"),
      SelfDescribingConfig("event_fingerprint_config", "1-0-1",
                           "{\"excludeParameters\":[\"cv\",\"eid\",\"nuid\",\"stm\"],"
                           "\"hashAlgorithm\":\"MD5\"}"),
  };
  std::error_code ec;
  if (std::filesystem::is_regular_file(kDefaultUaRegexes, ec)) {
    std::filesystem::path p(kDefaultUaRegexes);
    configs.push_back(SelfDescribingConfig(
        "ua_parser_config", "1-0-1",
        "{\"uri\":\"file://" + p.parent_path().string() + "\",\"database\":\"" +
            p.filename().string() + "\"}"));
  } else {
    log::Warn("ua_parser enrichment off: uap-core is not installed", {{"path", kDefaultUaRegexes}});
  }
  std::filesystem::path referers = FindReferers();
  if (!referers.empty()) {
    configs.push_back(SelfDescribingConfig(
        "referer_parser", "2-0-0",
        "{\"uri\":\"file://" + referers.parent_path().string() + "\",\"database\":\"" +
            referers.filename().string() + "\",\"internalDomains\":[]}"));
  } else {
    log::Warn("referer_parser enrichment off: ruby-referer-parser is not installed");
  }
  std::vector<std::unique_ptr<enrich::Enrichment>> out;
  for (const std::string& config : configs) {
    FURROW_ASSIGN_OR_RETURN(auto made, enrich::CreateEnrichment(config, "/", options));
    if (made) out.push_back(std::move(made));
  }
  enrich::SortByApplicationOrder(&out);
  return out;
}

// Leaves out HTTP repositories that do not answer within 2 s, with a warning, so that
// lookups of unknown schemas never wait on them.
void DropUnreachableHttpRepositories(iglu::ResolverConfig* config) {
  net::HttpClient client(net::HttpClientOptions{});
  std::vector<iglu::RepositoryConfig> kept;
  for (iglu::RepositoryConfig& repo : config->repositories) {
    if (repo.kind != iglu::RepositoryConfig::Kind::kHttp) {
      kept.push_back(std::move(repo));
      continue;
    }
    net::HttpClientRequest probe;
    probe.method = "HEAD";
    probe.url = repo.uri + "/schemas/com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4";
    probe.timeout = std::chrono::milliseconds(2000);
    probe.connect_timeout = std::chrono::milliseconds(2000);
    Result<net::HttpClientResponse> answer = client.Send(probe);
    if (answer.ok() && answer->status < 500) {
      log::Info("Iglu repository reachable", {{"repository", repo.name}, {"uri", repo.uri}});
      kept.push_back(std::move(repo));
    } else {
      log::Warn("Iglu repository unreachable; using the built-in schemas without it",
                {{"repository", repo.name},
                 {"uri", repo.uri},
                 {"error", answer.ok() ? "HTTP " + std::to_string(answer->status)
                                       : answer.status().ToString()}});
    }
  }
  config->repositories = std::move(kept);
}

}  // namespace

std::string EnrichJournalDir(const std::string& data_dir) { return data_dir + "/enrich"; }

void AddEnrichOptions(CLI::App* cmd, EnrichOptions* o) {
  cmd->add_option("--iglu-config", o->iglu_config,
                  "Iglu resolver config (Snowplow's resolver-config JSON); default: built-in "
                  "schemas + Iglu Central")
      ->check(CLI::ExistingFile);
  cmd->add_option("--enrichments", o->enrichments_dir,
                  "Directory of enrichment config JSON files (Snowplow's format)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--workers", o->workers, "Enrich worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--batch-records", o->batch_records, "Records per input batch (bounds memory)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--ua-cache-size", o->ua_cache_size, "User agents cached by ua_parser; 0 disables")
      ->capture_default_str();
  cmd->add_option("--max-url-length", o->max_url_length,
                  "Longest page_url/page_referrer before a schema_violations bad row")
      ->capture_default_str();
  cmd->add_option("--reader", o->reader, "Consumer name on raw-good")->capture_default_str();
}

EnrichRunner::EnrichRunner() = default;

EnrichRunner::~EnrichRunner() {
  if (thread_.joinable()) {
    Status ignored = Stop();
    (void)ignored;
  }
}

Result<std::unique_ptr<EnrichRunner>> EnrichRunner::Create(const EnrichOptions& o,
                                                           stream::StreamProvider* streams,
                                                           const Clock* clock,
                                                           MetricsRegistry* metrics) {
  std::unique_ptr<EnrichRunner> runner(new EnrichRunner());
  runner->options_ = o;
  runner->streams_ = streams;
  runner->clock_ = clock;
  runner->metrics_ = metrics;

  iglu::ResolverConfig resolver_config;
  if (o.iglu_config.empty()) {
    resolver_config = iglu::ResolverConfig::Default();
    if (o.probe_iglu_central) DropUnreachableHttpRepositories(&resolver_config);
  } else {
    auto loaded = iglu::ResolverConfig::Load(o.iglu_config);
    if (!loaded.ok()) return loaded.status().WithContext("--iglu-config");
    resolver_config = std::move(*loaded);
  }
  iglu::ResolverOptions resolver_options;
  resolver_options.clock = clock;
  resolver_options.metrics = metrics;
  FURROW_ASSIGN_OR_RETURN(runner->resolver_,
                          iglu::Resolver::Create(std::move(resolver_config), resolver_options));

  enrich::EnrichmentOptions enrichment_options;
  enrichment_options.ua_cache_size = o.ua_cache_size;
  std::vector<std::unique_ptr<enrich::Enrichment>> enrichments;
  if (!o.enrichments_dir.empty()) {
    FURROW_ASSIGN_OR_RETURN(enrichments, enrich::LoadEnrichments(o.enrichments_dir, enrichment_options));
  } else if (o.default_enrichments) {
    FURROW_ASSIGN_OR_RETURN(enrichments, DefaultEnrichments(enrichment_options));
  }
  for (const auto& e : enrichments) {
    runner->names_ += (runner->names_.empty() ? "" : ",") + std::string(e->name());
  }

  runner->validator_ = std::make_unique<enrich::IgluEntityValidator>(runner->resolver_.get(), clock);
  runner->uuids_ = std::make_unique<enrich::RandomUuidSource>();
  enrich::EnricherOptions enricher_options;
  enricher_options.validator = runner->validator_.get();
  enricher_options.uuids = runner->uuids_.get();
  enricher_options.clock = clock;
  enricher_options.enrichments = std::move(enrichments);
  enricher_options.limits.max_url_length = o.max_url_length;
  runner->enricher_ = std::make_unique<enrich::Enricher>(std::move(enricher_options));
  return runner;
}

void EnrichRunner::Start(bool exit_when_idle) {
  enrich::EnrichStageOptions stage_options;
  stage_options.workers = options_.workers;
  stage_options.max_batch_records = options_.batch_records;
  stage_options.exit_when_idle = exit_when_idle;
  stage_options.reader = options_.reader;
  stage_options.journal_dir = options_.journal_dir;
  stage_ = std::make_unique<enrich::EnrichStage>(streams_, enricher_.get(), metrics_, stage_options);
  // stop_ is not reset here: a stop requested before Start (an early SIGTERM) must hold.
  thread_ = std::thread([this] { status_ = stage_->Run(stop_); });
}

Status EnrichRunner::Wait() {
  if (thread_.joinable()) thread_.join();
  return status_;
}

}  // namespace furrow::app
