#include "enrich/enrichment_registry.h"

#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "enrich/enrichments/config_util.h"
#include "enrich/enrichments/ip_lookups.h"
#include "enrich/enrichments/referer_parser.h"
#include "enrich/enrichments/simple_enrichments.h"
#include "enrich/enrichments/spiders_and_robots.h"
#include "enrich/enrichments/ua_parser.h"

namespace furrow::enrich {
namespace {

int OrderOf(std::string_view name) {
  static constexpr std::string_view kOrder[] = {
      "uri_parsing",          "iab_spiders_and_robots_enrichment",
      "ua_parser_config",     "referer_parser",
      "campaign_attribution", "event_fingerprint_config",
      "cookie_extractor_config", "http_header_extractor_config",
      "ip_lookups",           "anon_ip"};
  for (size_t i = 0; i < std::size(kOrder); ++i) {
    if (kOrder[i] == name) return static_cast<int>(i);
  }
  return static_cast<int>(std::size(kOrder));
}

}  // namespace

void SortByApplicationOrder(std::vector<std::unique_ptr<Enrichment>>* enrichments) {
  std::stable_sort(enrichments->begin(), enrichments->end(),
                   [](const auto& a, const auto& b) { return OrderOf(a->name()) < OrderOf(b->name()); });
}

Result<std::unique_ptr<Enrichment>> CreateEnrichment(std::string_view config_json,
                                                     const std::filesystem::path& base_dir,
                                                     const EnrichmentOptions& options) {
  rapidjson::Document doc;
  doc.Parse(config_json.data(), config_json.size());
  if (doc.HasParseError()) {
    return InvalidArgumentError(std::string("enrichment config is not JSON: ") +
                                rapidjson::GetParseError_En(doc.GetParseError()));
  }
  FURROW_ASSIGN_OR_RETURN(std::string schema, GetString(doc, "schema", "enrichment config"));
  if (!doc.HasMember("data") || !doc["data"].IsObject()) {
    return InvalidArgumentError("enrichment config " + schema + " has no data object");
  }
  const rapidjson::Value& data = doc["data"];
  std::string name;
  if (data.HasMember("name") && data["name"].IsString()) {
    name = data["name"].GetString();
  } else {
    // iglu:vendor/NAME/format/version
    size_t s1 = schema.find('/');
    size_t s2 = schema.find('/', s1 + 1);
    if (s1 == std::string::npos || s2 == std::string::npos) {
      return InvalidArgumentError("enrichment config schema " + schema + " is not an Iglu URI");
    }
    name = schema.substr(s1 + 1, s2 - s1 - 1);
  }
  if (data.HasMember("enabled") && data["enabled"].IsBool() && !data["enabled"].GetBool()) {
    return std::unique_ptr<Enrichment>();
  }
  static const rapidjson::Value kEmpty(rapidjson::kObjectType);
  const rapidjson::Value& params = data.HasMember("parameters") ? data["parameters"] : kEmpty;
  Result<std::unique_ptr<Enrichment>> made = std::unique_ptr<Enrichment>();
  if (name == "campaign_attribution") {
    made = CreateCampaignAttribution(params, schema);
  } else if (name == "event_fingerprint_config") {
    made = CreateEventFingerprint(params, schema);
  } else if (name == "cookie_extractor_config") {
    made = CreateCookieExtractor(params, schema);
  } else if (name == "http_header_extractor_config") {
    made = CreateHttpHeaderExtractor(params, schema);
  } else if (name == "anon_ip") {
    made = CreateAnonIp(params, schema);
  } else if (name == "ip_lookups") {
    made = CreateIpLookups(params, schema, base_dir);
  } else if (name == "referer_parser") {
    made = CreateRefererParser(params, schema, base_dir);
  } else if (name == "ua_parser_config") {
    made = CreateUaParser(params, schema, base_dir, options.ua_cache_size);
  } else if (name == "iab_spiders_and_robots_enrichment") {
    made = CreateSpidersAndRobots(params, schema, base_dir);
  } else {
    return InvalidArgumentError("enrichment " + name + " (" + schema +
                                ") is not supported by furrow; remove or disable its config");
  }
  if (!made.ok()) return made.status().WithContext("enrichment " + name);
  return made;
}

Result<std::vector<std::unique_ptr<Enrichment>>> LoadEnrichments(
    const std::filesystem::path& dir, const EnrichmentOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return NotFoundError("enrichments directory " + dir.string() + " does not exist");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  if (ec) return IoError("cannot list " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<std::unique_ptr<Enrichment>> out;
  for (const auto& file : files) {
    FURROW_ASSIGN_OR_RETURN(std::string text, ReadDataFile(file));
    auto made = CreateEnrichment(text, dir, options);
    if (!made.ok()) return made.status().WithContext(file.string());
    if (*made) out.push_back(std::move(*made));
  }
  SortByApplicationOrder(&out);
  return out;
}

}  // namespace furrow::enrich
