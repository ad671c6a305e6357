#include "collector/record_splitter.h"

#include <gtest/gtest.h>

namespace furrow::collector {
namespace {

tracker::CollectorPayload Post(std::string body) {
  tracker::CollectorPayload p;
  p.ip_address = "127.0.0.1";
  p.collector = "c";
  p.path = "/com.snowplowanalytics.snowplow/tp2";
  p.body = std::move(body);
  return p;
}

TEST(RecordSplitterTest, KeepsEveryEventInOrderUnderTheLimit) {
  std::string body = "{\"schema\":\"s\",\"data\":[";
  for (int i = 0; i < 50; ++i) {
    if (i > 0) body += ',';
    body += "{\"e\":\"pv\",\"n\":\"" + std::to_string(i) + "\"}";
  }
  body += "]}";
  Result<SplitPayloads> split = SplitByDataArray(Post(body), 400);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_TRUE(split->oversized.empty());
  ASSERT_GT(split->records.size(), 1u);
  std::string joined;
  for (const std::string& r : split->records) {
    EXPECT_LE(r.size(), 400u);
    Result<tracker::CollectorPayload> p = tracker::DecodeCollectorPayload(r);
    ASSERT_TRUE(p.ok());
    const std::string& b = *p->body;
    ASSERT_TRUE(b.starts_with("{\"schema\":\"s\",\"data\":[")) << b;
    ASSERT_TRUE(b.ends_with("]}"));
    if (!joined.empty()) joined += ',';
    joined += b.substr(22, b.size() - 24);
  }
  EXPECT_EQ("{\"schema\":\"s\",\"data\":[" + joined + "]}", body);
}

TEST(RecordSplitterTest, ReportsEventsTooLargeAlone) {
  std::string big(1000, 'x');
  std::string body = "{\"data\":[{\"a\":\"1\"},{\"big\":\"" + big + "\"},{\"b\":\"2\"}]}";
  Result<SplitPayloads> split = SplitByDataArray(Post(body), 400);
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split->oversized.size(), 1u);
  EXPECT_EQ(split->oversized[0], "{\"big\":\"" + big + "\"}");
  ASSERT_EQ(split->records.size(), 1u);
  Result<tracker::CollectorPayload> p = tracker::DecodeCollectorPayload(split->records[0]);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->body, "{\"data\":[{\"a\":\"1\"},{\"b\":\"2\"}]}");
}

TEST(RecordSplitterTest, RejectsBodiesWithoutDataArray) {
  EXPECT_FALSE(SplitByDataArray(Post("not json"), 400).ok());
  EXPECT_FALSE(SplitByDataArray(Post("[1,2]"), 400).ok());
  EXPECT_FALSE(SplitByDataArray(Post("{\"data\":{}}"), 400).ok());
  tracker::CollectorPayload no_body = Post("");
  no_body.body.reset();
  EXPECT_FALSE(SplitByDataArray(no_body, 400).ok());
}

}  // namespace
}  // namespace furrow::collector
