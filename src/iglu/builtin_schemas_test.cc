#include "iglu/builtin_schemas.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>
#include <string>

#include "iglu/resolver.h"
#include "iglu/schema.h"

namespace furrow::iglu {
namespace {

struct Sample {
  const char* key;
  bool valid;
  std::string instance;
};

const std::string kProcessor = R"("processor":{"artifact":"furrow","version":"0.1.0"})";
const std::string kTime = R"("2024-05-01T10:00:00.000Z")";
const std::string kCollectorPayload =
    R"({"vendor":"com.snowplowanalytics.snowplow","version":"tp2",
        "querystring":[{"name":"e","value":"pv"}],"contentType":"application/json",
        "body":"{}","collector":"furrow-0.1.0-file","encoding":"UTF-8","hostname":"collector.example.com",
        "timestamp":"2024-05-01T10:00:00.000Z","ipAddress":"10.0.0.1","useragent":"Mozilla/5.0",
        "refererUri":"https://example.com/","headers":["Host: collector.example.com"],
        "networkUserId":"5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11"})";
const std::string kEventPayload =
    R"({"raw":{"vendor":"com.snowplowanalytics.snowplow","version":"tp2",
               "parameters":[{"name":"e","value":"ue"}],"contentType":null,"loaderName":"thrift",
               "encoding":"UTF-8","hostname":null,"timestamp":"2024-05-01T10:00:00.000Z",
               "ipAddress":"10.0.0.1","useragent":null,"refererUri":null,"headers":[],"userId":null},
        "enriched":{"app_id":"shop","platform":"web","event":"unstruct","event_id":"5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11",
                    "domain_sessionidx":3,"geo_latitude":51.5,"page_urlport":443,"br_cookies":1,
                    "contexts":null,"unstruct_event":"{}","derived_contexts":null}})";
const std::string kEnrichment =
    R"("vendor":"com.snowplowanalytics.snowplow","name":"x","enabled":true)";

