#include "enrich/adapter.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/json_escape.h"
#include "enrich/bad_rows.h"
#include "enrich/enriched_event.h"
#include "tracker/query_string.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices
namespace {

constexpr char kPayloadDataCriterionPrefix[] =
    "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-";
constexpr char kUriRedirectSchema[] =
    "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0";
constexpr char kIgluTrackerVersion[] = "com.snowplowanalytics.iglu-v1";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type without parameters, lower-cased, and the charset parameter.
std::pair<std::string, std::string> SplitContentType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string media = Lower(content_type.substr(0, semi));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  while (!media.empty() && media.front() == ' ') media.erase(media.begin());
  std::string charset;
  if (semi != std::string_view::npos) {
    std::string rest = Lower(content_type.substr(semi + 1));
    size_t pos = rest.find("charset=");
    if (pos != std::string::npos) {
      charset = rest.substr(pos + 8);
      while (!charset.empty() && (charset.back() == ' ' || charset.back() == ';')) charset.pop_back();
    }
  }
  return {media, charset};
}

bool IsJsonContentType(const std::optional<std::string>& content_type) {
  if (!content_type) return false;
  auto [media, charset] = SplitContentType(*content_type);
  return media == "application/json" && (charset.empty() || charset == "utf-8");
}

std::vector<std::pair<std::string, std::string>> QueryParams(
    const tracker::CollectorPayload& payload) {
  if (!payload.querystring) return {};
  return tracker::ParseQueryString(*payload.querystring);
}

std::string ParseErrorText(const rapidjson::Document& doc) {
  std::string msg = rapidjson::GetParseError_En(doc.GetParseError());
  msg += " at offset " + std::to_string(doc.GetErrorOffset());
  return msg;
}

}  // namespace

const std::string* RawEvent::Find(std::string_view name) const {
  auto it = std::lower_bound(parameters.begin(), parameters.end(), name,
                             [](const auto& p, std::string_view n) { return p.first < n; });
  if (it == parameters.end() || it->first != name) return nullptr;
  return &it->second;
}

std::string_view BadRowKindName(BadRowKind kind) {
  switch (kind) {
    case BadRowKind::kNone: return "none";
    case BadRowKind::kCollectorPayloadFormatViolation: return "collector_payload_format_violation";
    case BadRowKind::kAdapterFailures: return "adapter_failures";
    case BadRowKind::kTrackerProtocolViolations: return "tracker_protocol_violations";
    case BadRowKind::kSchemaViolations: return "schema_violations";
    case BadRowKind::kEnrichmentFailures: return "enrichment_failures";
  }
  return "unknown";
}

void NormalizeParameters(std::vector<std::pair<std::string, std::string>>* params) {
  // Sort indices rather than the pairs themselves (cheaper than moving strings),
  // by name then position, and keep the last position of each name.
  const auto& in = *params;
  std::vector<uint32_t> order(in.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    int c = in[a].first.compare(in[b].first);
    return c != 0 ? c < 0 : a < b;
  });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(in.size());
  for (size_t k = 0; k < order.size(); ++k) {
    if (k + 1 < order.size() && in[order[k + 1]].first == in[order[k]].first) continue;
    out.push_back(std::move((*params)[order[k]]));
  }
  *params = std::move(out);
}

void Adapter::Fail(const tracker::CollectorPayload& payload, BadRowKind kind,
                   std::vector<std::string> messages, int64_t now_ms, AdaptedPayload* out) const {
  out->events.clear();
  out->failure = kind;
  std::string object = CollectorPayloadObject(payload, out->vendor, out->version);
  if (kind == BadRowKind::kAdapterFailures) {
    out->bad_row = AdapterFailures(processor_, now_ms, out->vendor, out->version, messages, object);
  } else {
    out->bad_row =
        TrackerProtocolViolations(processor_, now_ms, out->vendor, out->version, messages, object);
  }
}

