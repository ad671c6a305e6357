#include "iglu/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "iglu/resolver.h"

namespace furrow::iglu {
namespace {

using ::testing::HasSubstr;

constexpr const char* kIgluCentral = "../shared/data/iglu-central";

rapidjson::Document Json(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

std::shared_ptr<const Schema> CompileOrDie(std::string_view text) {
  Result<SchemaKey> key = SchemaKey::ParseUri("iglu:com.acme/test/jsonschema/1-0-0");
  Result<std::shared_ptr<const Schema>> schema = Schema::Compile(*key, text);
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return schema.ok() ? *schema : nullptr;
}

std::vector<ValidationError> Validate(const Schema& schema, std::string_view instance) {
  rapidjson::Document doc = Json(instance);
  return schema.Validate(doc);
}

// A resolver over the Iglu Central copy, as an embedded repository.
std::unique_ptr<Resolver> IgluCentralResolver() {
  ResolverConfig config;
  RepositoryConfig repo;
  repo.name = "iglu-central-copy";
  repo.kind = RepositoryConfig::Kind::kEmbedded;
  repo.path = kIgluCentral;
  config.repositories.push_back(repo);
  ResolverOptions options;
  options.use_builtin = false;
  Result<std::unique_ptr<Resolver>> resolver = Resolver::Create(config, options);
  EXPECT_TRUE(resolver.ok()) << resolver.status().ToString();
  return std::move(*resolver);
}

TEST(SchemaTest, ReportsTypeErrorWithPathKeywordAndExpectation) {
  auto schema = CompileOrDie(R"({"type":"object","properties":{"price":{"type":"number"}}})");
  std::vector<ValidationError> errors = Validate(*schema, R"({"price":"12"})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "$.price");
  EXPECT_EQ(errors[0].keyword, "type");
  EXPECT_EQ(errors[0].expectation, "number");
  EXPECT_EQ(errors[0].actual, "string");
  EXPECT_EQ(errors[0].message, "$.price: expected number, got string (keyword type)");
}

TEST(SchemaTest, AcceptsValidInstance) {
  auto schema = CompileOrDie(R"({"type":"object","properties":{"price":{"type":"number"}}})");
  EXPECT_TRUE(Validate(*schema, R"({"price":12.5})").empty());
  EXPECT_TRUE(Validate(*schema, R"({"price":12})").empty());
  EXPECT_TRUE(schema->Check(Json(R"({})")).ok());
}

TEST(SchemaTest, ReportsMissingRequiredProperty) {
  auto schema = CompileOrDie(R"({"type":"object","required":["a","b"]})");
  std::vector<ValidationError> errors = Validate(*schema, R"({"a":1})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "$");
  EXPECT_EQ(errors[0].keyword, "required");
  EXPECT_EQ(errors[0].expectation, "required property \"b\"");
}

TEST(SchemaTest, ReportsAdditionalPropertyByName) {
  auto schema = CompileOrDie(
      R"({"type":"object","properties":{"a":{}},"additionalProperties":false})");
  std::vector<ValidationError> errors = Validate(*schema, R"({"a":1,"zz":2})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "additionalProperties");
  EXPECT_EQ(errors[0].path, "$.zz");
  EXPECT_THAT(errors[0].actual, HasSubstr("\"zz\""));
}

TEST(SchemaTest, ReportsArrayPathsAndLengths) {
  auto schema = CompileOrDie(
      R"({"type":"array","items":{"type":"object","properties":{"name":{"type":"string","maxLength":3}}}})");
  std::vector<ValidationError> errors = Validate(*schema, R"([{"name":"ok"},{"name":"héllo"}])");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "$[1].name");
  EXPECT_EQ(errors[0].keyword, "maxLength");
  EXPECT_EQ(errors[0].expectation, "at most 3 characters");
  EXPECT_EQ(errors[0].actual, "5 characters");
}

TEST(SchemaTest, QuotesOddMemberNamesInPaths) {
  auto schema = CompileOrDie(R"({"properties":{"a b":{"properties":{"0":{"type":"string"}}}}})");
  std::vector<ValidationError> errors = Validate(*schema, R"({"a b":{"0":1}})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "$['a b']['0']");
}

TEST(SchemaTest, ReportsEnumAndLimitsWithoutEchoingInstanceValues) {
  auto schema = CompileOrDie(
      R"({"properties":{"e":{"enum":["a","b"]},"n":{"type":"integer","maximum":10}}})");
  std::vector<ValidationError> errors = Validate(*schema, R"({"e":"secret@example.com"})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "enum");
  EXPECT_EQ(errors[0].expectation, "one of [\"a\",\"b\"]");
  EXPECT_THAT(errors[0].message, ::testing::Not(HasSubstr("secret")));
  errors = Validate(*schema, R"({"n":11})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "maximum");
  EXPECT_EQ(errors[0].expectation, "number <= 10");
}

TEST(SchemaTest, ResolvesLocalRefs) {
  auto schema = CompileOrDie(R"({
    "definitions": {"id": {"type": "string", "format": "uuid"}},
    "type": "object",
    "properties": {"a": {"$ref": "#/definitions/id"}, "b": {"type":"array","items":{"$ref":"#/definitions/id"}}}
  })");
  EXPECT_TRUE(Validate(*schema, R"({"a":"5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11"})").empty());
  std::vector<ValidationError> errors = Validate(*schema, R"({"a":7})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "type");
  errors = Validate(*schema, R"({"b":["5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11","nope"]})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "$.b[1]");
  EXPECT_EQ(errors[0].keyword, "format");
  EXPECT_EQ(errors[0].message, "$.b[1]: expected string in format uuid, got string not in that "
                               "format (keyword format)");
}

TEST(SchemaTest, ReportsEveryFormatFailure) {
  auto schema = CompileOrDie(R"({"type":"object","properties":{
    "t":{"type":"string","format":"date-time"},
    "u":{"type":"string","format":"uri"}}})");
  std::vector<ValidationError> errors = Validate(*schema, R"({"t":"yesterday","u":"not a uri"})");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].path, "$.t");
  EXPECT_EQ(errors[1].path, "$.u");
}

TEST(SchemaTest, ChecksFormatsThroughPatternAndAdditionalProperties) {
  auto schema = CompileOrDie(R"({"type":"object",
    "patternProperties":{"^ip_":{"type":"string","format":"ipv4"}},
    "additionalProperties":{"type":"string","format":"email"}})");
  EXPECT_TRUE(Validate(*schema, R"({"ip_a":"10.0.0.1","x":"a@b.example"})").empty());
  std::vector<ValidationError> errors = Validate(*schema, R"({"ip_a":"10.0.0.300","x":"nope"})");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].path, "$.ip_a");
  EXPECT_EQ(errors[1].path, "$.x");
}

TEST(SchemaTest, ChecksFormatsInTupleItemsAndAllOf) {
  auto schema = CompileOrDie(R"({"type":"array",
    "items":[{"format":"ipv4"},{"allOf":[{"type":"string"},{"format":"ipv6"}]}],
    "additionalItems":{"format":"hostname"}})");
  EXPECT_TRUE(Validate(*schema, R"(["1.2.3.4","::1","example.com"])").empty());
  std::vector<ValidationError> errors = Validate(*schema, R"(["::1","1.2.3.4","-bad-"])");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].path, "$[0]");
  EXPECT_EQ(errors[1].path, "$[1]");
  EXPECT_EQ(errors[2].path, "$[2]");
}

