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
  iglu::LookupHistory history;
  auto schema = resolver_->Lookup(key, &history);
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
    out += ",\"error\":{\"error\":\"ResolutionError\",\"lookupHistory\":[";
    std::string last_attempt = FormatIso8601Millis(clock_->NowMillis());
    if (history.empty()) {
      // The resolver gave no per-repository detail: name what would have been tried.
      for (const std::string& name : resolver_->RepositoryOrder(key)) {
        iglu::RepositoryAttempt a;
        a.repository = name;
        a.outcome = schema.status().code() == StatusCode::kNotFound
                        ? iglu::RepositoryAttempt::Outcome::kNotFound
                        : iglu::RepositoryAttempt::Outcome::kUnreachable;
        a.message = schema.status().message();
        history.push_back(std::move(a));
      }
      if (history.empty()) history.push_back({"none", iglu::RepositoryAttempt::Outcome::kNotFound, ""});
    }
    for (size_t i = 0; i < history.size(); ++i) {
      const iglu::RepositoryAttempt& a = history[i];
      if (i) out += ',';
      out += "{\"repository\":";
      AppendJsonString(&out, a.repository);
      out += ",\"errors\":[{\"error\":\"";
      switch (a.outcome) {
        case iglu::RepositoryAttempt::Outcome::kNotFound:
          out += "NotFound\"";
          break;
        case iglu::RepositoryAttempt::Outcome::kInvalid:
          out += "ClientFailure\",\"message\":";
          AppendJsonString(&out, badrows::TruncateUtf8(a.message, 256));
          break;
        default:
          out += "RepoFailure\",\"message\":";
          AppendJsonString(&out, badrows::TruncateUtf8(a.message, 256));
          break;
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