std::vector<Sample> Samples() {
  return {
      // Contexts and events the JavaScript tracker sends by default.
      {"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", true,
       R"({"id":"5E9A3A54-3f1c-4bd0-9b0b-8f6b3a3d8a11"})"},
      {"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", false, R"({"id":"page-1"})"},
      {"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", false, R"({})"},
      {"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1", true,
       R"({"targetUrl":"https://example.com/a","elementId":"x","elementClasses":["nav","big"]})"},
      {"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1", false, R"({"targetUrl":""})"},
      {"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1", false,
       R"({"targetUrl":"https://example.com","elementClasses":"nav"})"},
      // Tracker protocol wrappers.
      {"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", true,
       R"([{"e":"pv","p":"web","tv":"js-3.0.0","url":"https://example.com","eid":"5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11","cx":"e30"}])"},
      {"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", false, "[]"},
      {"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", false,
       R"([{"e":"pv","p":"web"}])"},
      {"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", false,
       R"([{"e":"pv","p":"web","tv":"x","nonsense":"1"}])"},
      {"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", false,
       R"([{"e":"pv","p":"web","tv":"x","dtm":1700000000000}])"},
      {"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0", true,
       R"([{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"a":1}}])"},
      {"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0", false, "[]"},
      {"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0", false,
       R"([{"schema":"iglu:com.acme/x","data":{}}])"},
      {"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", true, "[]"},
      {"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", true,
       R"([{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":null}])"},
      {"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", false, R"([{"data":{}}])"},
      {"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0", true,
       R"({"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{}})"},
      {"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0", false,
       R"({"schema":"iglu:com.acme/x/jsonschema/1-0-0"})"},
      {"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0", true,
       R"({"useragentFamily":"Firefox","useragentMajor":"120","useragentMinor":"0","useragentPatch":null,
           "useragentVersion":"Firefox 120.0","osFamily":"Linux","osMajor":null,"osMinor":null,"osPatch":null,
           "osPatchMinor":null,"osVersion":"Linux","deviceFamily":"Other"})"},
      {"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0", false,
       R"({"useragentFamily":"Firefox","useragentMajor":"120","useragentMinor":"0","osFamily":"Linux"})"},
      // Enrichment configs.
      {"iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1", true,
       "{" + kEnrichment + R"(,"parameters":{"mapping":"static","fields":{"mktMedium":["utm_medium"],
           "mktSource":["utm_source"],"mktTerm":["utm_term"],"mktContent":["utm_content"],
           "mktCampaign":["utm_campaign"],"mktClickId":{"gclid":"Google","msclkid":"Microsoft","dclid":"DoubleClick"}}}})"},
      {"iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1", false,
       "{" + kEnrichment + R"(,"parameters":{"mapping":"dynamic","fields":{"mktMedium":[],"mktSource":[],
           "mktTerm":[],"mktContent":[],"mktCampaign":[]}}})"},
      {"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-0", true,
       "{" + kEnrichment + R"(,"parameters":{"internalDomains":["www.example.com"],"database":"referers-latest.json",
           "uri":"https://snowplow-hosted-assets.s3.amazonaws.com/third-party/referer-parser/"}})"},
      {"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-0", false,
       "{" + kEnrichment + R"(,"parameters":{"internalDomains":[],"database":"r.json","uri":"not a uri"}})"},
      {"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1", true,
       "{" + kEnrichment + R"(,"parameters":{"internalDomains":[],"database":"r.json","uri":"file:///usr/share/referers",
           "referrers":{"search":{"Acme":{"domains":["search.acme.com"],"parameters":["q"]}}}}})"},
      {"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1", false,
       "{" + kEnrichment + R"(,"parameters":{"internalDomains":[],"database":"r.json","uri":"file:///x",
           "referrers":{"search":{"Acme":{"domains":[]}}}}})"},
      {"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0", true,
       "{" + kEnrichment + R"(,"parameters":{}})"},
      {"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0", false,
       "{" + kEnrichment + R"(,"parameters":{"database":"regexes.yaml"}})"},
      {"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1", true,
       "{" + kEnrichment + R"(,"parameters":{"database":"regexes.yaml","uri":"file:///usr/share/uap-core"}})"},
      {"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1", false,
       "{" + kEnrichment + R"(,"parameters":{"other":1}})"},
      {"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-0", true,
       "{" + kEnrichment + R"(,"parameters":{"geo":{"database":"GeoLite2-City.mmdb",
           "uri":"http://snowplow-hosted-assets.s3.amazonaws.com/third-party/maxmind"}}})"},
      {"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-0", false,
       "{" + kEnrichment + R"(,"parameters":{"asn":{"database":"GeoLite2-ASN.mmdb","uri":"http://x/y"}}})"},
      {"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1", true,
       "{" + kEnrichment + R"(,"parameters":{"asn":{"database":"GeoLite2-ASN.mmdb","uri":"http://x/y"},
           "isp":{"database":"GeoIP2-ISP.mmdb","uri":"s3://bucket/maxmind"}}})"},
      {"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1", false,
       "{" + kEnrichment + R"(,"parameters":{"geo":{"database":"other.mmdb","uri":"http://x/y"}}})"},
      {"iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-0", true,
       "{" + kEnrichment + R"(,"parameters":{"hashAlgorithm":"MD5","excludeParameters":["cv","eid","nuid","stm"]}})"},
      {"iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-0", false,
       "{" + kEnrichment + R"(,"parameters":{"hashAlgorithm":"SHA256","excludeParameters":[]}})"},
      {"iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1", true,
       "{" + kEnrichment + R"(,"parameters":{"hashAlgorithm":"SHA256","excludeParameters":[]}})"},
      {"iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1", false,
       "{" + kEnrichment + R"(,"parameters":{"hashAlgorithm":"CRC32","excludeParameters":[]}})"},
      {"iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0", true,
       "{" + kEnrichment + R"(,"parameters":{"cookies":["sp"]}})"},
      {"iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0", false,
       "{" + kEnrichment + R"(,"parameters":{}})"},
      {"iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0", true,
       "{" + kEnrichment + R"(,"parameters":{"headersPattern":"X-Forwarded-.*"}})"},
      {"iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0", false,
       "{" + kEnrichment + R"(,"parameters":{"headersPattern":1}})"},
      {"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0", true,
       "{" + kEnrichment + R"(,"parameters":{"anonOctets":2}})"},
      {"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0", false,
       "{" + kEnrichment + R"(,"parameters":{"anonOctets":5}})"},
      {"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1", true,
       "{" + kEnrichment + R"(,"parameters":{"anonOctets":1,"anonSegments":3}})"},
      {"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1", false,
       "{" + kEnrichment + R"(,"parameters":{"anonOctets":1,"anonSegments":9}})"},
      {"iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/1-0-0", true,
       "{" + kEnrichment + R"(,"parameters":{
           "ipFile":{"database":"ip_exclude_current_cidr.txt","uri":"s3://private/iab"},
           "excludeUseragentFile":{"database":"exclude_current.txt","uri":"s3://private/iab"},
           "includeUseragentFile":{"database":"include_current.txt","uri":"s3://private/iab"}}})"},
      {"iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/1-0-0", false,
       "{" + kEnrichment + R"(,"parameters":{
           "ipFile":{"database":"ip_exclude_current_cidr.txt","uri":"s3://private/iab"}}})"},
      // Bad rows.
      {"iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0", true,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"maximumAllowedSizeBytes":1000000,"actualSizeBytes":1200000,"expectation":"stream records under 1000000 bytes"},"payload":"abc"})"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0", false,
       R"({"processor":{"artifact":"furrow","version":"dev"},"failure":{"timestamp":)" + kTime +
           R"(,"maximumAllowedSizeBytes":1,"actualSizeBytes":2},"payload":"abc"})"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/collector_payload_format_violation/jsonschema/1-0-0", true,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"loader":"thrift","message":{"error":"not a Thrift struct"}},"payload":"AAEC"})"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/collector_payload_format_violation/jsonschema/1-0-0", false,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"loader":"avro","message":{"error":"x"}},"payload":"AAEC"})"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/adapter_failures/jsonschema/1-0-0", true,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"vendor":"com.acme","version":"v1","messages":[{"field":"e","value":null,"expectation":"a known event type"}]},"payload":)" +
           kCollectorPayload + "}"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/adapter_failures/jsonschema/1-0-0", false,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"vendor":"com.acme","version":"v1","messages":[]},"payload":{"vendor":"x","version":"y"}})"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1", true,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"vendor":"com.snowplowanalytics.snowplow","version":"tp2","messages":[
              {"field":"e","value":"zz","expectation":"one of pv pp se ue tr ti ad"},
              {"schemaKey":"iglu:com.acme/x/jsonschema/1-0-0","error":{"error":"ValidationError",
               "dataReports":[{"message":"$.a: expected number, got string, keyword type","path":"$.a","keyword":"type","targets":["number"]}]}}]},
           "payload":)" + kCollectorPayload + "}"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1", false,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"vendor":"v","version":"1","messages":[{"unexpected":true}]},"payload":)" + kCollectorPayload + "}"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1", true,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"messages":[{"schemaKey":"iglu:com.acme/x/jsonschema/1-0-0","error":{"error":"ResolutionError",
              "lookupHistory":[{"repository":"Iglu Central","errors":[{"error":"NotFound"}],"attempts":1,
                                "lastAttempt":"2024-05-01T10:00:00.000Z"}]}}]},"payload":)" + kEventPayload + "}"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1", false,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"messages":[]},"payload":{"raw":{"vendor":"v","version":"1","loaderName":"thrift","encoding":"UTF-8"},
           "enriched":{"not_a_field":"x"}}})"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/enrichment_failures/jsonschema/2-0-1", true,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"messages":[{"enrichment":{"schemaKey":"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1",
             "identifier":"ip_lookups"},"message":{"error":"database unreadable"}},
             {"enrichment":null,"message":{"field":"tr_tt","value":"abc","expectation":"a number"}}]},"payload":)" +
           kEventPayload + "}"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/enrichment_failures/jsonschema/2-0-1", false,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime +
           R"(,"messages":[{"enrichment":null,"message":{"unknown":1}}]},"payload":)" + kEventPayload + "}"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0", true,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime + R"(,"errors":["boom"]},"payload":"raw"})"},
      {"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0", false,
       "{" + kProcessor + R"(,"failure":{"timestamp":)" + kTime + R"(,"errors":[]},"payload":"raw"})"},
      // The atomic event.
      {"iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0", true,
       R"({"collector_tstamp":"2024-05-01T10:00:00.000Z","event_id":"5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11",
           "v_collector":"furrow-0.1.0-file","v_etl":"furrow-0.1.0","app_id":"shop","br_features_pdf":true,
           "geo_latitude":51.5,"page_urlport":443,"se_value":1.5,"user_id":null,"geo_country":"GB"})"},
      {"iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0", false,
       R"({"collector_tstamp":"2024-05-01T10:00:00.000Z","event_id":"e","v_collector":"c","v_etl":"e",
           "app_id":")" + std::string(256, 'a') + R"("})"},
      {"iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0", false,
       R"({"collector_tstamp":"2024-05-01T10:00:00.000Z","event_id":null,"v_collector":"c","v_etl":"e"})"},
      {"iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0", false,
       R"({"geo_country":"GBR"})"},
  };
}