AdaptedPayload Adapter::Adapt(const tracker::CollectorPayload& payload, int64_t now_ms) const {
  AdaptedPayload out;
  std::string_view path = payload.path ? std::string_view(*payload.path) : std::string_view();
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path == "i" || path == "ice.png") {
    out.vendor = kSnowplowVendor;
    out.version = "tp1";
  } else {
    size_t slash = path.find('/');
    out.vendor = std::string(path.substr(0, slash));
    out.version = slash == std::string_view::npos ? "" : std::string(path.substr(slash + 1));
  }
  if (out.vendor == kSnowplowVendor && out.version == "tp1") {
    AdaptTrackerProtocol(payload, /*allow_body=*/false, now_ms, &out);
  } else if (out.vendor == kSnowplowVendor && out.version == "tp2") {
    AdaptTrackerProtocol(payload, /*allow_body=*/true, now_ms, &out);
  } else if (out.vendor == "r" && out.version == "tp2") {
    AdaptRedirect(payload, now_ms, &out);
  } else if (out.vendor == kIgluVendor && out.version == "v1") {
    AdaptIgluWebhook(payload, now_ms, &out);
  } else {
    std::string value = out.vendor + "/" + out.version;
    Fail(payload, BadRowKind::kAdapterFailures,
         {FieldMessage("vendor/version", &value, "vendor/version combination is not supported")},
         now_ms, &out);
  }
  return out;
}

void Adapter::AdaptTrackerProtocol(const tracker::CollectorPayload& payload, bool allow_body,
                                   int64_t now_ms, AdaptedPayload* out) const {
  auto query = QueryParams(payload);
  bool has_body = allow_body && payload.body && !payload.body->empty();
  if (!has_body) {
    if (query.empty()) {
      Fail(payload, BadRowKind::kTrackerProtocolViolations,
           {FieldMessage("querystring", nullptr, "empty querystring: no events to process")},
           now_ms, out);
      return;
    }
    RawEvent event;
    event.parameters = std::move(query);
    NormalizeParameters(&event.parameters);
    out->events.push_back(std::move(event));
    return;
  }
  if (!IsJsonContentType(payload.content_type)) {
    Fail(payload, BadRowKind::kTrackerProtocolViolations,
         {FieldMessage("contentType", payload.content_type ? &*payload.content_type : nullptr,
                       "expected one of application/json, application/json; charset=utf-8, "
                       "application/json; charset=UTF-8")},
         now_ms, out);
    return;
  }
  rapidjson::Document doc;
  doc.Parse(payload.body->data(), payload.body->size());
  if (doc.HasParseError()) {
    Fail(payload, BadRowKind::kTrackerProtocolViolations,
         {NotJsonMessage("body", *payload.body, ParseErrorText(doc))}, now_ms, out);
    return;
  }
  if (auto not_sd = CheckSelfDescribing(doc)) {
    Fail(payload, BadRowKind::kTrackerProtocolViolations, {*not_sd}, now_ms, out);
    return;
  }
  std::string_view schema(doc["schema"].GetString(), doc["schema"].GetStringLength());
  if (schema.substr(0, sizeof(kPayloadDataCriterionPrefix) - 1) != kPayloadDataCriterionPrefix) {
    std::string message = "{\"schemaKey\":";
    AppendJsonString(&message, schema);
    message += ",\"schemaCriterion\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-*-*\"}";
    Fail(payload, BadRowKind::kTrackerProtocolViolations, {message}, now_ms, out);
    return;
  }
  if (auto invalid = validator_->Validate(doc)) {
    Fail(payload, BadRowKind::kTrackerProtocolViolations, {*invalid}, now_ms, out);
    return;
  }
  const rapidjson::Value& data = doc["data"];
  if (!data.IsArray() || data.Empty()) {
    Fail(payload, BadRowKind::kTrackerProtocolViolations,
         {FieldMessage("data", nullptr, "a non-empty array of events")}, now_ms, out);
    return;
  }
  for (const auto& element : data.GetArray()) {
    RawEvent event;
    if (element.IsObject()) {
      for (const auto& m : element.GetObject()) {
        std::string name(m.name.GetString(), m.name.GetStringLength());
        if (m.value.IsString()) {
          event.parameters.emplace_back(std::move(name),
                                        std::string(m.value.GetString(), m.value.GetStringLength()));
        } else {
          event.parameters.emplace_back(std::move(name), JsonText(m.value));
        }
      }
    }
    for (const auto& q : query) event.parameters.push_back(q);
    NormalizeParameters(&event.parameters);
    out->events.push_back(std::move(event));
  }
}

