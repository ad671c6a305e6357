#include "enrich/tsv_json.h"

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "enrich/enrich_test_util.h"
#include "enrich/golden_cases.h"

namespace furrow::enrich::testing {
namespace {

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

std::vector<std::string> GoldenLines() {
  EnrichFixture fixture;
  std::vector<std::string> lines;
  for (const auto& c : GoldenCases()) {
    for (bool post : {false, true}) {
      EnrichOutput out = fixture.Run(post ? AsPost(c.params) : AsGet(c.params));
      EXPECT_EQ(out.good.size(), 1u) << c.name;
      for (auto& l : out.good) lines.push_back(l);
    }
  }
  return lines;
}

TEST(TsvJsonTest, ShreddedKeys) {
  EXPECT_EQ(ShreddedKey("contexts", "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"),
            "contexts_com_snowplowanalytics_snowplow_web_page_1");
  EXPECT_EQ(ShreddedKey("unstruct_event", "iglu:com.acme-inc/buttonClick/jsonschema/2-1-0"),
            "unstruct_event_com_acme_inc_button_click_2");
}

TEST(TsvJsonTest, ExpandsFieldsTypesAndContextsLikeTheAnalyticsSdk) {
  std::vector<std::string> lines = GoldenLines();
  ASSERT_EQ(lines.size(), 12u);
  auto d = ParseJson(EnrichedTsvToJson(lines[0]));  // page view, GET
  EXPECT_STREQ(d["app_id"].GetString(), "shop");
  EXPECT_STREQ(d["collector_tstamp"].GetString(), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(d["domain_sessionidx"].GetInt(), 3);
  EXPECT_EQ(d["page_urlport"].GetInt(), 443);
  EXPECT_TRUE(d["br_features_pdf"].GetBool());
  EXPECT_FALSE(d["dvce_ismobile"].GetBool());
  EXPECT_DOUBLE_EQ(d["geo_latitude"].GetDouble(), 51.5142);
  EXPECT_STREQ(d["geo_location"].GetString(), "51.5142,-0.0931");
  EXPECT_FALSE(d.HasMember("contexts"));
  EXPECT_FALSE(d.HasMember("se_category"));  // empty fields are omitted
  ASSERT_TRUE(d["contexts_com_snowplowanalytics_snowplow_web_page_1"].IsArray());
  EXPECT_STREQ(d["contexts_com_snowplowanalytics_snowplow_web_page_1"][0]["id"].GetString(),
               "0b6d3f3e-1111-4222-8333-444455556666");
  EXPECT_STREQ(d["contexts_com_snowplowanalytics_snowplow_ua_parser_context_1"][0]["useragentFamily"].GetString(),
               "Chrome");
  auto ue = ParseJson(EnrichedTsvToJson(lines[6]));  // unstruct, GET
  EXPECT_STREQ(ue["unstruct_event_com_snowplowanalytics_snowplow_link_click_1"]["targetUrl"].GetString(),
               "https://example.org/garden");
  auto tr = ParseJson(EnrichedTsvToJson(lines[8]));
  EXPECT_DOUBLE_EQ(tr["tr_total"].GetDouble(), 49.99);
}

TEST(TsvJsonTest, MalformedLinesGiveAnErrorObject) {
  auto d = ParseJson(EnrichedTsvToJson("only\tthree\tfields"));
  EXPECT_TRUE(d.HasMember("error"));
  EXPECT_FALSE(EnrichedTsvToJsonChecked("a\tb").ok());
}

// Compatibility: the npm snowplow-analytics-sdk parses every enriched line the
// golden tests produce (it rejects rows without exactly 131 fields, and fields
// that do not parse as their type).
TEST(TsvJsonTest, SnowplowAnalyticsSdkParsesEveryGoldenLine) {
  if (!std::ifstream("tests/npm/node_modules/snowplow-analytics-sdk/package.json").good()) {
    GTEST_SKIP() << "tests/npm/node_modules not installed (scripts/deps installs it)";
  }
  std::vector<std::string> lines = GoldenLines();
  TempDir dir;
  std::string file = (dir.path() / "enriched.tsv").string();
  {
    std::ofstream out(file);
    for (const auto& l : lines) out << l << "\n";
  }
  std::string command = "node tests/enrich/sdk_parse.js " + file + " > " + (dir.path() / "out.json").string();
  int rc = std::system(command.c_str());
  ASSERT_EQ(rc, 0) << command;
  std::ifstream in(dir.path() / "out.json");
  std::string json_line;
  size_t n = 0;
  while (std::getline(in, json_line)) {
    auto d = ParseJson(json_line);
    EXPECT_TRUE(d.HasMember("event_id"));
    ++n;
  }
  EXPECT_EQ(n, lines.size());
}

}  // namespace
}  // namespace furrow::enrich::testing
