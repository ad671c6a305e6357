// Unit tests of the configurable enrichments and of their start-up errors.
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "enrich/enrich_test_util.h"
#include "enrich/enrichment_registry.h"
#include "enrich/enrichments/simple_enrichments.h"
#include "enrich/enrichments/ua_parser.h"
#include "enrich/enrichments/uri_parsing.h"
#include "enrich/golden_cases.h"
#include "event/enriched_event.h"

namespace furrow::enrich::testing {
namespace {

std::optional<std::string> Opt(const YAML::Node& n) {
  if (!n || n.IsNull()) return std::nullopt;
  return n.as<std::string>();
}

std::string Show(const std::optional<std::string>& v) { return v ? *v : "(null)"; }

// uap-core's own test suites, run through our RE2 translation of its regexes.
class UapCoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto p = UserAgentParser::Load(kDefaultUapRegexes);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    parser_ = p->release();
  }
  static void TearDownTestSuite() { delete parser_; }
  static UserAgentParser* parser_;
};
UserAgentParser* UapCoreTest::parser_ = nullptr;

TEST_F(UapCoreTest, UserAgentFamiliesAndVersionsMatchUapCoreTests) {
  YAML::Node root = YAML::LoadFile("/usr/share/uap-core/tests/test_ua.yaml");
  size_t total = 0, wrong = 0;
  std::string first_errors;
  for (const auto& c : root["test_cases"]) {
    ++total;
    auto info = parser_->Parse(c["user_agent_string"].as<std::string>());
    bool ok = info.family == c["family"].as<std::string>() && info.major == Opt(c["major"]) &&
              info.minor == Opt(c["minor"]) && info.patch == Opt(c["patch"]);
    if (!ok && ++wrong <= 10) {
      first_errors += c["user_agent_string"].as<std::string>() + " -> " + info.family + " " +
                      Show(info.major) + "." + Show(info.minor) + "." + Show(info.patch) + "\n";
    }
  }
  EXPECT_GT(total, 1000u);
  EXPECT_EQ(wrong, 0u) << first_errors;
}

TEST_F(UapCoreTest, OsFamiliesAndVersionsMatchUapCoreTests) {
  YAML::Node root = YAML::LoadFile("/usr/share/uap-core/tests/test_os.yaml");
  size_t wrong = 0;
  std::string first_errors;
  for (const auto& c : root["test_cases"]) {
    auto info = parser_->Parse(c["user_agent_string"].as<std::string>());
    bool ok = info.os_family == c["family"].as<std::string>() && info.os_major == Opt(c["major"]) &&
              info.os_minor == Opt(c["minor"]) && info.os_patch == Opt(c["patch"]) &&
              info.os_patch_minor == Opt(c["patch_minor"]);
    if (!ok && ++wrong <= 10) {
      first_errors += c["user_agent_string"].as<std::string>() + " -> " + info.os_family + " " +
                      Show(info.os_major) + "." + Show(info.os_minor) + "." + Show(info.os_patch) + "\n";
    }
  }
  EXPECT_EQ(wrong, 0u) << first_errors;
}

TEST_F(UapCoreTest, DeviceFamiliesBrandsAndModelsMatchUapCoreTests) {
  YAML::Node root = YAML::LoadFile("/usr/share/uap-core/tests/test_device.yaml");
  size_t wrong = 0;
  std::string first_errors;
  for (const auto& c : root["test_cases"]) {
    auto info = parser_->Parse(c["user_agent_string"].as<std::string>());
    bool ok = info.device_family == c["family"].as<std::string>() &&
              info.device_brand == Opt(c["brand"]) && info.device_model == Opt(c["model"]);
    if (!ok && ++wrong <= 10) {
      first_errors += c["user_agent_string"].as<std::string>() + " -> " + info.device_family + " / " +
                      Show(info.device_brand) + " / " + Show(info.device_model) + "\n";
    }
  }
  EXPECT_EQ(wrong, 0u) << first_errors;
}

TEST(UaParserTest, TranslatesPcreOnlyEscapes) {
  EXPECT_EQ(TranslateUapRegex(R"(a\/b)"), "a/b");
  EXPECT_EQ(TranslateUapRegex(R"(\d+\.\d)"), R"(\d+\.\d)");
  EXPECT_EQ(TranslateUapRegex(R"(x\_y)"), "x_y");
}

