// EnrichedEvent: one event in Snowplow's enriched format, 131 atomic fields.
//
// The TSV form (ToTsv) is the enriched-good record: the 131 fields in the order of
// kFieldNames, tab-separated, no header, null written as the empty string,
// booleans 1/0, timestamps "yyyy-MM-dd HH:mm:ss.SSS" UTC. `contexts`,
// `derived_contexts` and `unstruct_event` are kept as lists of entity JSON texts
// and wrapped in their Iglu envelopes only when the TSV is written.
//
// Every field value stored here is already TSV-safe (event::MakeTsvSafe): no tab, newline or
// control character. Plain value type: copy freely; not synchronised.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event/enriched_event.h"

namespace furrow::enrich {

inline constexpr char kContextsSchema[] =
    "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1";
inline constexpr char kUnstructEventSchema[] =
    "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0";


// JSON type of a field in the analytics SDKs' JSON form and in bad rows.
enum class FieldType { kString, kInteger, kNumber };

// Field names and indices are event/enriched_event.h's.
extern const std::array<FieldType, event::kFieldCount> kFieldTypes;

struct EnrichedEvent {
  std::array<std::string, event::kFieldCount> fields;

  // Entity JSON texts ({"schema":..,"data":..}, compact).
  std::vector<std::string> contexts;
  std::vector<std::string> derived_contexts;
  std::string unstruct_event;  // empty when the event has none

  // Timestamps in ms since epoch, kept for derived_tstamp and limits.
  int64_t collector_ms = 0;
  std::optional<int64_t> dvce_created_ms;
  std::optional<int64_t> dvce_sent_ms;
  std::optional<int64_t> true_ms;

  std::string& operator[](size_t f) { return fields[f]; }
  const std::string& operator[](size_t f) const { return fields[f]; }
};

// Fills the three JSON columns from the entity lists (idempotent).
void FinalizeJsonColumns(EnrichedEvent* event);

// The enriched-good TSV line (no trailing newline). Calls FinalizeJsonColumns.
std::string ToTsv(EnrichedEvent& event);

// The event as one JSON object of its non-empty fields, typed as in the
// schema_violations / enrichment_failures `enriched` payload (integers and numbers
// unquoted when they parse; strings otherwise). Used inside bad rows.
std::string ToBadRowJson(EnrichedEvent& event);

// TSV-safe copy of a value (event::MakeTsvSafe).
inline std::string CleanTsv(std::string_view value) { return event::MakeTsvSafe(value); }

}  // namespace furrow::enrich
