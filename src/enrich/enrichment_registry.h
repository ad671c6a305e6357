// Enrichment configuration: Snowplow's self-describing enrichment config files.
//
// LoadEnrichments(dir) reads every *.json file in `dir` (sorted by name). Each is
//   {"schema":"iglu:com.snowplowanalytics.snowplow/<name>/jsonschema/X-Y-Z",
//    "data":{"vendor":"com.snowplowanalytics.snowplow","name":"<name>",
//            "enabled":true,"parameters":{...}}}
// (vendor com.snowplowanalytics.snowplow.enrichments for the IAB enrichment).
// Disabled configs are skipped. Supported names: campaign_attribution,
// referer_parser, ua_parser_config, ip_lookups, event_fingerprint_config,
// cookie_extractor_config, http_header_extractor_config, anon_ip,
// iab_spiders_and_robots_enrichment. Any other enabled config is a start-up error
// (an enrichment the operator asked for must not be silently skipped), as is a
// data file that is missing or unreadable.
//
// The returned list is in Snowplow's application order (snowplow-protocol.md §6),
// not file order. Thread safety: the enrichments are immutable and shareable.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "enrich/enrichments/enrichment.h"

namespace furrow::enrich {

struct EnrichmentOptions {
  // Entries of the ua_parser cache (0 disables). Default 65536.
  size_t ua_cache_size = 65536;
};

// Builds one enrichment from the text of its config. `base_dir` resolves relative
// data paths. Returns nullptr (OK) for a disabled config.
Result<std::unique_ptr<Enrichment>> CreateEnrichment(std::string_view config_json,
                                                     const std::filesystem::path& base_dir,
                                                     const EnrichmentOptions& options = {});

Result<std::vector<std::unique_ptr<Enrichment>>> LoadEnrichments(
    const std::filesystem::path& dir, const EnrichmentOptions& options = {});

// Sorts enrichments into application order.
void SortByApplicationOrder(std::vector<std::unique_ptr<Enrichment>>* enrichments);

}  // namespace furrow::enrich
