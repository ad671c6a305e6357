#include "enrich/bad_rows.h"

#include "core/json_escape.h"
#include "core/time_format.h"
#include "tracker/query_string.h"

namespace furrow::enrich {
namespace {

using badrows::TruncateUtf8;

void AppendCapped(std::string* out, std::string_view value, size_t max) {
  AppendJsonString(out, TruncateUtf8(value, max));
}

void AppendKey(std::string* out, std::string_view key) {
  out->push_back(',');
  out->push_back('"');
  out->append(key);
  out->append("\":");
}

bool LooksLikeUuid(std::string_view v) {
  if (v.size() != 36) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (c == '-')) return false;
    if (!dash && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

// The members common to the collector payload and raw event objects, after
// vendor and version.
void AppendSourceMembers(std::string* out, const tracker::CollectorPayload& p, bool raw_event) {
  if (p.content_type) {
    AppendKey(out, "contentType");
    AppendCapped(out, *p.content_type, 256);
  }
  if (!raw_event) {
    if (p.body) {
      AppendKey(out, "body");
      AppendJsonString(out, *p.body);
    }
    AppendKey(out, "collector");
    AppendCapped(out, p.collector, 32);
  } else {
    AppendKey(out, "loaderName");
    AppendCapped(out, p.collector, 32);
  }
  AppendKey(out, "encoding");
  AppendCapped(out, p.encoding, 32);
  if (p.hostname) {
    AppendKey(out, "hostname");
    AppendCapped(out, *p.hostname, 8192);
  }
  AppendKey(out, "timestamp");
  AppendJsonString(out, FormatIso8601Millis(p.timestamp_ms));
  if (!p.ip_address.empty()) {
    AppendKey(out, "ipAddress");
    AppendCapped(out, p.ip_address, 128);
  }
  if (p.user_agent) {
    AppendKey(out, "useragent");
    AppendCapped(out, *p.user_agent, 4096);
  }
  if (p.referer_uri) {
    AppendKey(out, "refererUri");
    AppendCapped(out, *p.referer_uri, 8192);
  }
  if (p.headers) {
    AppendKey(out, "headers");
    out->push_back('[');
    for (size_t i = 0; i < p.headers->size(); ++i) {
      if (i) out->push_back(',');
      AppendCapped(out, (*p.headers)[i], 8192);
    }
    out->push_back(']');
  }
  if (p.network_user_id && LooksLikeUuid(*p.network_user_id)) {
    AppendKey(out, raw_event ? "userId" : "networkUserId");
    AppendJsonString(out, *p.network_user_id);
  }
}

void AppendPairs(std::string* out, const Parameters& pairs) {
  out->push_back('[');
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i) out->push_back(',');
    out->append("{\"name\":");
    AppendCapped(out, pairs[i].first, 512);
    out->append(",\"value\":");
    AppendCapped(out, pairs[i].second, 512);
    out->push_back('}');
  }
  out->push_back(']');
}

std::string MessagesFailure(int64_t timestamp_ms, const std::string* vendor,
                            const std::string* version, const std::vector<std::string>& messages) {
  std::string failure = "{\"timestamp\":";
  AppendJsonString(&failure, FormatIso8601Millis(timestamp_ms));
  if (vendor) {
    AppendKey(&failure, "vendor");
    AppendCapped(&failure, *vendor, 64);
    AppendKey(&failure, "version");
    AppendCapped(&failure, *version, 16);
  }
  AppendKey(&failure, "messages");
  failure.push_back('[');
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i) failure.push_back(',');
    failure += messages[i];
  }
  failure += "]}";
  return failure;
}

std::string RawAndEnriched(std::string_view raw_object, std::string_view enriched_object) {
  std::string payload = "{\"raw\":";
  payload += raw_object;
  payload += ",\"enriched\":";
  payload += enriched_object;
  payload += '}';
  return payload;
}

}  // namespace