void Adapter::AdaptRedirect(const tracker::CollectorPayload& payload, int64_t now_ms,
                            AdaptedPayload* out) const {
  auto query = QueryParams(payload);
  const std::string* target = nullptr;
  for (const auto& q : query) {
    if (q.first == "u") target = &q.second;
  }
  if (target == nullptr) {
    Fail(payload, BadRowKind::kTrackerProtocolViolations,
         {FieldMessage("u", nullptr, "the redirect target u is required")}, now_ms, out);
    return;
  }
  std::string ue = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\","
                   "\"data\":{\"schema\":\"";
  ue += kUriRedirectSchema;
  ue += "\",\"data\":{\"uri\":";
  AppendJsonString(&ue, *target);
  ue += "}}}";
  RawEvent event;
  for (auto& q : query) {
    if (q.first != "u") event.parameters.push_back(std::move(q));
  }
  // The tracker's own values win over these defaults, so they go first.
  std::vector<std::pair<std::string, std::string>> params = {
      {"e", "ue"}, {"p", "web"}, {"tv", "r-tp2"}, {"ue_pr", ue}};
  for (auto& p : event.parameters) params.push_back(std::move(p));
  // e and ue_pr are fixed by the redirect itself.
  params.emplace_back("e", "ue");
  params.emplace_back("ue_pr", ue);
  event.parameters = std::move(params);
  NormalizeParameters(&event.parameters);
  out->events.push_back(std::move(event));
}

void Adapter::AdaptIgluWebhook(const tracker::CollectorPayload& payload, int64_t now_ms,
                               AdaptedPayload* out) const {
  auto query = QueryParams(payload);
  std::optional<std::string> schema;
  std::string platform = "app";
  rapidjson::Document data(rapidjson::kObjectType);
  auto& alloc = data.GetAllocator();
  for (const auto& q : query) {
    if (q.first == "schema") {
      schema = q.second;
    } else if (q.first == "p") {
      platform = q.second;
    } else {
      data.RemoveMember(q.first.c_str());
      data.AddMember(rapidjson::Value(q.first.c_str(), alloc), rapidjson::Value(q.second.c_str(), alloc), alloc);
    }
  }
  std::string entity;  // {"schema":..,"data":..}
  bool has_body = payload.body && !payload.body->empty();
  if (has_body) {
    auto [media, charset] = SplitContentType(payload.content_type.value_or(""));
    if (media == "application/json") {
      rapidjson::Document body;
      body.Parse(payload.body->data(), payload.body->size());
      if (body.HasParseError()) {
        Fail(payload, BadRowKind::kTrackerProtocolViolations,
             {NotJsonMessage("body", *payload.body, ParseErrorText(body))}, now_ms, out);
        return;
      }
      if (schema) {
        entity = "{\"schema\":";
        AppendJsonString(&entity, *schema);
        entity += ",\"data\":" + JsonText(body) + "}";
      } else {
        if (auto not_sd = CheckSelfDescribing(body)) {
          Fail(payload, BadRowKind::kTrackerProtocolViolations, {*not_sd}, now_ms, out);
          return;
        }
        entity = JsonText(body);
      }
    } else if (media == "application/x-www-form-urlencoded") {
      for (const auto& f : tracker::ParseQueryString(*payload.body)) {
        data.RemoveMember(f.first.c_str());
        data.AddMember(rapidjson::Value(f.first.c_str(), alloc), rapidjson::Value(f.second.c_str(), alloc), alloc);
      }
    } else {
      Fail(payload, BadRowKind::kTrackerProtocolViolations,
           {FieldMessage("contentType", payload.content_type ? &*payload.content_type : nullptr,
                         "expected one of application/json, application/x-www-form-urlencoded")},
           now_ms, out);
      return;
    }
  }
  if (entity.empty()) {
    if (!schema) {
      Fail(payload, BadRowKind::kAdapterFailures,
           {FieldMessage("schema", nullptr, "the schema query parameter is required")}, now_ms,
           out);
      return;
    }
    entity = "{\"schema\":";
    AppendJsonString(&entity, *schema);
    entity += ",\"data\":" + JsonText(data) + "}";
  }
  RawEvent event;
  event.parameters = {{"e", "ue"},
                      {"p", platform},
                      {"tv", kIgluTrackerVersion},
                      {"ue_pr", std::string("{\"schema\":\"") + kUnstructEventSchema + "\",\"data\":" + entity + "}"}};
  NormalizeParameters(&event.parameters);
  out->events.push_back(std::move(event));
}

}  // namespace furrow::enrich
