#include "badrows/bad_row.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace furrow::badrows {
namespace {

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

TEST(BadRowTest, SizeViolationHasSchemaShape) {
  std::string row = SizeViolation(Processor{"furrow", "1.2.3"}, 1700000000123, 1000, 5000,
                                  "body over max_payload_size", "e=pv&url=...");
  auto d = Parse(row);
  EXPECT_STREQ(d["schema"].GetString(), kSizeViolationSchema);
  EXPECT_STREQ(d["data"]["processor"]["artifact"].GetString(), "furrow");
  EXPECT_STREQ(d["data"]["failure"]["timestamp"].GetString(), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(d["data"]["failure"]["maximumAllowedSizeBytes"].GetInt(), 1000);
  EXPECT_EQ(d["data"]["failure"]["actualSizeBytes"].GetInt(), 5000);
  EXPECT_STREQ(d["data"]["payload"].GetString(), "e=pv&url=...");
}

TEST(BadRowTest, InvalidUtf8PayloadStillParses) {
  auto d = Parse(GenericError(Processor::Furrow(), 0, {"bad \xFF byte"}, "\xC3(\x00x"));
  EXPECT_TRUE(d["data"]["payload"].IsString());
  EXPECT_TRUE(d["data"]["failure"]["errors"][0].IsString());
}

TEST(BadRowTest, FormatViolationMessageIsCapped) {
  auto d = Parse(CollectorPayloadFormatViolation(Processor::Furrow(), 0, "thrift",
                                                 std::string(2000, 'x'), "AAAA"));
  EXPECT_EQ(d["data"]["failure"]["message"]["error"].GetStringLength(), 512u);
  EXPECT_STREQ(d["data"]["failure"]["loader"].GetString(), "thrift");
}

TEST(BadRowTest, TruncateDoesNotSplitUtf8) {
  EXPECT_EQ(TruncateUtf8("ab\xC3\xA9", 3), "ab");
  EXPECT_EQ(TruncateUtf8("ab\xC3\xA9", 4), "ab\xC3\xA9");
  EXPECT_EQ(TruncateUtf8("abc", 10), "abc");
}

}  // namespace
}  // namespace furrow::badrows
