#include "enrich/event_mapper.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <rapidjson/error/en.h>

#include "core/time_format.h"
#include "enrich/bad_rows.h"
#include "enrich/codec.h"
#include "event/tracker_parameters.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices
namespace {

enum class Conv { kString, kInteger, kBool, kDecimal, kTimestamp, kUuid, kEventType, kPlatform, kDims, kSkip };

struct Mapping {
  Conv conv;
  size_t field;
  size_t field2;  // second field of kDims
};

// event::FindParameter's table, with the validation enrich adds on top:
// e and p must be known values, eid and sid UUIDs.
std::optional<Mapping> FindMapping(std::string_view name) {
  const ParameterMapping* p = FindParameter(name);
  if (p == nullptr) return std::nullopt;
  Conv conv = Conv::kString;
  switch (p->kind) {
    case ParameterKind::kString: conv = Conv::kString; break;
    case ParameterKind::kInteger: conv = Conv::kInteger; break;
    case ParameterKind::kDecimal: conv = Conv::kDecimal; break;
    case ParameterKind::kTimestampMs: conv = Conv::kTimestamp; break;
    case ParameterKind::kSize: conv = Conv::kDims; break;
    case ParameterKind::kBoolean: conv = Conv::kBool; break;
    case ParameterKind::kJson:
    case ParameterKind::kJsonBase64Url: conv = Conv::kSkip; break;
  }
  if (name == "e") conv = Conv::kEventType;
  if (name == "p") conv = Conv::kPlatform;
  if (name == "eid" || name == "sid") conv = Conv::kUuid;
  return Mapping{conv, p->field, p->second_field};
}

// Latest timestamp Snowplow's loaders accept: 9999-12-31 23:59:59.999.
constexpr int64_t kMaxTimestampMs = 253402300799999;

bool ParseInt64(std::string_view v, int64_t* out) {
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
  return ec == std::errc() && p == v.data() + v.size() && !v.empty();
}

bool ParseInt32(std::string_view v, std::string* out) {
  int64_t x;
  // Trackers sometimes send whole numbers as decimals ("12.0"); accept those.
  if (!ParseInt64(v, &x)) {
    double d;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(d) || d != std::floor(d)) {
      return false;
    }
    if (d < -2147483648.0 || d > 2147483647.0) return false;
    x = static_cast<int64_t>(d);
  }
  if (x < INT32_MIN || x > INT32_MAX) return false;
  *out = std::to_string(x);
  return true;
}

bool IsDecimal(std::string_view v) {
  if (v.empty()) return false;
  size_t i = 0;
  if (v[i] == '-' || v[i] == '+') ++i;
  bool digits = false, dot = false;
  for (; i < v.size(); ++i) {
    char c = v[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else if ((c == 'e' || c == 'E') && digits) {
      size_t j = i + 1;
      if (j < v.size() && (v[j] == '-' || v[j] == '+')) ++j;
      if (j == v.size()) return false;
      for (; j < v.size(); ++j) {
        if (v[j] < '0' || v[j] > '9') return false;
      }
      return true;
    } else {
      return false;
    }
  }
  return digits;
}

std::string_view EventTypeName(std::string_view e) {
  if (e == "pv") return "page_view";
  if (e == "pp") return "page_ping";
  if (e == "se" || e == "ev") return "struct";
  if (e == "ue") return "unstruct";
  if (e == "tr") return "transaction";
  if (e == "ti") return "transaction_item";
  if (e == "ad") return "ad_impression";
  return {};
}

bool IsPlatform(std::string_view p) {
  static constexpr std::string_view kPlatforms[] = {"web", "iot", "app", "mob", "pc",
                                                    "cnsl", "tv", "srv", "headset"};
  return std::find(std::begin(kPlatforms), std::end(kPlatforms), p) != std::end(kPlatforms);
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool HeaderNameIs(std::string_view header, std::string_view name, std::string_view* value) {
  size_t colon = header.find(':');
  if (colon == std::string_view::npos || colon != name.size()) return false;
  for (size_t i = 0; i < colon; ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != name[i]) return false;
  }
  *value = header.substr(colon + 1);
  return true;
}

// Parses the JSON of a self-describing parameter; on failure adds a message.
bool ParseJsonParam(std::string_view field, const std::string& text, rapidjson::Document* doc,
                    MapFailures* failures) {
  doc->Parse(text.data(), text.size());
  if (doc->HasParseError()) {
    failures->protocol.push_back(NotJsonMessage(
        field, text,
        std::string(rapidjson::GetParseError_En(doc->GetParseError())) + " at offset " +
            std::to_string(doc->GetErrorOffset())));
    return false;
  }
  return true;
}

// The JSON text of ue_pr or the decoded ue_px (same for co/cx); nullopt when
// neither is present or decoding failed (a message is added then).
std::optional<std::string> SelfDescribingParam(const RawEvent& raw, std::string_view plain,
                                               std::string_view encoded, MapFailures* failures) {
  if (const std::string* v = raw.Find(plain)) return *v;
  if (const std::string* v = raw.Find(encoded)) {
    auto decoded = Base64Decode(*v);
    if (!decoded) {
      failures->protocol.push_back(
          FieldMessage(encoded, v, "base64-encoded JSON (URL-safe or standard alphabet)"));
      return std::nullopt;
    }
    return std::move(*decoded);
  }
  return std::nullopt;
}

}  // namespace

