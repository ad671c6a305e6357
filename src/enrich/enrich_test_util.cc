#include "enrich/enrich_test_util.h"

#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "core/json_escape.h"
#include "enrich/enrichment_registry.h"
#include "iglu/registry.h"
#include "iglu/schema.h"

namespace furrow::enrich::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("furrow-enrich-test-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

void Write(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string Abs(const std::string& relative) { return fs::absolute(relative).lexically_normal().string(); }

}  // namespace

void WriteAllEnrichmentConfigs(const fs::path& dir) {
  const std::string maxmind = Abs("../shared/data/maxmind/test-data");
  Write(dir / "campaign_attribution.json", R"({
    "schema": "iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1",
    "data": {"name": "campaign_attribution", "vendor": "com.snowplowanalytics.snowplow", "enabled": true,
      "parameters": {"mapping": "static", "fields": {
        "mktMedium": ["utm_medium", "medium"], "mktSource": ["utm_source", "source"],
        "mktTerm": ["utm_term"], "mktContent": ["utm_content"], "mktCampaign": ["utm_campaign", "cid"],
        "mktClickId": {"gclid": "Google", "msclkid": "Microsoft", "dclid": "DoubleClick"}}}}})");
  Write(dir / "referer_parser.json", R"({
    "schema": "iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1",
    "data": {"name": "referer_parser", "vendor": "com.snowplowanalytics.snowplow", "enabled": true,
      "parameters": {"internalDomains": ["internal.example.com"],
        "database": "referers.yml",
        "uri": "file:///usr/share/rubygems-integration/all/gems/referer-parser-0.3.0/data"}}})");
  Write(dir / "ua_parser_config.json", R"({
    "schema": "iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1",
    "data": {"name": "ua_parser_config", "vendor": "com.snowplowanalytics.snowplow", "enabled": true,
      "parameters": {"database": "regexes.yaml", "uri": "file:///usr/share/uap-core"}}})");
  Write(dir / "ip_lookups.json", R"({
    "schema": "iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1",
    "data": {"name": "ip_lookups", "vendor": "com.snowplowanalytics.snowplow", "enabled": true,
      "parameters": {
        "geo": {"database": "GeoIP2-City-Test.mmdb", "uri": "file://)" + maxmind + R"("},
        "isp": {"database": "GeoIP2-ISP-Test.mmdb", "uri": ")" + maxmind + R"("},
        "domain": {"database": "GeoIP2-Domain-Test.mmdb", "uri": ")" + maxmind + R"("},
        "connectionType": {"database": "GeoIP2-Connection-Type-Test.mmdb", "uri": ")" + maxmind + R"("}}}})");
  Write(dir / "event_fingerprint_config.json", R"({
    "schema": "iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1",
    "data": {"name": "event_fingerprint_config", "vendor": "com.snowplowanalytics.snowplow", "enabled": true,
      "parameters": {"excludeParameters": ["cv", "eid", "nuid", "stm"], "hashAlgorithm": "MD5"}}})");
  Write(dir / "cookie_extractor_config.json", R"({
    "schema": "iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0",
    "data": {"name": "cookie_extractor_config", "vendor": "com.snowplowanalytics.snowplow", "enabled": true,
      "parameters": {"cookies": ["sp"]}}})");
  Write(dir / "http_header_extractor_config.json", R"({
    "schema": "iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0",
    "data": {"name": "http_header_extractor_config", "vendor": "com.snowplowanalytics.snowplow.enrichments",
      "enabled": true, "parameters": {"headersPattern": "X-Request-Id"}}})");
  Write(dir / "anon_ip.json", R"({
    "schema": "iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1",
    "data": {"name": "anon_ip", "vendor": "com.snowplowanalytics.snowplow", "enabled": true,
      "parameters": {"anonOctets": 1, "anonSegments": 2}}})");
  Write(dir / "ip_exclude_current_cidr.txt", "# robots\n192.0.2.0/24\n");
  Write(dir / "exclude_current.txt", "# pattern|active\ngooglebot|1\ncrawler|1\n");
  Write(dir / "include_current.txt", "mozilla|1\ncurl|1\n");
  Write(dir / "iab.json", R"({
    "schema": "iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/1-0-0",
    "data": {"name": "iab_spiders_and_robots_enrichment", "vendor": "com.snowplowanalytics.snowplow.enrichments",
      "enabled": true, "parameters": {
        "ipFile": {"database": "ip_exclude_current_cidr.txt", "uri": "."},
        "excludeUseragentFile": {"database": "exclude_current.txt", "uri": "."},
        "includeUseragentFile": {"database": "include_current.txt", "uri": "."}}}})");
}