std::string FieldMessage(std::string_view field, const std::string* value,
                         std::string_view expectation) {
  std::string out = "{\"field\":";
  AppendCapped(&out, field, 64);
  out += ",\"value\":";
  if (value) {
    AppendJsonString(&out, *value);
  } else {
    out += "null";
  }
  out += ",\"expectation\":";
  AppendCapped(&out, expectation, 256);
  out += '}';
  return out;
}

std::string NotJsonMessage(std::string_view field, std::string_view value, std::string_view error) {
  std::string out = "{\"field\":";
  AppendCapped(&out, field, 64);
  out += ",\"value\":";
  AppendJsonString(&out, value);
  out += ",\"error\":";
  AppendJsonString(&out, error);
  out += '}';
  return out;
}

std::string CollectorPayloadObject(const tracker::CollectorPayload& payload,
                                   std::string_view vendor, std::string_view version) {
  std::string out = "{\"vendor\":";
  AppendCapped(&out, vendor, 64);
  AppendKey(&out, "version");
  AppendCapped(&out, version, 16);
  AppendKey(&out, "querystring");
  if (payload.querystring) {
    AppendPairs(&out, tracker::ParseQueryString(*payload.querystring));
  } else {
    out += "[]";
  }
  AppendSourceMembers(&out, payload, /*raw_event=*/false);
  out.push_back('}');
  return out;
}

std::string RawEventObject(const tracker::CollectorPayload& payload, std::string_view vendor,
                           std::string_view version, const Parameters& parameters) {
  std::string out = "{\"vendor\":";
  AppendCapped(&out, vendor, 64);
  AppendKey(&out, "version");
  AppendCapped(&out, version, 16);
  AppendKey(&out, "parameters");
  AppendPairs(&out, parameters);
  AppendSourceMembers(&out, payload, /*raw_event=*/true);
  out.push_back('}');
  return out;
}

std::string AdapterFailures(const badrows::Processor& processor, int64_t timestamp_ms,
                            std::string_view vendor, std::string_view version,
                            const std::vector<std::string>& messages,
                            std::string_view collector_payload_object) {
  std::string v(vendor), ver(version);
  return badrows::Envelope(badrows::kAdapterFailuresSchema, processor,
                           MessagesFailure(timestamp_ms, &v, &ver, messages),
                           collector_payload_object);
}

std::string TrackerProtocolViolations(const badrows::Processor& processor, int64_t timestamp_ms,
                                      std::string_view vendor, std::string_view version,
                                      const std::vector<std::string>& messages,
                                      std::string_view collector_payload_object) {
  std::string v(vendor), ver(version);
  return badrows::Envelope(badrows::kTrackerProtocolViolationsSchema, processor,
                           MessagesFailure(timestamp_ms, &v, &ver, messages),
                           collector_payload_object);
}

std::string SchemaViolations(const badrows::Processor& processor, int64_t timestamp_ms,
                             const std::vector<std::string>& messages, std::string_view raw_object,
                             std::string_view enriched_object) {
  return badrows::Envelope(badrows::kSchemaViolationsSchema, processor,
                           MessagesFailure(timestamp_ms, nullptr, nullptr, messages),
                           RawAndEnriched(raw_object, enriched_object));
}

std::string EnrichmentFailureMessage(std::string_view schema_key, std::string_view identifier,
                                     std::string_view message_json) {
  std::string out = "{\"enrichment\":{\"schemaKey\":";
  AppendJsonString(&out, schema_key);
  out += ",\"identifier\":";
  AppendCapped(&out, identifier, 256);
  out += "},\"message\":";
  out += message_json;
  out += '}';
  return out;
}

std::string EnrichmentFailures(const badrows::Processor& processor, int64_t timestamp_ms,
                               const std::vector<std::string>& messages,
                               std::string_view raw_object, std::string_view enriched_object) {
  return badrows::Envelope(badrows::kEnrichmentFailuresSchema, processor,
                           MessagesFailure(timestamp_ms, nullptr, nullptr, messages),
                           RawAndEnriched(raw_object, enriched_object));
}

}  // namespace furrow::enrich
