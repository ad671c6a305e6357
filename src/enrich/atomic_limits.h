// Atomic field length limits (Snowplow's atomic schema,
// iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0; lengths in
// characters). An over-long value makes the event a schema_violations bad row.
// page_url and page_referrer are limited to 4096 by default (configurable, newer
// Snowplow enrich allows 10000). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "enrich/enriched_event.h"

namespace furrow::enrich {

inline constexpr char kAtomicSchema[] = "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0";

struct AtomicLimitsOptions {
  size_t max_url_length = 4096;  // page_url, page_referrer
};

// nullopt when every field fits; otherwise one schema_violations message naming
// each over-long field (dataReports with path $.field, keyword maxLength).
std::optional<std::string> CheckAtomicLimits(const EnrichedEvent& event,
                                             const AtomicLimitsOptions& options = {});

}  // namespace furrow::enrich