std::unique_ptr<iglu::Resolver> MakeTestResolver() {
  std::string config = R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
    "data":{"cacheSize":1000,"repositories":[{"name":"Iglu Central copy","priority":0,
    "vendorPrefixes":[],"connection":{"embedded":{"path":")" + Abs("../shared/data/iglu-central") + R"("}}}]}})";
  auto parsed = iglu::ResolverConfig::Parse(config, fs::current_path());
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto resolver = iglu::Resolver::Create(std::move(*parsed));
  EXPECT_TRUE(resolver.ok()) << resolver.status().ToString();
  return std::move(*resolver);
}

EnrichFixture::EnrichFixture(bool all_enrichments)
    : clock_(WallTime(std::chrono::milliseconds(kCollectorMs + 5000))) {
  resolver_ = MakeTestResolver();
  validator_ = std::make_unique<IgluEntityValidator>(resolver_.get(), &clock_);
  EnricherOptions options;
  options.validator = validator_.get();
  options.uuids = &uuids_;
  options.clock = &clock_;
  if (all_enrichments) {
    WriteAllEnrichmentConfigs(dir_.path());
    auto loaded = LoadEnrichments(dir_.path());
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    if (loaded.ok()) options.enrichments = std::move(*loaded);
  }
  enricher_ = std::make_unique<Enricher>(std::move(options));
}

EnrichOutput EnrichFixture::Run(const tracker::CollectorPayload& payload) {
  EnrichOutput out;
  enricher_->ProcessPayload(payload, &out);
  return out;
}

tracker::CollectorPayload GetPayload(const std::string& querystring) {
  tracker::CollectorPayload p;
  p.ip_address = "10.0.0.1";
  p.timestamp_ms = kCollectorMs;
  p.collector = "furrow-0.1.0-file";
  p.user_agent = kChromeUa;
  p.referer_uri = "https://shop.example.com/from-header";
  p.path = "/i";
  p.querystring = querystring;
  p.headers = std::vector<std::string>{"Host: collector.example.com", "X-Forwarded-For: 81.2.69.142, 10.0.0.2",
                                       "Cookie: sp=c5f4b6a2-2c5f-4b0a-9d3e-7a1b2c3d4e5f; other=1",
                                       "X-Request-Id: req-42"};
  p.hostname = "collector.example.com";
  p.network_user_id = "c5f4b6a2-2c5f-4b0a-9d3e-7a1b2c3d4e5f";
  return p;
}

tracker::CollectorPayload PostPayload(const std::string& body, const std::string& content_type,
                                      const std::string& querystring) {
  tracker::CollectorPayload p = GetPayload(querystring);
  p.path = "/com.snowplowanalytics.snowplow/tp2";
  if (querystring.empty()) p.querystring.reset();
  p.body = body;
  p.content_type = content_type;
  p.headers->push_back("Content-Type: " + content_type);
  return p;
}

std::string PayloadDataBody(const std::vector<std::vector<std::pair<std::string, std::string>>>& events) {
  std::string out = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\",\"data\":[";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    out += '{';
    for (size_t j = 0; j < events[i].size(); ++j) {
      if (j) out += ',';
      AppendJsonString(&out, events[i][j].first);
      out += ':';
      AppendJsonString(&out, events[i][j].second);
    }
    out += '}';
  }
  out += "]}";
  return out;
}

std::string ValidateBadRow(const std::string& bad_row) {
  rapidjson::Document doc;
  doc.Parse(bad_row.c_str(), bad_row.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("schema") || !doc["schema"].IsString() ||
      !doc.HasMember("data")) {
    return "not a self-describing JSON: " + bad_row;
  }
  auto key = iglu::SchemaKey::ParseUri(doc["schema"].GetString());
  if (!key.ok()) return key.status().ToString();
  std::ifstream in("../shared/data/iglu-central/schemas/" + key->ToPath());
  std::stringstream text;
  text << in.rdbuf();
  auto schema = iglu::Schema::Compile(*key, text.str());
  if (!schema.ok()) return schema.status().ToString();
  std::string reasons;
  for (const auto& e : (*schema)->Validate(doc["data"])) reasons += e.message + "\n";
  return reasons;
}

}  // namespace furrow::enrich::testing