std::string ClientIp(const tracker::CollectorPayload& payload) {
  if (payload.headers) {
    std::string_view forwarded;
    bool has_forwarded = false;
    for (const std::string& h : *payload.headers) {
      std::string_view value;
      if (HeaderNameIs(h, "x-forwarded-for", &value)) {
        std::string first = Trim(value.substr(0, value.find(',')));
        if (!first.empty() && first != "unknown") return first;
      } else if (!has_forwarded && HeaderNameIs(h, "forwarded", &value)) {
        forwarded = value;
        has_forwarded = true;
      }
    }
    if (has_forwarded) {
      // Forwarded: for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"
      std::string lower;
      for (char c : forwarded) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      size_t pos = lower.find("for=");
      if (pos != std::string::npos) {
        std::string_view rest = std::string_view(forwarded).substr(pos + 4);
        size_t end = rest.find_first_of(";,");
        std::string v = Trim(rest.substr(0, end));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        if (!v.empty() && v.front() == '[') {
          size_t close = v.find(']');
          if (close != std::string::npos) v = v.substr(1, close - 1);
        } else if (std::count(v.begin(), v.end(), ':') == 1) {
          v = v.substr(0, v.find(':'));  // IPv4 with port
        }
        if (!v.empty() && v != "unknown" && v.front() != '_') return v;
      }
    }
  }
  return payload.ip_address;
}

EventSchema BuiltInEventSchema(std::string_view event) {
  constexpr std::string_view kSp = "com.snowplowanalytics.snowplow";
  if (event == "page_view") return {kSp, "page_view", "jsonschema", "1-0-0"};
  if (event == "page_ping") return {kSp, "page_ping", "jsonschema", "1-0-0"};
  if (event == "struct") return {"com.google.analytics", "event", "jsonschema", "1-0-0"};
  if (event == "transaction") return {kSp, "transaction", "jsonschema", "1-0-0"};
  if (event == "transaction_item") return {kSp, "transaction_item", "jsonschema", "1-0-0"};
  if (event == "ad_impression") return {kSp, "ad_impression", "jsonschema", "1-0-0"};
  return {};
}

void EventMapper::Map(const RawEvent& raw, const tracker::CollectorPayload& payload,
                      int64_t etl_ms, EnrichedEvent* event, MapFailures* failures) const {
  EnrichedEvent& ev = *event;
  // What the collector saw; tracker parameters below override.
  ev.collector_ms = payload.timestamp_ms;
  ev[kCollectorTstamp] = FormatSqlMillis(payload.timestamp_ms);
  ev[kEtlTstamp] = FormatSqlMillis(etl_ms);
  ev[kVCollector] = CleanTsv(payload.collector);
  ev[kVEtl] = etl_version_;
  ev[kUserIpaddress] = CleanTsv(ClientIp(payload));
  if (payload.user_agent) ev[kUseragent] = CleanTsv(*payload.user_agent);
  if (payload.referer_uri) ev[kPageUrl] = CleanTsv(*payload.referer_uri);
  if (payload.network_user_id) ev[kNetworkUserid] = CleanTsv(*payload.network_user_id);

  for (const auto& [name, value] : raw.parameters) {
    std::optional<Mapping> found = FindMapping(name);
    if (!found) continue;
    const Mapping& m = *found;
    switch (m.conv) {
      case Conv::kSkip:
        break;
      case Conv::kString:
        ev[m.field] = CleanTsv(value);
        break;
      case Conv::kEventType: {
        std::string_view type = EventTypeName(value);
        if (type.empty()) {
          failures->protocol.push_back(FieldMessage(
              name, &value, "one of pv, pp, se, ue, tr, ti, ad (the event type)"));
        } else {
          ev[m.field] = std::string(type);
        }
        break;
      }
      case Conv::kPlatform:
        if (!IsPlatform(value)) {
          failures->protocol.push_back(FieldMessage(
              name, &value, "one of web, iot, app, mob, pc, cnsl, tv, srv, headset"));
        } else {
          ev[m.field] = value;
        }
        break;
      case Conv::kInteger:
        if (value.empty() || value == "null") break;
        if (!ParseInt32(value, &ev[m.field])) {
          failures->protocol.push_back(FieldMessage(name, &value, "a 32-bit integer"));
        }
        break;
      case Conv::kBool:
        if (value == "1" || value == "true") {
          ev[m.field] = "1";
        } else if (value == "0" || value == "false") {
          ev[m.field] = "0";
        } else {
          failures->protocol.push_back(FieldMessage(name, &value, "1 or 0"));
        }
        break;
      case Conv::kDecimal:
        if (value.empty() || value == "null") break;
        if (!IsDecimal(value)) {
          failures->protocol.push_back(FieldMessage(name, &value, "a decimal number"));
        } else {
          ev[m.field] = value;
        }
        break;
      case Conv::kTimestamp: {
        int64_t ms;
        if (!ParseInt64(value, &ms) || ms < 0 || ms > kMaxTimestampMs) {
          failures->protocol.push_back(
              FieldMessage(name, &value, "milliseconds since the epoch (0 to 253402300799999)"));
          break;
        }
        ev[m.field] = FormatSqlMillis(ms);
        if (m.field == kDvceCreatedTstamp) ev.dvce_created_ms = ms;
        if (m.field == kDvceSentTstamp) ev.dvce_sent_ms = ms;
        if (m.field == kTrueTstamp) ev.true_ms = ms;
        break;
      }
      case Conv::kUuid:
        if (!IsUuid(value)) {
          failures->protocol.push_back(FieldMessage(name, &value, "a UUID (8-4-4-4-12 hex)"));
        } else {
          std::string lower = value;
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          ev[m.field] = std::move(lower);
        }
        break;
      case Conv::kDims: {
        size_t x = value.find('x');
        std::string w, h;
        if (x == std::string::npos || !ParseInt32(std::string_view(value).substr(0, x), &w) ||
            !ParseInt32(std::string_view(value).substr(x + 1), &h) || w[0] == '-' || h[0] == '-') {
          failures->protocol.push_back(FieldMessage(name, &value, "WIDTHxHEIGHT, two non-negative integers"));
        } else {
          ev[m.field] = std::move(w);
          ev[m.field2] = std::move(h);
        }
        break;
      }
    }
  }
  if (raw.Find("e") == nullptr) {
    failures->protocol.push_back(FieldMessage("e", nullptr, "the event type e is required"));
  }
  if (ev[kEventId].empty() && raw.Find("eid") == nullptr) ev[kEventId] = uuids_->NewUuidV4();

  MapUnstruct(raw, event, failures);
  MapContexts(raw, event, failures);

  // Event vendor/name/format/version of built-in types (unstruct's are set above).
  EventSchema schema = BuiltInEventSchema(ev[kEvent]);
  if (!schema.vendor.empty()) {
    ev[kEventVendor] = schema.vendor;
    ev[kEventName] = schema.name;
    ev[kEventFormat] = schema.format;
    ev[kEventVersion] = schema.version;
  }
}

