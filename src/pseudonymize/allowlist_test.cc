#include "pseudonymize/allowlist.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace furrow::pseudonymize {
namespace {

using event::FieldIndexByName;

TEST(AllowlistTest, EmbeddedDefaultIsTheRepositoryFileAndParses) {
  std::ifstream in("config/allowlist.yaml");
  ASSERT_TRUE(in) << "run from the repository root";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(Allowlist::DefaultText(), text.str());
  auto a = Allowlist::Default();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->non_string_policy(), NonStringPolicy::kNull);
  EXPECT_TRUE(a->KeepsField(*FieldIndexByName("app_id")));
  EXPECT_TRUE(a->KeepsField(*FieldIndexByName("event_name")));
  for (const char* personal : {"user_id", "user_ipaddress", "domain_userid", "network_userid",
                               "useragent", "page_url", "page_referrer", "page_title",
                               "user_fingerprint", "geo_city", "geo_latitude", "se_label",
                               "contexts", "unstruct_event", "derived_contexts", "refr_urlquery"}) {
    EXPECT_FALSE(a->KeepsField(*FieldIndexByName(personal))) << personal;
  }
}

TEST(AllowlistTest, ParametersFollowTheFieldsTheyFill) {
  auto a = Allowlist::Parse("fields: [app_id, dvce_screenwidth]\nparameters: [custom]\n");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->ActionForParameter("aid"), ParameterAction::kKeep);
  EXPECT_EQ(a->ActionForParameter("uid"), ParameterAction::kPseudonymize);
  // res fills two fields; only one of them is allowlisted.
  EXPECT_EQ(a->ActionForParameter("res"), ParameterAction::kPseudonymize);
  EXPECT_EQ(a->ActionForParameter("custom"), ParameterAction::kKeep);
  EXPECT_EQ(a->ActionForParameter("never-heard-of"), ParameterAction::kPseudonymize);
  EXPECT_EQ(a->ActionForParameter("cx"), ParameterAction::kReadJsonBase64Url);
  EXPECT_EQ(a->ActionForParameter("co"), ParameterAction::kReadJson);
}

TEST(AllowlistTest, SchemasMatchBySchemaVerCriterion) {
  auto a = Allowlist::Parse(R"(
schemas:
  - schema: iglu:com.acme/thing/jsonschema/1-*-*
    keep: [a, b.c, "d[].e", {path: f, values: [x, y]}, {path: g, format: iglu}]
  - schema: iglu:com.acme/thing/jsonschema/2-0-*
    keep: [z]
)");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const PathRule* v1 = a->FindSchema("iglu:com.acme/thing/jsonschema/1-4-2");
  ASSERT_NE(v1, nullptr);
  EXPECT_TRUE(v1->Member("a")->keep);
  EXPECT_TRUE(v1->Member("b")->Member("c")->keep);
  EXPECT_FALSE(v1->Member("b")->keep);
  EXPECT_TRUE(v1->Member("d")->items->Member("e")->keep);
  EXPECT_TRUE(v1->Member("f")->Keeps("x"));
  EXPECT_FALSE(v1->Member("f")->Keeps("q"));
  EXPECT_TRUE(v1->Member("g")->Keeps("iglu:com.acme/x/jsonschema/1-0-0"));
  EXPECT_FALSE(v1->Member("g")->Keeps("alice@example.com"));
  EXPECT_NE(a->FindSchema("iglu:com.acme/thing/jsonschema/2-0-9"), nullptr);
  EXPECT_EQ(a->FindSchema("iglu:com.acme/thing/jsonschema/2-1-0"), nullptr);
  EXPECT_EQ(a->FindSchema("iglu:com.acme/thing/jsonschema/3-0-0"), nullptr);
  EXPECT_EQ(a->FindSchema("iglu:com.acme/other/jsonschema/1-0-0"), nullptr);
  EXPECT_EQ(a->FindSchema("not a uri"), nullptr);
}

TEST(AllowlistTest, HeadersAreCaseInsensitive) {
  auto a = Allowlist::Parse("headers: [Content-Type]\n");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->KeepsHeader("content-type"));
  EXPECT_TRUE(a->KeepsHeader("CONTENT-TYPE"));
  EXPECT_FALSE(a->KeepsHeader("Cookie"));
}

TEST(AllowlistTest, NonStringPolicyIsConfigurable) {
  EXPECT_EQ(Allowlist::Parse("non_string_values: pseudonym\n")->non_string_policy(),
            NonStringPolicy::kPseudonym);
  EXPECT_EQ(Allowlist::Parse("non_string_values: null\n")->non_string_policy(), NonStringPolicy::kNull);
  EXPECT_EQ(Allowlist::Parse("{}")->non_string_policy(), NonStringPolicy::kNull);
}

TEST(AllowlistTest, RejectsTyposAndMalformedEntries) {
  const char* bad[] = {
      "feilds: [app_id]\n",
      "fields: [no_such_field]\n",
      "non_string_values: keep\n",
      "version: 2\n",
      "schemas:\n  - schema: not-iglu\n",
      "schemas:\n  - schema: iglu:a/b/jsonschema/1-*-0\n",
      "schemas:\n  - schema: iglu:a/b/jsonschema/1-*-*\n    kep: [x]\n",
      "schemas:\n  - schema: iglu:a/b/jsonschema/1-*-*\n    keep: [{path: x, format: email}]\n",
      "schemas:\n  - schema: iglu:a/b/jsonschema/1-*-*\n    read: [{path: x, as: magic}]\n",
      "schemas:\n  - schema: iglu:a/b/jsonschema/1-*-*\n    keep: [\"a..b\"]\n",
      "[unclosed",
  };
  for (const char* text : bad) EXPECT_FALSE(Allowlist::Parse(text).ok()) << text;
}

TEST(AllowlistTest, RecognisesIgluUris) {
  EXPECT_TRUE(IsIgluUri("iglu:com.acme/thing/jsonschema/1-0-0", false));
  EXPECT_FALSE(IsIgluUri("iglu:com.acme/thing/jsonschema/1-*-*", false));
  EXPECT_TRUE(IsIgluUri("iglu:com.acme/thing/jsonschema/1-*-*", true));
  EXPECT_FALSE(IsIgluUri("iglu:com.acme/thing/jsonschema/1-0", false));
  EXPECT_FALSE(IsIgluUri("iglu:com.acme/th ing/jsonschema/1-0-0", false));
  EXPECT_FALSE(IsIgluUri("http://example.com", false));
}

}  // namespace
}  // namespace furrow::pseudonymize
