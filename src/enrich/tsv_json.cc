#include "enrich/tsv_json.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/json_escape.h"
#include "enrich/enriched_event.h"
#include "event/enriched_event.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices

namespace {

enum class JsonKind { kString, kInteger, kDouble, kBoolean, kTimestamp, kContexts, kUnstruct };

JsonKind KindOf(size_t f) {
  switch (FieldValueType(f)) {
    case ValueType::kTimestamp: return JsonKind::kTimestamp;
    case ValueType::kJson: return f == kUnstructEvent ? JsonKind::kUnstruct : JsonKind::kContexts;
    case ValueType::kInteger: return JsonKind::kInteger;
    case ValueType::kDecimal: return JsonKind::kDouble;
    case ValueType::kBoolean: return JsonKind::kBoolean;
    case ValueType::kString: break;
  }
  return JsonKind::kString;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteString(Writer* w, std::string_view v) {
  w->String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

}  // namespace

std::string ShreddedKey(std::string_view prefix, std::string_view uri) {
  // iglu:vendor/name/format/M-R-A
  if (uri.substr(0, 5) == "iglu:") uri.remove_prefix(5);
  size_t s1 = uri.find('/');
  size_t s2 = s1 == std::string_view::npos ? s1 : uri.find('/', s1 + 1);
  size_t s3 = s2 == std::string_view::npos ? s2 : uri.find('/', s2 + 1);
  if (s3 == std::string_view::npos) return std::string(prefix) + "_unknown";
  std::string out(prefix);
  out.push_back('_');
  for (char c : uri.substr(0, s1)) {
    out.push_back(c == '.' || c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  out.push_back('_');
  std::string_view name = uri.substr(s1 + 1, s2 - s1 - 1);
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (std::isupper(static_cast<unsigned char>(c)) && i > 0 && name[i - 1] != '_' &&
        !std::isupper(static_cast<unsigned char>(name[i - 1]))) {
      out.push_back('_');
    }
    out.push_back(c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  out.push_back('_');
  std::string_view version = uri.substr(s3 + 1);
  out += version.substr(0, version.find('-'));
  return out;
}

Result<std::string> EnrichedTsvToJsonChecked(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  FURROW_ASSIGN_OR_RETURN(FieldViews fields, SplitTsv(line));
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  // Shredded members are written after the atomic ones, merged by key.
  rapidjson::Document holder;
  std::map<std::string, std::vector<const rapidjson::Value*>> shredded_contexts;
  std::vector<std::pair<std::string, const rapidjson::Value*>> unstruct;
  std::vector<rapidjson::Document> docs;
  docs.reserve(3);
  for (size_t f = 0; f < kFieldCount; ++f) {
    std::string_view v = fields[f];
    if (v.empty()) continue;
    JsonKind kind = KindOf(f);
    switch (kind) {
      case JsonKind::kContexts:
      case JsonKind::kUnstruct: {
        docs.emplace_back();
        rapidjson::Document& d = docs.back();
        d.Parse(v.data(), v.size());
        if (d.HasParseError() || !d.IsObject() || !d.HasMember("data")) {
          return InvalidArgumentError(std::string(kFieldNames[f]) + " is not self-describing JSON");
        }
        const rapidjson::Value& data = d["data"];
        if (kind == JsonKind::kContexts) {
          if (!data.IsArray()) return InvalidArgumentError(std::string(kFieldNames[f]) + " data is not an array");
          for (const auto& e : data.GetArray()) {
            if (!e.IsObject() || !e.HasMember("schema") || !e["schema"].IsString() || !e.HasMember("data")) {
              return InvalidArgumentError(std::string(kFieldNames[f]) + " holds an entity that is not self-describing");
            }
            shredded_contexts[ShreddedKey("contexts", e["schema"].GetString())].push_back(&e["data"]);
          }
        } else {
          if (!data.IsObject() || !data.HasMember("schema") || !data["schema"].IsString() ||
              !data.HasMember("data")) {
            return InvalidArgumentError("unstruct_event does not wrap a self-describing event");
          }
          unstruct.emplace_back(ShreddedKey("unstruct_event", data["schema"].GetString()), &data["data"]);
        }
        continue;
      }
      default:
        break;
    }
    w.Key(kFieldNames[f].data(), static_cast<rapidjson::SizeType>(kFieldNames[f].size()));
    switch (kind) {
      case JsonKind::kInteger: {
        int64_t x;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
        if (ec == std::errc() && p == v.data() + v.size()) {
          w.Int64(x);
        } else {
          WriteString(&w, v);
        }
        break;
      }
      case JsonKind::kDouble: {
        double x;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
        if (ec == std::errc() && p == v.data() + v.size() && std::isfinite(x)) {
          w.Double(x);
        } else {
          WriteString(&w, v);
        }
        break;
      }
      case JsonKind::kBoolean:
        if (v == "1" || v == "0") {
          w.Bool(v == "1");
        } else {
          WriteString(&w, v);
        }
        break;
      case JsonKind::kTimestamp: {
        std::string iso(v);
        size_t space = iso.find(' ');
        if (space != std::string::npos) iso[space] = 'T';
        iso.push_back('Z');
        WriteString(&w, iso);
        break;
      }
      default:
        WriteString(&w, v);
    }
  }
  if (!fields[kGeoLatitude].empty() && !fields[kGeoLongitude].empty()) {
    w.Key("geo_location");
    std::string loc(fields[kGeoLatitude]);
    loc += ',';
    loc += fields[kGeoLongitude];
    WriteString(&w, loc);
  }
  for (const auto& [key, values] : shredded_contexts) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.StartArray();
    for (const rapidjson::Value* value : values) value->Accept(w);
    w.EndArray();
  }
  for (const auto& [key, value] : unstruct) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    value->Accept(w);
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string EnrichedTsvToJson(std::string_view line) {
  auto json = EnrichedTsvToJsonChecked(line);
  if (json.ok()) return std::move(*json);
  std::string out = "{\"error\":";
  AppendJsonString(&out, json.status().message());
  out += '}';
  return out;
}

}  // namespace furrow::enrich
