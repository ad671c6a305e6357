#include "receiver/usage_data.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

#include "core/json_escape.h"

namespace furrow::receiver {
namespace {

Result<rapidjson::Document> ParseObject(std::string_view body, const PayloadLimits& limits,
                                        std::string_view what) {
  if (!IsValidUtf8(body)) return InvalidArgumentError(std::string(what) + " is not valid UTF-8");
  int depth = JsonNestingDepth(body, limits.max_depth);
  if (depth > limits.max_depth) {
    return InvalidArgumentError(std::string(what) + " nests deeper than " +
                                std::to_string(limits.max_depth) + " levels");
  }
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    return InvalidArgumentError(std::string(what) + " is not JSON: " +
                                rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                                std::to_string(doc.GetErrorOffset()));
  }
  if (!doc.IsObject()) return InvalidArgumentError(std::string(what) + " is not a JSON object");
  return doc;
}

// Agents report a failed metric as -1 whatever its type, so an optional field of
// another type is left empty (not flattened) rather than rejected; the payload keeps it.
Status GetString(const rapidjson::Value& obj, const char* name, std::string* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return Status::Ok();
  out->assign(it->value.GetString(), it->value.GetStringLength());
  return Status::Ok();
}

Status GetInteger(const rapidjson::Value& obj, const char* name, std::optional<int64_t>* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (it->value.IsInt64()) {
    *out = it->value.GetInt64();
    return Status::Ok();
  }
  return Status::Ok();
}

Status GetBool(const rapidjson::Value& obj, const char* name, std::optional<bool>* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (it->value.IsBool()) *out = it->value.GetBool();
  return Status::Ok();
}

// Reads a required non-empty string.
Status Require(const rapidjson::Value& obj, const char* name, std::string* out) {
  auto it = obj.FindMember(name);
  if (it != obj.MemberEnd() && !it->value.IsNull() && !it->value.IsString()) {
    return FailedPreconditionError(std::string("field \"") + name + "\" must be a string");
  }
  FURROW_RETURN_IF_ERROR(GetString(obj, name, out));
  if (out->empty()) return FailedPreconditionError(std::string("missing required field \"") + name + "\"");
  return Status::Ok();
}

// Identifiers may be sent as strings or integers (license_id).
Status GetStringOrNumber(const rapidjson::Value& obj, const char* name, std::string* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return Status::Ok();
  if (it->value.IsString()) {
    out->assign(it->value.GetString(), it->value.GetStringLength());
  } else if (it->value.IsInt64()) {
    *out = std::to_string(it->value.GetInt64());
  }
  return Status::Ok();
}

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

int JsonNestingDepth(std::string_view json, int stop_above) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > stop_above) return deepest;
        }
        break;
      case '}':
      case ']':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

Result<UsageData> ParseUsageData(std::string_view body, const PayloadLimits& limits) {
  FURROW_ASSIGN_OR_RETURN(rapidjson::Document doc, ParseObject(body, limits, "the payload"));
  UsageData d;
  FURROW_RETURN_IF_ERROR(Require(doc, "uuid", &d.uuid));
  FURROW_RETURN_IF_ERROR(Require(doc, "recorded_at", &d.recorded_at));
  FURROW_RETURN_IF_ERROR(GetString(doc, "hostname", &d.hostname));
  FURROW_RETURN_IF_ERROR(GetString(doc, "version", &d.version));
  FURROW_RETURN_IF_ERROR(GetString(doc, "edition", &d.edition));
  FURROW_RETURN_IF_ERROR(GetString(doc, "installation_type", &d.installation_type));
  FURROW_RETURN_IF_ERROR(GetInteger(doc, "active_user_count", &d.active_user_count));
  FURROW_RETURN_IF_ERROR(GetString(doc, "license_md5", &d.license_md5));
  FURROW_RETURN_IF_ERROR(GetString(doc, "license_sha256", &d.license_sha256));
  FURROW_RETURN_IF_ERROR(GetStringOrNumber(doc, "license_id", &d.license_id));
  FURROW_RETURN_IF_ERROR(GetInteger(doc, "historical_max_users", &d.historical_max_users));
  FURROW_RETURN_IF_ERROR(GetInteger(doc, "license_user_count", &d.license_user_count));
  FURROW_RETURN_IF_ERROR(GetString(doc, "license_starts_at", &d.license_starts_at));
  FURROW_RETURN_IF_ERROR(GetString(doc, "license_expires_at", &d.license_expires_at));
  FURROW_RETURN_IF_ERROR(GetString(doc, "license_plan", &d.license_plan));
  FURROW_RETURN_IF_ERROR(GetBool(doc, "license_trial", &d.license_trial));
  auto db = doc.FindMember("database");
  if (db != doc.MemberEnd() && db->value.IsObject()) {
    FURROW_RETURN_IF_ERROR(GetString(db->value, "adapter", &d.database_adapter));
    FURROW_RETURN_IF_ERROR(GetString(db->value, "version", &d.database_version));
  }
  auto counts = doc.FindMember("counts");
  if (counts != doc.MemberEnd() && counts->value.IsObject()) {
    d.stats = ToJson(counts->value);
  } else {
    d.stats = "{}";
  }
  d.payload.assign(body.data(), body.size());
  return d;
}

Result<PingMetadata> ParsePingMetadata(std::string_view body, const PayloadLimits& limits) {
  FURROW_ASSIGN_OR_RETURN(rapidjson::Document doc, ParseObject(body, limits, "the metadata"));
  auto m = doc.FindMember("metadata");
  if (m == doc.MemberEnd() || !m->value.IsObject()) {
    return FailedPreconditionError("missing required object \"metadata\"");
  }
  PingMetadata out;
  FURROW_RETURN_IF_ERROR(Require(m->value, "uuid", &out.uuid));
  auto metrics = m->value.FindMember("metrics");
  if (metrics != m->value.MemberEnd() && !metrics->value.IsArray()) {
    return FailedPreconditionError("field \"metadata.metrics\" must be an array");
  }
  out.metadata = ToJson(m->value);
  return out;
}

Result<PingError> ParsePingError(std::string_view body, const PayloadLimits& limits) {
  FURROW_ASSIGN_OR_RETURN(rapidjson::Document doc, ParseObject(body, limits, "the error report"));
  auto e = doc.FindMember("error");
  if (e == doc.MemberEnd() || !e->value.IsObject()) {
    return FailedPreconditionError("missing required object \"error\"");
  }
  PingError out;
  FURROW_RETURN_IF_ERROR(Require(e->value, "uuid", &out.uuid));
  FURROW_RETURN_IF_ERROR(GetString(e->value, "hostname", &out.hostname));
  FURROW_RETURN_IF_ERROR(GetString(e->value, "version", &out.version));
  FURROW_RETURN_IF_ERROR(GetString(e->value, "message", &out.message));
  FURROW_RETURN_IF_ERROR(GetString(e->value, "time", &out.time));
  auto elapsed = e->value.FindMember("elapsed");
  if (elapsed != e->value.MemberEnd() && !elapsed->value.IsNull()) {
    if (!elapsed->value.IsNumber()) return FailedPreconditionError("field \"error.elapsed\" must be a number");
    out.elapsed = elapsed->value.GetDouble();
  }
  out.payload = ToJson(doc);
  return out;
}

}  // namespace furrow::receiver
