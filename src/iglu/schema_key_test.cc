#include "iglu/schema_key.h"

#include <gtest/gtest.h>

#include <unordered_set>

namespace furrow::iglu {
namespace {

TEST(SchemaVerTest, ParsesAndFormats) {
  Result<SchemaVer> v = SchemaVer::Parse("10-2-13");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->model, 10);
  EXPECT_EQ(v->revision, 2);
  EXPECT_EQ(v->addition, 13);
  EXPECT_EQ(v->ToString(), "10-2-13");
}

TEST(SchemaVerTest, RejectsMalformedVersions) {
  for (const char* bad : {"", "1", "1-0", "1-0-0-0", "0-1-0", "01-0-0", "1-00-0", "1-0-01",
                          "a-0-0", "1--0", "-1-0-0", "1-0-", "1-0-0 ", "1-*-0", "9999999999-0-0"}) {
    EXPECT_FALSE(SchemaVer::Parse(bad).ok()) << bad;
    EXPECT_EQ(SchemaVer::Parse(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SchemaVerTest, OrdersByModelRevisionAddition) {
  EXPECT_LT((SchemaVer{1, 0, 9}), (SchemaVer{1, 1, 0}));
  EXPECT_LT((SchemaVer{1, 9, 9}), (SchemaVer{2, 0, 0}));
  EXPECT_EQ((SchemaVer{2, 0, 1}), (SchemaVer{2, 0, 1}));
}

TEST(SchemaKeyTest, ParsesIgluUri) {
  Result<SchemaKey> key =
      SchemaKey::ParseUri("iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->vendor, "com.snowplowanalytics.snowplow");
  EXPECT_EQ(key->name, "link_click");
  EXPECT_EQ(key->format, "jsonschema");
  EXPECT_EQ(key->version, (SchemaVer{1, 0, 1}));
  EXPECT_EQ(key->ToUri(), "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1");
  EXPECT_EQ(key->ToPath(), "com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1");
}

TEST(SchemaKeyTest, ParsesRegistryPath) {
  Result<SchemaKey> key = SchemaKey::ParsePath("com.acme-corp/my_event/jsonschema/2-1-0");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->vendor, "com.acme-corp");
  EXPECT_EQ(key->version, (SchemaVer{2, 1, 0}));
}

TEST(SchemaKeyTest, RejectsBadKeys) {
  for (const char* bad : {
           "",
           "iglu:",
           "com.acme/event/jsonschema/1-0-0",          // no iglu: prefix
           "IGLU:com.acme/event/jsonschema/1-0-0",     // prefix is case-sensitive
           "iglu:com.acme/event/jsonschema",           // no version
           "iglu:com.acme/event/jsonschema/1-0",       // short version
           "iglu:com.acme/event/jsonschema/1-0-0/x",   // too many parts
           "iglu:com.acme//jsonschema/1-0-0",          // empty name
           "iglu:/event/jsonschema/1-0-0",             // empty vendor
           "iglu:com.acme/ev.ent/jsonschema/1-0-0",    // dot in name
           "iglu:com.acme/event/json.schema/1-0-0",    // dot in format
           "iglu:com acme/event/jsonschema/1-0-0",     // space
           "iglu:../event/jsonschema/1-0-0",           // directory traversal
           "iglu:com..acme/event/jsonschema/1-0-0",
           "iglu:.acme/event/jsonschema/1-0-0",
           "iglu:com.acme/event/jsonschema/0-0-1",     // MODEL 0
           "iglu:com.acme/event/jsonschema/1-*-*",     // wildcards are for criteria
           "iglu:com.acme/évent/jsonschema/1-0-0",     // non-ASCII
       }) {
    Result<SchemaKey> key = SchemaKey::ParseUri(bad);
    EXPECT_FALSE(key.ok()) << bad;
    EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(SchemaKey::ParseUri("iglu:" + std::string(256, 'a') + "/e/jsonschema/1-0-0").ok());
}

TEST(SchemaKeyTest, ErrorNamesTheKey) {
  Result<SchemaKey> key = SchemaKey::ParseUri("iglu:com.acme/event/jsonschema/1-0");
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("iglu:com.acme/event/jsonschema/1-0"), std::string::npos)
      << key.status().message();
}

TEST(SchemaKeyTest, HashesEqualKeysEqually) {
  std::unordered_set<SchemaKey> keys;
  keys.insert(*SchemaKey::ParseUri("iglu:com.acme/a/jsonschema/1-0-0"));
  keys.insert(*SchemaKey::ParseUri("iglu:com.acme/a/jsonschema/1-0-0"));
  keys.insert(*SchemaKey::ParseUri("iglu:com.acme/a/jsonschema/1-0-1"));
  EXPECT_EQ(keys.size(), 2u);
}

TEST(SchemaCriterionTest, MatchesWithWildcards) {
  Result<SchemaCriterion> any = SchemaCriterion::Parse("iglu:com.acme/event/jsonschema/1-*-*");
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_TRUE(any->Matches(*SchemaKey::ParseUri("iglu:com.acme/event/jsonschema/1-0-0")));
  EXPECT_TRUE(any->Matches(*SchemaKey::ParseUri("iglu:com.acme/event/jsonschema/1-3-7")));
  EXPECT_FALSE(any->Matches(*SchemaKey::ParseUri("iglu:com.acme/event/jsonschema/2-0-0")));
  EXPECT_FALSE(any->Matches(*SchemaKey::ParseUri("iglu:com.acme/other/jsonschema/1-0-0")));
  EXPECT_FALSE(any->Matches(*SchemaKey::ParseUri("iglu:com.acme2/event/jsonschema/1-0-0")));
  EXPECT_EQ(any->ToUri(), "iglu:com.acme/event/jsonschema/1-*-*");

  Result<SchemaCriterion> revision = SchemaCriterion::Parse("iglu:com.acme/event/jsonschema/1-0-*");
  ASSERT_TRUE(revision.ok());
  EXPECT_TRUE(revision->Matches(*SchemaKey::ParseUri("iglu:com.acme/event/jsonschema/1-0-5")));
  EXPECT_FALSE(revision->Matches(*SchemaKey::ParseUri("iglu:com.acme/event/jsonschema/1-1-0")));

  Result<SchemaCriterion> exact = SchemaCriterion::Parse("iglu:com.acme/event/jsonschema/1-0-2");
  ASSERT_TRUE(exact.ok());
  EXPECT_TRUE(exact->Matches(*SchemaKey::ParseUri("iglu:com.acme/event/jsonschema/1-0-2")));
  EXPECT_FALSE(exact->Matches(*SchemaKey::ParseUri("iglu:com.acme/event/jsonschema/1-0-3")));
}

TEST(SchemaCriterionTest, RejectsBadCriteria) {
  for (const char* bad : {"iglu:com.acme/event/jsonschema/*-*-*", "iglu:com.acme/event/jsonschema/1-*-0",
                          "iglu:com.acme/event/jsonschema/1-*", "com.acme/event/jsonschema/1-*-*",
                          "iglu:com.acme/event/jsonschema/1-x-*", "iglu:com.acme/event/jsonschema/0-*-*"}) {
    EXPECT_FALSE(SchemaCriterion::Parse(bad).ok()) << bad;
  }
}

TEST(SchemaKeyTest, ValidVendorRules) {
  EXPECT_TRUE(IsValidVendor("com.snowplowanalytics.snowplow.badrows"));
  EXPECT_TRUE(IsValidVendor("io-acme_x"));
  EXPECT_FALSE(IsValidVendor("com/acme"));
  EXPECT_FALSE(IsValidVendor(".."));
  EXPECT_FALSE(IsValidVendor(""));
}

}  // namespace
}  // namespace furrow::iglu
