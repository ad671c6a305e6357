// Every bad-row type enrich emits, provoked by a test, counted as exactly one
// output, and validated against its schema from ../shared/data/iglu-central.
#include <string>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "enrich/enrich_test_util.h"
#include "enrich/golden_cases.h"

namespace furrow::enrich::testing {
namespace {

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

// Runs `payload` and expects exactly one bad row of `kind` that validates.
rapidjson::Document ExpectOneBadRow(EnrichFixture& fixture, const tracker::CollectorPayload& payload,
                                    BadRowKind kind) {
  EnrichOutput out = fixture.Run(payload);
  EXPECT_EQ(out.good.size(), 0u) << (out.good.empty() ? "" : out.good[0]);
  EXPECT_EQ(out.bad.size(), 1u);
  if (out.bad.size() != 1) return rapidjson::Document();
  EXPECT_EQ(BadRowKindName(out.bad[0].kind), BadRowKindName(kind)) << out.bad[0].json;
  EXPECT_EQ(ValidateBadRow(out.bad[0].json), "") << out.bad[0].json;
  return Parse(out.bad[0].json);
}

std::string FirstMessage(const rapidjson::Document& d) {
  const auto& m = d["data"]["failure"]["messages"][0];
  return JsonText(m);
}

Params PageView() { return GoldenCases()[0].params; }

Params Replace(Params p, const std::string& name, const std::string& value) {
  for (auto& [k, v] : p) {
    if (k == name) v = value;
  }
  return p;
}

TEST(BadRowsTest, UndecodableRecordIsCollectorPayloadFormatViolation) {
  EnrichFixture fixture(false);
  EnrichOutput out;
  fixture.enricher().ProcessRecord(std::string("\x00\x01not thrift", 12), &out);
  ASSERT_EQ(out.bad.size(), 1u);
  EXPECT_EQ(out.bad[0].kind, BadRowKind::kCollectorPayloadFormatViolation);
  EXPECT_EQ(ValidateBadRow(out.bad[0].json), "") << out.bad[0].json;
  auto d = Parse(out.bad[0].json);
  EXPECT_STREQ(d["data"]["failure"]["loader"].GetString(), "thrift");
}

TEST(BadRowsTest, UnknownVendorIsAdapterFailure) {
  EnrichFixture fixture(false);
  auto p = AsGet(PageView());
  p.path = "/com.acme/v9";
  auto d = ExpectOneBadRow(fixture, p, BadRowKind::kAdapterFailures);
  EXPECT_STREQ(d["data"]["failure"]["vendor"].GetString(), "com.acme");
  EXPECT_STREQ(d["data"]["failure"]["version"].GetString(), "v9");
  EXPECT_STREQ(d["data"]["payload"]["collector"].GetString(), "furrow-0.1.0-file");
  EXPECT_TRUE(d["data"]["payload"]["querystring"].IsArray());
  EXPECT_STREQ(d["data"]["payload"]["ipAddress"].GetString(), "10.0.0.1");
}

struct ProtocolCase {
  std::string name;
  tracker::CollectorPayload payload;
  std::string message_contains;
};

class ProtocolViolationTest : public ::testing::TestWithParam<int> {};

std::vector<ProtocolCase> ProtocolCases() {
  std::vector<ProtocolCase> cases;
  cases.push_back({"bad_event_type", AsGet(Replace(PageView(), "e", "zz")), "\"field\":\"e\""});
  cases.push_back({"bad_platform", AsGet(Replace(PageView(), "p", "fridge")), "\"field\":\"p\""});
  cases.push_back({"bad_base64", AsGet(Replace(PageView(), "cx", "!!!not base64!!!")), "\"field\":\"cx\""});
  Params co = PageView();
  co.emplace_back("co", "{not json");
  cases.push_back({"contexts_not_json", AsGet(co), "\"field\":\"co\""});
  cases.push_back({"bad_timestamp", AsGet(Replace(PageView(), "dtm", "yesterday")), "\"field\":\"dtm\""});
  cases.push_back({"bad_dimensions", AsGet(Replace(PageView(), "res", "big")), "\"field\":\"res\""});
  cases.push_back({"bad_event_id", AsGet(Replace(PageView(), "eid", "not-a-uuid")), "\"field\":\"eid\""});
  cases.push_back({"body_not_json", PostPayload("{\"schema\":"), "\"field\":\"body\""});
  cases.push_back({"wrong_content_type", PostPayload(PayloadDataBody({PageView()}), "text/plain"),
                   "\"field\":\"contentType\""});
  tracker::CollectorPayload empty = GetPayload("");
  cases.push_back({"empty_querystring", empty, "\"field\":\"querystring\""});
  cases.push_back({"payload_data_not_array",
                   PostPayload(R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":{"e":"pv"}})"),
                   "payload_data"});
  cases.push_back({"payload_data_wrong_schema",
                   PostPayload(R"({"schema":"iglu:com.acme/other/jsonschema/1-0-0","data":[]})"),
                   "schemaCriterion"});
  cases.push_back({"unstruct_without_ue", AsGet(Replace(PageView(), "e", "ue")), "ue_pr"});
  return cases;
}

TEST_P(ProtocolViolationTest, IsTrackerProtocolViolation) {
  ProtocolCase c = ProtocolCases()[static_cast<size_t>(GetParam())];
  EnrichFixture fixture(false);
  auto d = ExpectOneBadRow(fixture, c.payload, BadRowKind::kTrackerProtocolViolations);
  if (!d.IsObject()) return;
  EXPECT_NE(JsonText(d["data"]["failure"]["messages"]).find(c.message_contains), std::string::npos)
      << c.name << ": " << JsonText(d["data"]["failure"]["messages"]);
  EXPECT_TRUE(d["data"]["payload"].HasMember("vendor"));
}

INSTANTIATE_TEST_SUITE_P(Cases, ProtocolViolationTest,
                         ::testing::Range(0, static_cast<int>(ProtocolCases().size())),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return ProtocolCases()[static_cast<size_t>(info.param)].name;
                         });

TEST(BadRowsTest, InvalidSelfDescribingEventIsSchemaViolation) {
  EnrichFixture fixture(false);
  std::string ue = R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":)"
                   R"({"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"elementId":"x"}}})";
  Params p = Replace(PageView(), "e", "ue");
  p.emplace_back("ue_pr", ue);
  auto d = ExpectOneBadRow(fixture, AsGet(p), BadRowKind::kSchemaViolations);
  if (!d.IsObject()) return;
  std::string m = FirstMessage(d);
  EXPECT_NE(m.find("link_click"), std::string::npos) << m;
  EXPECT_NE(m.find("ValidationError"), std::string::npos) << m;
  EXPECT_NE(m.find("\"keyword\":\"required\""), std::string::npos) << m;
  EXPECT_STREQ(d["data"]["payload"]["enriched"]["event_id"].GetString(),
               "6a1b2c3d-0000-4000-8000-000000000001");
  EXPECT_TRUE(d["data"]["payload"]["raw"]["parameters"].IsArray());
}