TEST(SchemaTest, AnyOfFormatPassesWhenOneBranchPasses) {
  auto schema = CompileOrDie(R"({"type":"string","anyOf":[{"format":"hostname"},{"format":"ipv4"},{"format":"ipv6"}]})");
  EXPECT_TRUE(Validate(*schema, R"("db.internal")").empty());
  EXPECT_TRUE(Validate(*schema, R"("fe80::1")").empty());
  std::vector<ValidationError> errors = Validate(*schema, R"("not a host!")");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "format");
}

TEST(SchemaTest, OneOfUsesOnlyBranchesOfMatchingType) {
  auto schema = CompileOrDie(R"({"oneOf":[{"type":"integer"},{"type":"string","format":"date"}]})");
  EXPECT_TRUE(Validate(*schema, "5").empty());
  EXPECT_TRUE(Validate(*schema, R"("2024-02-29")").empty());
  std::vector<ValidationError> errors = Validate(*schema, R"("2023-02-29")");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "format");
}

TEST(SchemaTest, PatternsOutsideRapidJsonSubsetAreCheckedWithRe2) {
  auto schema = CompileOrDie(R"({"type":"string","pattern":"^(\\d+\\.\\d+\\.\\d+.*)$"})");
  EXPECT_TRUE(Validate(*schema, R"("1.2.3-rc1")").empty());
  std::vector<ValidationError> errors = Validate(*schema, R"("v1.2")");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "pattern");
  EXPECT_THAT(errors[0].expectation, HasSubstr("\\d+"));
}

