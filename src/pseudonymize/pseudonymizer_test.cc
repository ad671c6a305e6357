#include "pseudonymize/pseudonymizer.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <string>

#include "event/enriched_event.h"

namespace furrow::pseudonymize {
namespace {

using event::EnrichedEvent;

class PseudonymizerTest : public ::testing::Test {
 protected:
  PseudonymizerTest()
      : hasher_(PseudonymHasher::Create("test-key").value()),
        allowlist_(Allowlist::Default().value()) {}

  std::unique_ptr<Pseudonymizer> Make(const Allowlist& allowlist, PseudonymizerOptions options = {}) {
    return std::make_unique<Pseudonymizer>(hasher_, allowlist, &metrics_, &clock_, std::move(options));
  }
  std::string P(std::string_view v) const { return std::string(hasher_.Pseudonymize(ClearValue(v)).hex()); }
  uint64_t CounterValue(const std::string& name, const MetricLabels& labels) {
    return metrics_.GetCounter(name, "", labels).Value();
  }

  PseudonymHasher hasher_;
  Allowlist allowlist_;
  MetricsRegistry metrics_;
  ManualClock clock_;
};

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

std::string At(const rapidjson::Document& d, const char* pointer) {
  const rapidjson::Value* v = rapidjson::Pointer(pointer).Get(d);
  if (v == nullptr) return "<missing>";
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  if (v->IsNull()) return "<null>";
  if (v->IsInt64()) return std::to_string(v->GetInt64());
  if (v->IsBool()) return v->GetBool() ? "<true>" : "<false>";
  return "<other>";
}

const char kGitlabContexts[] =
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[)"
    R"({"schema":"iglu:com.gitlab/gitlab_standard/jsonschema/1-1-8","data":{"environment":"production",)"
    R"("user_id":"u-1","project_id":42,"is_gitlab_team_member":true,"total_tokens":12,)"
    R"("extra":{"email":"a@b.c"},"feature_enabled_by_namespace_ids":[7,8],"plan":null}},)"
    R"({"data":{"id":"page-1"},"schema":"iglu:com.acme/web_page/jsonschema/1-0-0"},)"
    R"({"schema":"not-an-iglu-uri","data":{"x":"y"}}]})";

TEST_F(PseudonymizerTest, TsvKeepsAllowlistedFieldsAndPseudonymizesTheRest) {
  auto p = Make(allowlist_);
  EnrichedEvent e;
  e[event::kAppId] = "shop";
  e[event::kEvent] = "page_view";
  e[event::kUserId] = "alice@example.com";
  e[event::kUserIpaddress] = "203.0.113.9";
  e[event::kPageUrl] = "https://shop.example/?email=alice@example.com";
  std::string out;
  ASSERT_EQ(p->ProcessLine(e.ToTsv(), &out), LineKind::kEnrichedEvent);
  auto fields = event::SplitTsv(out);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ((*fields)[event::kAppId], "shop");
  EXPECT_EQ((*fields)[event::kEvent], "page_view");
  EXPECT_EQ((*fields)[event::kUserId], P("alice@example.com"));
  EXPECT_EQ((*fields)[event::kUserIpaddress], P("203.0.113.9"));
  EXPECT_EQ((*fields)[event::kPageUrl], P("https://shop.example/?email=alice@example.com"));
  EXPECT_EQ((*fields)[event::kPageTitle], "");  // null stays null
  EXPECT_EQ(out.find("alice"), std::string::npos);
  EXPECT_EQ(CounterValue("furrow_pseudonymize_lines_total", {{"kind", "enriched_event"}}), 1u);
  EXPECT_EQ(CounterValue("furrow_pseudonymize_values_total", {}), 3u);
}

TEST_F(PseudonymizerTest, ContextsKeepShapeAndFollowTheirSchemaRules) {
  auto p = Make(allowlist_);
  EnrichedEvent e;
  e[event::kContexts] = kGitlabContexts;
  std::string out;
  ASSERT_EQ(p->ProcessLine(e.ToTsv(), &out), LineKind::kEnrichedEvent);
  auto d = ParseJson(std::string((*event::SplitTsv(out))[event::kContexts]));
  EXPECT_EQ(At(d, "/schema"), "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1");
  EXPECT_EQ(At(d, "/data/0/schema"), "iglu:com.gitlab/gitlab_standard/jsonschema/1-1-8");
  EXPECT_EQ(At(d, "/data/0/data/environment"), "production");
  EXPECT_EQ(At(d, "/data/0/data/total_tokens"), "12");
  EXPECT_EQ(At(d, "/data/0/data/user_id"), P("u-1"));
  EXPECT_EQ(At(d, "/data/0/data/project_id"), "<null>");
  EXPECT_EQ(At(d, "/data/0/data/is_gitlab_team_member"), "<null>");
  EXPECT_EQ(At(d, "/data/0/data/extra/email"), P("a@b.c"));
  EXPECT_EQ(At(d, "/data/0/data/feature_enabled_by_namespace_ids/1"), "<null>");
  EXPECT_EQ(At(d, "/data/0/data/plan"), "<null>");
  // "schema" after "data" still selects the rules; unknown schemas keep nothing.
  EXPECT_EQ(At(d, "/data/1/schema"), "iglu:com.acme/web_page/jsonschema/1-0-0");
  EXPECT_EQ(At(d, "/data/1/data/id"), P("page-1"));
  // A schema that is not an Iglu URI is itself pseudonymized.
  EXPECT_EQ(At(d, "/data/2/schema"), P("not-an-iglu-uri"));
  EXPECT_EQ(At(d, "/data/2/data/x"), P("y"));
}

TEST_F(PseudonymizerTest, NonStringValuesCanBecomePseudonyms) {
  auto allowlist = Allowlist::Parse(std::string(Allowlist::DefaultText()) + "\n");
  ASSERT_TRUE(allowlist.ok());
  auto custom = Allowlist::Parse(
      "non_string_values: pseudonym\nschemas:\n"
      "  - schema: iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-*-*\n"
      "    read: [{path: \"[]\", as: self_describing}]\n");
  ASSERT_TRUE(custom.ok());
  auto p = Make(*custom);
  EnrichedEvent e;
  e[event::kContexts] = kGitlabContexts;
  std::string out;
  ASSERT_EQ(p->ProcessLine(e.ToTsv(), &out), LineKind::kEnrichedEvent);
  auto d = ParseJson(std::string((*event::SplitTsv(out))[event::kContexts]));
  EXPECT_EQ(At(d, "/data/0/data/project_id"), P("42"));
  EXPECT_EQ(At(d, "/data/0/data/is_gitlab_team_member"), P("true"));
  EXPECT_EQ(At(d, "/data/0/data/environment"), P("production"));  // not on this list
}

// Typed TSV columns (numbers, booleans, timestamps) cannot hold a pseudonym and still
// parse as their type: they follow non_string_values like JSON numbers do.
TEST_F(PseudonymizerTest, TypedColumnsFollowTheNonStringPolicy) {
  auto with_policy = [](const std::string& policy) {
    return Allowlist::Parse("non_string_values: " + policy + "\nfields: [event, dvce_ismobile]\n");
  };
  EnrichedEvent e;
  e[event::kEvent] = "transaction";
  e[event::kUserId] = "alice";
  e[event::kTrTotal] = "12.50";
  e[event::kTxnId] = "4711";
  e[event::kBrCookies] = "1";
  e[event::kDvceIsmobile] = "0";
  e[event::kDvceCreatedTstamp] = "2026-11-25 10:00:00.000";
  for (const std::string policy : {"null", "pseudonym"}) {
    auto allowlist = with_policy(policy);
    ASSERT_TRUE(allowlist.ok()) << allowlist.status().ToString();
    auto p = Make(*allowlist);
    std::string out;
    ASSERT_EQ(p->ProcessLine(e.ToTsv(), &out), LineKind::kEnrichedEvent);
    auto fields = *event::SplitTsv(out);
    EXPECT_EQ(fields[event::kEvent], "transaction");
    EXPECT_EQ(fields[event::kDvceIsmobile], "0");  // allowlisted: kept as it is
    EXPECT_EQ(fields[event::kUserId], P("alice"));  // a string: always the pseudonym
    for (size_t f : {event::kTrTotal, event::kTxnId, event::kBrCookies, event::kDvceCreatedTstamp}) {
      EXPECT_EQ(fields[f], policy == "null" ? std::string() : P(e[f])) << event::kFieldNames[f] << " " << policy;
    }
  }
}

TEST_F(PseudonymizerTest, UnstructEventFollowsItsEntitySchema) {
  auto allowlist = Allowlist::Parse(std::string(Allowlist::DefaultText()) +
                                    "  - schema: iglu:com.acme/checkout/jsonschema/1-*-*\n"
                                    "    keep: [step, \"items[].sku\"]\n");
  ASSERT_TRUE(allowlist.ok()) << allowlist.status().ToString();
  auto p = Make(*allowlist);
  EnrichedEvent e;
  e[event::kUnstructEvent] =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":)"
      R"({"schema":"iglu:com.acme/checkout/jsonschema/1-0-2","data":{"step":"pay","card":"4111",)"
      R"("items":[{"sku":"A-1","owner":"bob"}],"amount":1.50}}})";
  std::string out;
  ASSERT_EQ(p->ProcessLine(e.ToTsv(), &out), LineKind::kEnrichedEvent);
  std::string column((*event::SplitTsv(out))[event::kUnstructEvent]);
  auto d = ParseJson(column);
  EXPECT_EQ(At(d, "/data/data/step"), "pay");
  EXPECT_EQ(At(d, "/data/data/card"), P("4111"));
  EXPECT_EQ(At(d, "/data/data/items/0/sku"), "A-1");
  EXPECT_EQ(At(d, "/data/data/items/0/owner"), P("bob"));
  EXPECT_EQ(At(d, "/data/data/amount"), "<null>");
}

TEST_F(PseudonymizerTest, AllowlistedNumbersStayByteIdentical) {
  auto allowlist = Allowlist::Parse(
      "schemas:\n  - schema: iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-*-*\n"
      "    read: [{path: $, as: self_describing}]\n"
      "  - schema: iglu:com.acme/n/jsonschema/1-*-*\n    keep: [a, b, c]\n");
  ASSERT_TRUE(allowlist.ok()) << allowlist.status().ToString();
  auto p = Make(*allowlist);
  EnrichedEvent e;
  e[event::kUnstructEvent] =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":)"
      R"({"schema":"iglu:com.acme/n/jsonschema/1-0-0","data":{"a":1.50,"b":1E+3,"c":-0}}})";
  std::string out;
  ASSERT_EQ(p->ProcessLine(e.ToTsv(), &out), LineKind::kEnrichedEvent);
  EXPECT_NE(out.find(R"({"a":1.50,"b":1E+3,"c":-0})"), std::string::npos) << out;
}

TEST_F(PseudonymizerTest, UnreadableLinesBecomeCountedGenericErrors) {
  auto p = Make(allowlist_);
  struct Case {
    std::string line;
    const char* reason;
  };
  EnrichedEvent broken;
  broken[event::kUserId] = "carol";
  broken[event::kContexts] = R"({"schema":"iglu:x/y/jsonschema/1-0-0","data":[carol)";
  std::string deep = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0\",\"data\":" +
                     std::string(500, '[') + "\"carol\"" + std::string(500, ']') + "}";
  const Case cases[] = {
      {"carol\tonly\ttwo", "field_count"},
      {"", "field_count"},
      {broken.ToTsv(), "json_column"},
      {"{carol is not json", "bad_row"},
      {R"({"name":"carol"})", "bad_row"},
      {R"({"schema":"carol","data":{}})", "bad_row"},
      {deep, "bad_row"},
  };
  for (const auto& c : cases) {
    std::string out;
    ASSERT_EQ(p->ProcessLine(c.line, &out), LineKind::kGenericError) << c.line;
    EXPECT_EQ(out.find("carol"), std::string::npos) << out;
    auto d = ParseJson(out);
    EXPECT_EQ(At(d, "/schema"), "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0");
    EXPECT_EQ(At(d, "/data/payload"), P(c.line));
    EXPECT_NE(At(d, "/data/failure/errors/0"), "<missing>");
    EXPECT_EQ(At(d, "/data/failure/timestamp"), "2023-11-14T22:13:20.000Z");
  }
  EXPECT_EQ(CounterValue("furrow_pseudonymize_invalid_lines_total", {{"reason", "field_count"}}), 2u);
  EXPECT_EQ(CounterValue("furrow_pseudonymize_invalid_lines_total", {{"reason", "json_column"}}), 1u);
  EXPECT_EQ(CounterValue("furrow_pseudonymize_invalid_lines_total", {{"reason", "bad_row"}}), 4u);
  EXPECT_EQ(CounterValue("furrow_pseudonymize_lines_total", {{"kind", "generic_error"}}), 7u);
}

TEST_F(PseudonymizerTest, TrackerProtocolViolationReadsParametersHeadersAndBody) {
  auto p = Make(allowlist_);
  // cx: base64url of a contexts envelope with a gitlab_standard entity.
  const std::string cx =
      "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29uc2NoZW1hLzEtMC0xIiwiZGF0YSI6W3sic2NoZW1hIjoiaWdsdTpjb20uZ2l0bGFiL2dpdGxhYl9zdGFuZGFyZC9qc29uc2NoZW1hLzEtMS04IiwiZGF0YSI6eyJlbnZpcm9ubWVudCI6InByb2R1Y3Rpb24iLCJ1c2VyX2lkIjoidS05In19XX0";
  std::string row =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1","data":{)"
      R"("processor":{"artifact":"furrow","version":"0.1.0"},)"
      R"("failure":{"timestamp":"2026-01-01T00:00:00Z","vendor":"com.snowplowanalytics.snowplow","version":"tp2",)"
      R"("messages":[{"field":"e","value":"dave-event","expectation":"dave expected"}]},)"
      R"("payload":{"vendor":"com.snowplowanalytics.snowplow","version":"tp2",)"
      R"("querystring":[{"name":"aid","value":"shop"},{"name":"uid","value":"dave"},{"name":"cx","value":")" + cx + R"("}],)"
      R"("contentType":"application/json","body":"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\",\"data\":[{\"e\":\"pv\",\"url\":\"https://x/dave\"}]}",)"
      R"("collector":"furrow-0.1.0-file","encoding":"UTF-8","hostname":"dave.example","timestamp":"2026-01-01T00:00:00Z",)"
      R"("ipAddress":"198.51.100.7","useragent":"dave-agent","refererUri":"https://dave","headers":["Cookie: sp=dave","X-No-Colon"],)"
      R"("networkUserId":"dave-nuid"}}})";
  std::string out;
  ASSERT_EQ(p->ProcessLine(row, &out), LineKind::kBadRow) << out;
  EXPECT_EQ(out.find("dave"), std::string::npos) << out;
  auto d = ParseJson(out);
  EXPECT_EQ(At(d, "/data/processor/artifact"), "furrow");
  EXPECT_EQ(At(d, "/data/failure/vendor"), "com.snowplowanalytics.snowplow");
  EXPECT_EQ(At(d, "/data/failure/messages/0/field"), "e");
  EXPECT_EQ(At(d, "/data/failure/messages/0/value"), P("dave-event"));
  EXPECT_EQ(At(d, "/data/payload/querystring/0/value"), "shop");
  EXPECT_EQ(At(d, "/data/payload/querystring/1/name"), "uid");
  EXPECT_EQ(At(d, "/data/payload/querystring/1/value"), P("dave"));
  EXPECT_EQ(At(d, "/data/payload/contentType"), "application/json");
  EXPECT_EQ(At(d, "/data/payload/ipAddress"), P("198.51.100.7"));
  EXPECT_EQ(At(d, "/data/payload/headers/0"), "Cookie: " + P("sp=dave"));
  EXPECT_EQ(At(d, "/data/payload/headers/1"), P("X-No-Colon"));
  EXPECT_EQ(At(d, "/data/payload/timestamp"), "2026-01-01T00:00:00Z");
  auto body = ParseJson(At(d, "/data/payload/body"));
  EXPECT_EQ(At(body, "/data/0/e"), "pv");
  EXPECT_EQ(At(body, "/data/0/url"), P("https://x/dave"));
  // The cx parameter was decoded, pseudonymized inside, and encoded again.
  std::string encoded = At(d, "/data/payload/querystring/2/value");
  EXPECT_NE(encoded, P(cx));
  EXPECT_EQ(encoded.find('='), std::string::npos);
}

TEST_F(PseudonymizerTest, SchemaViolationReadsEnrichedFieldsAndKeepsStructure) {
  auto p = Make(allowlist_);
  std::string row =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1","data":{)"
      R"("processor":{"artifact":"furrow","version":"0.1.0"},)"
      R"("failure":{"timestamp":"2026-01-01T00:00:00Z","messages":[{"schemaKey":"iglu:com.acme/x/jsonschema/1-0-0",)"
      R"("error":{"error":"ValidationError","dataReports":[{"message":"$.email: erin@example.com is not valid","path":"$.email","keyword":"format","targets":["email"]}]}}]},)"
      R"("payload":{"raw":{"vendor":"com.snowplowanalytics.snowplow","version":"tp2","parameters":[{"name":"e","value":"pv"},{"name":"duid","value":"erin-duid"}],)"
      R"("contentType":null,"loaderName":"thrift","encoding":"UTF-8","headers":["Authorization: erin"],"ipAddress":"erin-ip"},)"
      R"("enriched":{"app_id":"shop","user_id":"erin","se_value":12.5,"contexts":"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\",\"data\":[{\"schema\":\"iglu:com.gitlab/gitlab_standard/jsonschema/1-1-8\",\"data\":{\"environment\":\"staging\",\"global_user_id\":\"erin-g\"}}]}","unknown_key":"erin-x"}}}})";
  std::string out;
  ASSERT_EQ(p->ProcessLine(row, &out), LineKind::kBadRow) << out;
  EXPECT_EQ(out.find("erin"), std::string::npos) << out;
  auto d = ParseJson(out);
  EXPECT_EQ(At(d, "/data/failure/messages/0/schemaKey"), "iglu:com.acme/x/jsonschema/1-0-0");
  EXPECT_EQ(At(d, "/data/failure/messages/0/error/error"), "ValidationError");
  EXPECT_EQ(At(d, "/data/failure/messages/0/error/dataReports/0/path"), "$.email");
  EXPECT_EQ(At(d, "/data/failure/messages/0/error/dataReports/0/keyword"), "format");
  EXPECT_EQ(At(d, "/data/failure/messages/0/error/dataReports/0/message"),
            P("$.email: erin@example.com is not valid"));
  EXPECT_EQ(At(d, "/data/payload/raw/parameters/0/value"), "pv");
  EXPECT_EQ(At(d, "/data/payload/raw/parameters/1/value"), P("erin-duid"));
  EXPECT_EQ(At(d, "/data/payload/raw/loaderName"), "thrift");
  EXPECT_EQ(At(d, "/data/payload/raw/contentType"), "<null>");
  EXPECT_EQ(At(d, "/data/payload/enriched/app_id"), "shop");
  EXPECT_EQ(At(d, "/data/payload/enriched/user_id"), P("erin"));
  EXPECT_EQ(At(d, "/data/payload/enriched/se_value"), "<null>");
  EXPECT_EQ(At(d, "/data/payload/enriched/unknown_key"), P("erin-x"));
  auto contexts = ParseJson(At(d, "/data/payload/enriched/contexts"));
  EXPECT_EQ(At(contexts, "/data/0/data/environment"), "staging");
  EXPECT_EQ(At(contexts, "/data/0/data/global_user_id"), P("erin-g"));
}