TEST(BadRowsTest, UnknownSchemaIsResolutionError) {
  EnrichFixture fixture(false);
  Params p = PageView();
  p.emplace_back("co", R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[)"
                       R"({"schema":"iglu:com.acme.nowhere/thing/jsonschema/1-0-0","data":{}}]})");
  auto d = ExpectOneBadRow(fixture, AsGet(p), BadRowKind::kSchemaViolations);
  if (!d.IsObject()) return;
  EXPECT_NE(FirstMessage(d).find("ResolutionError"), std::string::npos) << FirstMessage(d);
}

TEST(BadRowsTest, OverlongAtomicFieldIsSchemaViolationAgainstAtomicSchema) {
  EnrichFixture fixture(false);
  auto d = ExpectOneBadRow(fixture, AsGet(Replace(PageView(), "aid", std::string(300, 'a'))),
                           BadRowKind::kSchemaViolations);
  if (!d.IsObject()) return;
  std::string m = FirstMessage(d);
  EXPECT_NE(m.find("iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0"), std::string::npos) << m;
  EXPECT_NE(m.find("$.app_id"), std::string::npos) << m;
}

TEST(BadRowsTest, UnparseablePageUrlIsEnrichmentFailure) {
  EnrichFixture fixture(false);
  auto d = ExpectOneBadRow(fixture, AsGet(Replace(PageView(), "url", "http://[not-an-ip/x")),
                           BadRowKind::kEnrichmentFailures);
  if (!d.IsObject()) return;
  EXPECT_NE(FirstMessage(d).find("page_url"), std::string::npos) << FirstMessage(d);
}

TEST(BadRowsTest, LongParameterValuesAreCappedSoTheRowValidates) {
  EnrichFixture fixture(false);
  auto d = ExpectOneBadRow(fixture, AsGet(Replace(PageView(), "eid", std::string(5000, 'x'))),
                           BadRowKind::kTrackerProtocolViolations);
  if (!d.IsObject()) return;
  for (const auto& q : d["data"]["payload"]["querystring"].GetArray()) {
    EXPECT_LE(q["value"].GetStringLength(), 512u);
  }
}

TEST(BadRowsTest, OneBadEventInAPostDoesNotTakeTheOthers) {
  EnrichFixture fixture(false);
  EnrichOutput out = fixture.Run(PostPayload(PayloadDataBody(
      {PageView(), Replace(PageView(), "e", "zz"), GoldenCases()[2].params})));
  EXPECT_EQ(out.good.size(), 2u);
  ASSERT_EQ(out.bad.size(), 1u);
  EXPECT_EQ(out.bad[0].kind, BadRowKind::kTrackerProtocolViolations);
  EXPECT_EQ(ValidateBadRow(out.bad[0].json), "");
}

}  // namespace
}  // namespace furrow::enrich::testing

namespace furrow::enrich::testing {
namespace {

TEST(BadRowsTest, SchemaCheckRejectsAMalformedBadRow) {
  // Proves ValidateBadRow can fail: a tracker_protocol_violations row without
  // its required failure.vendor.
  std::string row =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1",)"
      R"("data":{"processor":{"artifact":"furrow","version":"0.1.0"},"failure":{"timestamp":"2023-11-14T22:13:20.000Z",)"
      R"("version":"tp2","messages":[]},"payload":{"vendor":"v","version":"tp2","collector":"c","encoding":"UTF-8"}}})";
  EXPECT_NE(ValidateBadRow(row), "");
}

}  // namespace
}  // namespace furrow::enrich::testing
