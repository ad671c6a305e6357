#include "receiver/usage_data.h"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/reader.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <limits>
#include <string>
#include <utility>

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

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// The single pass over a /usage_data body: RapidJSON's SAX reader with a handler that
// enforces the depth limit, takes the flattened fields from the top-level object (the
// first member of each name, as a DOM's FindMember would) and re-serialises the
// "counts" object, without building a document of the ~2,000 metrics.
class UsageDataHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, UsageDataHandler> {
 public:
  UsageDataHandler(UsageData* out, int max_depth) : out_(out), max_depth_(max_depth), counts_writer_(counts_) {}

  bool too_deep() const { return too_deep_; }
  bool root_is_object() const { return root_is_object_; }

  // The required fields, in the order (and with the messages) of Require.
  Status CheckRequired() const {
    if (uuid_wrong_type_) return FailedPreconditionError("field \"uuid\" must be a string");
    if (out_->uuid.empty()) return FailedPreconditionError("missing required field \"uuid\"");
    if (recorded_at_wrong_type_) return FailedPreconditionError("field \"recorded_at\" must be a string");
    if (out_->recorded_at.empty()) return FailedPreconditionError("missing required field \"recorded_at\"");
    return Status::Ok();
  }

  bool Null() {
    if (in_counts_) return counts_writer_.Null();
    return Scalar(Kind::kNull, {}, 0, false);
  }
  bool Bool(bool b) {
    if (in_counts_) return counts_writer_.Bool(b);
    return Scalar(Kind::kBool, {}, 0, b);
  }
  bool Int(int i) {
    if (in_counts_) return counts_writer_.Int(i);
    return Scalar(Kind::kInteger, {}, i, false);
  }
  bool Uint(unsigned u) {
    if (in_counts_) return counts_writer_.Uint(u);
    return Scalar(Kind::kInteger, {}, u, false);
  }
  bool Int64(int64_t i) {
    if (in_counts_) return counts_writer_.Int64(i);
    return Scalar(Kind::kInteger, {}, i, false);
  }
  bool Uint64(uint64_t u) {
    if (in_counts_) return counts_writer_.Uint64(u);
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Scalar(Kind::kOther, {}, 0, false);
    return Scalar(Kind::kInteger, {}, static_cast<int64_t>(u), false);
  }
  bool Double(double v) {
    if (in_counts_) return counts_writer_.Double(v);
    return Scalar(Kind::kOther, {}, 0, false);
  }
  bool String(const char* str, rapidjson::SizeType length, bool /*copy*/) {
    if (in_counts_) return counts_writer_.String(str, length);
    return Scalar(Kind::kString, std::string_view(str, length), 0, false);
  }
  bool Key(const char* str, rapidjson::SizeType length, bool /*copy*/) {
    if (in_counts_) return counts_writer_.Key(str, length);
    std::string_view key(str, length);
    if (depth_ == 1) {
      field_ = Claim(TopLevelField(key));
    } else if (depth_ == 2 && in_database_) {
      field_ = Claim(key == "adapter" ? Field::kDatabaseAdapter : key == "version" ? Field::kDatabaseVersion : Field::kNone);
    }
    return true;
  }
  bool StartObject() {
    if (!Enter()) return false;
    if (depth_ == 1) {
      root_is_object_ = true;
    } else if (in_counts_) {
      return counts_writer_.StartObject();
    } else if (depth_ == 2 && field_ == Field::kCounts) {
      in_counts_ = true;
      counts_writer_.StartObject();
    } else if (depth_ == 2 && field_ == Field::kDatabase) {
      in_database_ = true;
    }
    field_ = Field::kNone;
    return true;
  }
  bool EndObject(rapidjson::SizeType members) {
    if (in_counts_) {
      counts_writer_.EndObject(members);
      if (depth_ == 2) {
        in_counts_ = false;
        out_->stats.assign(counts_.GetString(), counts_.GetSize());
      }
    } else if (depth_ == 2) {
      in_database_ = false;
    }
    --depth_;
    return true;
  }
  bool StartArray() {
    if (!Enter()) return false;
    field_ = Field::kNone;
    if (in_counts_) return counts_writer_.StartArray();
    return true;
  }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    if (in_counts_) return counts_writer_.EndArray(elements);
    return true;
  }

 private:
  enum class Field {
    kNone, kUuid, kRecordedAt, kHostname, kVersion, kEdition, kInstallationType, kActiveUserCount, kLicenseMd5,
    kLicenseSha256, kLicenseId, kHistoricalMaxUsers, kLicenseUserCount, kLicenseStartsAt, kLicenseExpiresAt,
    kLicensePlan, kLicenseTrial, kDatabase, kCounts, kDatabaseAdapter, kDatabaseVersion, kCount
  };
  enum class Kind { kNull, kBool, kInteger, kString, kOther };

  static Field TopLevelField(std::string_view key) {
    static constexpr std::pair<std::string_view, Field> kFields[] = {
        {"uuid", Field::kUuid},
        {"recorded_at", Field::kRecordedAt},
        {"hostname", Field::kHostname},
        {"version", Field::kVersion},
        {"edition", Field::kEdition},
        {"installation_type", Field::kInstallationType},
        {"active_user_count", Field::kActiveUserCount},
        {"license_md5", Field::kLicenseMd5},
        {"license_sha256", Field::kLicenseSha256},
        {"license_id", Field::kLicenseId},
        {"historical_max_users", Field::kHistoricalMaxUsers},
        {"license_user_count", Field::kLicenseUserCount},
        {"license_starts_at", Field::kLicenseStartsAt},
        {"license_expires_at", Field::kLicenseExpiresAt},
        {"license_plan", Field::kLicensePlan},
        {"license_trial", Field::kLicenseTrial},
        {"database", Field::kDatabase},
        {"counts", Field::kCounts},
    };
    for (const auto& [name, field] : kFields) {
      if (name == key) return field;
    }
    return Field::kNone;
  }

  // Only the first member of a name counts; later ones are ignored.
  Field Claim(Field f) {
    if (f == Field::kNone) return f;
    bool& seen = seen_[static_cast<size_t>(f)];
    if (seen) return Field::kNone;
    seen = true;
    return f;
  }

  bool Enter() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  // A scalar value: stored if it is the value of a field being flattened.
  bool Scalar(Kind kind, std::string_view text, int64_t integer, bool boolean) {
    Field f = field_;
    field_ = Field::kNone;
    if (depth_ == 0 || f == Field::kNone) return true;
    std::string* text_field = nullptr;
    std::optional<int64_t>* integer_field = nullptr;
    switch (f) {
      case Field::kUuid:
      case Field::kRecordedAt: {
        bool& wrong_type = f == Field::kUuid ? uuid_wrong_type_ : recorded_at_wrong_type_;
        if (kind == Kind::kString) {
          (f == Field::kUuid ? out_->uuid : out_->recorded_at).assign(text);
        } else if (kind != Kind::kNull) {
          wrong_type = true;
        }
        return true;
      }
      case Field::kHostname: text_field = &out_->hostname; break;
      case Field::kVersion: text_field = &out_->version; break;
      case Field::kEdition: text_field = &out_->edition; break;
      case Field::kInstallationType: text_field = &out_->installation_type; break;
      case Field::kLicenseMd5: text_field = &out_->license_md5; break;
      case Field::kLicenseSha256: text_field = &out_->license_sha256; break;
      case Field::kLicenseStartsAt: text_field = &out_->license_starts_at; break;
      case Field::kLicenseExpiresAt: text_field = &out_->license_expires_at; break;
      case Field::kLicensePlan: text_field = &out_->license_plan; break;
      case Field::kDatabaseAdapter: text_field = &out_->database_adapter; break;
      case Field::kDatabaseVersion: text_field = &out_->database_version; break;
      case Field::kActiveUserCount: integer_field = &out_->active_user_count; break;
      case Field::kHistoricalMaxUsers: integer_field = &out_->historical_max_users; break;
      case Field::kLicenseUserCount: integer_field = &out_->license_user_count; break;
      case Field::kLicenseId:  // sent as a string or an integer
        if (kind == Kind::kString) out_->license_id.assign(text);
        if (kind == Kind::kInteger) out_->license_id = std::to_string(integer);
        return true;
      case Field::kLicenseTrial:
        if (kind == Kind::kBool) out_->license_trial = boolean;
        return true;
      default:
        return true;
    }
    if (text_field != nullptr && kind == Kind::kString) text_field->assign(text);
    if (integer_field != nullptr && kind == Kind::kInteger) *integer_field = integer;
    return true;
  }

  UsageData* out_;
  int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
  bool root_is_object_ = false;
  bool uuid_wrong_type_ = false;
  bool recorded_at_wrong_type_ = false;
  bool in_database_ = false;
  bool in_counts_ = false;
  Field field_ = Field::kNone;
  bool seen_[static_cast<size_t>(Field::kCount)] = {};
  rapidjson::StringBuffer counts_;
  rapidjson::Writer<rapidjson::StringBuffer> counts_writer_;
};

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
  if (!IsValidUtf8(body)) return InvalidArgumentError("the payload is not valid UTF-8");
  UsageData d;
  UsageDataHandler handler(&d, limits.max_depth);
  rapidjson::Reader reader;
  rapidjson::MemoryStream memory(body.data(), body.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(memory);
  reader.Parse(in, handler);
  if (reader.HasParseError()) {
    // The handler stops at the first container past the limit; a syntax error is
    // reported as a depth error too when the text nests too deep, as it was before
    // this single pass (the depth was counted first, then the body parsed).
    if (handler.too_deep() || JsonNestingDepth(body, limits.max_depth) > limits.max_depth) {
      return InvalidArgumentError("the payload nests deeper than " + std::to_string(limits.max_depth) + " levels");
    }
    return InvalidArgumentError(std::string("the payload is not JSON: ") +
                                rapidjson::GetParseError_En(reader.GetParseErrorCode()) + " at offset " +
                                std::to_string(reader.GetErrorOffset()));
  }
  if (!handler.root_is_object()) return InvalidArgumentError("the payload is not a JSON object");
  FURROW_RETURN_IF_ERROR(handler.CheckRequired());
  if (d.stats.empty()) d.stats = "{}";
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