TEST(SchemaTest, PatternsInsideRapidJsonSubsetAreChecked) {
  auto schema = CompileOrDie(R"({"type":"string","pattern":"^[a-z]+$"})");
  EXPECT_TRUE(Validate(*schema, R"("abc")").empty());
  std::vector<ValidationError> errors = Validate(*schema, R"("ABC")");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "pattern");
}

TEST(SchemaTest, PatternsInsideAnyOfAndNotKeepTheirMeaning) {
  auto any = CompileOrDie(R"({"type":"string","anyOf":[{"pattern":"^a"},{"pattern":"^b"}]})");
  EXPECT_TRUE(Validate(*any, R"("apple")").empty());
  EXPECT_TRUE(Validate(*any, R"("banana")").empty());
  std::vector<ValidationError> errors = Validate(*any, R"("cherry")");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "anyOf");
  auto negated = CompileOrDie(R"({"type":"string","not":{"pattern":"^x"}})");
  EXPECT_TRUE(Validate(*negated, R"("ab")").empty());
  EXPECT_FALSE(Validate(*negated, R"("xy")").empty());
}

TEST(SchemaTest, DefinitionUsedInsideAndOutsideAnyOfKeepsItsPattern) {
  auto schema = CompileOrDie(R"({
    "definitions": {"a_word": {"type": "string", "pattern": "^a"}},
    "properties": {"p": {"$ref": "#/definitions/a_word"},
                   "q": {"anyOf": [{"$ref": "#/definitions/a_word"}, {"type": "integer"}]}}})");
  EXPECT_TRUE(Validate(*schema, R"({"p":"ant","q":"axe"})").empty());
  EXPECT_TRUE(Validate(*schema, R"({"q":3})").empty());
  EXPECT_FALSE(Validate(*schema, R"({"q":"bee"})").empty());
  std::vector<ValidationError> errors = Validate(*schema, R"({"p":"bee"})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "$.p");
  EXPECT_EQ(errors[0].keyword, "pattern");
}

// RapidJSON 1.1.0 validates a property that matches only patternProperties against a
// stale or null schema when additionalProperties is false (a crash in debug builds).
TEST(SchemaTest, PatternPropertiesWithClosedObjectsValidateCorrectly) {
  auto schema = CompileOrDie(R"({"type":"object",
    "properties": {"id": {"type":"string"}},
    "patternProperties": {"^x_[a-z]+$": {"type":"integer"}},
    "additionalProperties": false})");
  EXPECT_TRUE(Validate(*schema, R"({"x_count":3})").empty());
  EXPECT_TRUE(Validate(*schema, R"({"id":"a","x_count":3,"x_more":4})").empty());
  std::vector<ValidationError> errors = Validate(*schema, R"({"x_count":"three"})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "$.x_count");
  EXPECT_EQ(errors[0].keyword, "patternProperties");
  EXPECT_EQ(errors[0].actual, "string");
  errors = Validate(*schema, R"({"id":"a","other":1})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "$.other");
  EXPECT_EQ(errors[0].keyword, "additionalProperties");
  // Where furrow cannot take the check over, the schema is refused rather than misjudged.
  Result<SchemaKey> key = SchemaKey::ParseUri("iglu:com.acme/test/jsonschema/1-0-0");
  EXPECT_FALSE(Schema::Compile(*key, R"({"anyOf":[{"patternProperties":{"^x":{}},
                                                   "additionalProperties":false}]})")
                   .ok());
}

