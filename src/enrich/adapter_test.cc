#include "enrich/adapter.h"

#include <gtest/gtest.h>

#include "enrich/codec.h"
#include "enrich/enrich_test_util.h"
#include "enrich/event_mapper.h"
#include "enrich/golden_cases.h"
#include "event/enriched_event.h"

namespace furrow::enrich::testing {
namespace {

event::FieldViews Fields(const std::string& line) {
  auto f = event::SplitTsv(line);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : event::FieldViews{};
}

TEST(CodecTest, DecodesBothAlphabetsPaddedOrNot) {
  const std::string text = "{\"a\":\"\xC3\xA9?>~\"}";
  std::string standard = Base64Encode(text);
  EXPECT_EQ(Base64Decode(standard), text);
  std::string url = Base64Url(text);
  EXPECT_NE(url, standard);
  EXPECT_EQ(Base64Decode(url), text);
  std::string unpadded = standard;
  while (unpadded.back() == '=') unpadded.pop_back();
  EXPECT_EQ(Base64Decode(unpadded), text);
  EXPECT_EQ(Base64Decode(""), std::string());
}

TEST(CodecTest, RejectsNonBase64) {
  EXPECT_FALSE(Base64Decode("abc$").has_value());
  EXPECT_FALSE(Base64Decode("a").has_value());
  EXPECT_FALSE(Base64Decode("ab=c").has_value());
  EXPECT_FALSE(Base64Decode("ab===").has_value());
}

TEST(AdapterTest, NormalizeKeepsLastValueAndSortsByName) {
  std::vector<std::pair<std::string, std::string>> p = {{"b", "1"}, {"a", "2"}, {"b", "3"}};
  NormalizeParameters(&p);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], (std::pair<std::string, std::string>{"a", "2"}));
  EXPECT_EQ(p[1], (std::pair<std::string, std::string>{"b", "3"}));
}

TEST(AdapterTest, IgluWebhookGetBecomesSelfDescribingEvent) {
  EnrichFixture fixture(false);
  auto p = GetPayload("schema=iglu%3Acom.snowplowanalytics.snowplow%2Flink_click%2Fjsonschema%2F1-0-1"
                      "&targetUrl=https%3A%2F%2Fexample.org&elementId=x");
  p.path = "/com.snowplowanalytics.iglu/v1";
  EnrichOutput out = fixture.Run(p);
  ASSERT_EQ(out.bad.size(), 0u) << out.bad[0].json;
  ASSERT_EQ(out.good.size(), 1u);
  auto f = Fields(out.good[0]);
  EXPECT_EQ(f[event::kEvent], "unstruct");
  EXPECT_EQ(f[event::kPlatform], "app");
  EXPECT_EQ(f[event::kVTracker], "com.snowplowanalytics.iglu-v1");
  EXPECT_EQ(f[event::kEventName], "link_click");
  EXPECT_NE(f[event::kUnstructEvent].find("\"targetUrl\":\"https://example.org\""), std::string::npos);
}

TEST(AdapterTest, IgluWebhookPostJsonWithSchemaInQuery) {
  EnrichFixture fixture(false);
  auto p = PostPayload(R"({"targetUrl":"https://example.org"})", "application/json",
                       "schema=iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1");
  p.path = "/com.snowplowanalytics.iglu/v1";
  EnrichOutput out = fixture.Run(p);
  ASSERT_EQ(out.good.size(), 1u) << (out.bad.empty() ? "" : out.bad[0].json);
  EXPECT_EQ(Fields(out.good[0])[event::kEventVersion], "1-0-1");
}

TEST(AdapterTest, IgluWebhookPostSelfDescribingAndForm) {
  EnrichFixture fixture(false);
  auto json = PostPayload(
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"targetUrl":"https://a.example"}})",
      "application/json");
  json.path = "/com.snowplowanalytics.iglu/v1";
  EXPECT_EQ(fixture.Run(json).good.size(), 1u);
  auto form = PostPayload("targetUrl=https%3A%2F%2Fb.example", "application/x-www-form-urlencoded",
                          "schema=iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1");
  form.path = "/com.snowplowanalytics.iglu/v1";
  EnrichOutput out = fixture.Run(form);
  ASSERT_EQ(out.good.size(), 1u) << (out.bad.empty() ? "" : out.bad[0].json);
  EXPECT_NE(Fields(out.good[0])[event::kUnstructEvent].find("https://b.example"), std::string::npos);
}

TEST(AdapterTest, IgluWebhookWithoutSchemaIsAdapterFailure) {
  EnrichFixture fixture(false);
  auto p = GetPayload("a=1");
  p.path = "/com.snowplowanalytics.iglu/v1";
  EnrichOutput out = fixture.Run(p);
  ASSERT_EQ(out.bad.size(), 1u);
  EXPECT_EQ(out.bad[0].kind, BadRowKind::kAdapterFailures);
  EXPECT_EQ(ValidateBadRow(out.bad[0].json), "");
}

TEST(AdapterTest, RedirectBecomesUriRedirectEvent) {
  EnrichFixture fixture(false);
  auto p = GetPayload("u=https%3A%2F%2Fexample.org%2Flanding&aid=shop");
  p.path = "/r/tp2";
  EnrichOutput out = fixture.Run(p);
  ASSERT_EQ(out.good.size(), 1u) << (out.bad.empty() ? "" : out.bad[0].json);
  auto f = Fields(out.good[0]);
  EXPECT_EQ(f[event::kEventName], "uri_redirect");
  EXPECT_EQ(f[event::kAppId], "shop");
}

