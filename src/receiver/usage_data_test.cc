#include "receiver/usage_data.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace furrow::receiver {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(UsageDataTest, FlattensGitlabExamplePayload) {
  std::string body = ReadFile("../shared/data/gitlab/payloads/service_ping_example.json");
  ASSERT_FALSE(body.empty());
  Result<UsageData> d = ParseUsageData(body, {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->uuid, "0000000-0000-0000-0000-000000000000");
  EXPECT_EQ(d->recorded_at, "2020-04-17T07:43:54.162+00:00");
  EXPECT_EQ(d->hostname, "example.com");
  EXPECT_EQ(d->version, "12.10.0-pre");
  EXPECT_EQ(d->edition, "EEU");
  EXPECT_EQ(d->installation_type, "omnibus-gitlab");
  ASSERT_TRUE(d->active_user_count.has_value());
  EXPECT_EQ(*d->active_user_count, 999);
  ASSERT_TRUE(d->license_trial.has_value());
  EXPECT_FALSE(*d->license_trial);
  EXPECT_FALSE(d->database_adapter.empty());
  EXPECT_EQ(d->stats.front(), '{');
  EXPECT_EQ(d->payload, body);
}

TEST(UsageDataTest, RejectsNonJsonAsMalformed) {
  Result<UsageData> d = ParseUsageData("uuid=1&recorded_at=2", {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("not JSON"), std::string::npos);
}

TEST(UsageDataTest, RejectsTrailingGarbage) {
  Result<UsageData> d = ParseUsageData(R"({"uuid":"a","recorded_at":"b"} x)", {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
}

TEST(UsageDataTest, RejectsArrayAsNotAnObject) {
  Result<UsageData> d = ParseUsageData(R"([{"uuid":"a","recorded_at":"b"}])", {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("not a JSON object"), std::string::npos);
}

TEST(UsageDataTest, MissingUuidIsUnprocessable) {
  Result<UsageData> d = ParseUsageData(R"({"recorded_at":"2024-01-01T00:00:00Z"})", {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("uuid"), std::string::npos);
}

TEST(UsageDataTest, MissingRecordedAtIsUnprocessable) {
  Result<UsageData> d = ParseUsageData(R"({"uuid":"u"})", {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("recorded_at"), std::string::npos);
}

TEST(UsageDataTest, WronglyTypedRequiredFieldIsUnprocessable) {
  Result<UsageData> d = ParseUsageData(R"({"uuid":42,"recorded_at":"r"})", {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(d.status().message().find("\"uuid\" must be a string"), std::string::npos);
}

// Agents send -1 for a failed metric whatever its type (regression: `furrow ping send`
// got 422 for "license_trial": -1).
TEST(UsageDataTest, FailedOptionalFieldsAreAcceptedButNotFlattened) {
  Result<UsageData> d = ParseUsageData(
      R"({"uuid":"u","recorded_at":"r","license_trial":-1,"active_user_count":"many","database":-1,"counts":-1})", {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->license_trial.has_value());
  EXPECT_FALSE(d->active_user_count.has_value());
  EXPECT_EQ(d->stats, "{}");
}

TEST(UsageDataTest, RejectsNestingDeeperThanTheLimit) {
  std::string deep = R"({"uuid":"u","recorded_at":"r","x":)";
  for (int i = 0; i < 10; ++i) deep += "[";
  for (int i = 0; i < 10; ++i) deep += "]";
  deep += "}";
  PayloadLimits limits;
  limits.max_depth = 8;
  Result<UsageData> d = ParseUsageData(deep, limits);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("deeper than 8"), std::string::npos);
  limits.max_depth = 11;
  EXPECT_TRUE(ParseUsageData(deep, limits).ok());
}

// The single-pass parser takes the first member of a repeated name, as the DOM
// lookups it replaced did, and ignores fields nested below the top level.
TEST(UsageDataTest, FirstMemberOfARepeatedNameWins) {
  Result<UsageData> d = ParseUsageData(
      R"({"uuid":"a","uuid":"b","recorded_at":"r","hostname":"h1","hostname":"h2","counts":{"x":1},)"
      R"("counts":{"y":2},"database":{"adapter":"pg","adapter":"x","nested":{"version":"no"},"version":"15"},)"
      R"("settings":{"hostname":"inner","version":"inner"},"license_id":4711,"license_trial":true})",
      {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->uuid, "a");
  EXPECT_EQ(d->hostname, "h1");
  EXPECT_EQ(d->version, "");
  EXPECT_EQ(d->stats, R"({"x":1})");
  EXPECT_EQ(d->database_adapter, "pg");
  EXPECT_EQ(d->database_version, "15");
  EXPECT_EQ(d->license_id, "4711");
  ASSERT_TRUE(d->license_trial.has_value());
  EXPECT_TRUE(*d->license_trial);
}

TEST(UsageDataTest, CountsAreReserialisedCompactly) {
  Result<UsageData> d = ParseUsageData(
      "{\"uuid\":\"u\",\"recorded_at\":\"r\",\"counts\":{ \"a\" : 1,\n \"b\":[1, 2.5, {\"c\":-1}, true, null],"
      " \"d\\/e\":\"x\", \"big\":18446744073709551615}}",
      {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->stats, R"({"a":1,"b":[1,2.5,{"c":-1},true,null],"d/e":"x","big":18446744073709551615})");
}

// A body that both nests too deep and is cut off reports the depth, as when the depth
// was counted before parsing.
TEST(UsageDataTest, TruncatedDeepBodyReportsTheDepth) {
  PayloadLimits limits;
  limits.max_depth = 4;
  Result<UsageData> d = ParseUsageData(R"({"uuid":"u","recorded_at":"r","x":[[[[[)", limits);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("deeper than 4"), std::string::npos);
  d = ParseUsageData(R"({"uuid":"u","recorded_at":"r","x":[[)", limits);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("not JSON"), std::string::npos);
}

TEST(UsageDataTest, NestingDepthIgnoresBracketsInStrings) {
  EXPECT_EQ(JsonNestingDepth(R"({"a":"[[[{{\"[[","b":[1]})", 100), 2);
  EXPECT_EQ(JsonNestingDepth("3", 100), 0);
}

TEST(UsageDataTest, RejectsInvalidUtf8) {
  std::string body = "{\"uuid\":\"\xff\xfe\",\"recorded_at\":\"r\"}";
  Result<UsageData> d = ParseUsageData(body, {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
}

TEST(UsageDataTest, ParsesMetadataAndErrors) {
  Result<PingMetadata> m = ParsePingMetadata(
      R"({"metadata":{"uuid":"u1","metrics":[{"name":"counts.x","time_elapsed":0.1,"error":null}]}})", {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->uuid, "u1");
  EXPECT_NE(m->metadata.find("counts.x"), std::string::npos);
  EXPECT_EQ(ParsePingMetadata(R"({"metadata":{"metrics":[]}})", {}).status().code(),
            StatusCode::kFailedPrecondition);

  Result<PingError> e = ParsePingError(
      R"({"error":{"time":"t","uuid":"u2","hostname":"h","version":"1.0","message":"boom","elapsed":1.5}})", {});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->uuid, "u2");
  EXPECT_EQ(e->message, "boom");
  ASSERT_TRUE(e->elapsed.has_value());
  EXPECT_DOUBLE_EQ(*e->elapsed, 1.5);
  EXPECT_EQ(ParsePingError(R"({"error":"boom"})", {}).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace furrow::receiver