std::unique_ptr<Resolver> MakeResolver(bool builtin) {
  ResolverConfig config;
  ResolverOptions options;
  options.use_builtin = builtin;
  if (!builtin) {
    RepositoryConfig repo;
    repo.name = "iglu-central-copy";
    repo.kind = RepositoryConfig::Kind::kEmbedded;
    repo.path = "../shared/data/iglu-central";
    config.repositories.push_back(repo);
  }
  Result<std::unique_ptr<Resolver>> resolver = Resolver::Create(config, options);
  EXPECT_TRUE(resolver.ok()) << resolver.status().ToString();
  return std::move(*resolver);
}

TEST(BuiltinSchemasTest, EveryRequiredSchemaIsBuiltIn) {
  std::set<std::string> paths;
  for (const BuiltinSchema& s : BuiltinSchemas()) paths.insert(std::string(s.path));
  for (const char* required : {
           "com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
           "com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
           "com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
           "com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
           "com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0",
           "com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1",
       }) {
    EXPECT_TRUE(paths.count(required)) << required;
  }
  EXPECT_FALSE(FindBuiltinSchema(*SchemaKey::ParseUri("iglu:com.acme/none/jsonschema/1-0-0")));
}

TEST(BuiltinSchemasTest, EveryBuiltinSchemaHasASampleOfEachKind) {
  std::set<std::string> valid, invalid;
  for (const Sample& s : Samples()) (s.valid ? valid : invalid).insert(s.key);
  for (const BuiltinSchema& builtin : BuiltinSchemas()) {
    std::string uri = "iglu:" + std::string(builtin.path);
    EXPECT_TRUE(valid.count(uri)) << "no valid sample for " << uri;
    EXPECT_TRUE(invalid.count(uri)) << "no invalid sample for " << uri;
  }
}

