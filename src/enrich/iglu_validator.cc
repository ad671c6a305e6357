#include "enrich/iglu_validator.h"

#include "badrows/bad_row.h"
#include "core/json_escape.h"
#include "core/time_format.h"

namespace furrow::enrich {

std::optional<std::string> IgluEntityValidator::Validate(const rapidjson::Value& entity) const {
  if (auto not_sd = CheckSelfDescribing(entity)) return not_sd;
  auto parsed = iglu::ParseSelfDescribing(entity);
  if (!parsed.ok()) {
    std::string out = "{\"json\":" + JsonText(entity) + ",\"error\":\"INVALID_SCHEMAVER\"}";
    return out;
  }
  const iglu::SchemaKey& key = parsed->key;
  std::string uri = key.ToUri();
  auto schema = resolver_->Lookup(key);
  if (!schema.ok()) {
    std::string out = "{\"schemaKey\":";
    AppendJsonString(&out, uri);
    if (schema.status().code() == StatusCode::kInvalidArgument) {
      // Found but unusable: a schema issue.
      out += ",\"error\":{\"error\":\"ValidationError\",\"schemaIssues\":[{\"path\":\"$\",\"message\":";
      AppendJsonString(&out, schema.status().message());
      out += "}]}}";
      return out;
    }
    const char* kind = schema.status().code() == StatusCode::kNotFound ? "NotFound" : "RepoFailure";
    out += ",\"error\":{\"error\":\"ResolutionError\",\"lookupHistory\":[";
    std::string last_attempt = FormatIso8601Millis(clock_->NowMillis());
    auto repos = resolver_->RepositoryOrder(key);
    if (repos.empty()) repos.push_back("none");
    for (size_t i = 0; i < repos.size(); ++i) {
      if (i) out += ',';
      out += "{\"repository\":";
      AppendJsonString(&out, repos[i]);
      out += ",\"errors\":[{\"error\":\"";
      out += kind;
      out += "\"";
      if (std::string_view(kind) != "NotFound") {
        out += ",\"message\":";
        AppendJsonString(&out, badrows::TruncateUtf8(schema.status().message(), 256));
      }
      out += "}],\"attempts\":1,\"lastAttempt\":\"" + last_attempt + "\"}";
    }
    out += "]}}";
    return out;
  }
  std::vector<iglu::ValidationError> errors = (*schema)->Validate(*parsed->data);
  if (errors.empty()) return std::nullopt;
  std::string out = "{\"schemaKey\":";
  AppendJsonString(&out, uri);
  out += ",\"error\":{\"error\":\"ValidationError\",\"dataReports\":[";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i) out += ',';
    out += "{\"message\":";
    AppendJsonString(&out, errors[i].message);
    out += ",\"path\":";
    AppendJsonString(&out, errors[i].path);
    out += ",\"keyword\":";
    AppendJsonString(&out, errors[i].keyword);
    out += ",\"targets\":[";
    AppendJsonString(&out, errors[i].expectation);
    out += "]}";
  }
  out += "]}}";
  return out;
}

}  // namespace furrow::enrich