TEST(EnrichmentsTest, AnonIpReplacesOctetsAndSegments) {
  EXPECT_EQ(AnonymizeIp("81.2.69.142", 1, 2), "81.2.69.x");
  EXPECT_EQ(AnonymizeIp("81.2.69.142", 4, 2), "x.x.x.x");
  EXPECT_EQ(AnonymizeIp("2001:db8::ff00:42:8329", 1, 3), "2001:db8:0:0:0:x:x:x");
  EXPECT_EQ(AnonymizeIp("unknown", 2, 2), "unknown");
}

TEST(EnrichmentsTest, UriParsingDefaultsPortsAndKeepsParts) {
  std::string error;
  auto parts = ParseUri("http://Example.com/a%20b?x=1#frag", &error);
  ASSERT_TRUE(parts.has_value()) << error;
  EXPECT_EQ(parts->scheme, "http");
  EXPECT_EQ(parts->port, "80");
  EXPECT_EQ(parts->path, "/a%20b");
  EXPECT_EQ(parts->query, "x=1");
  EXPECT_EQ(parts->fragment, "frag");
  auto app = ParseUri("android-app://com.example.app/path", &error);
  ASSERT_TRUE(app.has_value()) << error;
  EXPECT_EQ(app->host, "com.example.app");
  EXPECT_FALSE(ParseUri("not a url", &error).has_value());
}

Result<std::unique_ptr<Enrichment>> Make(const std::string& json) {
  return CreateEnrichment(json, std::filesystem::current_path());
}

void Apply(const Enrichment& e, EnrichedEvent* event, const tracker::CollectorPayload& payload,
           const RawEvent& raw, std::vector<std::string>* failures) {
  e.Enrich(EnrichmentInput{raw, payload}, event, failures);
}

TEST(EnrichmentsTest, FingerprintAlgorithmsAndExclusions) {
  RawEvent raw;
  raw.parameters = {{"e", "pv"}, {"eid", "x"}, {"url", "u"}};
  tracker::CollectorPayload payload;
  std::vector<std::string> failures;
  std::map<std::string, size_t> lengths = {{"MD5", 32}, {"SHA1", 40}, {"SHA256", 64}, {"SHA384", 96}, {"SHA512", 128}};
  for (const auto& [algo, len] : lengths) {
    auto e = Make(R"({"schema":"iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1",
      "data":{"name":"event_fingerprint_config","vendor":"com.snowplowanalytics.snowplow","enabled":true,
      "parameters":{"hashAlgorithm":")" + algo + R"(","excludeParameters":["eid"]}}})");
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EnrichedEvent a, b;
    Apply(**e, &a, payload, raw, &failures);
    RawEvent other = raw;
    other.parameters[1].second = "different eid";
    Apply(**e, &b, payload, other, &failures);
    EXPECT_EQ(a[event::kEventFingerprint].size(), len) << algo;
    EXPECT_EQ(a[event::kEventFingerprint], b[event::kEventFingerprint]) << "eid is excluded";
  }
  // MD5 of "e\x1fpv\x1furl\x1fu\x1f".
  auto md5 = Make(R"({"schema":"iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1",
      "data":{"name":"event_fingerprint_config","enabled":true,"parameters":{"hashAlgorithm":"MD5","excludeParameters":["eid"]}}})");
  ASSERT_TRUE(md5.ok());
  EnrichedEvent ev;
  Apply(**md5, &ev, payload, raw, &failures);
  EXPECT_EQ(ev[event::kEventFingerprint], "dc28bbf0929b1b242ef16cf9b3e8e4ef");
}