TEST_F(PseudonymizerTest, StringPayloadBadRowsArePseudonymizedWhole) {
  auto p = Make(allowlist_);
  std::string row =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0","data":{)"
      R"("processor":{"artifact":"furrow","version":"0.1.0"},"failure":{"timestamp":"2026-01-01T00:00:00Z",)"
      R"("maximumAllowedSizeBytes":1000,"actualSizeBytes":5000,"expectation":"too big"},"payload":"GET /i?uid=frank"}})";
  std::string out;
  ASSERT_EQ(p->ProcessLine(row, &out), LineKind::kBadRow);
  auto d = ParseJson(out);
  EXPECT_EQ(At(d, "/data/failure/maximumAllowedSizeBytes"), "1000");
  EXPECT_EQ(At(d, "/data/failure/actualSizeBytes"), "5000");
  EXPECT_EQ(At(d, "/data/payload"), P("GET /i?uid=frank"));
}

TEST_F(PseudonymizerTest, UnknownBadRowTypesKeepNothing) {
  auto p = Make(allowlist_);
  std::string row =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0","data":{)"
      R"("processor":{"artifact":"loader","version":"1.0.0"},"payload":"grace"}})";
  std::string out;
  ASSERT_EQ(p->ProcessLine(row, &out), LineKind::kBadRow);
  auto d = ParseJson(out);
  EXPECT_EQ(At(d, "/schema"), "iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0");
  EXPECT_EQ(At(d, "/data/processor/artifact"), P("loader"));
  EXPECT_EQ(At(d, "/data/payload"), P("grace"));
}

