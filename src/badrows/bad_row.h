// Bad rows: the self-describing JSON documents that record every failure, in the
// shapes of Iglu Central's com.snowplowanalytics.snowplow.badrows schemas.
//
//   {"schema":"iglu:com.snowplowanalytics.snowplow.badrows/<type>/jsonschema/<ver>",
//    "data":{"processor":{"artifact":"furrow","version":"0.1.0"},
//            "failure":{...},"payload":...}}
//
// The builders here cover the types whose payload is a plain string. Types whose
// payload is a collector payload object or an enriched event are built in
// src/enrich (they need the adapters' view of the request) with the same envelope.
// All builders produce valid JSON for any input bytes (invalid UTF-8 is replaced).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace furrow::badrows {

inline constexpr char kSizeViolationSchema[] =
    "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0";
inline constexpr char kCollectorPayloadFormatViolationSchema[] =
    "iglu:com.snowplowanalytics.snowplow.badrows/collector_payload_format_violation/jsonschema/1-0-0";
inline constexpr char kAdapterFailuresSchema[] =
    "iglu:com.snowplowanalytics.snowplow.badrows/adapter_failures/jsonschema/1-0-0";
inline constexpr char kTrackerProtocolViolationsSchema[] =
    "iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1";
inline constexpr char kSchemaViolationsSchema[] =
    "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1";
inline constexpr char kEnrichmentFailuresSchema[] =
    "iglu:com.snowplowanalytics.snowplow.badrows/enrichment_failures/jsonschema/2-0-1";
inline constexpr char kGenericErrorSchema[] =
    "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0";

// Who produced the bad row; defaults to this build of furrow.
struct Processor {
  std::string artifact;
  std::string version;
  static Processor Furrow();
};

// The envelope around a failure and a payload that are already JSON texts.
std::string Envelope(std::string_view schema, const Processor& processor,
                     std::string_view failure_json, std::string_view payload_json);

// size_violation 1-0-0. `payload` is the offending record, truncated by the caller.
std::string SizeViolation(const Processor& processor, int64_t timestamp_ms,
                          uint64_t maximum_allowed_size_bytes, uint64_t actual_size_bytes,
                          std::string_view expectation, std::string_view payload);

// collector_payload_format_violation 1-0-0 (`loader` names the input format, e.g. "thrift").
std::string CollectorPayloadFormatViolation(const Processor& processor, int64_t timestamp_ms,
                                            std::string_view loader, std::string_view message,
                                            std::string_view payload);

// generic_error 1-0-0.
std::string GenericError(const Processor& processor, int64_t timestamp_ms,
                         const std::vector<std::string>& errors, std::string_view payload);

// Truncates to at most `max_bytes` without splitting a UTF-8 sequence.
std::string_view TruncateUtf8(std::string_view value, size_t max_bytes);

}  // namespace furrow::badrows
