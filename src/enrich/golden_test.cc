// Golden tests: one event of each type, as GET and as POST, through the whole
// chain with every enrichment on, checked field by field (every one of the 131
// fields is either expected below or must be empty).
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "core/version.h"
#include "enrich/enrich_test_util.h"
#include "enrich/golden_cases.h"
#include "event/enriched_event.h"

namespace furrow::enrich::testing {
namespace {

using Expected = std::map<std::string, std::string>;

std::string Md5Fingerprint(const Params& params) {
  std::map<std::string, std::string> sorted(params.begin(), params.end());
  std::string input;
  for (const auto& [k, v] : sorted) {
    if (k == "eid" || k == "nuid" || k == "stm" || k == "cv") continue;
    input += k + "\x1f" + v + "\x1f";
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_md5(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned i = 0; i < len; ++i) {
    snprintf(buf, sizeof(buf), "%02x", digest[i]);
    hex += buf;
  }
  return hex;
}

const char kDerivedContexts[] =
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[)"
    R"({"schema":"iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0","data":{"spiderOrRobot":false,"category":"BROWSER","reason":"PASSED_ALL","primaryImpact":"NONE"}},)"
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0","data":{"useragentFamily":"Chrome","useragentMajor":"120","useragentMinor":"0","useragentPatch":"0","useragentVersion":"Chrome 120.0.0","osFamily":"Windows","osMajor":"10","osMinor":null,"osPatch":null,"osPatchMinor":null,"osVersion":"Windows 10","deviceFamily":"Other"}},)"
    R"({"schema":"iglu:org.ietf/http_cookie/jsonschema/1-0-0","data":{"name":"sp","value":"c5f4b6a2-2c5f-4b0a-9d3e-7a1b2c3d4e5f"}},)"
    R"({"schema":"iglu:org.ietf/http_header/jsonschema/1-0-0","data":{"name":"X-Request-Id","value":"req-42"}}]})";

Expected CommonExpected(const GoldenCase& c) {
  Expected e = {
      {"app_id", "shop"},
      {"platform", "web"},
      {"etl_tstamp", "2023-11-14 22:13:25.000"},
      {"collector_tstamp", "2023-11-14 22:13:20.000"},
      {"dvce_created_tstamp", "2023-11-14 22:13:10.000"},
      {"name_tracker", "sp1"},
      {"v_tracker", "js-3.17.0"},
      {"v_collector", "furrow-0.1.0-file"},
      {"v_etl", std::string("furrow-") + kVersion},
      {"user_id", "user@example.com"},
      {"user_ipaddress", "81.2.69.x"},
      {"user_fingerprint", "12345"},
      {"domain_userid", "d-user-1"},
      {"domain_sessionidx", "3"},
      {"network_userid", "c5f4b6a2-2c5f-4b0a-9d3e-7a1b2c3d4e5f"},
      {"geo_country", "GB"},
      {"geo_region", "ENG"},
      {"geo_city", "London"},
      {"geo_latitude", "51.5142"},
      {"geo_longitude", "-0.0931"},
      {"geo_region_name", "England"},
      {"geo_timezone", "Europe/London"},
      {"ip_domain", "in-addr.arpa"},
      {"page_url", "https://shop.example.com/products?utm_source=newsletter&utm_medium=email&utm_campaign=spring&gclid=abc123#reviews"},
      {"page_title", "Products"},
      {"page_referrer", "https://www.google.com/search?q=garden+tools"},
      {"page_urlscheme", "https"},
      {"page_urlhost", "shop.example.com"},
      {"page_urlport", "443"},
      {"page_urlpath", "/products"},
      {"page_urlquery", "utm_source=newsletter&utm_medium=email&utm_campaign=spring&gclid=abc123"},
      {"page_urlfragment", "reviews"},
      {"refr_urlscheme", "https"},
      {"refr_urlhost", "www.google.com"},
      {"refr_urlport", "443"},
      {"refr_urlpath", "/search"},
      {"refr_urlquery", "q=garden+tools"},
      {"refr_medium", "search"},
      {"refr_source", "Google"},
      {"refr_term", "garden tools"},
      {"mkt_medium", "email"},
      {"mkt_source", "newsletter"},
      {"mkt_campaign", "spring"},
      {"mkt_clickid", "abc123"},
      {"mkt_network", "Google"},
      {"contexts", R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"0b6d3f3e-1111-4222-8333-444455556666"}}]})"},
      {"useragent", kChromeUa},
      {"br_name", "Chrome"},
      {"br_family", "Chrome"},
      {"br_version", "120.0.0"},
      {"br_lang", "en-GB"},
      {"br_features_pdf", "1"},
      {"br_cookies", "1"},
      {"br_colordepth", "24"},
      {"br_viewwidth", "1280"},
      {"br_viewheight", "720"},
      {"os_name", "Windows"},
      {"os_family", "Windows"},
      {"os_timezone", "Europe/London"},
      {"dvce_type", "Computer"},
      {"dvce_ismobile", "0"},
      {"dvce_screenwidth", "1920"},
      {"dvce_screenheight", "1080"},
      {"doc_charset", "UTF-8"},
      {"doc_width", "1280"},
      {"doc_height", "3000"},
      {"dvce_sent_tstamp", "2023-11-14 22:13:15.000"},
      {"derived_contexts", kDerivedContexts},
      {"domain_sessionid", "9a1b2c3d-0000-4000-8000-000000000002"},
      {"derived_tstamp", "2023-11-14 22:13:15.000"},
      {"event_vendor", "com.snowplowanalytics.snowplow"},
      {"event_format", "jsonschema"},
      {"event_version", "1-0-0"},
      {"event_fingerprint", Md5Fingerprint(c.params)},
  };
  for (const auto& [k, v] : c.params) {
    if (k == "eid") e["event_id"] = v;
  }
  return e;
}

