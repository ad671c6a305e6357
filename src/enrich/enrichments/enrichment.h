// Enrichment: one configurable step that adds fields or derived contexts to an
// event after the tracker-protocol mapping.
//
// Enrichments are built once at start-up from Snowplow's self-describing config
// JSON (see enrichment_registry.h); everything they need from disk (databases,
// regex files) is loaded then, so a missing or unreadable file is a start-up
// error, never a per-event one. Enrich() is const and must be safe for concurrent
// use by all enrich workers. A failure inside an enrichment is appended to
// `failures` as an enrichment_failures message (see bad_rows.h) and makes the event
// an enrichment_failures bad row; it never throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "enrich/adapter.h"
#include "enrich/enriched_event.h"
#include "tracker/collector_payload.h"

namespace furrow::enrich {

struct EnrichmentInput {
  const RawEvent& raw;
  const tracker::CollectorPayload& payload;
};

class Enrichment {
 public:
  virtual ~Enrichment() = default;

  // The config schema's name, e.g. "ua_parser_config"; used in metrics labels.
  virtual std::string_view name() const = 0;
  // The config schema key, e.g. "iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1".
  virtual const std::string& schema_key() const = 0;

  virtual void Enrich(const EnrichmentInput& input, EnrichedEvent* event,
                      std::vector<std::string>* failures) const = 0;
};

}  // namespace furrow::enrich
