#include "enrich/entity_validator.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/json_escape.h"

namespace furrow::enrich {
namespace {

bool IsSchemaVer(std::string_view v) {
  int parts = 0;
  size_t i = 0;
  while (i <= v.size()) {
    size_t start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    if (i == start) return false;
    ++parts;
    if (i == v.size()) break;
    if (v[i] != '-') return false;
    ++i;
  }
  return parts == 3;
}

std::string Message(const rapidjson::Value& entity, std::string_view error) {
  std::string out = "{\"json\":" + JsonText(entity) + ",\"error\":\"";
  out += error;
  out += "\"}";
  return out;
}

}  // namespace

std::string JsonText(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<std::string> CheckSelfDescribing(const rapidjson::Value& entity) {
  if (!entity.IsObject()) return Message(entity, "INVALID_SCHEMA");
  auto schema = entity.FindMember("schema");
  if (schema == entity.MemberEnd() || !schema->value.IsString()) {
    return Message(entity, "INVALID_SCHEMA");
  }
  std::string_view uri(schema->value.GetString(), schema->value.GetStringLength());
  if (uri.substr(0, 5) != "iglu:") return Message(entity, "INVALID_IGLUURI");
  std::string_view rest = uri.substr(5);
  size_t s1 = rest.find('/');
  size_t s2 = s1 == std::string_view::npos ? s1 : rest.find('/', s1 + 1);
  size_t s3 = s2 == std::string_view::npos ? s2 : rest.find('/', s2 + 1);
  if (s3 == std::string_view::npos || s1 == 0 || s2 == s1 + 1 || s3 == s2 + 1 ||
      rest.find('/', s3 + 1) != std::string_view::npos) {
    return Message(entity, "INVALID_IGLUURI");
  }
  if (!IsSchemaVer(rest.substr(s3 + 1))) return Message(entity, "INVALID_SCHEMAVER");
  if (!entity.HasMember("data")) return Message(entity, "INVALID_DATA_PAYLOAD");
  return std::nullopt;
}

}  // namespace furrow::enrich
