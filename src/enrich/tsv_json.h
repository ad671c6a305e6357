// EnrichedTsvToJson: one enriched-good TSV line as JSON, the way Snowplow's
// analytics SDKs present it (used by `furrow stream dump enriched-good --format json`).
//
//   - one member per non-empty field, named as in event/enriched_event.h;
//   - integers and decimals as numbers, br_features_*, br_cookies and
//     dvce_ismobile as booleans, timestamps as ISO 8601 ("2026-11-25T10:00:00.123Z");
//   - contexts and derived_contexts expanded to one member per schema and model,
//     "contexts_<vendor with _>_<name in snake_case>_<model>": [data, ...] (entities
//     of both columns with the same key are appended into one array);
//   - unstruct_event as "unstruct_event_<vendor>_<name>_<model>": data;
//   - geo_location "lat,lon" when both are set.
// A value that does not parse as its type is kept as a string rather than
// dropped. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace furrow::enrich {

// Errors: kInvalidArgument when the line does not have 131 fields or a JSON
// column is not self-describing JSON.
Result<std::string> EnrichedTsvToJsonChecked(std::string_view line);

// As above; on error returns {"error":"<reason>"} so that a dump never stops.
std::string EnrichedTsvToJson(std::string_view line);

// "contexts_com_acme_button_click_1" from "iglu:com.acme/buttonClick/jsonschema/1-0-0".
std::string ShreddedKey(std::string_view prefix, std::string_view schema_uri);

}  // namespace furrow::enrich