// RapidJSON 1.1.0's regexes keep match state inside the compiled regex; concurrent
// validation of one schema must still give every thread the right answer.
TEST(SchemaTest, ConcurrentValidationOfPatternsIsCorrect) {
  auto schema = CompileOrDie(R"({"type":"object",
    "properties": {"id": {"type":"string","pattern":"^[a-f0-9]{8}$"},
                   "kind": {"anyOf":[{"type":"string","pattern":"^k[0-9]+$"},{"type":"null"}]}},
    "patternProperties": {"^x_[a-z]+$": {"type":"integer"}},
    "additionalProperties": false})");
  const std::string good = R"({"id":"0a1b2c3d","kind":"k42","x_count":3})";
  const std::string bad_id = R"({"id":"0a1b2c3z","kind":"k42"})";
  const std::string bad_kind = R"({"id":"0a1b2c3d","kind":"q42"})";
  const std::string bad_key = R"({"id":"0a1b2c3d","x_Count":3})";
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      rapidjson::Document docs[4];
      docs[0].Parse(good.c_str());
      docs[1].Parse(bad_id.c_str());
      docs[2].Parse(bad_kind.c_str());
      docs[3].Parse(bad_key.c_str());
      for (int i = 0; i < 2000; ++i) {
        if (!schema->Validate(docs[0]).empty()) ++wrong;
        for (int d = 1; d < 4; ++d) {
          if (schema->Validate(docs[d]).empty()) ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(SchemaTest, RejectsUncompilablePatterns) {
  Result<SchemaKey> key = SchemaKey::ParseUri("iglu:com.acme/test/jsonschema/1-0-0");
  EXPECT_FALSE(Schema::Compile(*key, R"({"pattern":"(unclosed"})").ok());
  EXPECT_FALSE(Schema::Compile(*key, R"({"not":{"pattern":"\\d"}})").ok());
  // RapidJSON's regex parser asserts on an unclosed group wherever it sits.
  EXPECT_FALSE(Schema::Compile(*key, R"({"enum":[{"pattern":"(a"}]})").ok());
  EXPECT_FALSE(Schema::Compile(*key, R"({"patternProperties":{"(a":{}}})").ok());
  // Outside RapidJSON's subset and not RE2 either (lookahead).
  EXPECT_FALSE(Schema::Compile(*key, R"js({"pattern":"a(?=b)"})js").ok());
}

TEST(SchemaTest, RejectsInstancesDeeperThanTheLimit) {
  Result<SchemaKey> key = SchemaKey::ParseUri("iglu:com.acme/test/jsonschema/1-0-0");
  Result<std::shared_ptr<const Schema>> schema = Schema::Compile(*key, "{}", {}, {.max_depth = 4});
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE(Validate(**schema, "[[[[1]]]]").empty());
  std::vector<ValidationError> errors = Validate(**schema, "[[[[[1]]]]]");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "depth");
  EXPECT_THAT(errors[0].message, HasSubstr("at most 4 levels"));
}

TEST(SchemaTest, DefaultDepthLimitStopsHostileNesting) {
  auto schema = CompileOrDie("{}");
  std::string deep(100000, '[');
  deep.append(100000, ']');
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(deep.c_str());
  ASSERT_FALSE(doc.HasParseError());
  std::vector<ValidationError> errors = schema->Validate(doc);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword, "depth");
  EXPECT_EQ(JsonDepth(doc, 64), 65);
}

TEST(SchemaTest, JsonDepthCountsContainers) {
  EXPECT_EQ(JsonDepth(Json("1"), 64), 0);
  EXPECT_EQ(JsonDepth(Json("[]"), 64), 1);
  EXPECT_EQ(JsonDepth(Json(R"({"a":[1,{"b":2}]})"), 64), 3);
}

TEST(SchemaTest, RejectsInvalidSchemaTexts) {
  Result<SchemaKey> key = SchemaKey::ParseUri("iglu:com.acme/test/jsonschema/1-0-0");
  EXPECT_EQ(Schema::Compile(*key, "{").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Schema::Compile(*key, "[]").status().code(), StatusCode::kInvalidArgument);
  Result<std::shared_ptr<const Schema>> wrong_self = Schema::Compile(
      *key, R"({"self":{"vendor":"com.acme","name":"other","format":"jsonschema","version":"1-0-0"}})");
  ASSERT_FALSE(wrong_self.ok());
  EXPECT_THAT(wrong_self.status().message(), HasSubstr("iglu:com.acme/other/jsonschema/1-0-0"));
  EXPECT_FALSE(Schema::Compile(*key, R"({"properties":{"a":{"$ref":"#/definitions/none"}}})").ok());
  EXPECT_FALSE(
      Schema::Compile(*key, R"({"$ref":"http://example.com/schemas/com.acme/x/jsonschema/1-0-0#"})")
          .ok());
}

TEST(FormatTest, DateTime) {
  for (const char* ok : {"2024-02-29T23:59:60Z", "2024-01-01T00:00:00.123456+05:30",
                         "2024-01-01t00:00:00z", "1999-12-31T23:59:59-00:00"}) {
    EXPECT_TRUE(CheckFormat("date-time", ok)) << ok;
  }
  for (const char* bad : {"2023-02-29T00:00:00Z", "2024-01-01", "2024-01-01T24:00:00Z",
                          "2024-01-01T00:00:00", "2024-01-01 00:00:00Z", "2024-13-01T00:00:00Z",
                          "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00+0530", ""}) {
    EXPECT_FALSE(CheckFormat("date-time", bad)) << bad;
  }
}

TEST(FormatTest, DateUuidIp) {
  EXPECT_TRUE(CheckFormat("date", "2024-02-29"));
  EXPECT_FALSE(CheckFormat("date", "2024-2-29"));
  EXPECT_TRUE(CheckFormat("uuid", "5E9A3A54-3f1c-4bd0-9b0b-8f6b3a3d8a11"));
  EXPECT_FALSE(CheckFormat("uuid", "5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a1"));
  EXPECT_FALSE(CheckFormat("uuid", "5e9a3a54x3f1c-4bd0-9b0b-8f6b3a3d8a11"));
  EXPECT_TRUE(CheckFormat("ipv4", "81.2.69.142"));
  EXPECT_FALSE(CheckFormat("ipv4", "256.1.1.1"));
  EXPECT_FALSE(CheckFormat("ipv4", "1.2.3"));
  EXPECT_FALSE(CheckFormat("ipv4", "::1"));
  EXPECT_FALSE(CheckFormat("ipv4", std::string_view("1.2.3.4\0", 8)));
  EXPECT_TRUE(CheckFormat("ipv6", "2001:db8::ff00:42:8329"));
  EXPECT_TRUE(CheckFormat("ipv6", "::ffff:1.2.3.4"));
  EXPECT_FALSE(CheckFormat("ipv6", "2001:db8:::1"));
  EXPECT_FALSE(CheckFormat("ipv6", "1.2.3.4"));
}

TEST(FormatTest, UriEmailHostname) {
  for (const char* ok : {"https://example.com/a?b=c#d", "mailto:someone@example.com",
                         "urn:isbn:0451450523", "http://[::1]:8080/", "https://例え.jp/パス",
                         "http://example.com/%20x"}) {
    EXPECT_TRUE(CheckFormat("uri", ok)) << ok;
  }
  for (const char* bad : {"/relative/path", "example.com", "http://exa mple.com", "http://a/%zz",
                          "1http://x", "http://a/#b#c", "http://a/<x>", ""}) {
    EXPECT_FALSE(CheckFormat("uri", bad)) << bad;
  }
  for (const char* ok : {"a@example.com", "first.last+tag@sub.example.co", "\"a b\"@example.com",
                         "x@[10.0.0.1]", "x@[IPv6:::1]"}) {
    EXPECT_TRUE(CheckFormat("email", ok)) << ok;
  }
  for (const char* bad : {"plain", "@example.com", "a@", "a..b@example.com", ".a@example.com",
                          "a b@example.com", "a@-example.com", "a@exa_mple.com"}) {
    EXPECT_FALSE(CheckFormat("email", bad)) << bad;
  }
  EXPECT_TRUE(CheckFormat("hostname", "db-1.internal.example.com"));
  EXPECT_TRUE(CheckFormat("hostname", "localhost"));
  EXPECT_FALSE(CheckFormat("hostname", "a..b"));
  EXPECT_FALSE(CheckFormat("hostname", std::string(64, 'a') + ".com"));
  EXPECT_FALSE(CheckFormat("hostname", "under_score.com"));
}

TEST(FormatTest, UnknownFormatsPass) {
  EXPECT_FALSE(IsKnownFormat("strict-uri"));
  EXPECT_TRUE(CheckFormat("strict-uri", "anything"));
  auto schema = CompileOrDie(R"({"type":"string","format":"color"})");
  EXPECT_TRUE(Validate(*schema, R"("not checked")").empty());
}

// Real Iglu Central schemas: valid and invalid instances, one per format keyword.
struct Case {
  const char* key;
  const char* instance;
  const char* failing_path;     // nullptr = valid
  const char* failing_keyword;
};

TEST(IgluCentralValidationTest, ValidatesRealSchemas) {
  std::unique_ptr<Resolver> resolver = IgluCentralResolver();
  const Case cases[] = {
      {"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
       R"({"targetUrl":"https://example.com","elementClasses":["a","b"]})", nullptr, nullptr},
      {"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
       R"({"elementId":"x"})", "$", "required"},
      {"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
       R"({"targetUrl":"https://example.com","elementClasses":[1]})", "$.elementClasses[0]",
       "type"},
      {"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
       R"({"targetUrl":"https://example.com","extra":true})", "$.extra",
       "additionalProperties"},
      // uuid and date-time
      {"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
       R"({"userId":"5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11","sessionId":"0b0c9a1e-7f54-4c2a-a7a5-1e4b3c2d1f00",
           "sessionIndex":3,"storageMechanism":"COOKIE_1","firstEventTimestamp":"2024-05-01T10:00:00.000Z",
           "previousSessionId":null})",
       nullptr, nullptr},
      {"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
       R"({"userId":"5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11","sessionId":"session-1",
           "sessionIndex":3,"storageMechanism":"COOKIE_1"})",
       "$.sessionId", "format"},
      {"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
       R"({"userId":"5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11","sessionId":"0b0c9a1e-7f54-4c2a-a7a5-1e4b3c2d1f00",
           "sessionIndex":3,"storageMechanism":"COOKIE_1","firstEventTimestamp":"2024-05-01 10:00"})",
       "$.firstEventTimestamp", "format"},
      {"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
       R"({"userId":"5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11","sessionId":"0b0c9a1e-7f54-4c2a-a7a5-1e4b3c2d1f00",
           "sessionIndex":3,"storageMechanism":"DISK"})",
       "$.storageMechanism", "enum"},
      // ipv4, email, uri, date-time
      {"iglu:com.sendgrid/group_unsubscribe/jsonschema/2-0-0",
       R"({"ip":"81.2.69.142","email":"a@example.com","url":"https://example.com/x",
           "timestamp":"2024-05-01T10:00:00Z","asm_group_id":5})",
       nullptr, nullptr},
      {"iglu:com.sendgrid/group_unsubscribe/jsonschema/2-0-0", R"({"ip":"81.2.69"})", "$.ip",
       "format"},
      {"iglu:com.sendgrid/group_unsubscribe/jsonschema/2-0-0", R"({"email":"nobody"})",
       "$.email", "format"},
      {"iglu:com.sendgrid/group_unsubscribe/jsonschema/2-0-0", R"({"url":"example.com/x"})",
       "$.url", "format"},
      {"iglu:com.sendgrid/group_unsubscribe/jsonschema/2-0-0", R"({"asm_group_id":40000})",
       "$.asm_group_id", "maximum"},
      // ipv6 and hostname inside anyOf
      {"iglu:com.snowplowanalytics.snowplow.storage/postgresql_config/jsonschema/2-0-0", nullptr,
       nullptr, nullptr},
  };
  for (const Case& c : cases) {
    if (c.instance == nullptr) continue;
    SCOPED_TRACE(std::string(c.key) + " " + c.instance);
    Result<std::shared_ptr<const Schema>> schema = resolver->Lookup(c.key);
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    std::vector<ValidationError> errors = Validate(**schema, c.instance);
    if (c.failing_path == nullptr) {
      EXPECT_TRUE(errors.empty()) << errors[0].message;
    } else {
      ASSERT_FALSE(errors.empty());
      EXPECT_EQ(errors[0].path, c.failing_path) << errors[0].message;
      EXPECT_EQ(errors[0].keyword, c.failing_keyword) << errors[0].message;
    }
  }
}