TEST_F(PseudonymizerTest, DuplicateSchemaKeysDoNotSmuggleValues) {
  auto p = Make(allowlist_);
  EnrichedEvent e;
  e[event::kContexts] =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[)"
      R"({"schema":"iglu:com.ivan/secret/jsonschema/1-0-0","schema":"iglu:com.gitlab/gitlab_standard/jsonschema/1-1-8",)"
      R"("data":{"environment":"production"}}]})";
  std::string out;
  ASSERT_EQ(p->ProcessLine(e.ToTsv(), &out), LineKind::kEnrichedEvent);
  EXPECT_EQ(out.find("ivan"), std::string::npos) << out;
  EXPECT_NE(out.find(P("iglu:com.ivan/secret/jsonschema/1-0-0")), std::string::npos);
  EXPECT_NE(out.find(R"("environment":"production")"), std::string::npos);
}

TEST_F(PseudonymizerTest, KeyIdPrefixIsOptional) {
  PseudonymizerOptions options;
  options.key_id_prefix = true;
  options.key_id = "2026-01";
  auto p = Make(allowlist_, options);
  EnrichedEvent e;
  e[event::kUserId] = "heidi";
  std::string out;
  ASSERT_EQ(p->ProcessLine(e.ToTsv(), &out), LineKind::kEnrichedEvent);
  EXPECT_EQ((*event::SplitTsv(out))[event::kUserId], "2026-01:" + P("heidi"));
}