Expected ExpectedFor(const GoldenCase& c) {
  Expected e = CommonExpected(c);
  if (c.name == "page_view") {
    e["event"] = "page_view";
    e["event_name"] = "page_view";
  } else if (c.name == "page_ping") {
    e["event"] = "page_ping";
    e["event_name"] = "page_ping";
    e["pp_xoffset_min"] = "0";
    e["pp_xoffset_max"] = "120";
    e["pp_yoffset_min"] = "10";
    e["pp_yoffset_max"] = "900";
  } else if (c.name == "struct") {
    e["event"] = "struct";
    e["event_vendor"] = "com.google.analytics";
    e["event_name"] = "event";
    e["se_category"] = "shop";
    e["se_action"] = "add-to-basket";
    e["se_label"] = "rake";
    e["se_property"] = "garden";
    e["se_value"] = "12.5";
  } else if (c.name == "unstruct") {
    e["event"] = "unstruct";
    e["event_name"] = "link_click";
    e["event_version"] = "1-0-1";
    e["unstruct_event"] =
        R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":)"
        R"({"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"targetUrl":"https://example.org/garden","elementId":"cta"}}})";
  } else if (c.name == "transaction") {
    e["event"] = "transaction";
    e["event_name"] = "transaction";
    e["tr_orderid"] = "order-1";
    e["tr_affiliation"] = "web-shop";
    e["tr_total"] = "49.99";
    e["tr_tax"] = "8.33";
    e["tr_shipping"] = "4.5";
    e["tr_city"] = "London";
    e["tr_state"] = "England";
    e["tr_country"] = "GB";
    e["tr_currency"] = "GBP";
  } else if (c.name == "transaction_item") {
    e["event"] = "transaction_item";
    e["event_name"] = "transaction_item";
    e["ti_orderid"] = "order-1";
    e["ti_sku"] = "RAKE-1";
    e["ti_name"] = "Garden rake";
    e["ti_category"] = "tools";
    e["ti_price"] = "19.99";
    e["ti_quantity"] = "2";
    e["ti_currency"] = "GBP";
  }
  return e;
}

void ExpectFields(const std::string& line, const Expected& expected) {
  auto fields = event::SplitTsv(line);
  ASSERT_TRUE(fields.ok()) << fields.status().ToString();
  for (size_t i = 0; i < event::kFieldCount; ++i) {
    std::string name(event::kFieldNames[i]);
    auto it = expected.find(name);
    std::string want = it == expected.end() ? "" : it->second;
    EXPECT_EQ((*fields)[i], want) << "field " << i << " " << name;
  }
  for (const auto& [name, value] : expected) {
    EXPECT_TRUE(event::FieldIndexByName(name).has_value()) << "unknown field in expectation: " << name;
  }
}

class GoldenTest : public ::testing::TestWithParam<std::pair<GoldenCase, bool>> {};

TEST_P(GoldenTest, EveryFieldMatches) {
  const auto& [c, post] = GetParam();
  EnrichFixture fixture;
  EnrichOutput out = fixture.Run(post ? AsPost(c.params) : AsGet(c.params));
  ASSERT_EQ(out.bad.size(), 0u) << out.bad[0].json;
  ASSERT_EQ(out.good.size(), 1u);
  ExpectFields(out.good[0], ExpectedFor(c));
}

std::vector<std::pair<GoldenCase, bool>> AllCases() {
  std::vector<std::pair<GoldenCase, bool>> out;
  for (const auto& c : GoldenCases()) {
    out.emplace_back(c, false);
    out.emplace_back(c, true);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    EventTypes, GoldenTest, ::testing::ValuesIn(AllCases()),
    [](const ::testing::TestParamInfo<std::pair<GoldenCase, bool>>& info) {
      return info.param.first.name + (info.param.second ? "_post" : "_get");
    });

TEST(GoldenTest, PostWithSeveralEventsGivesOneOutputEach) {
  EnrichFixture fixture;
  std::vector<Params> events;
  for (const auto& c : GoldenCases()) events.push_back(c.params);
  EnrichOutput out = fixture.Run(PostPayload(PayloadDataBody(events)));
  EXPECT_EQ(out.bad.size(), 0u);
  ASSERT_EQ(out.good.size(), events.size());
  ExpectFields(out.good[2], ExpectedFor(GoldenCases()[2]));
}

TEST(GoldenTest, QueryStringParametersWinOverBodyInPost) {
  EnrichFixture fixture;
  Params p = GoldenCases()[0].params;
  EnrichOutput out = fixture.Run(PostPayload(PayloadDataBody({p}), "application/json", "aid=from-qs"));
  ASSERT_EQ(out.good.size(), 1u);
  auto fields = event::SplitTsv(out.good[0]);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ((*fields)[event::kAppId], "from-qs");
}

}  // namespace
}  // namespace furrow::enrich::testing
