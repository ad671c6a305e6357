// The bad rows enrich builds (besides the string-payload ones in badrows/):
// adapter_failures 1-0-0, tracker_protocol_violations 1-0-1 (payload: the
// collector payload object) and schema_violations 2-0-1, enrichment_failures 2-0-1
// (payload: {raw, enriched}). Each uses badrows::Envelope.
//
// Every string that a schema caps with maxLength is truncated (on a UTF-8
// boundary) so that the row validates; the schema's maxLength counts characters,
// and truncating bytes keeps the count under it. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "badrows/bad_row.h"
#include "tracker/collector_payload.h"

namespace furrow::enrich {

using Parameters = std::vector<std::pair<std::string, std::string>>;

// {"field":..,"value":..,"expectation":..} (value null when `value` is nullptr).
std::string FieldMessage(std::string_view field, const std::string* value,
                         std::string_view expectation);
// {"field":..,"value":..,"error":..}: a string that should have been JSON.
std::string NotJsonMessage(std::string_view field, std::string_view value, std::string_view error);

// The collector payload object of adapter_failures and tracker_protocol_violations.
std::string CollectorPayloadObject(const tracker::CollectorPayload& payload,
                                   std::string_view vendor, std::string_view version);

// The `raw` object of schema_violations and enrichment_failures.
std::string RawEventObject(const tracker::CollectorPayload& payload, std::string_view vendor,
                           std::string_view version, const Parameters& parameters);

std::string AdapterFailures(const badrows::Processor& processor, int64_t timestamp_ms,
                            std::string_view vendor, std::string_view version,
                            const std::vector<std::string>& messages,
                            std::string_view collector_payload_object);

std::string TrackerProtocolViolations(const badrows::Processor& processor, int64_t timestamp_ms,
                                      std::string_view vendor, std::string_view version,
                                      const std::vector<std::string>& messages,
                                      std::string_view collector_payload_object);

std::string SchemaViolations(const badrows::Processor& processor, int64_t timestamp_ms,
                             const std::vector<std::string>& messages, std::string_view raw_object,
                             std::string_view enriched_object);

// Each message: {"enrichment":{"schemaKey":..,"identifier":..}|null,"message":{...}}.
std::string EnrichmentFailureMessage(std::string_view schema_key, std::string_view identifier,
                                     std::string_view message_json);

std::string EnrichmentFailures(const badrows::Processor& processor, int64_t timestamp_ms,
                               const std::vector<std::string>& messages,
                               std::string_view raw_object, std::string_view enriched_object);

}  // namespace furrow::enrich