TEST_F(PseudonymizerTest, KeptStringsAreEscapedCorrectlyAtAnyPosition) {
  auto allowlist = Allowlist::Parse(
      "schemas:\n  - schema: iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-*-*\n"
      "    read: [{path: $, as: self_describing}]\n"
      "  - schema: iglu:com.acme/s/jsonschema/1-*-*\n    keep: [v]\n");
  ASSERT_TRUE(allowlist.ok());
  auto p = Make(*allowlist);
  for (const char* special : {"\\\"", "\\\\", "\\t", "\\u0001", "\\u007f", "\u00e9", "\\u00e9"}) {
    for (size_t pad = 0; pad < 20; ++pad) {
      std::string value_json = std::string(pad, 'x') + special + std::string(20 - pad, 'y');
      EnrichedEvent e;
      e[event::kUnstructEvent] =
          R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":)"
          R"({"schema":"iglu:com.acme/s/jsonschema/1-0-0","data":{"v":")" + value_json + R"("}}})";
      std::string out;
      ASSERT_EQ(p->ProcessLine(e.ToTsv(), &out), LineKind::kEnrichedEvent) << value_json;
      auto in_doc = ParseJson(e[event::kUnstructEvent]);
      auto out_doc = ParseJson(std::string((*event::SplitTsv(out))[event::kUnstructEvent]));
      EXPECT_EQ(At(out_doc, "/data/data/v"), At(in_doc, "/data/data/v")) << value_json;
    }
  }
}

TEST_F(PseudonymizerTest, CacheNeverChangesAPseudonym) {
  // Two slots force constant evictions and collisions; lengths cross the cache limit.
  for (size_t slots : {size_t{0}, size_t{2}, size_t{16384}}) {
    PseudonymizerOptions options;
    options.cache_slots = slots;
    auto p = Make(allowlist_, options);
    for (int round = 0; round < 3; ++round) {
      for (size_t len : {1u, 7u, 64u, 103u, 104u, 105u, 300u}) {
        for (int k = 0; k < 5; ++k) {
          EnrichedEvent e;
          e[event::kUserId] = std::string(len, static_cast<char>('a' + k));
          e[event::kDomainUserid] = std::string(len, static_cast<char>('a' + k)) + "x";
          std::string out;
          ASSERT_EQ(p->ProcessLine(e.ToTsv(), &out), LineKind::kEnrichedEvent);
          auto fields = event::SplitTsv(out);
          EXPECT_EQ((*fields)[event::kUserId], P(e[event::kUserId])) << slots << " " << len;
          EXPECT_EQ((*fields)[event::kDomainUserid], P(e[event::kDomainUserid])) << slots << " " << len;
        }
      }
    }
  }
}

}  // namespace
}  // namespace furrow::pseudonymize
