#include "receiver/ping_pull.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

#include "core/logging.h"
#include "core/time_format.h"
#include "receiver/usage_data.h"

namespace furrow::receiver {
namespace {

void Leaves(const rapidjson::Value& v, std::string* path, std::vector<std::pair<std::string, std::string>>* out) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      size_t mark = path->size();
      if (!path->empty()) path->push_back('.');
      path->append(it->name.GetString(), it->name.GetStringLength());
      Leaves(it->value, path, out);
      path->resize(mark);
    }
  } else if (v.IsString() && !path->empty()) {
    out->emplace_back(*path, std::string(v.GetString(), v.GetStringLength()));
  }
}

Result<std::string> Fetch(net::HttpClient& client, const PullOptions& o, const std::string& path) {
  net::HttpClientRequest request;
  request.url = o.url + path;
  request.headers.emplace_back("PRIVATE-TOKEN", o.token);
  request.timeout = std::chrono::minutes(10);
  auto r = client.Send(request);
  if (!r.ok()) return r.status().WithContext("GET " + path);
  if (r->status == 401 || r->status == 403) {
    return PermissionDeniedError("GET " + path + ": HTTP " + std::to_string(r->status) + " (check the token)");
  }
  if (r->status >= 500) return UnavailableError("GET " + path + ": HTTP " + std::to_string(r->status));
  if (r->status != 200) return InvalidArgumentError("GET " + path + ": HTTP " + std::to_string(r->status));
  return std::move(r->body);
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> QueryLeaves(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgumentError("queries are not a JSON object");
  std::vector<std::pair<std::string, std::string>> out;
  std::string path;
  Leaves(doc, &path, &out);
  return out;
}

Result<std::string> MergeMetrics(const std::string& payload_json,
                                 const std::vector<std::pair<std::string, double>>& values) {
  rapidjson::Document doc;
  doc.Parse(payload_json.data(), payload_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgumentError("the non-SQL payload is not a JSON object");
  auto& alloc = doc.GetAllocator();
  for (const auto& [path, value] : values) {
    rapidjson::Value* node = &doc;
    size_t start = 0;
    while (true) {
      size_t dot = path.find('.', start);
      std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (!node->IsObject()) return InvalidArgumentError("key path " + path + " runs through a non-object");
      auto it = node->FindMember(key.c_str());
      if (dot == std::string::npos) {
        rapidjson::Value v;
        if (std::floor(value) == value && std::fabs(value) < 9e15) {
          v.SetInt64(static_cast<int64_t>(value));
        } else {
          v.SetDouble(value);
        }
        if (it != node->MemberEnd()) {
          it->value = v;
        } else {
          node->AddMember(rapidjson::Value(key.c_str(), alloc), v, alloc);
        }
        break;
      }
      if (it == node->MemberEnd()) {
        node->AddMember(rapidjson::Value(key.c_str(), alloc), rapidjson::Value(rapidjson::kObjectType), alloc);
        it = node->FindMember(key.c_str());
      }
      node = &it->value;
      start = dot + 1;
    }
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<PullResult> PullPing(const PullOptions& o, net::HttpClient& client, ping::SqlDatabase& database,
                            PingStore& store, const Clock& clock) {
  PullResult result;
  FURROW_ASSIGN_OR_RETURN(std::string definitions, Fetch(client, o, "/usage_data/metric_definitions"));
  for (size_t pos = 0; (pos = definitions.find("key_path:", pos)) != std::string::npos; ++pos) ++result.definitions;
  FURROW_ASSIGN_OR_RETURN(std::string queries_json, Fetch(client, o, "/usage_data/queries"));
  FURROW_ASSIGN_OR_RETURN(auto queries, QueryLeaves(queries_json));
  FURROW_ASSIGN_OR_RETURN(std::string non_sql, Fetch(client, o, "/usage_data/non_sql_metrics"));
  log::Info("ping pull fetched", {{"definitions", result.definitions}, {"queries", static_cast<int64_t>(queries.size())}});

  FURROW_ASSIGN_OR_RETURN(auto connection, database.Connect());
  std::vector<std::pair<std::string, double>> values;
  values.reserve(queries.size());
  for (const auto& [path, sql] : queries) {
    ++result.queries;
    auto value = connection->QueryScalar(sql, clock.Monotonic() + o.query_timeout);
    if (!value.ok()) {
      ++result.failed;
      log::Warn("ping pull query failed", {{"key_path", path}, {"error", value.status().message()}});
      values.emplace_back(path, -1);
      if (value.status().code() == StatusCode::kUnavailable) {
        FURROW_ASSIGN_OR_RETURN(connection, database.Connect());
      }
      continue;
    }
    values.emplace_back(path, value->is_null ? 0 : value->AsDouble());
    if (result.queries % 100 == 0) log::Info("ping pull progress", {{"queries_done", result.queries}});
  }
  FURROW_ASSIGN_OR_RETURN(std::string payload, MergeMetrics(non_sql, values));
  FURROW_ASSIGN_OR_RETURN(UsageData data, ParseUsageData(payload, PayloadLimits{}));
  FURROW_ASSIGN_OR_RETURN(StoreResult stored,
                          store.StoreUsageData(data, "pull:" + database.adapter(), FormatIso8601Millis(clock.NowMillis())));
  result.usage_data_id = stored.id;
  result.created = stored.created;
  return result;
}

}  // namespace furrow::receiver