TEST(EnrichmentsTest, RefererParserInternalUnknownAndSearch) {
  TempDir dir;
  WriteAllEnrichmentConfigs(dir.path());
  auto loaded = LoadEnrichments(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Enrichment* referer = nullptr;
  for (const auto& e : *loaded) {
    if (e->name() == "referer_parser") referer = e.get();
  }
  ASSERT_NE(referer, nullptr);
  tracker::CollectorPayload payload;
  RawEvent raw;
  std::vector<std::string> failures;
  auto run = [&](const std::string& refr_host, const std::string& path, const std::string& query) {
    EnrichedEvent ev;
    ev[event::kPageUrlhost] = "shop.example.com";
    ev[event::kRefrUrlscheme] = "https";
    ev[event::kRefrUrlhost] = refr_host;
    ev[event::kRefrUrlpath] = path;
    ev[event::kRefrUrlquery] = query;
    Apply(*referer, &ev, payload, raw, &failures);
    return ev;
  };
  EXPECT_EQ(run("shop.example.com", "/", "")[event::kRefrMedium], "internal");
  EXPECT_EQ(run("internal.example.com", "/", "")[event::kRefrMedium], "internal");
  EXPECT_EQ(run("blog.nowhere.test", "/", "")[event::kRefrMedium], "unknown");
  auto bing = run("www.bing.com", "/search", "q=rakes&form=x");
  EXPECT_EQ(bing[event::kRefrMedium], "search");
  EXPECT_EQ(bing[event::kRefrSource], "Bing");
  EXPECT_EQ(bing[event::kRefrTerm], "rakes");
  auto fb = run("m.facebook.com", "/", "");
  EXPECT_EQ(fb[event::kRefrMedium], "social");
  EXPECT_EQ(fb[event::kRefrSource], "Facebook");
  EXPECT_TRUE(failures.empty());
}

TEST(EnrichmentsTest, IpLookupsFillIspDomainAndConnectionType) {
  TempDir dir;
  WriteAllEnrichmentConfigs(dir.path());
  std::ifstream in(dir.path() / "ip_lookups.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto e = CreateEnrichment(text, dir.path());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  tracker::CollectorPayload payload;
  RawEvent raw;
  std::vector<std::string> failures;
  auto run = [&](const std::string& ip) {
    EnrichedEvent ev;
    ev[event::kUserIpaddress] = ip;
    Apply(**e, &ev, payload, raw, &failures);
    return ev;
  };
  auto isp = run("1.128.0.0");
  EXPECT_EQ(isp[event::kIpIsp], "Telstra Internet");
  EXPECT_EQ(isp[event::kIpOrganization], "Telstra Internet");
  EXPECT_EQ(run("1.2.0.0")[event::kIpDomain], "maxmind.com");
  EXPECT_EQ(run("1.0.128.0")[event::kIpNetspeed], "Cable/DSL");
  auto nothing = run("not-an-ip");
  EXPECT_EQ(nothing[event::kGeoCountry], "");
  EXPECT_TRUE(failures.empty());
}

TEST(EnrichmentsTest, CampaignClickIdsAndCustomParameterLists) {
  auto e = Make(R"({"schema":"iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1",
    "data":{"name":"campaign_attribution","enabled":true,"parameters":{"fields":{
    "mktMedium":["med"],"mktSource":["src"],"mktTerm":["t"],"mktContent":["c"],"mktCampaign":["cmp"]}}}})");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EnrichedEvent ev;
  ev[event::kPageUrlquery] = "med=cpc&src=bing&utm_source=ignored&t=x%20y&c=banner&cmp=q4&msclkid=m-1";
  std::vector<std::string> failures;
  Apply(**e, &ev, tracker::CollectorPayload(), RawEvent(), &failures);
  EXPECT_EQ(ev[event::kMktMedium], "cpc");
  EXPECT_EQ(ev[event::kMktSource], "bing");
  EXPECT_EQ(ev[event::kMktTerm], "x y");
  EXPECT_EQ(ev[event::kMktContent], "banner");
  EXPECT_EQ(ev[event::kMktCampaign], "q4");
  EXPECT_EQ(ev[event::kMktClickid], "m-1");
  EXPECT_EQ(ev[event::kMktNetwork], "Microsoft");
}

TEST(EnrichmentsTest, SpidersByIpAndUserAgent) {
  TempDir dir;
  WriteAllEnrichmentConfigs(dir.path());
  std::ifstream in(dir.path() / "iab.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto e = CreateEnrichment(text, dir.path());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto run = [&](const std::string& ip, const std::string& ua) {
    EnrichedEvent ev;
    ev[event::kUserIpaddress] = ip;
    ev[event::kUseragent] = ua;
    std::vector<std::string> failures;
    Apply(**e, &ev, tracker::CollectorPayload(), RawEvent(), &failures);
    return ev.derived_contexts.at(0);
  };
  EXPECT_NE(run("192.0.2.7", kChromeUa).find("FAILED_IP_EXCLUDE"), std::string::npos);
  EXPECT_NE(run("203.0.113.1", "Mozilla/5.0 (compatible; Googlebot/2.1)").find("FAILED_UA_EXCLUDE"), std::string::npos);
  EXPECT_NE(run("203.0.113.1", "python-requests/2.31").find("FAILED_UA_INCLUDE"), std::string::npos);
  EXPECT_NE(run("203.0.113.1", kChromeUa).find("PASSED_ALL"), std::string::npos);
}

TEST(EnrichmentsTest, MissingDataFileFailsAtStartupWithItsPath) {
  auto e = Make(R"({"schema":"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1",
    "data":{"name":"ip_lookups","enabled":true,"parameters":{"geo":{"database":"GeoIP2-City.mmdb","uri":"file:///nonexistent/dir"}}}})");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("/nonexistent/dir/GeoIP2-City.mmdb"), std::string::npos) << e.status().ToString();
  auto ua = Make(R"({"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1",
    "data":{"name":"ua_parser_config","enabled":true,"parameters":{"database":"regexes.yaml","uri":"/nonexistent"}}})");
  EXPECT_FALSE(ua.ok());
  auto referer = Make(R"({"schema":"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1",
    "data":{"name":"referer_parser","enabled":true,"parameters":{"internalDomains":[],"database":"referers.yml","uri":"http://example.com/db"}}})");
  ASSERT_FALSE(referer.ok());
  EXPECT_NE(referer.status().message().find("remote"), std::string::npos);
}

