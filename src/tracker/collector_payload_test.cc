#include "tracker/collector_payload.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include <rapidjson/document.h>

namespace furrow::tracker {
namespace {

CollectorPayload FullPayload() {
  CollectorPayload p;
  p.ip_address = "203.0.113.7";
  p.timestamp_ms = 1700000000123;
  p.collector = "furrow-0.1.0-file";
  p.user_agent = "Mozilla/5.0";
  p.referer_uri = "https://example.com/page";
  p.path = "/com.snowplowanalytics.snowplow/tp2";
  p.querystring = "e=pv&url=https%3A%2F%2Fexample.com";
  p.body = std::string("{\"data\":[]}\0\xff", 13);
  p.headers = std::vector<std::string>{"Host: c.example.com", "Content-Type: application/json"};
  p.content_type = "application/json";
  p.hostname = "c.example.com";
  p.network_user_id = "c8f1d2a4-3b6e-4f7a-9d0c-1e2f3a4b5c6d";
  return p;
}

TEST(CollectorPayloadTest, RoundTripsEveryField) {
  CollectorPayload p = FullPayload();
  Result<CollectorPayload> decoded = DecodeCollectorPayload(EncodeCollectorPayload(p));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, p);
}

TEST(CollectorPayloadTest, RoundTripsMinimalPayloadWithoutOptionals) {
  CollectorPayload p;
  p.ip_address = "unknown";
  p.collector = "c";
  Result<CollectorPayload> decoded = DecodeCollectorPayload(EncodeCollectorPayload(p));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, p);
  EXPECT_FALSE(decoded->body.has_value());
  EXPECT_FALSE(decoded->headers.has_value());
}

// The wire format, worked out by hand from collector_payload.thrift. Binary protocol:
// field header = type byte + big-endian i16 id; string = big-endian i32 length + bytes;
// i64 = 8 bytes big-endian; list = element type byte + i32 size + elements; struct
// ends with a stop byte 0x00. The generated writer emits fields in id order.
// Types: 0x0A = i64, 0x0B = string/binary, 0x0F = list.
const std::string& KnownPayloadBytes() {
  static const std::string bytes = std::string(
      // 100 ipAddress: type 0x0B, id 0x0064, length 7, "1.2.3.4"
      "\x0B\x00\x64" "\x00\x00\x00\x07" "1.2.3.4"
      // 200 timestamp: type 0x0A, id 0x00C8, 1700000000123 = 0x0000018BCFE5687B
      "\x0A\x00\xC8" "\x00\x00\x01\x8B\xCF\xE5\x68\x7B"
      // 210 encoding: type 0x0B, id 0x00D2, length 5, "UTF-8"
      "\x0B\x00\xD2" "\x00\x00\x00\x05" "UTF-8"
      // 220 collector: type 0x0B, id 0x00DC, length 1, "c"
      "\x0B\x00\xDC" "\x00\x00\x00\x01" "c"
      // 320 path: type 0x0B, id 0x0140, length 2, "/i"
      "\x0B\x01\x40" "\x00\x00\x00\x02" "/i"
      // 330 querystring: type 0x0B, id 0x014A, length 4, "e=pv"
      "\x0B\x01\x4A" "\x00\x00\x00\x04" "e=pv"
      // 340 body (binary): type 0x0B, id 0x0154, length 2, "{}"
      "\x0B\x01\x54" "\x00\x00\x00\x02" "{}"
      // 350 headers: type 0x0F, id 0x015E, element type 0x0B, size 1,
      //     then one string: length 4, "A: b"
      "\x0F\x01\x5E" "\x0B" "\x00\x00\x00\x01" "\x00\x00\x00\x04" "A: b"
      // 410 networkUserId: type 0x0B, id 0x019A, length 1, "n"
      "\x0B\x01\x9A" "\x00\x00\x00\x01" "n"
      // 31337 schema: type 0x0B, id 0x7A69, length 65 (0x41), the schema URI
      "\x0B\x7A\x69" "\x00\x00\x00\x41"
      "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0"
      // stop
      "\x00",
      // Total: 3+4+7 + 3+8 + 3+4+5 + 3+4+1 + 3+4+2 + 3+4+4 + 3+4+2 + 3+1+4+4+4
      //        + 3+4+1 + 3+4+65 + 1
      3 + 4 + 7 + 3 + 8 + 3 + 4 + 5 + 3 + 4 + 1 + 3 + 4 + 2 + 3 + 4 + 4 + 3 + 4 + 2 + 3 + 1 +
          4 + 4 + 4 + 3 + 4 + 1 + 3 + 4 + 65 + 1);
  return bytes;
}

