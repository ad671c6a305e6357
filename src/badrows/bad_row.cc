#include "badrows/bad_row.h"

#include "core/json_escape.h"
#include "core/time_format.h"
#include "core/version.h"

namespace furrow::badrows {
namespace {

// The schema's maxLength for collector_payload_format_violation's message.
constexpr size_t kMaxFormatViolationMessageBytes = 512;

void AppendTimestamp(std::string* out, int64_t timestamp_ms) {
  AppendJsonString(out, FormatIso8601Millis(timestamp_ms));
}

std::string Quoted(std::string_view v) {
  std::string out;
  AppendJsonString(&out, v);
  return out;
}

}  // namespace

Processor Processor::Furrow() { return Processor{kArtifact, kVersion}; }

std::string Envelope(std::string_view schema, const Processor& processor,
                     std::string_view failure_json, std::string_view payload_json) {
  std::string out;
  out.reserve(128 + failure_json.size() + payload_json.size());
  out += "{\"schema\":";
  AppendJsonString(&out, schema);
  out += ",\"data\":{\"processor\":{\"artifact\":";
  AppendJsonString(&out, processor.artifact);
  out += ",\"version\":";
  AppendJsonString(&out, processor.version);
  out += "},\"failure\":";
  out += failure_json;
  out += ",\"payload\":";
  out += payload_json;
  out += "}}";
  return out;
}

std::string SizeViolation(const Processor& processor, int64_t timestamp_ms,
                          uint64_t maximum_allowed_size_bytes, uint64_t actual_size_bytes,
                          std::string_view expectation, std::string_view payload) {
  std::string failure = "{\"timestamp\":";
  AppendTimestamp(&failure, timestamp_ms);
  failure += ",\"maximumAllowedSizeBytes\":" + std::to_string(maximum_allowed_size_bytes);
  failure += ",\"actualSizeBytes\":" + std::to_string(actual_size_bytes);
  failure += ",\"expectation\":";
  AppendJsonString(&failure, expectation);
  failure += '}';
  return Envelope(kSizeViolationSchema, processor, failure, Quoted(payload));
}

std::string CollectorPayloadFormatViolation(const Processor& processor, int64_t timestamp_ms,
                                            std::string_view loader, std::string_view message,
                                            std::string_view payload) {
  std::string failure = "{\"timestamp\":";
  AppendTimestamp(&failure, timestamp_ms);
  failure += ",\"loader\":";
  AppendJsonString(&failure, loader);
  failure += ",\"message\":{\"error\":";
  AppendJsonString(&failure, TruncateUtf8(message, kMaxFormatViolationMessageBytes));
  failure += "}}";
  return Envelope(kCollectorPayloadFormatViolationSchema, processor, failure, Quoted(payload));
}

std::string GenericError(const Processor& processor, int64_t timestamp_ms,
                         const std::vector<std::string>& errors, std::string_view payload) {
  std::string failure = "{\"timestamp\":";
  AppendTimestamp(&failure, timestamp_ms);
  failure += ",\"errors\":[";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i) failure += ',';
    AppendJsonString(&failure, errors[i]);
  }
  failure += "]}";
  return Envelope(kGenericErrorSchema, processor, failure, Quoted(payload));
}

std::string_view TruncateUtf8(std::string_view value, size_t max_bytes) {
  if (value.size() <= max_bytes) return value;
  size_t end = max_bytes;
  // Step back over continuation bytes so a multi-byte sequence is not split.
  while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) --end;
  return value.substr(0, end);
}

}  // namespace furrow::badrows