TEST(BuiltinSchemasTest, BuiltinSchemasJudgeSamplesLikeIgluCentral) {
  std::unique_ptr<Resolver> builtin = MakeResolver(true);
  std::unique_ptr<Resolver> central = MakeResolver(false);
  for (const Sample& sample : Samples()) {
    SCOPED_TRACE(std::string(sample.key) + " " + sample.instance);
    rapidjson::Document doc;
    doc.Parse(sample.instance.c_str());
    ASSERT_FALSE(doc.HasParseError());
    Result<std::shared_ptr<const Schema>> mine = builtin->Lookup(sample.key);
    ASSERT_TRUE(mine.ok()) << mine.status().ToString();
    Result<std::shared_ptr<const Schema>> theirs = central->Lookup(sample.key);
    ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
    std::vector<ValidationError> mine_errors = (*mine)->Validate(doc);
    std::vector<ValidationError> their_errors = (*theirs)->Validate(doc);
    EXPECT_EQ(mine_errors.empty(), sample.valid)
        << (mine_errors.empty() ? "accepted" : mine_errors[0].message);
    EXPECT_EQ(their_errors.empty(), sample.valid)
        << (their_errors.empty() ? "accepted" : their_errors[0].message);
  }
}

TEST(BuiltinSchemasTest, BuiltinTextsAreFurrowsOwn) {
  for (const BuiltinSchema& builtin : BuiltinSchemas()) {
    EXPECT_NE(builtin.text.find("\"description\": \"furrow: "), std::string_view::npos)
        << builtin.path;
  }
}

}  // namespace
}  // namespace furrow::iglu