CollectorPayload KnownPayload() {
  CollectorPayload p;
  p.ip_address = "1.2.3.4";
  p.timestamp_ms = 1700000000123;
  p.collector = "c";
  p.path = "/i";
  p.querystring = "e=pv";
  p.body = "{}";
  p.headers = std::vector<std::string>{"A: b"};
  p.network_user_id = "n";
  return p;
}

TEST(CollectorPayloadTest, EncodesKnownPayloadToPinnedBytes) {
  EXPECT_EQ(EncodeCollectorPayload(KnownPayload()), KnownPayloadBytes());
}

TEST(CollectorPayloadTest, DecodesPinnedBytes) {
  Result<CollectorPayload> decoded = DecodeCollectorPayload(KnownPayloadBytes());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, KnownPayload());
}

TEST(CollectorPayloadTest, RejectsEveryTruncation) {
  const std::string& bytes = KnownPayloadBytes();
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<CollectorPayload> decoded = DecodeCollectorPayload(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(decoded.ok()) << "prefix of " << n << " bytes decoded";
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(CollectorPayloadTest, RejectsTrailingBytes) {
  Result<CollectorPayload> decoded = DecodeCollectorPayload(KnownPayloadBytes() + "x");
  EXPECT_FALSE(decoded.ok());
}

TEST(CollectorPayloadTest, RejectsMissingRequiredField) {
  // Only the collector field, then stop.
  const std::string bytes("\x0B\x00\xDC\x00\x00\x00\x01" "c" "\x00", 9);
  Result<CollectorPayload> decoded = DecodeCollectorPayload(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
}

TEST(CollectorPayloadTest, RejectsHostileStringLengthWithoutAllocating) {
  // ipAddress claiming 0x7FFFFFF0 bytes, followed by only a few.
  const std::string bytes("\x0B\x00\x64\x7F\xFF\xFF\xF0" "abc", 10);
  Result<CollectorPayload> decoded = DecodeCollectorPayload(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
}

TEST(CollectorPayloadTest, RejectsHostileListSizeWithoutAllocating) {
  // headers list of strings claiming 0x7FFFFFFF elements.
  const std::string bytes("\x0F\x01\x5E\x0B\x7F\xFF\xFF\xFF\x00\x00\x00\x01" "a", 13);
  Result<CollectorPayload> decoded = DecodeCollectorPayload(bytes);
  ASSERT_FALSE(decoded.ok());
}

TEST(CollectorPayloadTest, RejectsNegativeLengths) {
  const std::string bytes("\x0B\x00\x64\xFF\xFF\xFF\xFF", 7);
  EXPECT_FALSE(DecodeCollectorPayload(bytes).ok());
}

TEST(CollectorPayloadTest, SurvivesRandomGarbageAndBitFlips) {
  std::mt19937 rng(42);
  const std::string& good = KnownPayloadBytes();
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
    }
    Result<CollectorPayload> decoded = DecodeCollectorPayload(bytes);
    if (decoded.ok()) {
      // Whatever decodes must encode again without trouble.
      EXPECT_FALSE(EncodeCollectorPayload(*decoded).empty());
    }
  }
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    (void)DecodeCollectorPayload(bytes).ok();
  }
  SUCCEED();
}

TEST(CollectorPayloadTest, JsonUsesThriftFieldNamesAndOmitsAbsentOptionals) {
  std::string json = CollectorPayloadToJson(KnownPayload());
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError()) << json;
  EXPECT_STREQ(doc["schema"].GetString(), kCollectorPayloadSchema);
  EXPECT_STREQ(doc["ipAddress"].GetString(), "1.2.3.4");
  EXPECT_EQ(doc["timestamp"].GetInt64(), 1700000000123);
  EXPECT_STREQ(doc["encoding"].GetString(), "UTF-8");
  EXPECT_STREQ(doc["collector"].GetString(), "c");
  EXPECT_STREQ(doc["path"].GetString(), "/i");
  EXPECT_STREQ(doc["querystring"].GetString(), "e=pv");
  EXPECT_STREQ(doc["body"].GetString(), "{}");
  ASSERT_TRUE(doc["headers"].IsArray());
  EXPECT_STREQ(doc["headers"][0].GetString(), "A: b");
  EXPECT_STREQ(doc["networkUserId"].GetString(), "n");
  EXPECT_FALSE(doc.HasMember("userAgent"));
  EXPECT_FALSE(doc.HasMember("refererUri"));
  EXPECT_FALSE(doc.HasMember("contentType"));
  EXPECT_FALSE(doc.HasMember("hostname"));
}

TEST(CollectorPayloadTest, JsonReplacesInvalidUtf8InBody) {
  CollectorPayload p = FullPayload();
  std::string json = CollectorPayloadToJson(p);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError()) << json;
  EXPECT_TRUE(doc["body"].IsString());
  EXPECT_EQ(doc["headers"].Size(), 2u);
}

}  // namespace
}  // namespace furrow::tracker
