#include "collector/record_splitter.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace furrow::collector {
namespace {

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

Result<SplitPayloads> SplitByDataArray(const tracker::CollectorPayload& payload,
                                       size_t max_record_bytes) {
  if (!payload.body || payload.body->empty()) {
    return InvalidArgumentError("request has no body to split");
  }
  rapidjson::Document doc;
  doc.Parse(payload.body->data(), payload.body->size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return InvalidArgumentError("body is not a JSON object");
  }
  // Const iterators: comparing them is unambiguous under C++20's reversed operators.
  const rapidjson::Document& root = doc;
  auto data = root.FindMember("data");
  if (data == root.MemberEnd() || !data->value.IsArray()) {
    return InvalidArgumentError("body has no \"data\" array");
  }
  std::string prefix = "{";
  auto schema = root.FindMember("schema");
  if (schema != root.MemberEnd()) {
    prefix += "\"schema\":" + ToJson(schema->value) + ",";
  }
  prefix += "\"data\":[";
  static constexpr std::string_view kSuffix = "]}";

  // The record size is the encoded payload without a body plus the body's bytes
  // (a Thrift string's length prefix is fixed-size, so this is exact).
  tracker::CollectorPayload shell = payload;
  shell.body = std::string();
  const size_t shell_bytes = tracker::EncodeCollectorPayload(shell).size();
  const size_t fixed = shell_bytes + prefix.size() + kSuffix.size();

  SplitPayloads out;
  std::string events;  // comma-joined events of the batch being built
  auto flush = [&] {
    if (events.empty()) return;
    shell.body = prefix + events + std::string(kSuffix);
    out.records.push_back(tracker::EncodeCollectorPayload(shell));
    events.clear();
  };
  for (const rapidjson::Value& event : data->value.GetArray()) {
    std::string json = ToJson(event);
    if (fixed + json.size() > max_record_bytes) {
      out.oversized.push_back(std::move(json));
      continue;
    }
    size_t separator = events.empty() ? 0 : 1;
    if (fixed + events.size() + separator + json.size() > max_record_bytes) flush();
    if (!events.empty()) events.push_back(',');
    events += json;
  }
  flush();
  return out;
}

}  // namespace furrow::collector