TEST(IgluCentralValidationTest, IpV6AndHostnameInAnyOf) {
  std::unique_ptr<Resolver> resolver = IgluCentralResolver();
  Result<std::shared_ptr<const Schema>> schema = resolver->Lookup(
      "iglu:com.snowplowanalytics.snowplow.storage/postgresql_config/jsonschema/2-0-0");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  auto host_errors = [&](const std::string& host) {
    std::vector<ValidationError> all = Validate(**schema, R"({"host":")" + host + R"("})");
    std::vector<ValidationError> out;
    for (auto& e : all) {
      if (e.path == "$.host") out.push_back(e);
    }
    return out;
  };
  EXPECT_TRUE(host_errors("db.example.com").empty());
  EXPECT_TRUE(host_errors("10.1.2.3").empty());
  EXPECT_TRUE(host_errors("2001:db8::1").empty());
  std::vector<ValidationError> bad = host_errors("bad host!");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].keyword, "format");
}

TEST(IgluCentralValidationTest, ResolvesRemoteRefsToOtherIgluSchemas) {
  std::unique_ptr<Resolver> resolver = IgluCentralResolver();
  Result<std::shared_ptr<const Schema>> schema =
      resolver->Lookup("iglu:com.snowplowanalytics.sauna.commands/command/jsonschema/1-0-0");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
}

// Every JSON schema in the Iglu Central copy loads and compiles, with its `$ref`s.
TEST(IgluCentralValidationTest, EverySchemaCompiles) {
  std::unique_ptr<Resolver> resolver = IgluCentralResolver();
  const std::filesystem::path root = std::filesystem::path(kIgluCentral) / "schemas";
  ASSERT_TRUE(std::filesystem::is_directory(root));
  int compiled = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::string relative = std::filesystem::relative(entry.path(), root).string();
    Result<SchemaKey> key = SchemaKey::ParsePath(relative);
    ASSERT_TRUE(key.ok()) << relative << ": " << key.status().ToString();
    if (key->format != "jsonschema") continue;  // avro, thrift, protobuf are not JSON schemas
    Result<std::shared_ptr<const Schema>> schema = resolver->Lookup(*key);
    EXPECT_TRUE(schema.ok()) << relative << ": " << schema.status().ToString();
    ++compiled;
  }
  EXPECT_GT(compiled, 500);
}

}  // namespace
}  // namespace furrow::iglu