TEST(EnrichmentsTest, CorruptDatabaseFailsAtStartup) {
  TempDir dir;
  std::ofstream(dir.path() / "GeoIP2-City.mmdb") << "not a maxmind database";
  auto e = CreateEnrichment(R"({"schema":"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1",
    "data":{"name":"ip_lookups","enabled":true,"parameters":{"geo":{"database":"GeoIP2-City.mmdb","uri":"."}}}})",
                            dir.path());
  EXPECT_FALSE(e.ok());
}

TEST(EnrichmentsTest, UnknownEnrichmentIsRejectedAndDisabledOnesSkipped) {
  auto unknown = Make(R"({"schema":"iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0",
    "data":{"name":"currency_conversion_config","enabled":true,"parameters":{}}})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("not supported"), std::string::npos);
  auto disabled = Make(R"({"schema":"iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0",
    "data":{"name":"currency_conversion_config","enabled":false,"parameters":{}}})");
  ASSERT_TRUE(disabled.ok());
  EXPECT_EQ(disabled->get(), nullptr);
}

TEST(EnrichmentsTest, LoadedInSnowplowOrder) {
  TempDir dir;
  WriteAllEnrichmentConfigs(dir.path());
  auto loaded = LoadEnrichments(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  std::vector<std::string> names;
  for (const auto& e : *loaded) names.emplace_back(e->name());
  EXPECT_EQ(names, (std::vector<std::string>{"iab_spiders_and_robots_enrichment", "ua_parser_config",
                                             "referer_parser", "campaign_attribution",
                                             "event_fingerprint_config", "cookie_extractor_config",
                                             "http_header_extractor_config", "ip_lookups", "anon_ip"}));
}

}  // namespace
}  // namespace furrow::enrich::testing

namespace furrow::enrich::testing {
namespace {

TEST(EnrichmentsTest, UriParsingDoesNotResolveAgainstThePreviousUrl) {
  // Regression: the reused curl handle resolved a relative URL against the
  // previous event's page URL.
  std::string error;
  ASSERT_TRUE(ParseUri("https://a.example/x/y", &error).has_value());
  EXPECT_FALSE(ParseUri("relative/path", &error).has_value());
}

}  // namespace
}  // namespace furrow::enrich::testing