void EventMapper::MapUnstruct(const RawEvent& raw, EnrichedEvent* event,
                              MapFailures* failures) const {
  auto text = SelfDescribingParam(raw, "ue_pr", "ue_px", failures);
  if (!text) {
    if ((*event)[kEvent] == "unstruct" && failures->protocol.empty()) {
      failures->protocol.push_back(
          FieldMessage("ue_pr", nullptr, "a self-describing event (ue_pr or ue_px) for e=ue"));
    }
    return;
  }
  std::string_view field = raw.Find("ue_pr") ? "ue_pr" : "ue_px";
  rapidjson::Document doc;
  if (!ParseJsonParam(field, *text, &doc, failures)) return;
  if (auto invalid = validator_->Validate(doc)) {
    failures->schema.push_back(*invalid);
    return;
  }
  const rapidjson::Value& inner = doc["data"];
  if (auto invalid = validator_->Validate(inner)) {
    failures->schema.push_back(*invalid);
    return;
  }
  event->unstruct_event = JsonText(inner);
  std::string_view uri(inner["schema"].GetString(), inner["schema"].GetStringLength());
  uri.remove_prefix(5);  // "iglu:", checked by the validator
  size_t s1 = uri.find('/');
  size_t s2 = uri.find('/', s1 + 1);
  size_t s3 = uri.find('/', s2 + 1);
  (*event)[kEventVendor] = CleanTsv(uri.substr(0, s1));
  (*event)[kEventName] = CleanTsv(uri.substr(s1 + 1, s2 - s1 - 1));
  (*event)[kEventFormat] = CleanTsv(uri.substr(s2 + 1, s3 - s2 - 1));
  (*event)[kEventVersion] = CleanTsv(uri.substr(s3 + 1));
}

void EventMapper::MapContexts(const RawEvent& raw, EnrichedEvent* event,
                              MapFailures* failures) const {
  auto text = SelfDescribingParam(raw, "co", "cx", failures);
  if (!text) return;
  std::string_view field = raw.Find("co") ? "co" : "cx";
  rapidjson::Document doc;
  if (!ParseJsonParam(field, *text, &doc, failures)) return;
  if (auto invalid = validator_->Validate(doc)) {
    failures->schema.push_back(*invalid);
    return;
  }
  const rapidjson::Value& data = doc["data"];
  if (!data.IsArray()) return;  // the contexts schema requires an array
  for (const auto& entity : data.GetArray()) {
    if (auto invalid = validator_->Validate(entity)) {
      failures->schema.push_back(*invalid);
      continue;
    }
    event->contexts.push_back(JsonText(entity));
  }
}

}  // namespace furrow::enrich