TEST(AdapterTest, PixelPathsAreTp1) {
  EnrichFixture fixture(false);
  for (const char* path : {"/i", "/ice.png", "/com.snowplowanalytics.snowplow/tp1"}) {
    auto p = AsGet(GoldenCases()[0].params);
    p.path = path;
    EXPECT_EQ(fixture.Run(p).good.size(), 1u) << path;
  }
}

TEST(AdapterTest, ContentTypeWithCharsetVariantsIsAccepted) {
  EnrichFixture fixture(false);
  for (const char* ct : {"application/json", "application/json; charset=utf-8",
                         "application/json; charset=UTF-8", "application/json;charset=UTF-8"}) {
    EXPECT_EQ(fixture.Run(PostPayload(PayloadDataBody({GoldenCases()[0].params}), ct)).good.size(), 1u) << ct;
  }
}

TEST(EventMapperTest, ClientIpPrecedence) {
  tracker::CollectorPayload p;
  p.ip_address = "10.0.0.9";
  EXPECT_EQ(ClientIp(p), "10.0.0.9");
  p.headers = std::vector<std::string>{"Forwarded: for=\"[2001:db8::1]:4711\";proto=https"};
  EXPECT_EQ(ClientIp(p), "2001:db8::1");
  p.headers = std::vector<std::string>{"forwarded: for=192.0.2.60:8080", "X-Forwarded-For: 203.0.113.7, 10.1.1.1"};
  EXPECT_EQ(ClientIp(p), "203.0.113.7");
  p.headers = std::vector<std::string>{"Forwarded: for=192.0.2.60"};
  EXPECT_EQ(ClientIp(p), "192.0.2.60");
}

TEST(EventMapperTest, IpParameterWinsOverHeaders) {
  EnrichFixture fixture(false);
  Params params = GoldenCases()[0].params;
  params.emplace_back("ip", "198.51.100.4");
  auto result = fixture.Run(AsGet(params));  // Fields() views into it
  auto f = Fields(result.good.at(0));
  EXPECT_EQ(f[event::kUserIpaddress], "198.51.100.4");
}

TEST(EventMapperTest, EventIdIsGeneratedWhenAbsent) {
  EnrichFixture fixture(false);
  Params params;
  const Params base = GoldenCases()[0].params;
  for (const auto& kv : base) {
    if (kv.first != "eid") params.push_back(kv);
  }
  auto result = fixture.Run(AsGet(params));  // Fields() views into it
  auto f = Fields(result.good.at(0));
  EXPECT_EQ(f[event::kEventId], "00000000-0000-4000-8000-000000000001");
}

TEST(EventMapperTest, ValuesAreMadeTsvSafe) {
  EnrichFixture fixture(false);
  Params params = GoldenCases()[0].params;
  for (auto& [k, v] : params) {
    if (k == "page") v = "a\tb\nc\rd\x01" "e";
  }
  EnrichOutput out = fixture.Run(AsGet(params));
  ASSERT_EQ(out.good.size(), 1u);
  EXPECT_EQ(Fields(out.good[0])[event::kPageTitle], "a    bcde");
}

TEST(EventMapperTest, TnuidWinsOverNuidAndCollectorCookie) {
  EnrichFixture fixture(false);
  Params params = GoldenCases()[0].params;
  params.emplace_back("nuid", "n-1");
  params.emplace_back("tnuid", "t-1");
  auto result = fixture.Run(AsGet(params));  // Fields() views into it
  auto f = Fields(result.good.at(0));
  EXPECT_EQ(f[event::kNetworkUserid], "t-1");
}

TEST(EventMapperTest, PageUrlFallsBackToRefererHeader) {
  EnrichFixture fixture(false);
  Params params;
  const Params base = GoldenCases()[0].params;
  for (const auto& kv : base) {
    if (kv.first != "url") params.push_back(kv);
  }
  auto result = fixture.Run(AsGet(params));  // Fields() views into it
  auto f = Fields(result.good.at(0));
  EXPECT_EQ(f[event::kPageUrl], "https://shop.example.com/from-header");
  EXPECT_EQ(f[event::kPageUrlpath], "/from-header");
}

TEST(EventMapperTest, DerivedTstampRules) {
  EnrichedEvent e;
  e.collector_ms = 10000;
  SetDerivedTstamp(&e);
  EXPECT_EQ(e[event::kDerivedTstamp], "1970-01-01 00:00:10.000");
  e.dvce_created_ms = 1000;
  e.dvce_sent_ms = 3500;
  SetDerivedTstamp(&e);
  EXPECT_EQ(e[event::kDerivedTstamp], "1970-01-01 00:00:07.500");
  e.dvce_sent_ms = 500;  // sent before created: clock skew, ignored
  SetDerivedTstamp(&e);
  EXPECT_EQ(e[event::kDerivedTstamp], "1970-01-01 00:00:10.000");
  e.true_ms = 42;
  SetDerivedTstamp(&e);
  EXPECT_EQ(e[event::kDerivedTstamp], "1970-01-01 00:00:00.042");
}

TEST(EventMapperTest, CrossDomainSpParameterFillsRefrFields) {
  EnrichFixture fixture(false);
  Params params = GoldenCases()[0].params;
  for (auto& [k, v] : params) {
    if (k == "url") v = "https://shop.example.com/?_sp=abc-duid.1699999999000";
  }
  auto result = fixture.Run(AsGet(params));  // Fields() views into it
  auto f = Fields(result.good.at(0));
  EXPECT_EQ(f[event::kRefrDomainUserid], "abc-duid");
  EXPECT_EQ(f[event::kRefrDvceTstamp], "2023-11-14 22:13:19.000");
}

}  // namespace
}  // namespace furrow::enrich::testing
